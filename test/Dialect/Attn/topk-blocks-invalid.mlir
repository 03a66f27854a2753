// RUN: attune-opt %s -split-input-file -verify-diagnostics

// One case per error of the attn.topk_blocks verifier
// (lib/Dialect/Attn/IR/TopkBlocksOp.cpp), and the ODS constraints on its
// attributes.

func.func @q_rank(%q: tensor<4x16x8xf32>, %k: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'q' to have rank 4 ([B, H, S, D] or [B, S, H, D]), got 'tensor<4x16x8xf32>'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1} : tensor<4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @k_rank(%q: tensor<1x4x16x8xf32>, %k: tensor<1x1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'k' to have rank 4 ([B, H, S, D] or [B, S, H, D]), got 'tensor<1x1x4x16x8xf32>'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1} : tensor<1x4x16x8xf32>, tensor<1x1x4x16x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @q_element(%q: tensor<1x4x16x8xf64>, %k: tensor<1x4x16x8xf64>) {
  // expected-error @+1 {{expected 'q' to hold f32, f16 or bf16 with no encoding, got 'tensor<1x4x16x8xf64>'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1} : tensor<1x4x16x8xf64>, tensor<1x4x16x8xf64> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @k_element(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xi32>) {
  // expected-error @+1 {{expected 'k' to hold f32, f16 or bf16 with no encoding, got 'tensor<1x4x16x8xi32>'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xi32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @encoding(%q: tensor<1x4x16x8xf32, "enc">, %k: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'q' to hold f32, f16 or bf16 with no encoding, got 'tensor<1x4x16x8xf32, "enc">'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1} : tensor<1x4x16x8xf32, "enc">, tensor<1x4x16x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @huge(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x2147483648x8xf32>) {
  // expected-error @+1 {{expected every dimension to be below 2^31, got 2147483648}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1} : tensor<1x4x16x8xf32>, tensor<1x4x2147483648x8xf32> -> tensor<1x4x4x536870912xi8>
  return
}

// -----

func.func @mixed_element(%q: tensor<1x4x16x8xbf16>, %k: tensor<1x4x16x8xf16>) {
  // expected-error @+1 {{expected 'q' and 'k' of one element type, got 'bf16' and 'f16'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1} : tensor<1x4x16x8xbf16>, tensor<1x4x16x8xf16> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @dynamic_head_size(%q: tensor<1x4x16x?xf32>, %k: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'q' and 'k' to have one static, nonzero head size D (dimension 3), got 'tensor<1x4x16x?xf32>' and 'tensor<1x4x16x8xf32>'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1} : tensor<1x4x16x?xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @dynamic_key_head_size(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x?xf32>) {
  // expected-error @+1 {{expected 'q' and 'k' to have one static, nonzero head size D (dimension 3), got 'tensor<1x4x16x8xf32>' and 'tensor<1x4x16x?xf32>'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1} : tensor<1x4x16x8xf32>, tensor<1x4x16x?xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @zero_head_size(%q: tensor<1x4x16x0xf32>, %k: tensor<1x4x16x0xf32>) {
  // expected-error @+1 {{expected 'q' and 'k' to have one static, nonzero head size D (dimension 3), got 'tensor<1x4x16x0xf32>' and 'tensor<1x4x16x0xf32>'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1} : tensor<1x4x16x0xf32>, tensor<1x4x16x0xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @head_size_mismatch(%q: tensor<1x16x4x8xf32>, %k: tensor<1x16x4x16xf32>) {
  // expected-error @+1 {{expected 'q' and 'k' to have one static, nonzero head size D (dimension 3), got 'tensor<1x16x4x8xf32>' and 'tensor<1x16x4x16xf32>'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1, layout = #attn.layout<bshd>} : tensor<1x16x4x8xf32>, tensor<1x16x4x16xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @batch(%q: tensor<2x4x16x8xf32>, %k: tensor<3x4x16x8xf32>) {
  // expected-error @+1 {{expected 'q' and 'k' to have one batch size, got 'tensor<2x4x16x8xf32>' and 'tensor<3x4x16x8xf32>'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1} : tensor<2x4x16x8xf32>, tensor<3x4x16x8xf32> -> tensor<2x4x4x4xi8>
  return
}

// -----

func.func @dynamic_heads(%q: tensor<1x?x16x8xf32>, %k: tensor<1x2x16x8xf32>) {
  // expected-error @+1 {{expected static head counts, got 'tensor<1x?x16x8xf32>' and 'tensor<1x2x16x8xf32>'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1} : tensor<1x?x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x?x4x4xi8>
  return
}

// -----

func.func @dynamic_key_heads_bshd(%q: tensor<1x16x4x8xf32>, %k: tensor<1x16x?x8xf32>) {
  // expected-error @+1 {{expected static head counts, got 'tensor<1x16x4x8xf32>' and 'tensor<1x16x?x8xf32>'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1, layout = #attn.layout<bshd>} : tensor<1x16x4x8xf32>, tensor<1x16x?x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @heads_not_multiple(%q: tensor<1x4x16x8xf32>, %k: tensor<1x3x16x8xf32>) {
  // expected-error @+1 {{expected the query heads (4) to be a multiple of the key heads (3)}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1} : tensor<1x4x16x8xf32>, tensor<1x3x16x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @more_key_heads(%q: tensor<1x2x16x8xf32>, %k: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected the query heads (2) to be a multiple of the key heads (4)}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1} : tensor<1x2x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x2x4x4xi8>
  return
}

// -----

func.func @zero_key_heads(%q: tensor<1x4x16x8xf32>, %k: tensor<1x0x16x8xf32>) {
  // expected-error @+1 {{expected the query heads (4) to be a multiple of the key heads (0)}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1} : tensor<1x4x16x8xf32>, tensor<1x0x16x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @block_q_zero(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'block_q' in [1, 2^24], got 0}}
  %0 = attn.topk_blocks %q, %k {block_q = 0, block_k = 4, top_k = 1} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @block_k_negative(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'block_k' in [1, 2^24], got -4}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = -4, top_k = 1} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @block_q_large(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'block_q' in [1, 2^24], got 16777217}}
  %0 = attn.topk_blocks %q, %k {block_q = 16777217, block_k = 4, top_k = 1} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x1x4xi8>
  return
}

// -----

func.func @block_k_large(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'block_k' in [1, 2^24], got 33554432}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 33554432, top_k = 1} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x4x1xi8>
  return
}

// -----

func.func @top_k_negative(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'top_k' in [0, 2^31), got -1}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = -1} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @local_negative(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'local' in [0, 2^31), got -2}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1, local = -2} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @sink_negative(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'sink' in [0, 2^31), got -1}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1, sink = -1} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @sink_large(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'sink' in [0, 2^31), got 2147483648}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1, sink = 2147483648} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @top_k_large(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected 'top_k' of at most 256 (one selection pass each), got 257}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 257} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @top_k_missing(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{requires attribute 'top_k'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @top_k_i32(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{attribute 'top_k' failed to satisfy constraint: 64-bit signless integer attribute}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1 : i32} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @causal_not_unit(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{attribute 'causal' failed to satisfy constraint: unit attribute}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1, causal = false} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @result_blocks(%q: tensor<1x4x17x8xf32>, %k: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected the result to be [B, H, ceil(Sq / block_q), ceil(Sk / block_k)] = 'tensor<1x4x5x4xi8>', got 'tensor<1x4x4x4xi8>'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1} : tensor<1x4x17x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @result_key_heads(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>) {
  // expected-error @+1 {{expected the result to be [B, H, ceil(Sq / block_q), ceil(Sk / block_k)] = 'tensor<1x4x2x8xi8>', got 'tensor<1x2x2x8xi8>'}}
  %0 = attn.topk_blocks %q, %k {block_q = 8, block_k = 2, top_k = 1} : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x2x8xi8>
  return
}

// -----

func.func @result_bshd(%q: tensor<1x16x4x8xf32>, %k: tensor<1x16x4x8xf32>) {
  // expected-error @+1 {{expected the result to be [B, H, ceil(Sq / block_q), ceil(Sk / block_k)] = 'tensor<1x4x4x4xi8>', got 'tensor<1x4x4x4x1xi8>'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1, layout = #attn.layout<bshd>} : tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32> -> tensor<1x4x4x4x1xi8>
  return
}

// -----

func.func @result_bshd_order(%q: tensor<1x16x4x8xf32>, %k: tensor<1x8x4x8xf32>) {
  // expected-error @+1 {{expected the result to be [B, H, ceil(Sq / block_q), ceil(Sk / block_k)] = 'tensor<1x4x4x2xi8>', got 'tensor<1x4x2x4xi8>'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1, layout = #attn.layout<bshd>} : tensor<1x16x4x8xf32>, tensor<1x8x4x8xf32> -> tensor<1x4x2x4xi8>
  return
}

// -----

func.func @result_element(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected the result to be [B, H, ceil(Sq / block_q), ceil(Sk / block_k)] = 'tensor<1x4x4x4xi8>', got 'tensor<1x4x4x4xi1>'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x4x4xi1>
  return
}

// -----

func.func @result_encoding(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected the result to be [B, H, ceil(Sq / block_q), ceil(Sk / block_k)] = 'tensor<1x4x4x4xi8>', got 'tensor<1x4x4x4xi8, "enc">'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x4x4xi8, "enc">
  return
}

// -----

func.func @result_dynamic(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x16x8xf32>) {
  // expected-error @+1 {{expected the result to be [B, H, ceil(Sq / block_q), ceil(Sk / block_k)] = 'tensor<?x4x?x4xi8>', got 'tensor<?x4x?x?xi8>'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1} : tensor<?x4x?x8xf32>, tensor<?x4x16x8xf32> -> tensor<?x4x?x?xi8>
  return
}

// -----

func.func @result_static_batch(%q: tensor<?x4x16x8xf32>, %k: tensor<2x4x16x8xf32>) {
  // expected-error @+1 {{expected the result to be [B, H, ceil(Sq / block_q), ceil(Sk / block_k)] = 'tensor<?x4x4x4xi8>', got 'tensor<2x4x4x4xi8>'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1} : tensor<?x4x16x8xf32>, tensor<2x4x16x8xf32> -> tensor<2x4x4x4xi8>
  return
}

// -----

// An unsigned map is not the signless i8 the lowering makes.
func.func @result_unsigned(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected the result to be [B, H, ceil(Sq / block_q), ceil(Sk / block_k)] = 'tensor<1x4x4x4xi8>', got 'tensor<1x4x4x4xui8>'}}
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 1} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x4x4xui8>
  return
}

// -----

func.func @projection_features(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %w: tensor<16x4xf32>) {
  // expected-error @+1 {{expected the projections to be static [D = 8, P] tensors of f32, f16 or bf16 with P in [1, 2^16], got 'tensor<16x4xf32>'}}
  %0 = attn.topk_blocks %q, %k projections(%w, %w : tensor<16x4xf32>, tensor<16x4xf32>) {block_q = 4, block_k = 4, top_k = 1} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @projection_dynamic(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %w: tensor<8x?xf32>) {
  // expected-error @+1 {{expected the projections to be static [D = 8, P] tensors of f32, f16 or bf16 with P in [1, 2^16], got 'tensor<8x?xf32>'}}
  %0 = attn.topk_blocks %q, %k projections(%w, %w : tensor<8x?xf32>, tensor<8x?xf32>) {block_q = 4, block_k = 4, top_k = 1} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @projection_int(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %w: tensor<8x4xi32>) {
  // expected-error @+1 {{expected the projections to be static [D = 8, P] tensors of f32, f16 or bf16 with P in [1, 2^16], got 'tensor<8x4xi32>'}}
  %0 = attn.topk_blocks %q, %k projections(%w, %w : tensor<8x4xi32>, tensor<8x4xi32>) {block_q = 4, block_k = 4, top_k = 1} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @projection_widths(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %a: tensor<8x4xf32>, %b: tensor<8x5xf32>) {
  // expected-error @+1 {{expected the projections to have one P, got 'tensor<8x4xf32>' and 'tensor<8x5xf32>'}}
  %0 = attn.topk_blocks %q, %k projections(%a, %b : tensor<8x4xf32>, tensor<8x5xf32>) {block_q = 4, block_k = 4, top_k = 1} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x4x4xi8>
  return
}

// -----

func.func @projection_one(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %a: tensor<8x4xf32>) {
  // expected-error @+1 {{expected both projections or neither}}
  %0 = "attn.topk_blocks"(%q, %k, %a) <{block_q = 4 : i64, block_k = 4 : i64, top_k = 1 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0>}> : (tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<8x4xf32>) -> tensor<1x4x4x4xi8>
  return
}
