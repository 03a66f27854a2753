// RUN: attune-opt %s --attn-lower-merge | FileCheck %s
// RUN: attune-opt %s --attn-lower-to-reference | FileCheck %s --check-prefix=REF

// attn.merge becomes two linalg.generic ops: lse from the partials' lse
// (largest first subtracted; -inf when all are), then O weighted by
// exp(lse_i - lse), in f32, rounded once. Dynamic sizes are checked.

// The lse map of the bshd layout: loops (b, s, h, f) -> (b, h, s).
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d1)>
// CHECK-LABEL: func.func @two_bshd
// CHECK-SAME: (%[[O1:.*]]: tensor<?x?x4x8xbf16>, %[[L1:.*]]: tensor<?x4x?xf32>, %[[O2:.*]]: tensor<?x?x4x8xbf16>, %[[L2:.*]]: tensor<?x4x?xf32>)
// CHECK: cf.assert {{.*}} "attn.merge: the sizes of the partial outputs do not match"
// CHECK: cf.assert {{.*}} "attn.merge: the sizes of lse and O do not match"
// CHECK: %[[LSE:.*]] = linalg.generic {{.*}} ins(%[[L1]], %[[L2]] : {{.*}})
// CHECK: %[[M:.*]] = arith.maximumf
// CHECK: math.exp
// CHECK: math.log
// CHECK: arith.cmpf oeq, %[[M]], %{{.*}}
// CHECK: %[[O:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ID]], #[[ROW]], #[[ROW]], #[[ROW]], #[[ID]]]{{.*}} ins(%[[O1]], %[[O2]], %[[L1]], %[[L2]], %[[LSE]] : {{.*}})
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: math.fma
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: return %[[O]], %[[LSE]]
// REF-LABEL: func.func @two_bshd
// REF-NOT: = attn.merge
// REF: linalg.generic
func.func @two_bshd(%o1: tensor<?x?x4x8xbf16>, %l1: tensor<?x4x?xf32>,
                    %o2: tensor<?x?x4x8xbf16>, %l2: tensor<?x4x?xf32>)
    -> (tensor<?x?x4x8xbf16>, tensor<?x4x?xf32>) {
  %o, %l = attn.merge (%o1, %l1), (%o2, %l2) {layout = #attn.layout<bshd>}
      : tensor<?x?x4x8xbf16>, tensor<?x4x?xf32>
  return %o, %l : tensor<?x?x4x8xbf16>, tensor<?x4x?xf32>
}
