// RUN: attune-opt %s --attn-tile="tile-q=64 tile-k=64" --convert-attn-to-nvvm | FileCheck %s

/// A varlen batch (docs/Varlen.md): Q, K and V attn.unpack of packed
/// [T, H, 64] arguments and O packed back by attn.pack. The kernel takes the
/// packed tensors and the offsets; neither the padded operands nor the
/// padded O exist. Each operand's rows start cu[b] rows into its packed
/// tensor (offsets checked by device-side assertions); the CTAs of batch 0
/// and B - 1 zero the output rows no sequence covers, and a query tile
/// wholly past its sequence computes nothing. No split-KV decode kernel:
/// the forward kernel takes every length.

// CHECK-LABEL: gpu.func @varlen_fwd
// CHECK-SAME:    (%[[Q:.*]]: memref<?x8x64xbf16>, %[[K:.*]]: memref<?x2x64xbf16>, %[[V:.*]]: memref<?x2x64xbf16>, %[[CUQ:.*]]: memref<3xi32>, %[[CUK:.*]]: memref<3xi32>, %[[O:.*]]: memref<?x8x64xbf16>) kernel
// CHECK-NOT:     attn.unpack
// CHECK:         memref.load %[[CUQ]][%[[BATCH:.*]]] : memref<3xi32>
// CHECK:         cf.assert %{{.*}}, "attn.unpack: cu_seqlens is negative, decreases or reaches past the packed rows, or a sequence is longer than the padded length"
// CHECK:         memref.load %[[CUK]][%[[BATCH]]] : memref<3xi32>
// CHECK:         cf.assert %{{.*}}, "attn.unpack: cu_seqlens
// CHECK:         cf.assert %{{.*}}, "attn.unpack: cu_seqlens
// CHECK:         memref.load %[[CUQ]][%[[BATCH]]] : memref<3xi32>
// CHECK:         cf.assert %{{.*}}, "attn.pack: cu_seqlens
/// The rows no sequence covers: 16-byte zero stores in two sweeps, rows
/// [0, cu[0]) by batch 0's CTAs and [cu[B], T) by batch B - 1's (B = the
/// offsets' size - 1).
// CHECK:         %[[SIZE:.*]] = memref.dim %[[CUQ]], %{{.*}} : memref<3xi32>
// CHECK:         %[[B:.*]] = arith.subi %[[SIZE]], %{{.*}} : index
// CHECK:         %[[LAST:.*]] = arith.subi %[[B]], %{{.*}} : index
// CHECK:         %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<8xbf16>
// CHECK:         gpu.grid_dim x
// CHECK:         memref.load %[[CUQ]][%[[B]]] : memref<3xi32>
// CHECK:         llvm.store %[[ZERO]], %{{.*}} {alignment = 16 : i64} : vector<8xbf16>, !llvm.ptr<1>
// CHECK:         arith.cmpi eq, %[[BATCH]], %[[LAST]] : index
// CHECK:         llvm.store %[[ZERO]], %{{.*}} {alignment = 16 : i64} : vector<8xbf16>, !llvm.ptr<1>
/// The attention, only for a tile whose first row is inside its sequence.
// CHECK:         %[[INSIDE:.*]] = arith.cmpi ult, %{{.*}}, %{{.*}} : index
// CHECK-NEXT:    scf.if %[[INSIDE]] {
// CHECK:           nvvm.cp.async.shared.global
// CHECK:           scf.for
// CHECK-NOT:     attn.pack
// CHECK-NOT:   gpu.func @varlen_decode
func.func @varlen(%q_packed: tensor<?x8x64xbf16>, %k_packed: tensor<?x2x64xbf16>,
                  %v_packed: tensor<?x2x64xbf16>, %cu_q: tensor<3xi32>,
                  %cu_k: tensor<3xi32>) -> tensor<?x8x64xbf16> {
  %c0 = arith.constant 0 : index
  %tq = tensor.dim %q_packed, %c0 : tensor<?x8x64xbf16>
  %tk = tensor.dim %k_packed, %c0 : tensor<?x2x64xbf16>
  %q = attn.unpack %q_packed[%cu_q] max_len(%tq : index)
      : tensor<?x8x64xbf16>, tensor<3xi32> -> tensor<2x8x?x64xbf16>
  %k = attn.unpack %k_packed[%cu_k] max_len(%tk : index)
      : tensor<?x2x64xbf16>, tensor<3xi32> -> tensor<2x2x?x64xbf16>
  %v = attn.unpack %v_packed[%cu_k] max_len(%tk : index)
      : tensor<?x2x64xbf16>, tensor<3xi32> -> tensor<2x2x?x64xbf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<2x8x?x64xbf16>, tensor<2x2x?x64xbf16>,
                       tensor<2x2x?x64xbf16>)
      -> tensor<2x8x?x64xbf16>
  %o_packed = attn.pack %o[%cu_q] total(%tq : index)
      : tensor<2x8x?x64xbf16>, tensor<3xi32> -> tensor<?x8x64xbf16>
  return %o_packed : tensor<?x8x64xbf16>
}
