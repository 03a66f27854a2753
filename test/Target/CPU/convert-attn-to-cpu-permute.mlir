// RUN: attune-opt %s -split-input-file --convert-attn-to-cpu=vector-width=8 | FileCheck %s

/// attn.permute by an order of attn.sort_ids (attn-cluster's form) is read
/// by the kernel's loads and stores: Q, K and V come from the permutes'
/// inputs in the order, O is stored to its original rows, and no permute
/// is left. The order is checked against the input's dynamic sizes as the
/// permute's own lowering would (a permutation by construction, its
/// entries need no check). Results against the oracle: hashing.test.
// CHECK-LABEL: func.func @fused
//  CHECK-SAME:   (%[[Q:[^:]*]]: tensor<?x2x?x16xf32>, %[[K:[^:]*]]: tensor<?x2x?x16xf32>, %[[V:[^:]*]]: tensor<?x2x?x16xf32>
//       CHECK:   %[[ORDER:.*]], %{{.*}} = attn.sort_ids
//   CHECK-NOT:   attn.permute %
//   CHECK-DAG:   bufferization.to_buffer %[[Q]]
//   CHECK-DAG:   bufferization.to_buffer %[[K]]
//   CHECK-DAG:   bufferization.to_buffer %[[V]]
//   CHECK-DAG:   cf.assert %{{.*}}, "attn.permute: order and input batch sizes do not match"
//   CHECK-DAG:   cf.assert %{{.*}}, "attn.permute: order and input sequence lengths do not match"
//   CHECK-DAG:   %[[OB:.*]] = bufferization.to_buffer %[[ORDER]]
//       CHECK:   scf.parallel
//       CHECK:     memref.load %[[OB]]
//   CHECK-NOT:   attn.permute %
//       CHECK:   return
func.func @fused(%q: tensor<?x2x?x16xf32>, %k: tensor<?x2x?x16xf32>,
                 %v: tensor<?x2x?x16xf32>, %ids: tensor<?x2x?xi32>)
    -> tensor<?x2x?x16xf32> {
  %order, %sorted = attn.sort_ids %ids {num_ids = 4} : tensor<?x2x?xi32>
  %qp = attn.permute %q, %order : tensor<?x2x?x16xf32>, tensor<?x2x?xi32>
  %kp = attn.permute %k, %order : tensor<?x2x?x16xf32>, tensor<?x2x?xi32>
  %vp = attn.permute %v, %order : tensor<?x2x?x16xf32>, tensor<?x2x?xi32>
  %o = attn.attention ins(%qp, %kp, %vp : tensor<?x2x?x16xf32>,
                          tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>)
      -> tensor<?x2x?x16xf32>
  %r = attn.permute %o, %order {inverse}
      : tensor<?x2x?x16xf32>, tensor<?x2x?xi32>
  return %r : tensor<?x2x?x16xf32>
}

// -----

/// Not fused: an order that is not attn.sort_ids' (a function argument,
/// which only the permute's lowering checks), an inverse permute of O when
/// O has another reader, and the inverse of lse by another order than O's.
// CHECK-LABEL: func.func @not_fused
//       CHECK:   %[[QP:.*]] = attn.permute %{{.*}}, %{{.*}} :
//       CHECK:   attn.permute %{{.*}}, %{{.*}} {inverse}
//       CHECK:   attn.permute %{{.*}}, %{{.*}} {inverse}
func.func @not_fused(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                     %v: tensor<1x2x8x16xf32>, %given: tensor<1x2x8xi32>,
                     %ids: tensor<1x2x8xi32>)
    -> (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8xf32>) {
  %order, %sorted = attn.sort_ids %ids {num_ids = 4} : tensor<1x2x8xi32>
  %qp = attn.permute %q, %given : tensor<1x2x8x16xf32>, tensor<1x2x8xi32>
  %o, %lse = attn.attention ins(%qp, %k, %v : tensor<1x2x8x16xf32>,
                                tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
      -> tensor<1x2x8x16xf32>, tensor<1x2x8xf32>
  %r = attn.permute %o, %order {inverse}
      : tensor<1x2x8x16xf32>, tensor<1x2x8xi32>
  %l = attn.permute %lse, %given {inverse}
      : tensor<1x2x8xf32>, tensor<1x2x8xi32>
  return %r, %o, %l : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>,
                      tensor<1x2x8xf32>
}
