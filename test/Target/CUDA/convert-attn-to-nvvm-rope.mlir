// RUN: attune-opt %s --attn-tile="tile-q=64 tile-k=64" --convert-attn-to-nvvm | FileCheck %s

/// Q and K rotated by attn.rope (docs/Rope.md). K's rope is a kernel of
/// its own that writes K rotated to a workspace of its type (the last
/// parameter), with the angles' theta_k = 10000^(-2k / 64) from a constant
/// table and the angle reduced to [-pi, pi] in f64 before the hardware's
/// sine and cosine; a thread rotates the 8 pairs of two 16-byte chunks (16
/// rows of 4 such chunk pairs per CTA), one position per chunk; the
/// attention kernels take the workspace after the results (forward) or
/// the split-KV partials (decode) and read K from it. Q (16-bit, whole
/// chunks) is rotated on load: no kernel, no workspace; the attention
/// kernels read the argument and, once its tile's copies have landed,
/// rotate the tile in shared memory (the positions' size checked by a
/// device-side assertion, rows past the queries left alone), then order
/// the rotation before the tile's reads with a barrier.

// CHECK-DAG:   llvm.mlir.global internal constant @f_rope_q_theta(dense<[1.000000e+00, {{.*}}]> : tensor<32xf64>) {addr_space = 1 : i32, alignment = 8 : i64} : !llvm.array<32 x f64>
// CHECK-DAG:   llvm.mlir.global internal constant @f_rope_k_theta(
// CHECK-NOT:   gpu.func @f_rope_q
// CHECK-LABEL: gpu.func @f_rope_k
// CHECK-SAME:    (%{{[^:]*}}: memref<?x2x?x64xbf16>, %[[K:[^:]*]]: memref<?x1x?x64xbf16>, %{{[^:]*}}: memref<?x1x?x64xbf16>, %[[POS:[^:]*]]: memref<?xi32>, %[[OUT:[^:]*]]: memref<?x1x?x64xbf16>) kernel
// CHECK-SAME:    #attn.kernel<role = rope, block = 128, operand = "k", rows = 16>
// CHECK-NOT:     attn.rope
// CHECK:         llvm.mlir.addressof @f_rope_k_theta
// CHECK:         cf.assert %{{.*}}, "attn.rope: the positions' last size is not the input's sequence length"
// CHECK:         scf.for %{{.*}} = %{{.*}} to %c64 step %c128
// CHECK:         memref.load %[[POS]]
// CHECK:         vector.load %[[K]][{{.*}}] {alignment = 16 : i64} : memref<?x1x?x64xbf16>, vector<8xbf16>
// CHECK:         vector.load %[[K]][{{.*}}] {alignment = 16 : i64} : memref<?x1x?x64xbf16>, vector<8xbf16>
// CHECK-COUNT-8: llvm.call_intrinsic "llvm.nvvm.cos.approx.f"
// CHECK:         vector.store %{{.*}}, %[[OUT]][{{.*}}] {alignment = 16 : i64}
// CHECK:         vector.store %{{.*}}, %[[OUT]][{{.*}}] {alignment = 16 : i64}
// CHECK-LABEL: gpu.func @f_fwd
// CHECK-SAME:    (%[[Q:[^:]*]]: memref<?x2x?x64xbf16>, %{{[^:]*}}: memref<?x1x?x64xbf16>, %{{[^:]*}}: memref<?x1x?x64xbf16>, %[[QPOS:[^:]*]]: memref<?xi32>, %{{[^:]*}}: memref<?x2x?x64xbf16>, %[[KR:[^:]*]]: memref<?x1x?x64xbf16>) kernel
// CHECK:         memref.extract_strided_metadata %[[Q]]
// CHECK:         memref.extract_strided_metadata %[[KR]]
// CHECK:         nvvm.cp.async.wait.group 0
// CHECK-NEXT:    gpu.barrier
// CHECK-NEXT:    llvm.mlir.addressof @f_rope_q_theta
// CHECK:         cf.assert %{{.*}}, "attn.rope: the positions' last size is not the input's sequence length"
// CHECK:         scf.for
// CHECK:           scf.if
// CHECK:             memref.load %[[QPOS]][
// CHECK:             %[[LOW:.*]] = llvm.load %{{.*}} {alignment = 16 : i64} : !llvm.ptr<3> -> vector<8xbf16>
// CHECK:             %[[HIGH:.*]] = llvm.load %{{.*}} {alignment = 16 : i64} : !llvm.ptr<3> -> vector<8xbf16>
// CHECK-COUNT-8:     llvm.call_intrinsic "llvm.nvvm.cos.approx.f"
// CHECK:             llvm.store %{{.*}}, %{{.*}} {alignment = 16 : i64} : vector<8xbf16>, !llvm.ptr<3>
// CHECK:             llvm.store %{{.*}}, %{{.*}} {alignment = 16 : i64} : vector<8xbf16>, !llvm.ptr<3>
// CHECK:         gpu.barrier
// CHECK:         ldmatrix.sync.aligned
// CHECK-LABEL: gpu.func @f_decode
// CHECK-SAME:    %{{.*}}: memref<?x?x2x?x64xf32>, %{{.*}}: memref<?x?x2x?xf32>, %{{.*}}: memref<?x1x?x64xbf16>) kernel
// CHECK:         llvm.mlir.addressof @f_rope_q_theta
func.func @f(%q: tensor<?x2x?x64xbf16>, %k: tensor<?x1x?x64xbf16>,
             %v: tensor<?x1x?x64xbf16>, %pos: tensor<?xi32>)
    -> tensor<?x2x?x64xbf16> {
  %qr = attn.rope %q positions(%pos : tensor<?xi32>) : tensor<?x2x?x64xbf16>
  %kr = attn.rope %k positions(%pos : tensor<?xi32>) : tensor<?x1x?x64xbf16>
  %o = attn.attention
      ins(%qr, %kr, %v : tensor<?x2x?x64xbf16>, tensor<?x1x?x64xbf16>,
                         tensor<?x1x?x64xbf16>)
      -> tensor<?x2x?x64xbf16>
  return %o : tensor<?x2x?x64xbf16>
}
