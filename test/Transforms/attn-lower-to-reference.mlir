// RUN: attune-opt %s -split-input-file --attn-lower-to-reference | FileCheck %s

/// Dense attention: scores from a contraction over d, the scale applied per
/// element, row max, exp, row sum, P.V and the normalisation; no op left.
// CHECK-LABEL: func.func @dense
//   CHECK-NOT:   attn.attention
//       CHECK:   %[[S:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]{{.*}} ins(%{{.*}}, %{{.*}} : tensor<2x4x16x32xf32>, tensor<2x4x8x32xf32>) outs(%{{.*}} : tensor<2x4x16x8xf32>)
//       CHECK:     arith.mulf
//       CHECK:     arith.addf
//       CHECK:   linalg.generic {{.*}} ins(%[[S]] : tensor<2x4x16x8xf32>)
//       CHECK:     %[[SCALE:.*]] = arith.constant 0.176776{{[0-9]*}} : f32
//       CHECK:     arith.mulf %{{.*}}, %[[SCALE]] : f32
//       CHECK:     arith.maximumf
//       CHECK:     math.exp
//       CHECK:   linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]
//       CHECK:     arith.divf
func.func @dense(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x8x32xf32>, %v: tensor<2x4x8x32xf32>) -> tensor<2x4x16x32xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<2x4x16x32xf32>, tensor<2x4x8x32xf32>, tensor<2x4x8x32xf32>) -> tensor<2x4x16x32xf32>
  return %o : tensor<2x4x16x32xf32>
}

// -----

/// Grouped-query heads read K and V through `h floordiv g`: no copy of K/V.
// CHECK-DAG: #[[KV:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 4, d3, d4)>
// CHECK-LABEL: func.func @gqa
//   CHECK-NOT:   linalg.broadcast
//       CHECK:   linalg.generic {indexing_maps = [#{{.*}}, #[[KV]], #{{.*}}]
func.func @gqa(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x8x32xf32>, %v: tensor<1x2x8x32xf32>) -> tensor<1x8x16x32xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x8x16x32xf32>, tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32>) -> tensor<1x8x16x32xf32>
  return %o : tensor<1x8x16x32xf32>
}

// -----

/// bshd operands are addressed through permuted maps, never transposed.
// CHECK-DAG: #[[Q:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d4)>
// CHECK-LABEL: func.func @bshd
//   CHECK-NOT:   linalg.transpose
//       CHECK:   linalg.generic {indexing_maps = [#[[Q]],
func.func @bshd(%q: tensor<1x16x2x32xf32>, %k: tensor<1x8x2x32xf32>, %v: tensor<1x8x2x32xf32>) -> tensor<1x16x2x32xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x16x2x32xf32>, tensor<1x8x2x32xf32>, tensor<1x8x2x32xf32>) layout(bshd) -> tensor<1x16x2x32xf32>
  return %o : tensor<1x16x2x32xf32>
}

// -----

/// The mask is inlined per element on (linalg.index 0..3); the score region
/// runs only where the mask holds, under an scf.if that yields -inf
/// otherwise.
// CHECK-LABEL: func.func @mask_and_score
//       CHECK:   %[[I:.*]] = linalg.index 2 : index
//       CHECK:   %[[J:.*]] = linalg.index 3 : index
//       CHECK:   %[[KEEP:.*]] = arith.cmpi ule, %[[J]], %[[I]] : index
//       CHECK:   scf.if %[[KEEP]] -> (f32) {
//       CHECK:     math.tanh
//       CHECK:   } else {
//       CHECK:     scf.yield %{{.*}} : f32
func.func @mask_and_score(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32>
    score(%s, %b, %h, %i, %j) {
      %t = math.tanh %s : f32
      attn.yield %t : f32
    }
    mask(%b, %h, %i, %j) {
      %c = arith.cmpi ule, %j, %i : index
      attn.yield %c : i1
    }
  return %o : tensor<1x1x4x8xf32>
}

// -----

/// f16 inputs widen to f32 for the arithmetic; O is rounded back; lse is f32
/// and -inf on fully masked rows.
// CHECK-LABEL: func.func @f16_with_lse
//       CHECK:   arith.extf %{{.*}} : f16 to f32
//       CHECK:   arith.truncf %{{.*}} : f32 to f16
//       CHECK:   math.log
//       CHECK:   return %{{.*}}, %{{.*}} : tensor<?x2x?x16xf16>, tensor<?x2x?xf32>
func.func @f16_with_lse(%q: tensor<?x2x?x16xf16>, %k: tensor<?x2x?x16xf16>, %v: tensor<?x2x?x16xf16>) -> (tensor<?x2x?x16xf16>, tensor<?x2x?xf32>) {
  %o, %lse = attn.attention ins(%q, %k, %v : tensor<?x2x?x16xf16>, tensor<?x2x?x16xf16>, tensor<?x2x?x16xf16>) -> tensor<?x2x?x16xf16>, tensor<?x2x?xf32>
  return %o, %lse : tensor<?x2x?x16xf16>, tensor<?x2x?xf32>
}

// -----

/// Dynamic batch and key lengths that the verifier cannot compare are
/// checked at run time.
// CHECK-LABEL: func.func @dynamic_shape_checks
//       CHECK:   cf.assert %{{.*}}, "attn.attention: query and key batch sizes do not match"
//       CHECK:   cf.assert %{{.*}}, "attn.attention: query and value batch sizes do not match"
//       CHECK:   cf.assert %{{.*}}, "attn.attention: key and value sequence lengths do not match"
func.func @dynamic_shape_checks(%q: tensor<?x1x4x8xf32>, %k: tensor<?x1x?x8xf32>, %v: tensor<?x1x?x8xf32>) -> tensor<?x1x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<?x1x4x8xf32>, tensor<?x1x?x8xf32>, tensor<?x1x?x8xf32>) -> tensor<?x1x4x8xf32>
  return %o : tensor<?x1x4x8xf32>
}
