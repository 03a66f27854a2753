// RUN: attune-opt %s -split-input-file --attn-cluster | FileCheck %s

/// attn-cluster: attention over bucket ids becomes attention over rows sorted
/// by id. Its results are checked against the unclustered op's oracle at the
/// awkward sizes by test/Integration/CPU/hashing.test and the reformer_lsh
/// and routing examples (examples.test).

/// One LSH round of Q and one of K; a causal mask and the Reformer's
/// self-mask. Both ids are sorted, Q, K and V read in sorted order, the
/// equality reads the sorted ids, every other use of i and j reads the
/// order (the original position), and O goes back to the original rows.
// CHECK-LABEL: func.func @reformer
//  CHECK-SAME:   (%[[Q:.*]]: tensor<?x4x?x64xbf16>, %[[K:.*]]: tensor<?x4x?x64xbf16>, %[[V:.*]]: tensor<?x4x?x64xbf16>
//       CHECK:   %[[QB:.*]] = attn.lsh_buckets %[[Q]]
//       CHECK:   %[[KB:.*]] = attn.lsh_buckets %[[K]]
//       CHECK:   %[[OQ:.*]], %[[SQ:.*]] = attn.sort_ids %[[QB]] {num_ids = 8 : i64}
//       CHECK:   %[[RQ:.*]] = tensor.extract_slice %[[OQ]][0, 0, 0, 0] [1, %{{.*}}, 4, %{{.*}}] [1, 1, 1, 1] : tensor<1x?x4x?xi32> to tensor<?x4x?xi32>
//       CHECK:   %[[OK:.*]], %[[SK:.*]] = attn.sort_ids %[[KB]] {num_ids = 8 : i64}
//       CHECK:   %[[RK:.*]] = tensor.extract_slice %[[OK]]
//       CHECK:   %[[PQ:.*]] = attn.permute %[[Q]], %[[RQ]]
//       CHECK:   %[[PK:.*]] = attn.permute %[[K]], %[[RK]]
//       CHECK:   %[[PV:.*]] = attn.permute %[[V]], %[[RK]]
//       CHECK:   %[[O:.*]] = attn.attention ins(%[[PQ]], %[[PK]], %[[PV]] : {{.*}}) captures(%[[OQ]], %[[SQ]], %[[OK]], %[[SK]] : {{.*}})
//       CHECK:     score(%[[S:.*]], %[[B:.*]], %[[H:.*]], %[[I:.*]], %[[J:.*]], %[[COQ:.*]], %[[CSQ:.*]], %[[COK:.*]], %[[CSK:.*]]) {
//       CHECK:       %[[XI:.*]] = tensor.extract %[[COQ]][%{{.*}}, %[[B]], %[[H]], %[[I]]]
//       CHECK:       %[[OI:.*]] = arith.index_castui %[[XI]] : i32 to index
//       CHECK:       %[[XJ:.*]] = tensor.extract %[[COK]][%{{.*}}, %[[B]], %[[H]], %[[J]]]
//       CHECK:       %[[OJ:.*]] = arith.index_castui %[[XJ]] : i32 to index
//       CHECK:       arith.cmpi eq, %[[OI]], %[[OJ]] : index
//       CHECK:     mask(%[[B:.*]], %[[H:.*]], %[[I:.*]], %[[J:.*]], %[[COQ:.*]], %[[CSQ:.*]], %[[COK:.*]], %[[CSK:.*]]) {
//       CHECK:       %[[XI:.*]] = tensor.extract %[[COQ]][%{{.*}}, %[[B]], %[[H]], %[[I]]]
//       CHECK:       %[[OI:.*]] = arith.index_castui %[[XI]] : i32 to index
//       CHECK:       %[[XJ:.*]] = tensor.extract %[[COK]][%{{.*}}, %[[B]], %[[H]], %[[J]]]
//       CHECK:       %[[OJ:.*]] = arith.index_castui %[[XJ]] : i32 to index
//       CHECK:       %[[BI:.*]] = tensor.extract %[[CSQ]][%{{.*}}, %[[B]], %[[H]], %[[I]]]
//       CHECK:       %[[BJ:.*]] = tensor.extract %[[CSK]][%{{.*}}, %[[B]], %[[H]], %[[J]]]
//       CHECK:       %[[SAME:.*]] = arith.cmpi eq, %[[BI]], %[[BJ]] : i32
//       CHECK:       %[[CAUSAL:.*]] = arith.cmpi ule, %[[OJ]], %[[OI]] : index
//       CHECK:       arith.andi %[[SAME]], %[[CAUSAL]] : i1
//       CHECK:   %[[R:.*]] = attn.permute %[[O]], %[[RQ]] {inverse}
//       CHECK:   return %[[R]]
func.func @reformer(%q: tensor<?x4x?x64xbf16>, %k: tensor<?x4x?x64xbf16>,
                    %v: tensor<?x4x?x64xbf16>, %rot: tensor<1x4x64x4xf32>)
    -> tensor<?x4x?x64xbf16> {
  %qb = attn.lsh_buckets %q, %rot
      : tensor<?x4x?x64xbf16>, tensor<1x4x64x4xf32> -> tensor<1x?x4x?xi32>
  %kb = attn.lsh_buckets %k, %rot
      : tensor<?x4x?x64xbf16>, tensor<1x4x64x4xf32> -> tensor<1x?x4x?xi32>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x4x?x64xbf16>, tensor<?x4x?x64xbf16>,
                       tensor<?x4x?x64xbf16>)
      captures(%qb, %kb : tensor<1x?x4x?xi32>, tensor<1x?x4x?xi32>)
      -> tensor<?x4x?x64xbf16>
    score(%s, %b, %h, %i, %j, %qi, %ki) {
      %self = arith.constant -1.0e5 : f32
      %same = arith.cmpi eq, %i, %j : index
      %r = arith.select %same, %self, %s : f32
      attn.yield %r : f32
    }
    mask(%b, %h, %i, %j, %qi, %ki) {
      %c0 = arith.constant 0 : index
      %bi = tensor.extract %qi[%c0, %b, %h, %i] : tensor<1x?x4x?xi32>
      %bj = tensor.extract %ki[%c0, %b, %h, %j] : tensor<1x?x4x?xi32>
      %sameBucket = arith.cmpi eq, %bi, %bj : i32
      %causal = arith.cmpi ule, %j, %i : index
      %keep = arith.andi %sameBucket, %causal : i1
      attn.yield %keep : i1
    }
  return %o : tensor<?x4x?x64xbf16>
}

// -----

/// Shared QK (the Reformer's): one sort for both sides, round 1 of 2 (the
/// order's row slice at [1]); the equality written ids_k == ids_q; no use
/// of i or j besides the ids, so no order is read in the regions and the
/// unread order is not captured.
// CHECK-LABEL: func.func @shared_round
//       CHECK:   %[[OQ:.*]], %[[SQ:.*]] = attn.sort_ids %{{.*}} {num_ids = 4 : i64}
//   CHECK-NOT:   attn.sort_ids
//       CHECK:   %[[RQ:.*]] = tensor.extract_slice %[[OQ]][1, 0, 0, 0] [1, 2, 2, 16] [1, 1, 1, 1] : tensor<2x2x2x16xi32> to tensor<2x2x16xi32>
//       CHECK:   %[[PQ:.*]] = attn.permute %{{.*}}, %[[RQ]]
//       CHECK:   %[[PK:.*]] = attn.permute %{{.*}}, %[[RQ]]
//       CHECK:   %[[PV:.*]] = attn.permute %{{.*}}, %[[RQ]]
//       CHECK:   attn.attention ins(%[[PQ]], %[[PK]], %[[PV]] : {{.*}}) captures(%[[SQ]] : tensor<2x2x2x16xi32>)
//       CHECK:     mask(%[[B:.*]], %[[H:.*]], %[[I:.*]], %[[J:.*]], %[[CSQ:.*]]) {
//   CHECK-NOT:       index_castui
//   CHECK-DAG:       %[[BI:.*]] = tensor.extract %[[CSQ]][%{{.*}}, %[[B]], %[[H]], %[[I]]]
//   CHECK-DAG:       %[[BJ:.*]] = tensor.extract %[[CSQ]][%{{.*}}, %[[B]], %[[H]], %[[J]]]
//       CHECK:       arith.cmpi eq, %[[BJ]], %[[BI]] : i32
//       CHECK:   attn.permute %{{.*}}, %[[RQ]] {inverse}
func.func @shared_round(%qk: tensor<2x2x16x8xf32>, %v: tensor<2x2x16x8xf32>,
                        %rot: tensor<2x2x8x2xf32>) -> tensor<2x2x16x8xf32> {
  %ids = attn.lsh_buckets %qk, %rot
      : tensor<2x2x16x8xf32>, tensor<2x2x8x2xf32> -> tensor<2x2x2x16xi32>
  %o = attn.attention
      ins(%qk, %qk, %v : tensor<2x2x16x8xf32>, tensor<2x2x16x8xf32>,
                         tensor<2x2x16x8xf32>)
      captures(%ids : tensor<2x2x2x16xi32>) -> tensor<2x2x16x8xf32>
    mask(%b, %h, %i, %j, %s) {
      %c1 = arith.constant 1 : index
      %bi = tensor.extract %s[%c1, %b, %h, %i] : tensor<2x2x2x16xi32>
      %bj = tensor.extract %s[%c1, %b, %h, %j] : tensor<2x2x2x16xi32>
      %same = arith.cmpi eq, %bj, %bi : i32
      attn.yield %same : i1
    }
  return %o : tensor<2x2x16x8xf32>
}

// -----

/// Routing with GQA in bshd and lse: the key ids are read at head h / 2,
/// the permutes keep the layout, lse (one value per row) is un-permuted
/// too.
// CHECK-LABEL: func.func @routing_gqa
//       CHECK:   %[[OQ:.*]], %[[SQ:.*]] = attn.sort_ids %{{.*}} {num_ids = 3 : i64} : tensor<?x4x?xi32>
//       CHECK:   %[[OK:.*]], %[[SK:.*]] = attn.sort_ids %{{.*}} {num_ids = 3 : i64} : tensor<?x2x?xi32>
//       CHECK:   attn.permute %{{.*}}, %[[OQ]] {layout = #attn.layout<bshd>} : tensor<?x?x4x32xf16>, tensor<?x4x?xi32>
//       CHECK:   attn.permute %{{.*}}, %[[OK]] {layout = #attn.layout<bshd>} : tensor<?x?x2x32xf16>, tensor<?x2x?xi32>
//       CHECK:   %[[A:.*]]:2 = attn.attention
//       CHECK:     mask(%[[B:.*]], %[[H:.*]], %[[I:.*]], %[[J:.*]], %[[CSQ:.*]], %[[CSK:.*]]) {
//       CHECK:       %[[HK:.*]] = arith.divui %[[H]], %{{.*}} : index
//       CHECK:       tensor.extract %[[CSK]][%[[B]], %[[HK]], %[[J]]]
//       CHECK:   attn.permute %[[A]]#0, %[[OQ]] {inverse, layout = #attn.layout<bshd>} : tensor<?x?x4x32xf16>, tensor<?x4x?xi32>
//       CHECK:   attn.permute %[[A]]#1, %[[OQ]] {inverse} : tensor<?x4x?xf32>, tensor<?x4x?xi32>
func.func @routing_gqa(%q: tensor<?x?x4x32xf16>, %k: tensor<?x?x2x32xf16>,
                       %v: tensor<?x?x2x32xf16>, %mu: tensor<1x3x32xf32>)
    -> (tensor<?x?x4x32xf16>, tensor<?x4x?xf32>) {
  %qc = attn.nearest_centroid %q, %mu {layout = #attn.layout<bshd>}
      : tensor<?x?x4x32xf16>, tensor<1x3x32xf32> -> tensor<?x4x?xi32>
  %kc = attn.nearest_centroid %k, %mu {layout = #attn.layout<bshd>}
      : tensor<?x?x2x32xf16>, tensor<1x3x32xf32> -> tensor<?x2x?xi32>
  %o, %lse = attn.attention
      ins(%q, %k, %v : tensor<?x?x4x32xf16>, tensor<?x?x2x32xf16>,
                       tensor<?x?x2x32xf16>)
      captures(%qc, %kc : tensor<?x4x?xi32>, tensor<?x2x?xi32>) layout(bshd)
      -> tensor<?x?x4x32xf16>, tensor<?x4x?xf32>
    mask(%b, %h, %i, %j, %qi, %ki) {
      %c2 = arith.constant 2 : index
      %hk = arith.divui %h, %c2 : index
      %ci = tensor.extract %qi[%b, %h, %i] : tensor<?x4x?xi32>
      %cj = tensor.extract %ki[%b, %hk, %j] : tensor<?x2x?xi32>
      %same = arith.cmpi eq, %ci, %cj : i32
      attn.yield %same : i1
    }
  return %o, %lse : tensor<?x?x4x32xf16>, tensor<?x4x?xf32>
}

// -----

/// Left alone: ids of unknown range (a function argument; attn.sort_ids
/// needs num_ids), an equality that is not a conjunct (under arith.ori),
/// and key ids read at the query head of a GQA op (not the key's head).
// CHECK-LABEL: func.func @not_clustered
//   CHECK-NOT:   attn.sort_ids
//   CHECK-NOT:   attn.permute
//       CHECK:   return
func.func @not_clustered(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>,
                         %v: tensor<1x2x16x8xf32>, %ids: tensor<1x4x16xi32>,
                         %rot: tensor<1x4x8x2xf32>, %rotk: tensor<1x2x8x2xf32>)
    -> (tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>) {
  %o0 = attn.attention
      ins(%q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>,
                       tensor<1x2x16x8xf32>)
      captures(%ids : tensor<1x4x16xi32>) -> tensor<1x4x16x8xf32>
    mask(%b, %h, %i, %j, %s) {
      %c2 = arith.constant 2 : index
      %hk = arith.divui %h, %c2 : index
      %bi = tensor.extract %s[%b, %h, %i] : tensor<1x4x16xi32>
      %bj = tensor.extract %s[%b, %hk, %j] : tensor<1x4x16xi32>
      %same = arith.cmpi eq, %bi, %bj : i32
      attn.yield %same : i1
    }
  %qb = attn.lsh_buckets %q, %rot
      : tensor<1x4x16x8xf32>, tensor<1x4x8x2xf32> -> tensor<1x1x4x16xi32>
  %kb = attn.lsh_buckets %k, %rotk
      : tensor<1x2x16x8xf32>, tensor<1x2x8x2xf32> -> tensor<1x1x2x16xi32>
  %o1 = attn.attention
      ins(%q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>,
                       tensor<1x2x16x8xf32>)
      captures(%qb, %kb : tensor<1x1x4x16xi32>, tensor<1x1x2x16xi32>)
      -> tensor<1x4x16x8xf32>
    mask(%b, %h, %i, %j, %qi, %ki) {
      %c0 = arith.constant 0 : index
      %c2 = arith.constant 2 : index
      %hk = arith.divui %h, %c2 : index
      %bi = tensor.extract %qi[%c0, %b, %h, %i] : tensor<1x1x4x16xi32>
      %bj = tensor.extract %ki[%c0, %b, %hk, %j] : tensor<1x1x2x16xi32>
      %same = arith.cmpi eq, %bi, %bj : i32
      %causal = arith.cmpi ule, %j, %i : index
      %either = arith.ori %same, %causal : i1
      attn.yield %either : i1
    }
  %o2 = attn.attention
      ins(%q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>,
                       tensor<1x2x16x8xf32>)
      captures(%qb, %kb : tensor<1x1x4x16xi32>, tensor<1x1x2x16xi32>)
      -> tensor<1x4x16x8xf32>
    mask(%b, %h, %i, %j, %qi, %ki) {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %bi = tensor.extract %qi[%c0, %b, %h, %i] : tensor<1x1x4x16xi32>
      %bj = tensor.extract %ki[%c0, %b, %c1, %j] : tensor<1x1x2x16xi32>
      %same = arith.cmpi eq, %bi, %bj : i32
      attn.yield %same : i1
    }
  return %o0, %o1, %o2 : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>,
                         tensor<1x4x16x8xf32>
}

// -----

/// An lse nothing reads gets no inverse permute: only O's.
// CHECK-LABEL: func.func @unread_lse
//       CHECK:   attn.permute %{{.*}}, %{{.*}} {inverse}
//   CHECK-NOT:   attn.permute
//       CHECK:   return
func.func @unread_lse(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>,
                      %v: tensor<1x2x16x8xf32>, %rot: tensor<1x2x8x2xf32>)
    -> tensor<1x2x16x8xf32> {
  %qb = attn.lsh_buckets %q, %rot
      : tensor<1x2x16x8xf32>, tensor<1x2x8x2xf32> -> tensor<1x1x2x16xi32>
  %o, %lse = attn.attention
      ins(%q, %k, %v : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>,
                       tensor<1x2x16x8xf32>)
      captures(%qb : tensor<1x1x2x16xi32>)
      -> tensor<1x2x16x8xf32>, tensor<1x2x16xf32>
    mask(%b, %h, %i, %j, %x) {
      %c0 = arith.constant 0 : index
      %bi = tensor.extract %x[%c0, %b, %h, %i] : tensor<1x1x2x16xi32>
      %bj = tensor.extract %x[%c0, %b, %h, %j] : tensor<1x1x2x16xi32>
      %same = arith.cmpi eq, %bi, %bj : i32
      attn.yield %same : i1
    }
  return %o : tensor<1x2x16x8xf32>
}
