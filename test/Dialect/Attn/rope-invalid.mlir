// RUN: attune-opt %s -split-input-file -verify-diagnostics

// One case per error of the attn.rope verifier.

func.func @rank(%x: tensor<4x16x64xf32>) {
  // expected-error @+1 {{expected the input to have rank 4 ([B, H, S, D] or [B, S, H, D]), got rank 3}}
  %0 = attn.rope %x : tensor<4x16x64xf32>
  return
}

// -----

func.func @element(%x: tensor<1x4x16x64xf64>) {
  // expected-error @+1 {{expected the input element type to be f32, f16 or bf16, got 'f64'}}
  %0 = attn.rope %x : tensor<1x4x16x64xf64>
  return
}

// -----

func.func @dynamic_head(%x: tensor<1x4x16x?xf32>) {
  // expected-error @+1 {{expected a static head size (dimension 3)}}
  %0 = attn.rope %x : tensor<1x4x16x?xf32>
  return
}

// -----

func.func @odd_head(%x: tensor<1x4x16x7xf32>) {
  // expected-error @+1 {{expected an even head size D to rotate, got 7; give an even 'rotary_dim' below it}}
  %0 = attn.rope %x : tensor<1x4x16x7xf32>
  return
}

// -----

func.func @rotary_odd(%x: tensor<1x4x16x64xf32>) {
  // expected-error @+1 {{expected 'rotary_dim' to be even and in [2, D = 64], got 33}}
  %0 = attn.rope %x {rotary_dim = 33} : tensor<1x4x16x64xf32>
  return
}

// -----

func.func @rotary_large(%x: tensor<1x4x16x64xf32>) {
  // expected-error @+1 {{expected 'rotary_dim' to be even and in [2, D = 64], got 128}}
  %0 = attn.rope %x {rotary_dim = 128} : tensor<1x4x16x64xf32>
  return
}

// -----

func.func @base_one(%x: tensor<1x4x16x64xf32>) {
  // expected-error @+1 {{expected 'base' to be positive, finite and not 1, got 1}}
  %0 = attn.rope %x {base = 1.0} : tensor<1x4x16x64xf32>
  return
}

// -----

func.func @base_negative(%x: tensor<1x4x16x64xf32>) {
  // expected-error @+1 {{expected 'base' to be positive, finite and not 1, got -2}}
  %0 = attn.rope %x {base = -2.0} : tensor<1x4x16x64xf32>
  return
}

// -----

func.func @scaling_zero(%x: tensor<1x4x16x64xf32>) {
  // expected-error @+1 {{expected 'scaling' to be positive and finite, got 0}}
  %0 = attn.rope %x {scaling = 0.0} : tensor<1x4x16x64xf32>
  return
}

// -----

func.func @both(%x: tensor<1x4x16x64xf32>, %p: tensor<16xi32>, %o: index) {
  // expected-error @+1 {{expected either 'positions' or 'offset', not both}}
  %0 = attn.rope %x positions(%p : tensor<16xi32>) offset(%o : index) : tensor<1x4x16x64xf32>
  return
}

// -----

func.func @positions_float(%x: tensor<1x4x16x64xf32>, %p: tensor<16xf32>) {
  // expected-error @+1 {{expected 'positions' to hold signless integers or indices, got 'tensor<16xf32>'}}
  %0 = attn.rope %x positions(%p : tensor<16xf32>) : tensor<1x4x16x64xf32>
  return
}

// -----

func.func @positions_length(%x: tensor<1x4x16x64xf32>, %p: tensor<17xi32>) {
  // expected-error @+1 {{expected 'positions' [S] to have S = 16 entries, got 'tensor<17xi32>'}}
  %0 = attn.rope %x positions(%p : tensor<17xi32>) : tensor<1x4x16x64xf32>
  return
}

// -----

func.func @positions_batch(%x: tensor<2x16x4x64xf32>, %p: tensor<3x16xi32>) {
  // expected-error @+1 {{expected 'positions' [B, S] to match the input's B and S, got 'tensor<3x16xi32>' for 'tensor<2x16x4x64xf32>'}}
  %0 = attn.rope %x positions(%p : tensor<3x16xi32>) {layout = #attn.layout<bshd>} : tensor<2x16x4x64xf32>
  return
}

// -----

func.func @positions_rank(%x: tensor<1x4x16x64xf32>, %p: tensor<1x4x16xi32>) {
  // expected-error @+1 {{expected 'positions' to be [S] or [B, S], got 'tensor<1x4x16xi32>'}}
  %0 = attn.rope %x positions(%p : tensor<1x4x16xi32>) : tensor<1x4x16x64xf32>
  return
}

// -----

func.func @scales(%x: tensor<1x4x16x64xf32>, %s: tensor<16xf32>) {
  // expected-error @+1 {{expected 'freq_scales' to be tensor<32xf32> (one per frequency, R / 2), got 'tensor<16xf32>'}}
  %0 = attn.rope %x freq_scales(%s : tensor<16xf32>) {rotary_dim = 64} : tensor<1x4x16x64xf32>
  return
}

// -----

func.func @result_type(%x: tensor<1x4x16x64xf32>) {
  // expected-error @+1 {{all of {input, result} have same type}}
  %0 = "attn.rope"(%x) <{operandSegmentSizes = array<i32: 1, 0, 0, 0>}> : (tensor<1x4x16x64xf32>) -> tensor<1x4x16x64xf16>
  return
}
