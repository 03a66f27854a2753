// RUN: attune-opt %s -split-input-file -verify-diagnostics

// The verifier refuses undefined behaviour it can see in the score and mask
// regions (integer division by a divisor that may be 0, or -1 for a
// dividend that may be INT_MIN; `tensor.dim` past the rank), scales whose
// scores overflow f32, and static dimensions the regions' index arguments
// cannot reach. Cases it must accept carry no expected error.

func.func @divui_by_capture(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>, %n: index) -> tensor<1x1x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) captures(%n : index) -> tensor<1x1x4x8xf32>
    mask(%b, %h, %i, %j, %seg) {
      // expected-error @+1 {{'arith.divui' op needs a divisor that is provably nonzero in the mask region of 'attn.attention' (division by zero is undefined behaviour): divide by a nonzero constant}}
      %qs = arith.divui %i, %seg : index
      %keep = arith.cmpi eq, %qs, %j : index
      attn.yield %keep : i1
    }
  return %o : tensor<1x1x4x8xf32>
}

// -----

func.func @remsi_by_zero(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32>
    score(%s, %b, %h, %i, %j) {
      %c0 = arith.constant 0 : index
      // expected-error @+1 {{'arith.remsi' op needs a divisor that is provably nonzero in the score region}}
      %r = arith.remsi %j, %c0 : index
      %ri = arith.index_cast %r : index to i32
      %f = arith.sitofp %ri : i32 to f32
      %t = arith.addf %s, %f : f32
      attn.yield %t : f32
    }
  return %o : tensor<1x1x4x8xf32>
}

// -----

/// INT_MIN / -1 overflows: refused when the dividend is a capture.
func.func @divsi_capture_by_minus_one(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>, %n: i32) -> tensor<1x1x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) captures(%n : i32) -> tensor<1x1x4x8xf32>
    mask(%b, %h, %i, %j, %x) {
      %m1 = arith.constant -1 : i32
      // expected-error @+1 {{'arith.floordivsi' op needs a divisor that is provably not -1, or a dividend that is provably not the most negative value, in the mask region of 'attn.attention' (that quotient overflows: undefined behaviour)}}
      %d = arith.floordivsi %x, %m1 : i32
      %c0 = arith.constant 0 : i32
      %keep = arith.cmpi sgt, %d, %c0 : i32
      attn.yield %keep : i1
    }
  return %o : tensor<1x1x4x8xf32>
}

// -----

/// Accepted: constant divisors, a divisor proved nonzero by range analysis
/// (max(n, 1)), and -1 dividing an index argument (never INT_MIN).
func.func @divisions_defined(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>, %n: index) -> tensor<1x1x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) captures(%n : index) -> tensor<1x1x4x8xf32>
    mask(%b, %h, %i, %j, %seg) {
      %c1 = arith.constant 1 : index
      %c32 = arith.constant 32 : index
      %m1 = arith.constant -1 : index
      %pos = arith.maxui %seg, %c1 : index
      %qs = arith.divui %i, %pos : index
      %ks = arith.remui %j, %c32 : index
      %neg = arith.divsi %i, %m1 : index
      %a = arith.addi %qs, %ks : index
      %bb = arith.addi %a, %neg : index
      %keep = arith.cmpi ule, %bb, %i : index
      attn.yield %keep : i1
    }
  return %o : tensor<1x1x4x8xf32>
}

// -----

func.func @dim_past_rank_in_region(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>, %ids: tensor<?xi32>) -> tensor<1x1x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) captures(%ids : tensor<?xi32>) -> tensor<1x1x4x8xf32>
    mask(%b, %h, %i, %j, %t) {
      %c3 = arith.constant 3 : index
      // expected-error @+1 {{'tensor.dim' op index 3 is not a dimension of its rank-1 operand (undefined behaviour in the mask region of 'attn.attention')}}
      %n = tensor.dim %t, %c3 : tensor<?xi32>
      %keep = arith.cmpi ult, %j, %n : index
      attn.yield %keep : i1
    }
  return %o : tensor<1x1x4x8xf32>
}

// -----

func.func @captured_dim_past_rank(%q: tensor<1x1x?x8xf32>, %k: tensor<1x1x?x8xf32>, %v: tensor<1x1x?x8xf32>) -> tensor<1x1x?x8xf32> {
  %c7 = arith.constant 7 : index
  %sk = tensor.dim %k, %c7 : tensor<1x1x?x8xf32>
  // expected-error @+1 {{'attn.attention' op expected capture #0 to be the size of a dimension of its tensor, got dimension 7 of a rank-4 value}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>) captures(%sk : index) -> tensor<1x1x?x8xf32>
    mask(%b, %h, %i, %j, %n) {
      %keep = arith.cmpi ult, %j, %n : index
      attn.yield %keep : i1
    }
  return %o : tensor<1x1x?x8xf32>
}

// -----

/// 1e38 * 64 products of 65504^2 overflow f32 (most outputs would be NaN).
func.func @scale_overflows(%q: tensor<1x1x4x64xf16>, %k: tensor<1x1x4x64xf16>, %v: tensor<1x1x4x64xf16>) -> tensor<1x1x4x64xf16> {
  // expected-error @+1 {{expected scale to be at most 3.10e+26 (FLT_MAX / (4 * D * 65504^2) for head size D = 64, so that scaled scores stay finite in f32), got 9.99999968E+37}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x4x64xf16>, tensor<1x1x4x64xf16>, tensor<1x1x4x64xf16>) scale(1.0e38) -> tensor<1x1x4x64xf16>
  return %o : tensor<1x1x4x64xf16>
}

// -----

/// The largest scale accepted for D = 64.
func.func @scale_at_bound(%q: tensor<1x1x4x64xf16>, %k: tensor<1x1x4x64xf16>, %v: tensor<1x1x4x64xf16>) -> tensor<1x1x4x64xf16> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x4x64xf16>, tensor<1x1x4x64xf16>, tensor<1x1x4x64xf16>) scale(3.0e26) -> tensor<1x1x4x64xf16>
  return %o : tensor<1x1x4x64xf16>
}

// -----

func.func @head_size_past_int32(%q: tensor<1x1x4x4294967296xf32>, %k: tensor<1x1x4x4294967296xf32>, %v: tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32> {
  // expected-error @+1 {{expected every dimension of query to be below 2^31, got 4294967296}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x4x4294967296xf32>, tensor<1x1x4x4294967296xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32>
  return %o : tensor<1x1x4x8xf32>
}

// -----

/// A shift by an amount that may reach the bit width is poison (x86 masks
/// the amount): refused when the amount is a capture or grows with j.
func.func @shli_by_capture(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>, %n: i32) -> tensor<1x1x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) captures(%n : i32) -> tensor<1x1x4x8xf32>
    mask(%b, %h, %i, %j, %x) {
      %c1 = arith.constant 1 : i32
      // expected-error @+1 {{'arith.shli' op needs a shift amount that is provably below the bit width (32) in the mask region of 'attn.attention' (a larger shift is undefined behaviour): shift by a constant or clamp the amount}}
      %w = arith.shli %c1, %x : i32
      %c0 = arith.constant 0 : i32
      %keep = arith.cmpi sgt, %w, %c0 : i32
      attn.yield %keep : i1
    }
  return %o : tensor<1x1x4x8xf32>
}

// -----

func.func @shrui_by_key_index(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x?x8xf32>, %v: tensor<1x1x?x8xf32>) -> tensor<1x1x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x4x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>) -> tensor<1x1x4x8xf32>
    score(%s, %b, %h, %i, %j) {
      %c1024 = arith.constant 1024 : index
      // expected-error @+1 {{'arith.shrui' op needs a shift amount that is provably below the bit width (64) in the score region}}
      %r = arith.shrui %c1024, %j : index
      %ri = arith.index_cast %r : index to i32
      %f = arith.sitofp %ri : i32 to f32
      %t = arith.addf %s, %f : f32
      attn.yield %t : f32
    }
  return %o : tensor<1x1x4x8xf32>
}

// -----

/// Accepted: constant amounts, the head index of 4 heads (< 4), and a key
/// index clamped below the bit width.
func.func @shifts_defined(%q: tensor<1x4x4x8xf32>, %k: tensor<1x4x?x8xf32>, %v: tensor<1x4x?x8xf32>) -> tensor<1x4x4x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x4x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>) -> tensor<1x4x4x8xf32>
    mask(%b, %h, %i, %j) {
      %c2 = arith.constant 2 : index
      %c32 = arith.constant 32 : index
      %c63 = arith.constant 63 : index
      %a = arith.shli %c32, %h : index
      %d = arith.shrui %j, %c2 : index
      %jc = arith.minui %j, %c63 : index
      %e = arith.shrsi %c32, %jc : index
      %ad = arith.addi %a, %d : index
      %ade = arith.addi %ad, %e : index
      %keep = arith.cmpi ule, %ade, %i : index
      attn.yield %keep : i1
    }
  return %o : tensor<1x4x4x8xf32>
}
