// RUN: attune-opt %s -split-input-file -verify-diagnostics

// One case per error of the attn.linear_attention verifier
// (lib/Dialect/Attn/IR/LinearAttentionOp.cpp), and the ODS constraints on
// its operands and attributes. The verifier's checks for a missing
// 'layout' or 'feature_map' attribute are not reachable from text: the
// parser fills in their defaults, in the generic form too.

func.func @q_rank(%q: tensor<4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'q' to have rank 4 ([B, H, S, D] or [B, S, H, D]), got 'tensor<4x16x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @k_rank(%q: tensor<1x4x16x8xf32>, %k: tensor<1x1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'k' to have rank 4 ([B, H, S, D] or [B, S, H, D]), got 'tensor<1x1x4x16x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @v_rank(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16xf32>) {
  // expected-error @+1 {{expected 'v' to have rank 4 ([B, H, S, D] or [B, S, H, D]), got 'tensor<1x4x16xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @result_rank(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'result' to have rank 4 ([B, H, S, D] or [B, S, H, D]), got 'tensor<4x16x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<4x16x8xf32>
  return
}

// -----

func.func @q_element(%q: tensor<1x4x16x8xf64>, %k: tensor<1x4x16x8xf64>, %v: tensor<1x4x16x8xf64>) {
  // expected-error @+1 {{expected 'q' to hold f32, f16 or bf16 with no encoding, got 'tensor<1x4x16x8xf64>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf64>, tensor<1x4x16x8xf64>, tensor<1x4x16x8xf64> -> tensor<1x4x16x8xf64>
  return
}

// -----

func.func @k_element(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xi32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'k' to hold f32, f16 or bf16 with no encoding, got 'tensor<1x4x16x8xi32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xi32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @v_element(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf8E4M3FN>) {
  // expected-error @+1 {{expected 'v' to hold f32, f16 or bf16 with no encoding, got 'tensor<1x4x16x8xf8E4M3FN>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf8E4M3FN> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @result_element(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'result' to hold f32, f16 or bf16 with no encoding, got 'tensor<1x4x16x8xf64>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf64>
  return
}

// -----

func.func @encoding(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32, "enc">) {
  // expected-error @+1 {{expected 'v' to hold f32, f16 or bf16 with no encoding, got 'tensor<1x4x16x8xf32, "enc">'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32, "enc"> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @result_encoding(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'result' to hold f32, f16 or bf16 with no encoding, got 'tensor<1x4x16x8xf32, "enc">'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32, "enc">
  return
}

// -----

func.func @huge(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x2147483648x8xf32>, %v: tensor<1x4x2147483648x8xf32>) {
  // expected-error @+1 {{expected every dimension to be below 2^31, got 2147483648}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x2147483648x8xf32>, tensor<1x4x2147483648x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @huge_result(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected every dimension to be below 2^31, got 4294967296}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x4294967296xf32>
  return
}

// -----

func.func @mixed_element(%q: tensor<1x4x16x8xbf16>, %k: tensor<1x4x16x8xf16>, %v: tensor<1x4x16x8xbf16>) {
  // expected-error @+1 {{expected 'q', 'k', 'v' and the result of one element type, got 'tensor<1x4x16x8xbf16>', 'tensor<1x4x16x8xf16>', 'tensor<1x4x16x8xbf16>' and 'tensor<1x4x16x8xbf16>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xbf16>, tensor<1x4x16x8xf16>, tensor<1x4x16x8xbf16> -> tensor<1x4x16x8xbf16>
  return
}

// -----

func.func @mixed_value_element(%q: tensor<1x4x16x8xf16>, %k: tensor<1x4x16x8xf16>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'q', 'k', 'v' and the result of one element type, got 'tensor<1x4x16x8xf16>', 'tensor<1x4x16x8xf16>', 'tensor<1x4x16x8xf32>' and 'tensor<1x4x16x8xf16>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf16>, tensor<1x4x16x8xf16>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf16>
  return
}

// -----

// The result is in the inputs' element type, not the f32 of the sums.
func.func @mixed_result_element(%q: tensor<1x4x16x8xbf16>, %k: tensor<1x4x16x8xbf16>, %v: tensor<1x4x16x8xbf16>) {
  // expected-error @+1 {{expected 'q', 'k', 'v' and the result of one element type, got 'tensor<1x4x16x8xbf16>', 'tensor<1x4x16x8xbf16>', 'tensor<1x4x16x8xbf16>' and 'tensor<1x4x16x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xbf16>, tensor<1x4x16x8xbf16>, tensor<1x4x16x8xbf16> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @dynamic_head_size(%q: tensor<1x4x16x?xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'q' and 'k' to have one static, nonzero head size D (dimension 3), got 'tensor<1x4x16x?xf32>' and 'tensor<1x4x16x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x?xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @dynamic_key_head_size(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x?xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'q' and 'k' to have one static, nonzero head size D (dimension 3), got 'tensor<1x4x16x8xf32>' and 'tensor<1x4x16x?xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x?xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @zero_head_size(%q: tensor<1x4x16x0xf32>, %k: tensor<1x4x16x0xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'q' and 'k' to have one static, nonzero head size D (dimension 3), got 'tensor<1x4x16x0xf32>' and 'tensor<1x4x16x0xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x0xf32>, tensor<1x4x16x0xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @head_size_mismatch(%q: tensor<1x16x4x8xf32>, %k: tensor<1x16x4x16xf32>, %v: tensor<1x16x4x8xf32>) {
  // expected-error @+1 {{expected 'q' and 'k' to have one static, nonzero head size D (dimension 3), got 'tensor<1x16x4x8xf32>' and 'tensor<1x16x4x16xf32>'}}
  %0 = attn.linear_attention %q, %k, %v {layout = #attn.layout<bshd>} : tensor<1x16x4x8xf32>, tensor<1x16x4x16xf32>, tensor<1x16x4x8xf32> -> tensor<1x16x4x8xf32>
  return
}

// -----

func.func @dynamic_value_size(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x?xf32>) {
  // expected-error @+1 {{expected 'v' to have a static, nonzero head size Dv (dimension 3), got 'tensor<1x4x16x?xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x?xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @zero_value_size(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x0xf32>) {
  // expected-error @+1 {{expected 'v' to have a static, nonzero head size Dv (dimension 3), got 'tensor<1x4x16x0xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x0xf32> -> tensor<1x4x16x0xf32>
  return
}

// -----

func.func @dynamic_heads(%q: tensor<1x?x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) {
  // expected-error @+1 {{expected static head counts, one for 'k' and 'v', got 'tensor<1x?x16x8xf32>', 'tensor<1x2x16x8xf32>' and 'tensor<1x2x16x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x?x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x?x16x8xf32>
  return
}

// -----

func.func @dynamic_key_heads_bshd(%q: tensor<1x16x4x8xf32>, %k: tensor<1x16x?x8xf32>, %v: tensor<1x16x?x8xf32>) {
  // expected-error @+1 {{expected static head counts, one for 'k' and 'v', got 'tensor<1x16x4x8xf32>', 'tensor<1x16x?x8xf32>' and 'tensor<1x16x?x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v {layout = #attn.layout<bshd>} : tensor<1x16x4x8xf32>, tensor<1x16x?x8xf32>, tensor<1x16x?x8xf32> -> tensor<1x16x4x8xf32>
  return
}

// -----

func.func @dynamic_value_heads(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x?x16x8xf32>) {
  // expected-error @+1 {{expected static head counts, one for 'k' and 'v', got 'tensor<1x4x16x8xf32>', 'tensor<1x2x16x8xf32>' and 'tensor<1x?x16x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x?x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @value_heads_mismatch(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected static head counts, one for 'k' and 'v', got 'tensor<1x4x16x8xf32>', 'tensor<1x2x16x8xf32>' and 'tensor<1x4x16x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @heads_not_multiple(%q: tensor<1x4x16x8xf32>, %k: tensor<1x3x16x8xf32>, %v: tensor<1x3x16x8xf32>) {
  // expected-error @+1 {{expected the query heads (4) to be a nonzero multiple of the key heads (3)}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x3x16x8xf32>, tensor<1x3x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @more_key_heads(%q: tensor<1x2x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected the query heads (2) to be a nonzero multiple of the key heads (4)}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x2x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x2x16x8xf32>
  return
}

// -----

func.func @zero_key_heads(%q: tensor<1x4x16x8xf32>, %k: tensor<1x0x16x8xf32>, %v: tensor<1x0x16x8xf32>) {
  // expected-error @+1 {{expected the query heads (4) to be a nonzero multiple of the key heads (0)}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x0x16x8xf32>, tensor<1x0x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @zero_heads(%q: tensor<1x0x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) {
  // expected-error @+1 {{expected the query heads (0) to be a nonzero multiple of the key heads (2)}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x0x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x0x16x8xf32>
  return
}

// -----

func.func @batch(%q: tensor<2x4x16x8xf32>, %k: tensor<3x4x16x8xf32>, %v: tensor<3x4x16x8xf32>) {
  // expected-error @+1 {{expected 'q', 'k' and 'v' to have one batch size, got 'tensor<2x4x16x8xf32>', 'tensor<3x4x16x8xf32>' and 'tensor<3x4x16x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<2x4x16x8xf32>, tensor<3x4x16x8xf32>, tensor<3x4x16x8xf32> -> tensor<2x4x16x8xf32>
  return
}

// -----

func.func @value_batch(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<3x4x16x8xf32>) {
  // expected-error @+1 {{expected 'q', 'k' and 'v' to have one batch size, got 'tensor<2x4x16x8xf32>', 'tensor<2x4x16x8xf32>' and 'tensor<3x4x16x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<3x4x16x8xf32> -> tensor<2x4x16x8xf32>
  return
}

// -----

// A dynamic key batch does not hide a query batch other than the value's.
func.func @batch_around_dynamic_key(%q: tensor<2x4x16x8xf32>, %k: tensor<?x4x16x8xf32>, %v: tensor<3x4x16x8xf32>) {
  // expected-error @+1 {{expected 'q', 'k' and 'v' to have one batch size, got 'tensor<2x4x16x8xf32>', 'tensor<?x4x16x8xf32>' and 'tensor<3x4x16x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<2x4x16x8xf32>, tensor<?x4x16x8xf32>, tensor<3x4x16x8xf32> -> tensor<2x4x16x8xf32>
  return
}

// -----

func.func @batch_bshd(%q: tensor<2x16x4x8xf32>, %k: tensor<1x16x4x8xf32>, %v: tensor<1x16x4x8xf32>) {
  // expected-error @+1 {{expected 'q', 'k' and 'v' to have one batch size, got 'tensor<2x16x4x8xf32>', 'tensor<1x16x4x8xf32>' and 'tensor<1x16x4x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v {layout = #attn.layout<bshd>} : tensor<2x16x4x8xf32>, tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32> -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @key_value_length(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x17x8xf32>) {
  // expected-error @+1 {{expected 'k' and 'v' to have one sequence length, got 'tensor<1x4x16x8xf32>' and 'tensor<1x4x17x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x17x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @key_value_length_bshd(%q: tensor<1x16x4x8xf32>, %k: tensor<1x16x4x8xf32>, %v: tensor<1x12x4x8xf32>) {
  // expected-error @+1 {{expected 'k' and 'v' to have one sequence length, got 'tensor<1x16x4x8xf32>' and 'tensor<1x12x4x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v {layout = #attn.layout<bshd>} : tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32>, tensor<1x12x4x8xf32> -> tensor<1x16x4x8xf32>
  return
}

// -----

func.func @favor_without_features(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'features(%w : [D, r])' with the favor feature map}}
  %0 = attn.linear_attention %q, %k, %v {feature_map = #attn.feature_map<favor>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @elu_with_features(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{expected no 'features' with the elu feature map (they are FAVOR+'s)}}
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<8x4xf32>) {feature_map = #attn.feature_map<elu>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// elu is the default.
func.func @default_with_features(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{expected no 'features' with the elu feature map (they are FAVOR+'s)}}
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<8x4xf32>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @elu_with_scale(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected no 'scale' with the elu feature map (it is FAVOR+'s)}}
  %0 = attn.linear_attention %q, %k, %v {scale = 5.000000e-01} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @features_rank(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{expected the features to be a static [D = 8, r] tensor of f32, f16 or bf16 with r in [1, 4096], got 'tensor<8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<8xf32>) {feature_map = #attn.feature_map<favor>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @features_rank3(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %w: tensor<1x8x4xf32>) {
  // expected-error @+1 {{expected the features to be a static [D = 8, r] tensor of f32, f16 or bf16 with r in [1, 4096], got 'tensor<1x8x4xf32>'}}
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<1x8x4xf32>) {feature_map = #attn.feature_map<favor>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @features_head_size(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %w: tensor<16x4xf32>) {
  // expected-error @+1 {{expected the features to be a static [D = 8, r] tensor of f32, f16 or bf16 with r in [1, 4096], got 'tensor<16x4xf32>'}}
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<16x4xf32>) {feature_map = #attn.feature_map<favor>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// [r, D] is not [D, r].
func.func @features_transposed(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{expected the features to be a static [D = 8, r] tensor of f32, f16 or bf16 with r in [1, 4096], got 'tensor<4x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<4x8xf32>) {feature_map = #attn.feature_map<favor>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @features_zero(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %w: tensor<8x0xf32>) {
  // expected-error @+1 {{expected the features to be a static [D = 8, r] tensor of f32, f16 or bf16 with r in [1, 4096], got 'tensor<8x0xf32>'}}
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<8x0xf32>) {feature_map = #attn.feature_map<favor>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @features_large(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %w: tensor<8x4097xf32>) {
  // expected-error @+1 {{expected the features to be a static [D = 8, r] tensor of f32, f16 or bf16 with r in [1, 4096], got 'tensor<8x4097xf32>'}}
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<8x4097xf32>) {feature_map = #attn.feature_map<favor>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @features_dynamic(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %w: tensor<8x?xf32>) {
  // expected-error @+1 {{expected the features to be a static [D = 8, r] tensor of f32, f16 or bf16 with r in [1, 4096], got 'tensor<8x?xf32>'}}
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<8x?xf32>) {feature_map = #attn.feature_map<favor>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @features_dynamic_head_size(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %w: tensor<?x4xf32>) {
  // expected-error @+1 {{expected the features to be a static [D = 8, r] tensor of f32, f16 or bf16 with r in [1, 4096], got 'tensor<?x4xf32>'}}
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<?x4xf32>) {feature_map = #attn.feature_map<favor>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @features_int(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %w: tensor<8x4xi32>) {
  // expected-error @+1 {{expected the features to be a static [D = 8, r] tensor of f32, f16 or bf16 with r in [1, 4096], got 'tensor<8x4xi32>'}}
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<8x4xi32>) {feature_map = #attn.feature_map<favor>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @features_f64(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %w: tensor<8x4xf64>) {
  // expected-error @+1 {{expected the features to be a static [D = 8, r] tensor of f32, f16 or bf16 with r in [1, 4096], got 'tensor<8x4xf64>'}}
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<8x4xf64>) {feature_map = #attn.feature_map<favor>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @features_encoding(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %w: tensor<8x4xf32, "enc">) {
  // expected-error @+1 {{expected the features to be a static [D = 8, r] tensor of f32, f16 or bf16 with r in [1, 4096], got 'tensor<8x4xf32, "enc">'}}
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<8x4xf32, "enc">) {feature_map = #attn.feature_map<favor>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @scale_zero(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{expected a finite, positive 'scale', got 0.000000e+00}}
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<8x4xf32>) {feature_map = #attn.feature_map<favor>, scale = 0.0} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @scale_negative_zero(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{expected a finite, positive 'scale', got -0.000000e+00}}
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<8x4xf32>) {feature_map = #attn.feature_map<favor>, scale = -0.0} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @scale_negative(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{expected a finite, positive 'scale', got -1.500000e+00}}
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<8x4xf32>) {feature_map = #attn.feature_map<favor>, scale = -1.5} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @scale_inf(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{expected a finite, positive 'scale', got INF}}
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<8x4xf32>) {feature_map = #attn.feature_map<favor>, scale = 0x7FF0000000000000 : f64} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @scale_nan(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{expected a finite, positive 'scale', got nan}}
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<8x4xf32>) {feature_map = #attn.feature_map<favor>, scale = 0x7FF8000000000000 : f64} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @chunk_zero(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'chunk' in [1, 4096], got 0}}
  %0 = attn.linear_attention %q, %k, %v {causal, chunk = 0} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Checked without causal too.
func.func @chunk_negative(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'chunk' in [1, 4096], got -64}}
  %0 = attn.linear_attention %q, %k, %v {chunk = -64} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @chunk_large(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'chunk' in [1, 4096], got 4097}}
  %0 = attn.linear_attention %q, %k, %v {causal, chunk = 4097} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @result_batch(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>) {
  // expected-error @+1 {{expected the result to be 'tensor<2x4x16x8xf32>' ([B, H, Sq, Dv] in the layout), got 'tensor<1x4x16x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// The result has the query heads, not the key heads.
func.func @result_key_heads(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) {
  // expected-error @+1 {{expected the result to be 'tensor<1x4x16x8xf32>' ([B, H, Sq, Dv] in the layout), got 'tensor<1x2x16x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return
}

// -----

// The result has the query length Sq, not Sk.
func.func @result_length(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x32x8xf32>, %v: tensor<1x4x32x8xf32>) {
  // expected-error @+1 {{expected the result to be 'tensor<1x4x16x8xf32>' ([B, H, Sq, Dv] in the layout), got 'tensor<1x4x32x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x32x8xf32>, tensor<1x4x32x8xf32> -> tensor<1x4x32x8xf32>
  return
}

// -----

// The result has the value size Dv, not D.
func.func @result_value_size(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x4xf32>) {
  // expected-error @+1 {{expected the result to be 'tensor<1x4x16x4xf32>' ([B, H, Sq, Dv] in the layout), got 'tensor<1x4x16x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x4xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// The heads and value size of the result are static.
func.func @result_dynamic_heads(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected the result to be 'tensor<1x4x16x8xf32>' ([B, H, Sq, Dv] in the layout), got 'tensor<1x?x16x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x?x16x8xf32>
  return
}

// -----

func.func @result_dynamic_value_size(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected the result to be 'tensor<1x4x16x8xf32>' ([B, H, Sq, Dv] in the layout), got 'tensor<1x4x16x?xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x?xf32>
  return
}

// -----

// [B, S, H, Dv] with layout(bshd), not [B, H, S, Dv].
func.func @result_bshd(%q: tensor<1x16x4x8xf32>, %k: tensor<1x16x2x8xf32>, %v: tensor<1x16x2x8xf32>) {
  // expected-error @+1 {{expected the result to be 'tensor<1x16x4x8xf32>' ([B, H, Sq, Dv] in the layout), got 'tensor<1x4x16x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v {layout = #attn.layout<bshd>} : tensor<1x16x4x8xf32>, tensor<1x16x2x8xf32>, tensor<1x16x2x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @result_bshd_value_size(%q: tensor<1x16x4x8xf32>, %k: tensor<1x20x2x8xf32>, %v: tensor<1x20x2x3xf32>) {
  // expected-error @+1 {{expected the result to be 'tensor<1x16x4x3xf32>' ([B, H, Sq, Dv] in the layout), got 'tensor<1x16x4x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v {layout = #attn.layout<bshd>} : tensor<1x16x4x8xf32>, tensor<1x20x2x8xf32>, tensor<1x20x2x3xf32> -> tensor<1x16x4x8xf32>
  return
}

// -----

// Dynamic sizes show as ? in the expected type.
func.func @result_dynamic_batch(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x8xf32>) {
  // expected-error @+1 {{expected the result to be 'tensor<?x4x?x8xf32>' ([B, H, Sq, Dv] in the layout), got 'tensor<?x4x?x4xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x4xf32>
  return
}

// -----

func.func @feature_map_enum(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+2 {{expected ::attune::attn::FeatureMap to be one of: elu, favor}}
  // expected-error @+1 {{failed to parse Attn_FeatureMapAttr parameter 'value' which is to be a `::attune::attn::FeatureMap`}}
  %0 = attn.linear_attention %q, %k, %v {feature_map = #attn.feature_map<relu>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @feature_map_type(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{attribute 'feature_map' failed to satisfy constraint: feature map of attn.linear_attention: elu (elu + 1, Katharopoulos et al.) or favor (FAVOR+ positive random features, the Performer)}}
  %0 = attn.linear_attention %q, %k, %v {feature_map = 1 : i32} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @feature_map_layout(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{attribute 'feature_map' failed to satisfy constraint: feature map of attn.linear_attention: elu (elu + 1, Katharopoulos et al.) or favor (FAVOR+ positive random features, the Performer)}}
  %0 = attn.linear_attention %q, %k, %v {feature_map = #attn.layout<bshd>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @layout_feature_map(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{attribute 'layout' failed to satisfy constraint: dimension order of Q, K, V and O: bhsd (default) or bshd}}
  %0 = attn.linear_attention %q, %k, %v {layout = #attn.feature_map<elu>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @scale_f32(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{attribute 'scale' failed to satisfy constraint: 64-bit float attribute}}
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<8x4xf32>) {feature_map = #attn.feature_map<favor>, scale = 0.5 : f32} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @scale_integer(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{attribute 'scale' failed to satisfy constraint: 64-bit float attribute}}
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<8x4xf32>) {feature_map = #attn.feature_map<favor>, scale = 1} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @chunk_i32(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{attribute 'chunk' failed to satisfy constraint: 64-bit signless integer attribute}}
  %0 = attn.linear_attention %q, %k, %v {causal, chunk = 4 : i32} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @causal_not_unit(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{attribute 'causal' failed to satisfy constraint: unit attribute}}
  %0 = attn.linear_attention %q, %k, %v {causal = true} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @unranked(%q: tensor<*xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of any type values, but got 'tensor<*xf32>'}}
  %0 = "attn.linear_attention"(%q, %k, %v) : (tensor<*xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @unranked_features(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %w: tensor<*xf32>) {
  // expected-error @+1 {{operand #3 must be ranked tensor of any type values, but got 'tensor<*xf32>'}}
  %0 = "attn.linear_attention"(%q, %k, %v, %w) <{feature_map = #attn.feature_map<favor>}> : (tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<*xf32>) -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @unranked_result(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{result #0 must be ranked tensor of any type values, but got 'tensor<*xf32>'}}
  %0 = "attn.linear_attention"(%q, %k, %v) : (tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>) -> tensor<*xf32>
  return
}

// -----

// The result's sizes are q's exactly: a static result for a dynamic q, or
// the other way round, is refused (the lowering builds it from q).
func.func @result_static_seq(%q: tensor<1x4x?x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected the result to be 'tensor<1x4x?x8xf32>' ([B, H, Sq, Dv] in the layout), got 'tensor<1x4x16x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x?x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @result_dynamic_of_static(%q: tensor<1x4x5x8xf16>, %k: tensor<1x4x16x8xf16>, %v: tensor<1x4x16x8xf16>) {
  // expected-error @+1 {{expected the result to be 'tensor<1x4x5x8xf16>' ([B, H, Sq, Dv] in the layout), got 'tensor<?x4x?x8xf16>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x4x5x8xf16>, tensor<1x4x16x8xf16>, tensor<1x4x16x8xf16> -> tensor<?x4x?x8xf16>
  return
}

// -----

func.func @static_zero_batch(%q: tensor<0x2x5x8xf32>, %k: tensor<0x2x7x8xf32>, %v: tensor<0x2x7x4xf32>) {
  // expected-error @+1 {{expected no static size of 0 (a dynamic size may be 0 at run time), got 'tensor<0x2x5x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v {causal} : tensor<0x2x5x8xf32>, tensor<0x2x7x8xf32>, tensor<0x2x7x4xf32> -> tensor<0x2x5x4xf32>
  return
}

// -----

func.func @static_zero_keys(%q: tensor<1x2x5x8xf32>, %k: tensor<1x2x0x8xf32>, %v: tensor<1x2x0x4xf32>) {
  // expected-error @+1 {{expected no static size of 0 (a dynamic size may be 0 at run time), got 'tensor<1x2x0x8xf32>'}}
  %0 = attn.linear_attention %q, %k, %v : tensor<1x2x5x8xf32>, tensor<1x2x0x8xf32>, tensor<1x2x0x4xf32> -> tensor<1x2x5x4xf32>
  return
}
