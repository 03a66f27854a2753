// RUN: attune-opt %s -split-input-file -verify-diagnostics

// One case per error of the attn.gather_pages and attn.append_pages
// verifiers.

func.func @cache_rank(%c: tensor<64x16x128xf32>, %t: tensor<2x8xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{expected the cache to have rank 4, got 'tensor<64x16x128xf32>'}}
  %0 = attn.gather_pages %c[%t] lengths(%l)
      : tensor<64x16x128xf32>, tensor<2x8xi32>, tensor<2xi32> -> tensor<2x1x128x128xf32>
  return
}

// -----

func.func @cache_element(%c: tensor<64x16x2x128xf64>, %t: tensor<2x8xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{expected the cache to hold f32, f16 or bf16, got 'tensor<64x16x2x128xf64>'}}
  %0 = attn.gather_pages %c[%t] lengths(%l)
      : tensor<64x16x2x128xf64>, tensor<2x8xi32>, tensor<2xi32> -> tensor<2x2x128x128xf64>
  return
}

// -----

func.func @dynamic_page(%c: tensor<64x?x2x128xf32>, %t: tensor<2x8xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{expected a static page size (dimension 1 of the cache) of at least 1, got 'tensor<64x?x2x128xf32>'}}
  %0 = attn.gather_pages %c[%t] lengths(%l)
      : tensor<64x?x2x128xf32>, tensor<2x8xi32>, tensor<2xi32> -> tensor<2x2x?x128xf32>
  return
}

// -----

func.func @empty_page(%c: tensor<64x0x2x128xf32>, %t: tensor<2x8xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{expected a static page size (dimension 1 of the cache) of at least 1}}
  %0 = attn.gather_pages %c[%t] lengths(%l)
      : tensor<64x0x2x128xf32>, tensor<2x8xi32>, tensor<2xi32> -> tensor<2x2x0x128xf32>
  return
}

// -----

func.func @dynamic_heads(%c: tensor<64x16x?x128xf32>, %t: tensor<2x8xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{expected the cache's heads and head size (dimensions 2 and 3) to be static}}
  %0 = attn.gather_pages %c[%t] lengths(%l)
      : tensor<64x16x?x128xf32>, tensor<2x8xi32>, tensor<2xi32> -> tensor<2x?x128x128xf32>
  return
}

// -----

func.func @result_element(%c: tensor<64x16x2x128xbf16>, %t: tensor<2x8xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{expected the result to hold the cache's element type 'bf16', got 'tensor<2x2x128x128xf32>'}}
  %0 = attn.gather_pages %c[%t] lengths(%l)
      : tensor<64x16x2x128xbf16>, tensor<2x8xi32>, tensor<2xi32> -> tensor<2x2x128x128xf32>
  return
}

// -----

func.func @result_heads(%c: tensor<64x16x2x128xf32>, %t: tensor<2x8xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{expected the result to have the cache's heads and head size}}
  %0 = attn.gather_pages %c[%t] lengths(%l)
      : tensor<64x16x2x128xf32>, tensor<2x8xi32>, tensor<2xi32> -> tensor<2x4x128x128xf32>
  return
}

// -----

func.func @table_float(%c: tensor<64x16x2x128xf32>, %t: tensor<2x8xf32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{expected 'block_table' to be a 2-D tensor of signless integers or indices ([B, pages]), got 'tensor<2x8xf32>'}}
  %0 = attn.gather_pages %c[%t] lengths(%l)
      : tensor<64x16x2x128xf32>, tensor<2x8xf32>, tensor<2xi32> -> tensor<2x2x128x128xf32>
  return
}

// -----

func.func @lengths_rank(%c: tensor<64x16x2x128xf32>, %t: tensor<2x8xi32>, %l: tensor<2x1xi32>) {
  // expected-error @+1 {{expected 'seq_lens' to be a 1-D tensor of signless integers or indices ([B]), got 'tensor<2x1xi32>'}}
  %0 = attn.gather_pages %c[%t] lengths(%l)
      : tensor<64x16x2x128xf32>, tensor<2x8xi32>, tensor<2x1xi32> -> tensor<2x2x128x128xf32>
  return
}

// -----

func.func @batch(%c: tensor<64x16x2x128xf32>, %t: tensor<2x8xi32>, %l: tensor<3xi32>) {
  // expected-error @+1 {{expected 'block_table', 'seq_lens' and the result to have the same batch size}}
  %0 = attn.gather_pages %c[%t] lengths(%l)
      : tensor<64x16x2x128xf32>, tensor<2x8xi32>, tensor<3xi32> -> tensor<2x2x128x128xf32>
  return
}

// -----

func.func @rows(%c: tensor<64x16x2x128xf32>, %t: tensor<2x8xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{expected the result to have pages x page size = 8 x 16 = 128 rows, got 'tensor<2x2x100x128xf32>'}}
  %0 = attn.gather_pages %c[%t] lengths(%l)
      : tensor<64x16x2x128xf32>, tensor<2x8xi32>, tensor<2xi32> -> tensor<2x2x100x128xf32>
  return
}

// -----

/// A mistyped layout in the attribute dictionary is an error, not a silent
/// fall-back to the default layout.
func.func @layout_attr(%c: tensor<64x16x2x128xf32>, %t: tensor<2x8xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{attribute 'cache_layout' failed to satisfy constraint}}
  %0 = attn.gather_pages %c[%t] lengths(%l) {cache_layout = 1 : i32}
      : tensor<64x16x2x128xf32>, tensor<2x8xi32>, tensor<2xi32> -> tensor<2x2x128x128xf32>
  return
}

// -----

func.func @append_rows(%r: tensor<2x2x1x64xf32>, %c: tensor<64x16x2x128xf32>, %t: tensor<2x8xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{expected 'rows' to have the cache's heads and head size, got 'tensor<2x2x1x64xf32>' for 'tensor<64x16x2x128xf32>'}}
  %0 = attn.append_pages %r into %c[%t] lengths(%l)
      : tensor<2x2x1x64xf32>, tensor<64x16x2x128xf32>, tensor<2x8xi32>, tensor<2xi32>
  return
}

// -----

func.func @append_batch(%r: tensor<3x2x1x128xf32>, %c: tensor<64x16x2x128xf32>, %t: tensor<2x8xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{expected 'block_table', 'seq_lens' and 'rows' to have the same batch size}}
  %0 = attn.append_pages %r into %c[%t] lengths(%l)
      : tensor<3x2x1x128xf32>, tensor<64x16x2x128xf32>, tensor<2x8xi32>, tensor<2xi32>
  return
}

// -----

func.func @append_element(%r: tensor<2x2x1x128xf16>, %c: tensor<64x16x2x128xf32>, %t: tensor<2x8xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{expected 'rows' to hold the cache's element type 'f32', got 'tensor<2x2x1x128xf16>'}}
  %0 = attn.append_pages %r into %c[%t] lengths(%l)
      : tensor<2x2x1x128xf16>, tensor<64x16x2x128xf32>, tensor<2x8xi32>, tensor<2xi32>
  return
}
