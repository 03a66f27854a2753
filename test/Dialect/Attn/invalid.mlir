// RUN: attune-opt %s -split-input-file -verify-diagnostics

// One case per user-facing error of `attn.attention` and `attn.yield`: the
// custom parser, the op verifier, the region verifier and the ODS
// constraints. Cases the custom form cannot spell use the generic form.

//===----------------------------------------------------------------------===//
// Custom parser
//===----------------------------------------------------------------------===//

func.func @ins_two_operands(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected three operands (query, key, value), got 2}}
  %o = attn.attention ins(%q, %k : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @ins_no_operands() -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected three operands (query, key, value), got 0}}
  %o = attn.attention ins() -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @ins_too_few_types(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected 3 types, got 2}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @captures_too_many_types(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %c: f32) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected 1 types, got 2}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) captures(%c : f32, f32) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @scale_not_a_number(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected floating point literal}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) scale(half) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// The scale is an f32: an integer literal would be read as its bit pattern
/// if it were hexadecimal, so a decimal one is refused.
func.func @scale_integer_literal(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+2 {{unexpected decimal integer literal for a floating point value}}
  // expected-note @+1 {{add a trailing dot to make the literal a float}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) scale(1) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @bad_layout_keyword(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected layout 'bhsd' or 'bshd', got 'bhds'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) layout(bhds) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @three_result_types(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected one or two result types (output and optional lse), got 3}}
  %o:3 = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
  return %o#0 : tensor<1x2x4x8xf32>
}

// -----

/// A mistyped inherent attribute in `attributes {...}` would otherwise be
/// dropped when it becomes a property: the layout would silently fall back
/// to bhsd.
func.func @layout_in_attr_dict_wrong_type(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{attribute 'layout' failed to satisfy constraint: dimension order of Q, K, V and O}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> attributes {layout = 1 : i32}
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// Likewise an f64 scale would silently become the default 1/sqrt(D).
func.func @scale_in_attr_dict_wrong_type(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{attribute 'scale' failed to satisfy constraint: 32-bit float attribute}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> attributes {scale = 0.5 : f64}
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @scale_twice(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{attribute 'scale' occurs more than once in the attribute list}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) scale(0.5) -> tensor<1x2x4x8xf32> attributes {scale = 0.25 : f32}
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @duplicate_score_region(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
    score(%s, %b, %h, %i, %j) {
      attn.yield %s : f32
    }
    // expected-error @+1 {{duplicate 'score' region}}
    score(%s, %b, %h, %i, %j) {
      attn.yield %s : f32
    }
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @duplicate_mask_region(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
    mask(%b, %h, %i, %j) {
      %t = arith.constant true
      attn.yield %t : i1
    }
    // expected-error @+1 {{duplicate 'mask' region}}
    mask(%b, %h, %i, %j) {
      %t = arith.constant true
      attn.yield %t : i1
    }
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// The score region's first argument is the score `s`; leaving it out is
/// caught by the count.
func.func @score_region_missing_s(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
    // expected-error @+1 {{expected 5 score region arguments (s, b, h, i, j and one per capture), got 4}}
    score(%b, %h, %i, %j) {
      %c = arith.constant 0.0 : f32
      attn.yield %c : f32
    }
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// Every capture is also a region argument.
func.func @mask_region_missing_capture(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %n: index) -> tensor<1x2x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) captures(%n : index) -> tensor<1x2x4x8xf32>
    // expected-error @+1 {{expected 5 mask region arguments (b, h, i, j and one per capture), got 4}}
    mask(%b, %h, %i, %j) {
      %t = arith.constant true
      attn.yield %t : i1
    }
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// Region argument types are implied by position in the custom form.
func.func @region_argument_with_type(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
    // expected-error @+1 {{expected ')' in argument list}}
    mask(%b : index, %h, %i, %j) {
      %t = arith.constant true
      attn.yield %t : i1
    }
  return %o : tensor<1x2x4x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// ODS constraints and generic structure
//===----------------------------------------------------------------------===//

func.func @unranked_query(%q: tensor<*xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{operand #0 must be ranked tensor of any type values}}
  %o = attn.attention ins(%q, %k, %v : tensor<*xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @memref_key(%q: tensor<1x2x4x8xf32>, %k: memref<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{operand #1 must be ranked tensor of any type values}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, memref<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @memref_output(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> memref<1x2x4x8xf32> {
  // expected-error @+1 {{result #0 must be ranked tensor of any type values}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> memref<1x2x4x8xf32>
  return %o : memref<1x2x4x8xf32>
}

// -----

func.func @generic_missing_regions(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected 3 regions}}
  %o = "attn.attention"(%q, %k, %v) <{layout = #attn.layout<bhsd>}> : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @generic_bad_layout(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+2 {{expected ::attune::attn::Layout to be one of: bhsd, bshd}}
  // expected-error @+1 {{failed to parse Attn_LayoutAttr parameter 'value'}}
  %o = "attn.attention"(%q, %k, %v) <{layout = #attn.layout<bsdh>}> ({}, {}, {}) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @generic_scale_f64(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{attribute 'scale' failed to satisfy constraint: 32-bit float attribute}}
  %o = "attn.attention"(%q, %k, %v) <{layout = #attn.layout<bhsd>, scale = 0.5 : f64}> ({}, {}, {}) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// With properties given, upstream's generic parser moves a mistyped
/// inherent attribute of the discardable dictionary into the property as
/// null; the verifier must reject it rather than dereference it.
func.func @generic_null_layout(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected a 'layout' attribute of type #attn.layout}}
  %o = "attn.attention"(%q, %k, %v) <{}> ({}, {}, {}) {layout = 1 : i32} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @score_region_two_blocks(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{region #0 ('score') failed to verify constraint: region with at most 1 blocks}}
  %o = "attn.attention"(%q, %k, %v) <{layout = #attn.layout<bhsd>}> ({
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    cf.br ^bb1
  ^bb1:
    %c = arith.constant 0.0 : f32
    attn.yield %c : f32
  }, {}, {}) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @empty_region_body(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{empty block: expect at least a terminator}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
    mask(%b, %h, %i, %j) {
    }
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// Regions are isolated from above: outside values come in as captures.
func.func @region_uses_outside_value(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %n: index) -> tensor<1x2x4x8xf32> {
  // expected-note @+1 {{required by region isolation constraints}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
    mask(%b, %h, %i, %j) {
      // expected-error @+1 {{using value defined outside the region}}
      %c = arith.cmpi ult, %j, %n : index
      attn.yield %c : i1
    }
  return %o : tensor<1x2x4x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Operand shapes and element types
//===----------------------------------------------------------------------===//

func.func @query_rank_3(%q: tensor<2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected query to have rank 4, got rank 3}}
  %o = attn.attention ins(%q, %k, %v : tensor<2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @key_rank_5(%q: tensor<1x2x4x8xf32>, %k: tensor<1x1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected key to have rank 4, got rank 5}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @value_rank_0(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<f32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected value to have rank 4, got rank 0}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<f32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @query_i32(%q: tensor<1x2x4x8xi32>, %k: tensor<1x2x4x8xi32>, %v: tensor<1x2x4x8xi32>) -> tensor<1x2x4x8xi32> {
  // expected-error @+1 {{expected query element type to be f32, f16 or bf16, got 'i32'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xi32>, tensor<1x2x4x8xi32>, tensor<1x2x4x8xi32>) -> tensor<1x2x4x8xi32>
  return %o : tensor<1x2x4x8xi32>
}

// -----

/// f64 is not supported: accumulation is in f32.
func.func @query_f64(%q: tensor<1x2x4x8xf64>, %k: tensor<1x2x4x8xf64>, %v: tensor<1x2x4x8xf64>) -> tensor<1x2x4x8xf64> {
  // expected-error @+1 {{expected query element type to be f32, f16 or bf16, got 'f64'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf64>, tensor<1x2x4x8xf64>, tensor<1x2x4x8xf64>) -> tensor<1x2x4x8xf64>
  return %o : tensor<1x2x4x8xf64>
}

// -----

func.func @key_element_type_mismatch(%q: tensor<1x2x4x8xf16>, %k: tensor<1x2x4x8xbf16>, %v: tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf16> {
  // expected-error @+1 {{expected key and value element types to match the query element type 'f16'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf16>, tensor<1x2x4x8xbf16>, tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf16>
  return %o : tensor<1x2x4x8xf16>
}

// -----

func.func @value_element_type_mismatch(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected key and value element types to match the query element type 'f32'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// An encoding changes what the elements mean; the lowerings read Q, K and V
/// as dense tensors.
func.func @key_with_encoding(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32, "packed">, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected key to have no tensor encoding, got 'tensor<1x2x4x8xf32, "packed">'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32, "packed">, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// Head counts are static: the GQA group size Hq / Hkv is a compile-time
/// constant.
func.func @dynamic_query_head_count(%q: tensor<1x?x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x?x4x8xf32> {
  // expected-error @+1 {{expected query head count (dimension 1) to be static and positive}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x?x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x?x4x8xf32>
  return %o : tensor<1x?x4x8xf32>
}

// -----

/// Zero kv heads would divide by zero in Hq / Hkv.
func.func @zero_key_head_count(%q: tensor<1x2x4x8xf32>, %k: tensor<1x0x4x8xf32>, %v: tensor<1x0x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected key head count (dimension 1) to be static and positive}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x0x4x8xf32>, tensor<1x0x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// Head sizes are static: they fix the register tiles of the kernels.
func.func @dynamic_value_head_size(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x?xf32>) -> tensor<1x2x4x?xf32> {
  // expected-error @+1 {{expected value head size (dimension 3) to be static and positive}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x?xf32>) -> tensor<1x2x4x?xf32>
  return %o : tensor<1x2x4x?xf32>
}

// -----

/// D = 0 would make the default scale 1/sqrt(D) infinite.
func.func @zero_query_head_size(%q: tensor<1x2x4x0xf32>, %k: tensor<1x2x4x0xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected query head size (dimension 3) to be static and positive}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x0xf32>, tensor<1x2x4x0xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @zero_value_head_size(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x0xf32>) -> tensor<1x2x4x0xf32> {
  // expected-error @+1 {{expected value head size (dimension 3) to be static and positive}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x0xf32>) -> tensor<1x2x4x0xf32>
  return %o : tensor<1x2x4x0xf32>
}

// -----

/// In bshd the head count is dimension 2, so the message names that one.
func.func @bshd_dynamic_key_head_count(%q: tensor<1x4x2x8xf32>, %k: tensor<1x4x?x8xf32>, %v: tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32> {
  // expected-error @+1 {{expected key head count (dimension 2) to be static and positive}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x2x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x2x8xf32>) layout(bshd) -> tensor<1x4x2x8xf32>
  return %o : tensor<1x4x2x8xf32>
}

// -----

func.func @kv_head_count_mismatch(%q: tensor<1x4x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x1x4x8xf32>) -> tensor<1x4x4x8xf32> {
  // expected-error @+1 {{expected key and value head counts to match, got 2 and 1}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x4x4x8xf32>
  return %o : tensor<1x4x4x8xf32>
}

// -----

func.func @query_heads_not_multiple_of_kv_heads(%q: tensor<1x3x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x3x4x8xf32> {
  // expected-error @+1 {{expected query head count 3 to be a multiple of the key/value head count 2}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x3x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x3x4x8xf32>
  return %o : tensor<1x3x4x8xf32>
}

// -----

/// Fewer query heads than kv heads is not GQA either.
func.func @fewer_query_heads_than_kv_heads(%q: tensor<1x2x4x8xf32>, %k: tensor<1x4x4x8xf32>, %v: tensor<1x4x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected query head count 2 to be a multiple of the key/value head count 4}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @query_key_head_size_mismatch(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x16xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected query and key head sizes to match, got 8 and 16}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x16xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @batch_mismatch(%q: tensor<2x2x4x8xf32>, %k: tensor<3x2x4x8xf32>, %v: tensor<3x2x4x8xf32>) -> tensor<2x2x4x8xf32> {
  // expected-error @+1 {{expected query, key and value batch sizes to match}}
  %o = attn.attention ins(%q, %k, %v : tensor<2x2x4x8xf32>, tensor<3x2x4x8xf32>, tensor<3x2x4x8xf32>) -> tensor<2x2x4x8xf32>
  return %o : tensor<2x2x4x8xf32>
}

// -----

/// A dynamic query batch does not hide a static key/value disagreement.
func.func @batch_mismatch_behind_dynamic_query(%q: tensor<?x2x4x8xf32>, %k: tensor<2x2x4x8xf32>, %v: tensor<3x2x4x8xf32>) -> tensor<?x2x4x8xf32> {
  // expected-error @+1 {{expected query, key and value batch sizes to match}}
  %o = attn.attention ins(%q, %k, %v : tensor<?x2x4x8xf32>, tensor<2x2x4x8xf32>, tensor<3x2x4x8xf32>) -> tensor<?x2x4x8xf32>
  return %o : tensor<?x2x4x8xf32>
}

// -----

func.func @kv_sequence_mismatch(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x12x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected key and value sequence lengths to match, got 16 and 12}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// In bshd the sequence is dimension 1.
func.func @bshd_kv_sequence_mismatch(%q: tensor<1x4x2x8xf32>, %k: tensor<1x16x2x8xf32>, %v: tensor<1x12x2x8xf32>) -> tensor<1x4x2x8xf32> {
  // expected-error @+1 {{expected key and value sequence lengths to match, got 16 and 12}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x2x8xf32>, tensor<1x16x2x8xf32>, tensor<1x12x2x8xf32>) layout(bshd) -> tensor<1x4x2x8xf32>
  return %o : tensor<1x4x2x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Scale
//===----------------------------------------------------------------------===//

func.func @scale_zero(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected scale to be positive and finite, got 0}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) scale(0.0) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// -0.0 compares equal to 0.0 but has the sign bit set.
func.func @scale_negative_zero(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected scale to be positive and finite, got -0}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) scale(-0.0) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @scale_negative(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected scale to be positive and finite, got -0.125}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) scale(-0.125) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// A decimal too large for f32 rounds to +inf.
func.func @scale_overflows_f32(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected scale to be positive and finite, got +Inf}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) scale(1.0e39) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// The custom form reads a hexadecimal scale as f32 bits, as the printer
/// writes it.
func.func @scale_hex_nan(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected scale to be positive and finite, got NaN}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) scale(0x7FC00000) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @generic_scale_inf(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected scale to be positive and finite, got +Inf}}
  %o = "attn.attention"(%q, %k, %v) <{layout = #attn.layout<bhsd>, scale = 0x7F800000 : f32}> ({}, {}, {}) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @generic_scale_negative_inf(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected scale to be positive and finite, got -Inf}}
  %o = "attn.attention"(%q, %k, %v) <{layout = #attn.layout<bhsd>, scale = 0xFF800000 : f32}> ({}, {}, {}) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @generic_scale_nan(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected scale to be positive and finite, got NaN}}
  %o = "attn.attention"(%q, %k, %v) <{layout = #attn.layout<bhsd>, scale = 0x7FC00000 : f32}> ({}, {}, {}) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Results
//===----------------------------------------------------------------------===//

/// O takes Dv from V, not D from Q.
func.func @output_head_size_from_query(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x16xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected output type 'tensor<1x2x4x16xf32>', got 'tensor<1x2x4x8xf32>'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x16xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// O has Sq rows, not Sk.
func.func @output_sequence_from_key(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  // expected-error @+1 {{expected output type 'tensor<1x2x4x8xf32>', got 'tensor<1x2x16x8xf32>'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

/// O has Hq heads, not Hkv.
func.func @output_heads_from_key(%q: tensor<1x4x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected output type 'tensor<1x4x4x8xf32>', got 'tensor<1x2x4x8xf32>'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// O is in the op's layout: [B, Sq, Hq, Dv] for bshd.
func.func @bshd_output_in_bhsd_order(%q: tensor<1x4x2x8xf32>, %k: tensor<1x4x2x8xf32>, %v: tensor<1x4x2x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected output type 'tensor<1x4x2x8xf32>', got 'tensor<1x2x4x8xf32>'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>) layout(bshd) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @output_rank_3(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{expected output type 'tensor<1x2x4x8xf32>', got 'tensor<2x4x8xf32>'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<2x4x8xf32>
  return %o : tensor<2x4x8xf32>
}

// -----

/// The output has Q's element type; accumulation in f32 is internal.
func.func @output_element_type(%q: tensor<1x2x4x8xbf16>, %k: tensor<1x2x4x8xbf16>, %v: tensor<1x2x4x8xbf16>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected output type 'tensor<1x2x4x8xbf16>', got 'tensor<1x2x4x8xf32>'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xbf16>, tensor<1x2x4x8xbf16>, tensor<1x2x4x8xbf16>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// The output keeps Q's dynamic sizes; a static size there is not implied.
func.func @output_static_where_query_dynamic(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected output type 'tensor<?x2x?x8xf32>', got 'tensor<1x2x4x8xf32>'}}
  %o = attn.attention ins(%q, %k, %v : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// A lowering builds the output as a plain tensor; an encoding on the result
/// type would make the replacement ill-typed.
func.func @output_with_encoding(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32, "packed"> {
  // expected-error @+1 {{expected output type 'tensor<1x2x4x8xf32>', got 'tensor<1x2x4x8xf32, "packed">'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32, "packed">
  return %o : tensor<1x2x4x8xf32, "packed">
}

// -----

func.func @lse_wrong_shape(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected lse type 'tensor<1x2x4xf32>', got 'tensor<1x2x4x1xf32>'}}
  %o, %lse = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>, tensor<1x2x4x1xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// lse is [B, Hq, Sq] whatever the layout.
func.func @bshd_lse_in_layout_order(%q: tensor<1x4x2x8xf32>, %k: tensor<1x4x2x8xf32>, %v: tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32> {
  // expected-error @+1 {{expected lse type 'tensor<1x2x4xf32>', got 'tensor<1x4x2xf32>'}}
  %o, %lse = attn.attention ins(%q, %k, %v : tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>) layout(bshd) -> tensor<1x4x2x8xf32>, tensor<1x4x2xf32>
  return %o : tensor<1x4x2x8xf32>
}

// -----

func.func @lse_with_encoding(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected lse type 'tensor<1x2x4xf32>', got 'tensor<1x2x4xf32, "packed">'}}
  %o, %lse = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32, "packed">
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// lse is f32 even for f16 inputs.
func.func @lse_element_type(%q: tensor<1x2x4x8xf16>, %k: tensor<1x2x4x8xf16>, %v: tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf16> {
  // expected-error @+1 {{expected lse type 'tensor<1x2x4xf32>', got 'tensor<1x2x4xf16>'}}
  %o, %lse = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf16>, tensor<1x2x4x8xf16>, tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf16>, tensor<1x2x4xf16>
  return %o : tensor<1x2x4x8xf16>
}

// -----

//===----------------------------------------------------------------------===//
// Captures
//===----------------------------------------------------------------------===//

func.func @memref_capture(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %m: memref<4xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected capture #0 to be a ranked tensor or a scalar of integer, index or float type, got 'memref<4xf32>'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) captures(%m : memref<4xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @vector_capture(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %n: index, %w: vector<4xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected capture #1 to be a ranked tensor or a scalar of integer, index or float type, got 'vector<4xf32>'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) captures(%n, %w : index, vector<4xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @unranked_tensor_capture(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %t: tensor<*xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected capture #0 to be a ranked tensor or a scalar of integer, index or float type, got 'tensor<*xf32>'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) captures(%t : tensor<*xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @complex_tensor_capture(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %t: tensor<4xcomplex<f32>>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected capture #0 to be a ranked tensor or a scalar of integer, index or float type, got 'tensor<4xcomplex<f32>>'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) captures(%t : tensor<4xcomplex<f32>>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Regions
//===----------------------------------------------------------------------===//

func.func @generic_score_region_argument_count(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected score region to have 5 arguments (s, b, h, i, j and one per capture), got 4}}
  %o = "attn.attention"(%q, %k, %v) <{layout = #attn.layout<bhsd>}> ({
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c = arith.constant 0.0 : f32
    attn.yield %c : f32
  }, {}, {}) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @generic_mask_region_argument_count(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %n: index) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected mask region to have 5 arguments (b, h, i, j and one per capture), got 4}}
  %o = "attn.attention"(%q, %k, %v, %n) <{layout = #attn.layout<bhsd>}> ({}, {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %t = arith.constant true
    attn.yield %t : i1
  }, {}) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, index) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// The score arrives in f32 whatever the element type of Q.
func.func @generic_score_argument_f16(%q: tensor<1x2x4x8xf16>, %k: tensor<1x2x4x8xf16>, %v: tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf16> {
  // expected-error @+1 {{expected score region argument #0 to have type 'f32', got 'f16'}}
  %o = "attn.attention"(%q, %k, %v) <{layout = #attn.layout<bhsd>}> ({
  ^bb0(%s: f16, %b: index, %h: index, %i: index, %j: index):
    %c = arith.constant 0.0 : f32
    attn.yield %c : f32
  }, {}, {}) : (tensor<1x2x4x8xf16>, tensor<1x2x4x8xf16>, tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf16>
  return %o : tensor<1x2x4x8xf16>
}

// -----

func.func @generic_mask_index_argument_i64(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected mask region argument #2 to have type 'index', got 'i64'}}
  %o = "attn.attention"(%q, %k, %v) <{layout = #attn.layout<bhsd>}> ({}, {
  ^bb0(%b: index, %h: index, %i: i64, %j: index):
    %t = arith.constant true
    attn.yield %t : i1
  }, {}) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @generic_score_capture_argument_type(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %bias: tensor<4xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected score region argument #5 to have type 'tensor<4xf32>', got 'tensor<?xf32>'}}
  %o = "attn.attention"(%q, %k, %v, %bias) <{layout = #attn.layout<bhsd>}> ({
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index, %t: tensor<?xf32>):
    attn.yield %s : f32
  }, {}, {}) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<4xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// A registered terminator without a parent constraint: the region verifier
/// has to name the expected one.
func.func @region_not_ending_with_yield(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected mask region to end with 'attn.yield'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
    mask(%b, %h, %i, %j) {
      llvm.unreachable
    }
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @region_ending_with_non_terminator(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
    score(%s, %b, %h, %i, %j) {
      // expected-error @+1 {{block with no terminator}}
      %c = arith.constant 0.0 : f32
    }
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @score_yields_nothing(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
    score(%s, %b, %h, %i, %j) {
      // expected-error @+1 {{expected to yield a single 'f32' from the score region}}
      attn.yield
    }
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @score_yields_two_values(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
    score(%s, %b, %h, %i, %j) {
      // expected-error @+1 {{expected to yield a single 'f32' from the score region}}
      attn.yield %s, %s : f32, f32
    }
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// The score region yields f32 even for f16 inputs.
func.func @score_yields_f16(%q: tensor<1x2x4x8xf16>, %k: tensor<1x2x4x8xf16>, %v: tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf16> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf16>, tensor<1x2x4x8xf16>, tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf16>
    score(%s, %b, %h, %i, %j) {
      %t = arith.truncf %s : f32 to f16
      // expected-error @+1 {{expected to yield a single 'f32' from the score region}}
      attn.yield %t : f16
    }
  return %o : tensor<1x2x4x8xf16>
}

// -----

func.func @mask_yields_f32(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
    mask(%b, %h, %i, %j) {
      %c = arith.constant 0.0 : f32
      // expected-error @+1 {{expected to yield a single 'i1' from the mask region}}
      attn.yield %c : f32
    }
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// An additive bias is a score modification, not a mask.
func.func @mask_yields_index(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
    mask(%b, %h, %i, %j) {
      // expected-error @+1 {{expected to yield a single 'i1' from the mask region}}
      attn.yield %j : index
    }
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func private @bias(index, index) -> f32

/// Regions are evaluated any number of times, in any order: a call with
/// unknown effects is not allowed.
func.func @score_calls_function(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
    score(%s, %b, %h, %i, %j) {
      // expected-error @+1 {{'func.call' op has side effects, which are not allowed in the score region of 'attn.attention'}}
      %x = func.call @bias(%i, %j) : (index, index) -> f32
      %r = arith.addf %s, %x : f32
      attn.yield %r : f32
    }
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @mask_allocates(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
    mask(%b, %h, %i, %j) {
      // expected-error @+1 {{'memref.alloca' op has side effects, which are not allowed in the mask region of 'attn.attention'}}
      %m = memref.alloca() : memref<i1>
      %t = arith.constant true
      memref.store %t, %m[] : memref<i1>
      %c = memref.load %m[] : memref<i1>
      attn.yield %c : i1
    }
  return %o : tensor<1x2x4x8xf32>
}

// -----

/// Effects nested in a region-holding op count too.
func.func @mask_store_inside_scf_if(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
    mask(%b, %h, %i, %j) {
      %c = arith.cmpi ule, %j, %i : index
      // expected-error @+1 {{'scf.if' op has side effects, which are not allowed in the mask region of 'attn.attention'}}
      %r = scf.if %c -> (i1) {
        %m = memref.alloc() : memref<i1>
        memref.store %c, %m[] : memref<i1>
        scf.yield %c : i1
      } else {
        scf.yield %c : i1
      }
      attn.yield %r : i1
    }
  return %o : tensor<1x2x4x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.yield
//===----------------------------------------------------------------------===//

func.func @yield_outside_attention(%x: f32) {
  // expected-error @+1 {{'attn.yield' op expects parent op 'attn.attention'}}
  attn.yield %x : f32
}

// -----

func.func @yield_inside_scf_if_in_region(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
    mask(%b, %h, %i, %j) {
      %c = arith.cmpi ule, %j, %i : index
      scf.if %c {
        // expected-error @+1 {{'attn.yield' op expects parent op 'attn.attention'}}
        attn.yield %c : i1
      }
      attn.yield %c : i1
    }
  return %o : tensor<1x2x4x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// The tiled form: tile_sizes and the tiles region
//===----------------------------------------------------------------------===//

func.func @tile_sizes_zero(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected 'tile_sizes' to be two positive integers (queries and keys per tile), got [0, 64]}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) tile_sizes(0, 64) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @tile_sizes_three(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected 'tile_sizes' to be two positive integers (queries and keys per tile), got [16, 16, 16]}}
  %o = "attn.attention"(%q, %k, %v) <{layout = #attn.layout<bhsd>, tile_sizes = array<i64: 16, 16, 16>}> ({}, {}, {}) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @tiles_argument_count(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
    // expected-error @+1 {{expected 6 tiles region arguments (b, h, i0, i1, j0, j1 and one per capture), got 4}}
    tiles(%b, %h, %i, %j) {
      %c = arith.constant 1 : i8
      attn.yield %c : i8
    }
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @tiles_yield_type(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
    tiles(%b, %h, %i0, %i1, %j0, %j1) {
      %c = arith.constant true
      // expected-error @+1 {{expected to yield a single 'i8' from the tiles region}}
      attn.yield %c : i1
    }
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @tiles_twice(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
    tiles(%b, %h, %i0, %i1, %j0, %j1) {
      %c = arith.constant 1 : i8
      attn.yield %c : i8
    }
    // expected-error @+1 {{duplicate 'tiles' region}}
    tiles(%b, %h, %i0, %i1, %j0, %j1) {
      %c = arith.constant 1 : i8
      attn.yield %c : i8
    }
  return %o : tensor<1x2x4x8xf32>
}
