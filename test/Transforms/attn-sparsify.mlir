// RUN: attune-opt %s -split-input-file --attn-tile --attn-sparsify | FileCheck %s
// RUN: attune-opt %s -split-input-file --attn-tile --attn-sparsify | attune-opt --attn-sparsify | FileCheck %s

/// attn-sparsify gives every masked op a tile classifier: target-independent
/// IR over the box (b, h, i0, i1, j0, j1) yielding 0 (empty), 1 (partial) or
/// 2 (full). Its soundness is checked by the property test of the analysis
/// it instantiates (unittests/Analysis) and end to end by every example
/// against the oracle (test/Integration/CPU). The second RUN line checks that
/// a classifier round-trips and is kept.

/// Causal: interval reasoning on i and j alone, no loops, no reads.
// CHECK-LABEL: func.func @causal
//       CHECK:   tiles(%[[B:.*]], %[[H:.*]], %[[I0:.*]], %[[I1:.*]], %[[J0:.*]], %[[J1:.*]]) {
//   CHECK-DAG:     arith.index_cast %[[I0]] : index to i64
//   CHECK-DAG:     arith.index_cast %[[J1]] : index to i64
//   CHECK-NOT:     scf.for
//   CHECK-NOT:     tensor.extract
//       CHECK:     attn.yield %{{.*}} : i8
//  CHECK-NEXT:   }
func.func @causal(%q: tensor<?x4x?x64xf32>, %k: tensor<?x4x?x64xf32>,
                  %v: tensor<?x4x?x64xf32>) -> tensor<?x4x?x64xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>)
      -> tensor<?x4x?x64xf32>
    mask(%b, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x4x?x64xf32>
}

// -----

/// No mask: no classifier (every tile is full).
// CHECK-LABEL: func.func @dense
//   CHECK-NOT:   tiles(
func.func @dense(%q: tensor<?x4x?x64xf32>, %k: tensor<?x4x?x64xf32>,
                 %v: tensor<?x4x?x64xf32>) -> tensor<?x4x?x64xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>)
      -> tensor<?x4x?x64xf32>
  return %o : tensor<?x4x?x64xf32>
}

// -----

/// Document ids: the block map. The classifier scans the ids the box reads
/// (bounded: at most 1024 per capture, checked in bounds) for their min and
/// max, then compares the two ranges.
// CHECK-LABEL: func.func @documents
//       CHECK:   tiles(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[QD:.*]], %[[KD:.*]]) {
//       CHECK:     arith.constant 1024 : i64
//       CHECK:     scf.if
//       CHECK:       scf.for
//       CHECK:         scf.for
//       CHECK:           tensor.extract %[[QD]]
//       CHECK:           arith.minsi
//       CHECK:           arith.maxsi
//       CHECK:     tensor.extract %[[KD]]
//       CHECK:     attn.yield %{{.*}} : i8
func.func @documents(%q: tensor<?x4x?x64xf32>, %k: tensor<?x4x?x64xf32>,
                     %v: tensor<?x4x?x64xf32>, %qd: tensor<?x?xi32>,
                     %kd: tensor<?x?xi32>) -> tensor<?x4x?x64xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>)
      captures(%qd, %kd : tensor<?x?xi32>, tensor<?x?xi32>) -> tensor<?x4x?x64xf32>
    mask(%b, %h, %i, %j, %a, %c) {
      %di = tensor.extract %a[%b, %i] : tensor<?x?xi32>
      %dj = tensor.extract %c[%b, %j] : tensor<?x?xi32>
      %keep = arith.cmpi eq, %di, %dj : i32
      attn.yield %keep : i1
    }
  return %o : tensor<?x4x?x64xf32>
}

// -----

/// A classifier already present (hand-written or from an earlier run) is kept.
// CHECK-LABEL: func.func @kept
//       CHECK:   tiles(
//  CHECK-NEXT:     %[[C:.*]] = arith.constant 1 : i8
//  CHECK-NEXT:     attn.yield %[[C]] : i8
func.func @kept(%q: tensor<?x4x?x64xf32>, %k: tensor<?x4x?x64xf32>,
                %v: tensor<?x4x?x64xf32>) -> tensor<?x4x?x64xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>)
      -> tensor<?x4x?x64xf32>
    mask(%b, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
    tiles(%b, %h, %i0, %i1, %j0, %j1) {
      %c = arith.constant 1 : i8
      attn.yield %c : i8
    }
  return %o : tensor<?x4x?x64xf32>
}

// -----

/// Captures of attn.sort_ids (attn-cluster's form): the sorted ids of a
/// box range from its first to its last element (a row never decreases),
/// and so does the order where the sorted ids at both ends are one id (a
/// stable sort keeps a bucket's positions in order): two reads instead of
/// a scan; other boxes (several ids, out of bounds) still scan.
// CHECK-LABEL: func.func @sorted_captures
//       CHECK:   tiles(%[[B:[^,]*]], %[[H:[^,]*]], %[[I0:[^,]*]], %[[I1:[^,]*]], %{{[^,]*}}, %{{[^,]*}}, %[[ORD:[^,]*]], %[[SRT:[^)]*]]) {
//       CHECK:     scf.if
//  CHECK-NEXT:       tensor.extract %[[SRT]][%[[B]], %[[H]], %[[I0]]]
//  CHECK-NEXT:       arith.extsi
//  CHECK-NEXT:       tensor.extract %[[SRT]][%[[B]], %[[H]], %[[I1]]]
//       CHECK:     scf.for
//       CHECK:     scf.if
//   CHECK-DAG:       %[[LAST:.*]] = tensor.extract %[[SRT]][%[[B]], %[[H]], %[[I1]]]
//   CHECK-DAG:       %[[FIRST:.*]] = tensor.extract %[[SRT]][%[[B]], %[[H]], %[[I0]]]
//       CHECK:       %[[ONE:.*]] = arith.cmpi eq, %[[FIRST]], %[[LAST]] : i32
//       CHECK:       scf.if %[[ONE]]
//  CHECK-NEXT:         tensor.extract %[[ORD]][%[[B]], %[[H]], %[[I0]]]
//  CHECK-NEXT:         arith.extsi
//  CHECK-NEXT:         tensor.extract %[[ORD]][%[[B]], %[[H]], %[[I1]]]
func.func @sorted_captures(%q: tensor<1x2x64x8xf32>, %k: tensor<1x2x64x8xf32>,
                           %v: tensor<1x2x64x8xf32>, %ids: tensor<1x2x64xi32>)
    -> tensor<1x2x64x8xf32> {
  %order, %sorted = attn.sort_ids %ids {num_ids = 4} : tensor<1x2x64xi32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>)
      captures(%order, %sorted : tensor<1x2x64xi32>, tensor<1x2x64xi32>)
      -> tensor<1x2x64x8xf32>
    mask(%b, %h, %i, %j, %o, %s) {
      %si = tensor.extract %s[%b, %h, %i] : tensor<1x2x64xi32>
      %sj = tensor.extract %s[%b, %h, %j] : tensor<1x2x64xi32>
      %same = arith.cmpi eq, %si, %sj : i32
      %oi = tensor.extract %o[%b, %h, %i] : tensor<1x2x64xi32>
      %oj = tensor.extract %o[%b, %h, %j] : tensor<1x2x64xi32>
      %causal = arith.cmpi ule, %oj, %oi : i32
      %keep = arith.andi %same, %causal : i1
      attn.yield %keep : i1
    }
  return %o : tensor<1x2x64x8xf32>
}
