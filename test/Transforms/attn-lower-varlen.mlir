// RUN: attune-opt %s --attn-lower-varlen | FileCheck %s
// RUN: attune-opt %s --attn-lower-to-reference | FileCheck %s

// attn.unpack becomes one linalg.generic reading each element from its
// packed row (0 past the sequence's length); attn.pack a zero fill and a
// loop inserting each sequence's [H, D] rows at their packed positions.
// Both check the offsets at run time first.

// CHECK-LABEL: func.func @unpack
// CHECK-SAME: (%[[P:.*]]: tensor<?x8x64xbf16>, %[[CU:.*]]: tensor<5xi32>, %[[MAX:.*]]: index)
// CHECK: %[[T:.*]] = tensor.dim %[[P]], %{{.*}} : tensor<?x8x64xbf16>
// CHECK: cf.assert %{{.*}}, "attn.unpack: cu_seqlens is empty"
// CHECK: arith.cmpi sle, %{{.*}}, %[[T]] : index
// CHECK: cf.assert %{{.*}}, "attn.unpack: cu_seqlens starts below 0 or ends past the packed rows"
// CHECK: scf.for
// CHECK: %[[LEN:.*]] = arith.subi
// CHECK: arith.cmpi sle, %[[LEN]], %[[MAX]] : index
// CHECK: cf.assert %{{.*}}, "attn.unpack: cu_seqlens decreases, or a sequence is longer than the padded length"
// CHECK: %[[E:.*]] = tensor.empty(%[[MAX]]) : tensor<4x8x?x64xbf16>
// CHECK: linalg.generic {{.*}} outs(%[[E]] : tensor<4x8x?x64xbf16>)
// CHECK-DAG: %[[B:.*]] = linalg.index 0
// CHECK-DAG: %[[H:.*]] = linalg.index 1
// CHECK-DAG: %[[R:.*]] = linalg.index 2
// CHECK-DAG: %[[F:.*]] = linalg.index 3
// CHECK: %[[FIRST:.*]] = arith.index_cast %{{.*}} : i32 to index
// CHECK: %[[IN:.*]] = arith.cmpi slt, %[[R]], %{{.*}} : index
// CHECK: scf.if %[[IN]] -> (bf16)
// CHECK: %[[ROW:.*]] = arith.addi %[[FIRST]], %[[R]] : index
// CHECK: tensor.extract %[[P]][%[[ROW]], %[[H]], %[[F]]] : tensor<?x8x64xbf16>
// CHECK: } else {
// CHECK: arith.constant 0.000000e+00 : bf16
func.func @unpack(%p: tensor<?x8x64xbf16>, %cu: tensor<5xi32>, %m: index)
    -> tensor<4x8x?x64xbf16> {
  %u = attn.unpack %p[%cu] max_len(%m : index)
      : tensor<?x8x64xbf16>, tensor<5xi32> -> tensor<4x8x?x64xbf16>
  return %u : tensor<4x8x?x64xbf16>
}

// A bshd input: the row slice of sequence b, row r is [b, r, :, :].
// CHECK-LABEL: func.func @pack
// CHECK-SAME: (%[[O:.*]]: tensor<4x?x8x64xf16>, %[[CU:.*]]: tensor<5xi64>, %[[TOTAL:.*]]: index)
// CHECK: cf.assert %{{.*}}, "attn.pack: cu_seqlens starts below 0 or ends past the packed rows"
// CHECK: cf.assert %{{.*}}, "attn.pack: cu_seqlens decreases, or a sequence is longer than the padded length"
// CHECK: %[[ZERO:.*]] = linalg.fill ins(%{{.*}} : f16) outs(%{{.*}} : tensor<?x8x64xf16>)
// CHECK: %[[OUT:.*]] = scf.for %[[B:.*]] = {{.*}} iter_args(%[[A0:.*]] = %[[ZERO]])
// CHECK: %[[FIRST:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: scf.for %[[R:.*]] = {{.*}} iter_args(%[[A1:.*]] = %[[A0]])
// CHECK: %[[ROW:.*]] = tensor.extract_slice %[[O]][%[[B]], %[[R]], 0, 0] [1, 1, 8, 64] [1, 1, 1, 1] : tensor<4x?x8x64xf16> to tensor<8x64xf16>
// CHECK: %[[AT:.*]] = arith.addi %[[FIRST]], %[[R]] : index
// CHECK: tensor.insert_slice %[[ROW]] into %[[A1]][%[[AT]], 0, 0] [1, 8, 64] [1, 1, 1] : tensor<8x64xf16> into tensor<?x8x64xf16>
// CHECK: return %[[OUT]]
func.func @pack(%o: tensor<4x?x8x64xf16>, %cu: tensor<5xi64>, %t: index)
    -> tensor<?x8x64xf16> {
  %p = attn.pack %o[%cu] total(%t : index) {layout = #attn.layout<bshd>}
      : tensor<4x?x8x64xf16>, tensor<5xi64> -> tensor<?x8x64xf16>
  return %p : tensor<?x8x64xf16>
}
