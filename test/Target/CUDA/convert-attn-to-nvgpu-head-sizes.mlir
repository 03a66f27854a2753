// RUN: attune-opt %s -split-input-file --attn-sparsify --convert-attn-to-nvvm=mma=sync | FileCheck %s --check-prefix=SYNC
// RUN: attune-opt %s -split-input-file --attn-sparsify --convert-attn-to-nvvm=mma=auto | FileCheck %s --check-prefix=WGMMA

/// Head sizes that are not multiples of 64: tiles in shared memory keep
/// whole 64-column rows (the XOR swizzle permutes 16-byte chunks within 8,
/// so a 40-column row would spill its permuted chunks into the next row), S
/// takes ceil(D / 16) k-steps, and with D = 40 the last one reads the
/// columns [40, 48) of Q and K, which are zeroed once before the first copy
/// (one 16-byte store per row of Q and of both K buffers).
/// mma.sync, 128 x 64: Q, 2 K and 2 V tiles of 64-column rows = 49152 bytes.
// SYNC-LABEL: gpu.func @dense_d40_fwd
// SYNC-SAME:    shared_bytes = 49152, tile_q = 128, tile_k = 64
// SYNC:         %[[ZERO:.*]] = arith.constant dense<0> : vector<4xi32>
// SYNC:         llvm.store %[[ZERO]], %{{.*}} {alignment = 16 : i64} : vector<4xi32>, !llvm.ptr<3>
// SYNC:         llvm.store %[[ZERO]], %{{.*}} {alignment = 16 : i64} : vector<4xi32>, !llvm.ptr<3>
// SYNC:         llvm.store %[[ZERO]], %{{.*}} {alignment = 16 : i64} : vector<4xi32>, !llvm.ptr<3>
// SYNC-NOT:     llvm.store %[[ZERO]]
// SYNC:         nvvm.cp.async.shared.global
/// O has 6 fragment tiles of 8 columns (Dv rounded up to 16); the 5 inside
/// Dv = 40 are stored, for each of the thread's 4 rows.
// SYNC-COUNT-20: llvm.store %{{.*}}, %{{.*}} {alignment = 4 : i64} : i32, !llvm.ptr<1>
// SYNC-NOT:     llvm.store %{{.*}}, %{{.*}} {alignment = 4 : i64} : i32, !llvm.ptr<1>
// SYNC:         gpu.return
/// wgmma: 3 k-steps of m64n64k16 for S, and P.V with N = 48.
// WGMMA-LABEL: gpu.func @dense_d40_fwd
// WGMMA-SAME:    shared_bytes = 41984
// WGMMA:         llvm.store %{{.*}}, %{{.*}} {alignment = 16 : i64} : vector<4xi32>, !llvm.ptr<3>
// WGMMA:         scf.for
// WGMMA-COUNT-3: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// WGMMA-NOT:     wgmma.mma_async.sync.aligned.m64n64k16
// WGMMA:         wgmma.mma_async.sync.aligned.m64n48k16.f32.bf16.bf16
func.func @dense_d40(%q: tensor<?x8x?x40xbf16>, %k: tensor<?x8x?x40xbf16>,
                     %v: tensor<?x8x?x40xbf16>) -> tensor<?x8x?x40xbf16> {
  %o = attn.attention ins(%q, %k, %v : tensor<?x8x?x40xbf16>, tensor<?x8x?x40xbf16>, tensor<?x8x?x40xbf16>)
      -> tensor<?x8x?x40xbf16>
  return %o : tensor<?x8x?x40xbf16>
}

// -----

/// D = 96, Dv = 160, causal: multiples of 16 need no zeroed columns; rows of
/// 128 (Q, K) and 192 (V) columns. wgmma: 6 k-steps for S (64 x 48 tiles:
/// past D = 128, masked ops take 48 keys per tile), P.V with N = 160.
// SYNC-LABEL: gpu.func @causal_d96_dv160_fwd
// SYNC-NOT:     vector<4xi32>
// SYNC:         gpu.return
// WGMMA-LABEL: gpu.func @causal_d96_dv160_fwd
// WGMMA-SAME:    tile_q = 64, tile_k = 48
// WGMMA-NOT:     vector<4xi32>
// WGMMA:         scf.for
// WGMMA-COUNT-6: wgmma.mma_async.sync.aligned.m64n48k16.f32.bf16.bf16
// WGMMA-NOT:     wgmma.mma_async.sync.aligned.m64n48k16
// WGMMA:         wgmma.mma_async.sync.aligned.m64n160k16.f32.bf16.bf16
func.func @causal_d96_dv160(%q: tensor<?x4x?x96xbf16>, %k: tensor<?x4x?x96xbf16>,
                            %v: tensor<?x4x?x160xbf16>) -> tensor<?x4x?x160xbf16> {
  %o = attn.attention ins(%q, %k, %v : tensor<?x4x?x96xbf16>, tensor<?x4x?x96xbf16>, tensor<?x4x?x160xbf16>)
      -> tensor<?x4x?x160xbf16>
    mask(%b, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x4x?x160xbf16>
}

// -----

/// GQA decode (g = 4) with D = 40: the 16 packed query rows are 80 chunks of
/// 16 bytes for the warp's 32 threads, so the third pass of the Q copy is
/// partial and guarded. Unguarded, its last 16 chunks zero-filled rows 16-19
/// past the Q tile: the first K tile's rows, racing with their copy.
// SYNC-LABEL: gpu.func @gqa_d40_decode
// SYNC-COUNT-2: nvvm.cp.async.shared.global
// SYNC:         %[[IN:.*]] = arith.cmpi ult, %{{.*}}, %c80 : index
// SYNC-NEXT:    scf.if %[[IN]] {
// SYNC:           nvvm.cp.async.shared.global
// SYNC-NEXT:    }
func.func @gqa_d40(%q: tensor<?x8x?x40xbf16>, %k: tensor<?x2x?x40xbf16>,
                   %v: tensor<?x2x?x40xbf16>) -> tensor<?x8x?x40xbf16> {
  %o = attn.attention ins(%q, %k, %v : tensor<?x8x?x40xbf16>, tensor<?x2x?x40xbf16>, tensor<?x2x?x40xbf16>)
      -> tensor<?x8x?x40xbf16>
  return %o : tensor<?x8x?x40xbf16>
}
