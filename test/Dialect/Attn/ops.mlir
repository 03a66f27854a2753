// RUN: attune-opt %s -split-input-file | attune-opt -split-input-file | FileCheck %s
// RUN: attune-opt %s -split-input-file --mlir-print-op-generic | attune-opt -split-input-file | FileCheck %s
// RUN: attune-opt %s -split-input-file --verify-roundtrip

// Round trip of every form of `attn.attention`: with and without each
// optional piece (captures, scale, layout, lse, score, mask).

// CHECK-LABEL: func.func @dense
//       CHECK:   attn.attention ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<2x4x16x64xf32>, tensor<2x4x16x64xf32>, tensor<2x4x16x64xf32>) -> tensor<2x4x16x64xf32>
//   CHECK-NOT:   score
//   CHECK-NOT:   mask
func.func @dense(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x16x64xf32>, %v: tensor<2x4x16x64xf32>) -> tensor<2x4x16x64xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<2x4x16x64xf32>, tensor<2x4x16x64xf32>, tensor<2x4x16x64xf32>) -> tensor<2x4x16x64xf32>
  return %o : tensor<2x4x16x64xf32>
}

// -----

// CHECK-LABEL: func.func @scale_and_lse
//       CHECK:   attn.attention ins({{.*}}) scale(2.500000e-01) -> tensor<1x2x8x16xbf16>, tensor<1x2x8xf32>
func.func @scale_and_lse(%q: tensor<1x2x8x16xbf16>, %k: tensor<1x2x8x16xbf16>, %v: tensor<1x2x8x16xbf16>) -> (tensor<1x2x8x16xbf16>, tensor<1x2x8xf32>) {
  %o, %lse = attn.attention ins(%q, %k, %v : tensor<1x2x8x16xbf16>, tensor<1x2x8x16xbf16>, tensor<1x2x8x16xbf16>) scale(0.25) -> tensor<1x2x8x16xbf16>, tensor<1x2x8xf32>
  return %o, %lse : tensor<1x2x8x16xbf16>, tensor<1x2x8xf32>
}

// -----

/// Cross attention with Sq != Sk, a value head size Dv != D and dynamic
/// batch and sequence sizes.
// CHECK-LABEL: func.func @dynamic_cross
//       CHECK:   attn.attention ins({{.*}} : tensor<?x4x?x64xf16>, tensor<?x4x?x64xf16>, tensor<?x4x?x32xf16>) -> tensor<?x4x?x32xf16>
func.func @dynamic_cross(%q: tensor<?x4x?x64xf16>, %k: tensor<?x4x?x64xf16>, %v: tensor<?x4x?x32xf16>) -> tensor<?x4x?x32xf16> {
  %o = attn.attention ins(%q, %k, %v : tensor<?x4x?x64xf16>, tensor<?x4x?x64xf16>, tensor<?x4x?x32xf16>) -> tensor<?x4x?x32xf16>
  return %o : tensor<?x4x?x32xf16>
}

// -----

/// The bshd layout: [B, S, H, D], with grouped-query heads (8 query heads
/// share 2 key/value heads).
// CHECK-LABEL: func.func @bshd_gqa
//       CHECK:   attn.attention ins({{.*}}) layout(bshd) -> tensor<1x128x8x64xf32>, tensor<1x8x128xf32>
func.func @bshd_gqa(%q: tensor<1x128x8x64xf32>, %k: tensor<1x256x2x64xf32>, %v: tensor<1x256x2x64xf32>) -> (tensor<1x128x8x64xf32>, tensor<1x8x128xf32>) {
  %o, %lse = attn.attention ins(%q, %k, %v : tensor<1x128x8x64xf32>, tensor<1x256x2x64xf32>, tensor<1x256x2x64xf32>) layout(bshd) -> tensor<1x128x8x64xf32>, tensor<1x8x128xf32>
  return %o, %lse : tensor<1x128x8x64xf32>, tensor<1x8x128xf32>
}

// -----

// CHECK-LABEL: func.func @causal_mask
//       CHECK:   attn.attention
//  CHECK-SAME:     -> tensor<1x1x16x8xf32>
//  CHECK-NEXT:     mask(%[[B:.*]], %[[H:.*]], %[[I:.*]], %[[J:.*]]) {
//  CHECK-NEXT:       %[[C:.*]] = arith.cmpi ule, %[[J]], %[[I]] : index
//  CHECK-NEXT:       attn.yield %[[C]] : i1
func.func @causal_mask(%q: tensor<1x1x16x8xf32>, %k: tensor<1x1x16x8xf32>, %v: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32>
    mask(%b, %h, %i, %j) {
      %c = arith.cmpi ule, %j, %i : index
      attn.yield %c : i1
    }
  return %o : tensor<1x1x16x8xf32>
}

// -----

/// Softcapping (Gemma 2): a score region with no captures.
// CHECK-LABEL: func.func @softcap_score
//       CHECK:   score(%[[S:.*]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) {
//       CHECK:     math.tanh
//       CHECK:     attn.yield %{{.*}} : f32
func.func @softcap_score(%q: tensor<1x1x16x8xf32>, %k: tensor<1x1x16x8xf32>, %v: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32>
    score(%s, %b, %h, %i, %j) {
      %cap = arith.constant 50.0 : f32
      %x = arith.divf %s, %cap : f32
      %t = math.tanh %x : f32
      %r = arith.mulf %t, %cap : f32
      attn.yield %r : f32
    }
  return %o : tensor<1x1x16x8xf32>
}

// -----

/// Captures reach both regions as trailing block arguments; the mask may be
/// written before the score.
// CHECK-LABEL: func.func @captures_both_regions
//       CHECK:   attn.attention ins({{.*}}) captures(%{{.*}}, %{{.*}} : tensor<2xindex>, f32) -> tensor<2x1x16x8xf32>
//  CHECK-NEXT:     score(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[BIAS:.*]]) {
//       CHECK:       arith.addf %{{.*}}, %[[BIAS]] : f32
//       CHECK:     mask(%[[B:.*]], %{{.*}}, %{{.*}}, %[[J:.*]], %[[LENS:.*]], %{{.*}}) {
//  CHECK-NEXT:       %[[LEN:.*]] = tensor.extract %[[LENS]][%[[B]]] : tensor<2xindex>
func.func @captures_both_regions(%q: tensor<2x1x16x8xf32>, %k: tensor<2x1x16x8xf32>, %v: tensor<2x1x16x8xf32>, %lens: tensor<2xindex>, %bias: f32) -> tensor<2x1x16x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<2x1x16x8xf32>, tensor<2x1x16x8xf32>, tensor<2x1x16x8xf32>) captures(%lens, %bias : tensor<2xindex>, f32) -> tensor<2x1x16x8xf32>
    mask(%b, %h, %i, %j, %ls, %bi) {
      %len = tensor.extract %ls[%b] : tensor<2xindex>
      %c = arith.cmpi ult, %j, %len : index
      attn.yield %c : i1
    }
    score(%s, %b, %h, %i, %j, %ls, %bi) {
      %r = arith.addf %s, %bi : f32
      attn.yield %r : f32
    }
  return %o : tensor<2x1x16x8xf32>
}

// -----

/// Extra discardable attributes survive the custom form.
// CHECK-LABEL: func.func @extra_attributes
//       CHECK:   attn.attention ins({{.*}}) -> tensor<1x1x4x8xf32> attributes {note = "kept"}
func.func @extra_attributes(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32> attributes {note = "kept"}
  return %o : tensor<1x1x4x8xf32>
}

// -----

/// A scale the printer writes in hex (no short decimal form) reads back
/// bit-exactly.
// CHECK-LABEL: func.func @scale_hex_round_trip
//       CHECK:   scale(0x4B800000)
func.func @scale_hex_round_trip(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) scale(16777216.0) -> tensor<1x1x4x8xf32>
  return %o : tensor<1x1x4x8xf32>
}
