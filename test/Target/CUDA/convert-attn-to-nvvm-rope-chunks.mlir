// RUN: attune-opt %s --attn-tile="tile-q=64 tile-k=64" --convert-attn-to-nvvm | FileCheck %s

/// The two forms of the rope kernel (lib/Target/CUDA/RopeKernel.cpp).
/// Interleaved pairs on 32 of 64 features of K: a thread takes one 16-byte
/// chunk (16 rows of 8 chunks per CTA), rotating its 4 pairs when it lies
/// below rotary_dim and copying it otherwise.
// CHECK-LABEL: gpu.func @chunks_rope_k
// CHECK-SAME:    (%{{[^:]*}}: memref<?x2x?x64xf16>, %[[K:[^:]*]]: memref<?x2x?x64xf16>
// CHECK:         scf.for %{{.*}} = %{{.*}} to %c128{{.*}} step %c128
// CHECK:         scf.if
// CHECK:           vector.load %[[K]][{{.*}}] {alignment = 16 : i64} : memref<?x2x?x64xf16>, vector<8xf16>
// CHECK-COUNT-4:   llvm.call_intrinsic "llvm.nvvm.sin.approx.f"
// CHECK:           vector.store
// CHECK:         } else {
// CHECK-NOT:       llvm.call_intrinsic
// CHECK:           %[[X:.*]] = vector.load %[[K]]
// CHECK:           vector.store %[[X]]
// CHECK:         gpu.return
func.func @chunks(%q: tensor<?x2x?x64xf16>, %k: tensor<?x2x?x64xf16>,
                  %v: tensor<?x2x?x64xf16>) -> tensor<?x2x?x64xf16> {
  %kr = attn.rope %k {rotary_dim = 32, style = #attn.rope_style<interleaved>}
      : tensor<?x2x?x64xf16>
  %o = attn.attention
      ins(%q, %kr, %v : tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16>,
                        tensor<?x2x?x64xf16>)
      -> tensor<?x2x?x64xf16>
  return %o : tensor<?x2x?x64xf16>
}

/// The same rope of Q is applied on load: the forward kernel rotates the
/// 4 rotated chunks of each of its 64 rows in shared memory (the chunks
/// past rotary_dim stay as copied), 4 pairs per chunk, positions by the
/// row.
// CHECK-LABEL: gpu.func @chunks_q_fwd
// CHECK:         nvvm.cp.async.wait.group 0
// CHECK:         llvm.mlir.addressof @chunks_q_rope_q_theta
// CHECK:         scf.for %{{.*}} = %{{.*}} to %c256{{.*}} step %c128
// CHECK:           llvm.load %{{.*}} {alignment = 16 : i64} : !llvm.ptr<3> -> vector<8xf16>
// CHECK-COUNT-4:   llvm.call_intrinsic "llvm.nvvm.sin.approx.f"
// CHECK:           llvm.store %{{.*}}, %{{.*}} {alignment = 16 : i64} : vector<8xf16>, !llvm.ptr<3>
// CHECK:         gpu.barrier
func.func @chunks_q(%q: tensor<?x2x?x64xf16>, %k: tensor<?x2x?x64xf16>,
                    %v: tensor<?x2x?x64xf16>) -> tensor<?x2x?x64xf16> {
  %qr = attn.rope %q {rotary_dim = 32, style = #attn.rope_style<interleaved>}
      : tensor<?x2x?x64xf16>
  %o = attn.attention
      ins(%qr, %k, %v : tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16>,
                        tensor<?x2x?x64xf16>)
      -> tensor<?x2x?x64xf16>
  return %o : tensor<?x2x?x64xf16>
}

/// Half pairing on 24 of 40 features (R / 2 = 12 is not a whole number of
/// chunks): one element per thread, its partner read again.
// CHECK-LABEL: gpu.func @elements_rope_q
// CHECK-SAME:    (%[[E:[^:]*]]: memref<?x2x?x40xbf16>
// CHECK-NOT:     vector.load
// CHECK:         scf.for %{{.*}} = %{{.*}} to %c640 step %c128
// CHECK:         memref.load %[[E]]
// CHECK:         memref.load %[[E]]
// CHECK:         llvm.call_intrinsic "llvm.nvvm.sin.approx.f"
// CHECK:         memref.store
// CHECK:         gpu.return
func.func @elements(%q: tensor<?x2x?x40xbf16>, %k: tensor<?x2x?x40xbf16>,
                    %v: tensor<?x2x?x40xbf16>) -> tensor<?x2x?x40xbf16> {
  %qr = attn.rope %q {rotary_dim = 24} : tensor<?x2x?x40xbf16>
  %o = attn.attention
      ins(%qr, %k, %v : tensor<?x2x?x40xbf16>, tensor<?x2x?x40xbf16>,
                        tensor<?x2x?x40xbf16>)
      -> tensor<?x2x?x40xbf16>
  return %o : tensor<?x2x?x40xbf16>
}
