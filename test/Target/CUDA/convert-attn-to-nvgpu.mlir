// RUN: attune-opt %s -split-input-file --attn-sparsify --convert-attn-to-nvvm | FileCheck %s
// RUN: attune-opt %s -split-input-file --attn-tile="tile-q=64 tile-k=64" --attn-sparsify --convert-attn-to-nvvm | FileCheck %s --check-prefix=TILE64
/// The pass's former name, kept for one release, is the same pass.
// RUN: attune-opt %s -split-input-file --attn-sparsify --convert-attn-to-nvgpu | FileCheck %s

/// One spec becomes three kernels in a gpu.module: the FlashAttention-2
/// kernel (one CTA per q-tile, head, batch) and, for Sq <= 16, the split-KV
/// pair. Their launch rules are one #attn.kernel attribute each
/// (docs/CUDAArtifacts.md).

// CHECK: module attributes {gpu.container_module}
// CHECK: gpu.module @attn_kernels
// CHECK:   llvm.mlir.global external @attn_shared_memory() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<0 x i8>

/// Causal, D = 64: 128 rows in 4 warps of 32 (each K/V fragment feeds two
/// mma), 64 keys per tile; Q, K, V tiles come through cp.async, fragments
/// through ldmatrix (.trans for V; inline PTX, a 32-bit shared address plus
/// the fragment's constant offset as the immediate), products in bf16
/// mma.sync with f32 accumulators, row max/sum across quads with shfl.bfly.
// CHECK-LABEL: gpu.func @causal_fwd
// CHECK-SAME:    (%{{.*}}: memref<?x8x?x64xbf16>, %{{.*}}: memref<?x8x?x64xbf16>, %{{.*}}: memref<?x8x?x64xbf16>, %{{.*}}: memref<?x8x?x64xbf16>) kernel
// CHECK-SAME:    attn.kernel = #attn.kernel<role = fwd, block = 128, shared_bytes = 51208, tile_q = 128, tile_k = 64>
// CHECK:       nvvm.cp.async.shared.global %{{.*}}, %{{.*}}, 16, cache = cg
// CHECK:       nvvm.cp.async.commit.group
// CHECK-NEXT:  nvvm.cp.async.wait.group 0
// CHECK:       llvm.inline_asm has_side_effects "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {$0, $1, $2, $3}, [$4+{{[0-9]+}}];", "=r,=r,=r,=r,r" %{{.*}} : (i32)
// CHECK:       scf.for
// CHECK:         nvvm.cp.async.commit.group
// CHECK-NEXT:    nvvm.cp.async.wait.group 1
// CHECK:         nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>{{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 16>
// CHECK:         nvvm.shfl.sync bfly
// CHECK:         llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// CHECK:         llvm.inline_asm has_side_effects "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {$0, $1, $2, $3}, [$4+{{[0-9]+}}];"
// CHECK:       gpu.return
/// The decode kernel, like the forward kernel above, keeps one K/V tile in
/// flight while it computes another (KernelPlan::stages = 2: Q 2 KB +
/// 2 x (8 + 8) KB + the class table; `wait.group 1` in the k-loop). Its two
/// warps are two splits, each with its own 36,992 bytes (36,872 rounded up
/// to 128) and its own barriers; a launch of one CTA per row group merges
/// the two in the CTA and stores O.
// CHECK-LABEL: gpu.func @causal_decode
// CHECK-SAME:    memref<?x?x8x?x64xf32>, %{{.*}}: memref<?x?x8x?xf32>, %{{.*}}: memref<?x8x?x64xbf16>) kernel
// CHECK-SAME:    attn.kernel = #attn.kernel<role = decode, block = 64, shared_bytes = 73984,
// CHECK-SAME:    splits = 64
// CHECK:         %[[WARP:.*]] = arith.divui %thread_id_x, %c32
// CHECK:         arith.muli %[[WARP]], %c36992
// CHECK:         nvvm.cp.async.commit.group
// CHECK-NEXT:    nvvm.cp.async.wait.group 0
// CHECK-NEXT:    arith.constant -1
// CHECK-NEXT:    nvvm.bar.warp.sync
// CHECK:         scf.for
// CHECK:           nvvm.bar.warp.sync
// CHECK:           nvvm.cp.async.commit.group
// CHECK-NEXT:      nvvm.cp.async.wait.group 1
// CHECK-NEXT:      arith.constant -1
// CHECK-NEXT:      nvvm.bar.warp.sync
// CHECK:         %[[CTAS:.*]] = gpu.grid_dim x
// CHECK:         arith.cmpi eq, %[[CTAS]], %c1
// CHECK:         scf.if
// CHECK-NEXT:      gpu.barrier
// CHECK:           memref.store {{.*}} : memref<?x8x?x64xbf16>
// CHECK:         gpu.return
// CHECK-LABEL: gpu.func @causal_combine
// CHECK-SAME:    attn.kernel = #attn.kernel<role = combine, block = 64>

/// Explicit tile sizes from attn-tile: 64 rows are 4 warps of 16.
// TILE64-LABEL: gpu.func @causal_fwd
// TILE64-SAME:    tile_q = 64, tile_k = 64
func.func @causal(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>,
                  %v: tensor<?x8x?x64xbf16>) -> tensor<?x8x?x64xbf16> {
  %o = attn.attention ins(%q, %k, %v : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>)
      -> tensor<?x8x?x64xbf16>
    mask(%b, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x64xbf16>
}

// -----

/// Captures become memrefs read with memref.load inside the kernel (the
/// classifier's scan and the mask); a masked op classifies its k-tiles into
/// a shared-memory table with atomics for the non-empty band; f16 operands
/// are <2 x f16> for NVVM; lse is a third output.
// CHECK-LABEL: gpu.func @documents_fwd
// CHECK-SAME:    memref<?x?xi32>, %{{.*}}: memref<?x?xi32>, %{{.*}}: memref<?x4x?x128xf16>, %{{.*}}: memref<?x4x?xf32>) kernel
// CHECK:       llvm.atomicrmw umin
// CHECK:       llvm.atomicrmw umax
// CHECK:       memref.load %{{.*}} : memref<?x?xi32>
// CHECK:       nvvm.mma.sync {{.*}}: (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK-NOT:   tensor.extract
// CHECK:       gpu.return
func.func @documents(%q: tensor<?x4x?x128xf16>, %k: tensor<?x4x?x128xf16>,
                     %v: tensor<?x4x?x128xf16>, %qd: tensor<?x?xi32>,
                     %kd: tensor<?x?xi32>) -> (tensor<?x4x?x128xf16>, tensor<?x4x?xf32>) {
  %o, %lse = attn.attention ins(%q, %k, %v : tensor<?x4x?x128xf16>, tensor<?x4x?x128xf16>, tensor<?x4x?x128xf16>)
      captures(%qd, %kd : tensor<?x?xi32>, tensor<?x?xi32>) -> tensor<?x4x?x128xf16>, tensor<?x4x?xf32>
    mask(%b, %h, %i, %j, %a, %c) {
      %di = tensor.extract %a[%b, %i] : tensor<?x?xi32>
      %dj = tensor.extract %c[%b, %j] : tensor<?x?xi32>
      %keep = arith.cmpi eq, %di, %dj : i32
      attn.yield %keep : i1
    }
  return %o, %lse : tensor<?x4x?x128xf16>, tensor<?x4x?xf32>
}

// -----

/// A static Sq above 16 needs no decode kernels. Without mask and score
/// regions the k-loop is split: every tile but the one that crosses Sk takes
/// the fast path (no per-element code), and that one is peeled into a second
/// loop that prefetches nothing and always rescales O.
// CHECK-LABEL: gpu.func @long_fwd
// CHECK:         scf.for
// CHECK-NOT:       arith.cmpi sgt
// CHECK:           nvvm.vote.sync any
// CHECK:         scf.for
// CHECK:           arith.cmpi sgt
// CHECK-NOT:       nvvm.vote.sync
// CHECK:         gpu.return
// CHECK-NOT:   gpu.func @long_decode
func.func @long(%q: tensor<2x8x256x64xbf16>, %k: tensor<2x8x256x64xbf16>,
                %v: tensor<2x8x256x64xbf16>) -> tensor<2x8x256x64xbf16> {
  %o = attn.attention ins(%q, %k, %v : tensor<2x8x256x64xbf16>, tensor<2x8x256x64xbf16>, tensor<2x8x256x64xbf16>)
      -> tensor<2x8x256x64xbf16>
  return %o : tensor<2x8x256x64xbf16>
}
