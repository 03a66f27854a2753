// RUN: attune-opt %s -split-input-file --attn-sparsify --convert-attn-to-nvvm=mma=auto | FileCheck %s
// RUN: attune-opt %s -split-input-file --attn-tile="tile-q=128 tile-k=128" --attn-sparsify --convert-attn-to-nvvm=mma=wgmma | FileCheck %s --check-prefix=WGMMA
// RUN: attune-opt %s -split-input-file --attn-sparsify --convert-attn-to-nvvm=mma=sync | FileCheck %s --check-prefix=SYNC
// RUN: not attune-opt %s -split-input-file --convert-attn-to-nvvm=mma=mfma 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: convert-attn-to-nvvm: unknown mma 'mfma' (expected sync, wgmma or auto)

/// sm_90a's wgmma.mma_async (mma=auto picks it): by default one warpgroup
/// of 64 rows per CTA (128 threads), 48 keys per tile. Q, K and V land in
/// the 128-byte swizzle layout; after each cp.async wait, a proxy fence
/// orders the copies before wgmma's reads. S = Q K^T takes both operands by
/// descriptor (A and B K-major: `imm-trans-a 0, imm-trans-b 0`), the first
/// k-step overwriting the accumulators (scale-d false); P V takes P from
/// registers and V by descriptor, transposed (`imm-trans-b 1`). Fences and
/// waits take the registers they order as tied operands.
// CHECK-LABEL: gpu.func @causal_fwd
// CHECK-SAME:    attn.kernel = #attn.kernel<role = fwd, block = 128, shared_bytes = 68616, tile_q = 64, tile_k = 48>
/// Descriptor fields (PTX ISA, "Matrix Descriptor Format"): 128-byte swizzle
/// (bit 62), stride byte offset 1024 (64 << 32), leading byte offset 16 for
/// the K-major Q and K (1 << 16) and Tk * 128 = 6144 for the N-major V
/// (384 << 16).
// CHECK:       llvm.inline_asm has_side_effects "fence.proxy.async.shared::cta;"
// CHECK:       scf.for
// CHECK:         llvm.inline_asm has_side_effects "fence.proxy.async.shared::cta;"
// CHECK:         arith.constant 4611686293305360384 : i64
// CHECK:         llvm.inline_asm has_side_effects "wgmma.fence.sync.aligned;", ""
// CHECK:         llvm.inline_asm has_side_effects "{{.*}}setp.ne.b32 p, 0, 0;{{.*}}wgmma.mma_async.sync.aligned.m64n48k16.f32.bf16.bf16 {$0, {{.*}}, $23}, $24, $25, p, 1, 1, 0, 0;
// CHECK-SAME:      "=f,{{.*}},=f,l,l,0,1,{{.*}},23"
// CHECK:         llvm.inline_asm has_side_effects "{{.*}}setp.ne.b32 p, 1, 0;{{.*}}m64n48k16{{.*}}, $24, $25, p, 1, 1, 0, 0;
// CHECK:         llvm.inline_asm has_side_effects "wgmma.commit_group.sync.aligned;"
// CHECK:         llvm.inline_asm has_side_effects "wgmma.wait_group.sync.aligned 0;", "=f,
// CHECK:         llvm.inline_asm has_side_effects "wgmma.fence.sync.aligned;", "=f,{{.*}},=r,
// CHECK:         arith.constant 4611686293330460672 : i64
// CHECK:         llvm.inline_asm has_side_effects "{{.*}}setp.ne.b32 p, 1, 0;{{.*}}m64n128k16.f32.bf16.bf16 {{.*}}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// CHECK-SAME:      "=f,{{.*}},=f,r,r,r,r,l,0,1,
// CHECK:         llvm.inline_asm has_side_effects "wgmma.commit_group.sync.aligned;"
// CHECK:         llvm.inline_asm has_side_effects "wgmma.wait_group.sync.aligned 0;"
// CHECK:       gpu.return
/// Decode keeps mma.sync (16 rows per CTA).
// CHECK-LABEL: gpu.func @causal_decode
// CHECK-NOT:   wgmma
// CHECK:       nvvm.mma.sync
// CHECK-LABEL: gpu.func @causal_combine

// SYNC-NOT:  wgmma
// SYNC:      nvvm.mma.sync
// SYNC-NOT:  wgmma

func.func @causal(%q: tensor<?x8x?x128xbf16>, %k: tensor<?x8x?x128xbf16>,
                  %v: tensor<?x8x?x128xbf16>) -> tensor<?x8x?x128xbf16> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x128xbf16>, tensor<?x8x?x128xbf16>,
                       tensor<?x8x?x128xbf16>)
      -> tensor<?x8x?x128xbf16>
    mask(%b, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x128xbf16>
}

// -----

/// D = 64, f16: 64 x 64 tiles, one m64n64k16 per k-step of either product.
/// Explicit tile sizes of two warpgroups (attn-tile 128 x 128) are kept.
// CHECK-LABEL: gpu.func @dense64_fwd
// CHECK-SAME:    attn.kernel = #attn.kernel<role = fwd, block = 128,
// CHECK:         wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {{.*}}, p, 1, 1, 0, 0;
// CHECK:         wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {{.*}}, p, 1, 1, 1;
// WGMMA-LABEL: gpu.func @dense64_fwd
// WGMMA-SAME:    attn.kernel = #attn.kernel<role = fwd, block = 256,
// WGMMA:         wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16
// WGMMA:         wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {{.*}}, p, 1, 1, 1;
func.func @dense64(%q: tensor<?x8x?x64xf16>, %k: tensor<?x8x?x64xf16>,
                   %v: tensor<?x8x?x64xf16>) -> tensor<?x8x?x64xf16> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xf16>, tensor<?x8x?x64xf16>,
                       tensor<?x8x?x64xf16>)
      -> tensor<?x8x?x64xf16>
  return %o : tensor<?x8x?x64xf16>
}
