// RUN: attune-opt %s -split-input-file -verify-diagnostics

// One case per error of the attn.lsh_buckets and attn.nearest_centroid
// verifiers (lib/Dialect/Attn/IR/HashOps.cpp).

func.func @rank(%x: tensor<4x16x64xf32>, %r: tensor<1x1x64x2xf32>) {
  // expected-error @+1 {{expected the input to have rank 4 ([B, H, S, D] or [B, S, H, D]), got rank 3}}
  %0 = attn.lsh_buckets %x, %r : tensor<4x16x64xf32>, tensor<1x1x64x2xf32> -> tensor<1x4x16xi32>
  return
}

// -----

func.func @element(%x: tensor<1x4x16x64xf64>, %r: tensor<1x1x64x2xf32>) {
  // expected-error @+1 {{expected the input to hold f32, f16 or bf16 with no encoding, got 'tensor<1x4x16x64xf64>'}}
  %0 = attn.lsh_buckets %x, %r : tensor<1x4x16x64xf64>, tensor<1x1x64x2xf32> -> tensor<1x1x4x16xi32>
  return
}

// -----

func.func @dynamic_head(%x: tensor<1x4x16x?xf32>, %r: tensor<1x1x64x2xf32>) {
  // expected-error @+1 {{expected a static, nonzero head size (dimension 3)}}
  %0 = attn.lsh_buckets %x, %r : tensor<1x4x16x?xf32>, tensor<1x1x64x2xf32> -> tensor<1x1x4x16xi32>
  return
}

// -----

func.func @huge(%x: tensor<1x4x4294967296x64xf32>, %r: tensor<1x1x64x2xf32>) {
  // expected-error @+1 {{expected every dimension to be below 2^31, got 4294967296}}
  %0 = attn.lsh_buckets %x, %r : tensor<1x4x4294967296x64xf32>, tensor<1x1x64x2xf32> -> tensor<1x1x4x4294967296xi32>
  return
}

// -----

func.func @rotations_rank(%x: tensor<1x4x16x64xf32>, %r: tensor<1x64x2xf32>) {
  // expected-error @+1 {{expected 'rotations' [rounds, H, D, n / 2] to be a static rank-4 tensor of f32, f16 or bf16, got 'tensor<1x64x2xf32>'}}
  %0 = attn.lsh_buckets %x, %r : tensor<1x4x16x64xf32>, tensor<1x64x2xf32> -> tensor<1x1x4x16xi32>
  return
}

// -----

func.func @rotations_dynamic(%x: tensor<1x4x16x64xf32>, %r: tensor<?x1x64x2xf32>) {
  // expected-error @+1 {{expected 'rotations' [rounds, H, D, n / 2] to be a static rank-4 tensor of f32, f16 or bf16, got 'tensor<?x1x64x2xf32>'}}
  %0 = attn.lsh_buckets %x, %r : tensor<1x4x16x64xf32>, tensor<?x1x64x2xf32> -> tensor<?x1x4x16xi32>
  return
}

// -----

func.func @rotations_empty(%x: tensor<1x4x16x64xf32>, %r: tensor<1x1x64x0xf32>) {
  // expected-error @+1 {{expected every dimension of 'rotations' [rounds, H, D, n / 2] to be in [1, 2^30], got 'tensor<1x1x64x0xf32>'}}
  %0 = attn.lsh_buckets %x, %r : tensor<1x4x16x64xf32>, tensor<1x1x64x0xf32> -> tensor<1x1x4x16xi32>
  return
}

// -----

func.func @rotations_features(%x: tensor<1x4x16x64xf32>, %r: tensor<1x1x32x2xf32>) {
  // expected-error @+1 {{expected 'rotations' [rounds, H, D, n / 2] to have D = 64 features (dimension 2), got 'tensor<1x1x32x2xf32>'}}
  %0 = attn.lsh_buckets %x, %r : tensor<1x4x16x64xf32>, tensor<1x1x32x2xf32> -> tensor<1x1x4x16xi32>
  return
}

// -----

func.func @rotations_heads(%x: tensor<1x4x16x64xf32>, %r: tensor<1x2x64x2xf32>) {
  // expected-error @+1 {{expected 'rotations' [rounds, H, D, n / 2] to have 1 or H = 4 heads (dimension 1), got 'tensor<1x2x64x2xf32>'}}
  %0 = attn.lsh_buckets %x, %r : tensor<1x4x16x64xf32>, tensor<1x2x64x2xf32> -> tensor<1x1x4x16xi32>
  return
}

// -----

func.func @result_shape(%x: tensor<1x4x16x64xf32>, %r: tensor<2x1x64x2xf32>) {
  // expected-error @+1 {{expected the result to be 'tensor<2x1x4x16xi32>', got 'tensor<1x1x4x16xi32>'}}
  %0 = attn.lsh_buckets %x, %r : tensor<1x4x16x64xf32>, tensor<2x1x64x2xf32> -> tensor<1x1x4x16xi32>
  return
}

// -----

func.func @result_bshd(%x: tensor<1x16x4x64xf32>, %r: tensor<1x1x64x2xf32>) {
  // expected-error @+1 {{expected the result to be 'tensor<1x1x4x16xi32>', got 'tensor<1x1x16x4xi32>'}}
  %0 = attn.lsh_buckets %x, %r {layout = #attn.layout<bshd>} : tensor<1x16x4x64xf32>, tensor<1x1x64x2xf32> -> tensor<1x1x16x4xi32>
  return
}

// -----

func.func @result_element(%x: tensor<1x4x16x64xf32>, %r: tensor<1x1x64x2xf32>) {
  // expected-error @+1 {{expected the result to be 'tensor<1x1x4x16xi32>', got 'tensor<1x1x4x16xi64>'}}
  %0 = attn.lsh_buckets %x, %r : tensor<1x4x16x64xf32>, tensor<1x1x64x2xf32> -> tensor<1x1x4x16xi64>
  return
}

// -----

func.func @result_dynamic(%x: tensor<?x4x16x64xf32>, %r: tensor<1x1x64x2xf32>) {
  // expected-error @+1 {{expected the result to be 'tensor<1x?x4x16xi32>', got 'tensor<1x2x4x16xi32>'}}
  %0 = attn.lsh_buckets %x, %r : tensor<?x4x16x64xf32>, tensor<1x1x64x2xf32> -> tensor<1x2x4x16xi32>
  return
}

// -----

func.func @centroids_rank(%x: tensor<1x4x16x64xf32>, %c: tensor<8x64xf32>) {
  // expected-error @+1 {{expected 'centroids' [H, k, D] to be a static rank-3 tensor of f32, f16 or bf16, got 'tensor<8x64xf32>'}}
  %0 = attn.nearest_centroid %x, %c : tensor<1x4x16x64xf32>, tensor<8x64xf32> -> tensor<1x4x16xi32>
  return
}

// -----

func.func @centroids_heads(%x: tensor<1x4x16x64xf32>, %c: tensor<3x8x64xf32>) {
  // expected-error @+1 {{expected 'centroids' [H, k, D] to have 1 or H = 4 heads (dimension 0), got 'tensor<3x8x64xf32>'}}
  %0 = attn.nearest_centroid %x, %c : tensor<1x4x16x64xf32>, tensor<3x8x64xf32> -> tensor<1x4x16xi32>
  return
}

// -----

func.func @centroids_features(%x: tensor<1x4x16x64xf32>, %c: tensor<4x8x63xf32>) {
  // expected-error @+1 {{expected 'centroids' [H, k, D] to have D = 64 features (dimension 2), got 'tensor<4x8x63xf32>'}}
  %0 = attn.nearest_centroid %x, %c : tensor<1x4x16x64xf32>, tensor<4x8x63xf32> -> tensor<1x4x16xi32>
  return
}

// -----

func.func @centroids_element(%x: tensor<1x4x16x64xf32>, %c: tensor<4x8x64xi32>) {
  // expected-error @+1 {{expected 'centroids' [H, k, D] to be a static rank-3 tensor of f32, f16 or bf16, got 'tensor<4x8x64xi32>'}}
  %0 = attn.nearest_centroid %x, %c : tensor<1x4x16x64xf32>, tensor<4x8x64xi32> -> tensor<1x4x16xi32>
  return
}

// -----

func.func @centroid_result(%x: tensor<1x4x16x64xf32>, %c: tensor<4x8x64xf32>) {
  // expected-error @+1 {{expected the result to be 'tensor<1x4x16xi32>', got 'tensor<1x4x8xi32>'}}
  %0 = attn.nearest_centroid %x, %c : tensor<1x4x16x64xf32>, tensor<4x8x64xf32> -> tensor<1x4x8xi32>
  return
}

// -----

func.func @sort_element(%ids: tensor<4x16xi64>) {
  // expected-error @+1 {{expected ids of i32 with at least one dimension and no encoding, got 'tensor<4x16xi64>'}}
  %o, %s = attn.sort_ids %ids {num_ids = 8} : tensor<4x16xi64>
  return
}

// -----

func.func @sort_rank(%ids: tensor<i32>) {
  // expected-error @+1 {{expected ids of i32 with at least one dimension and no encoding, got 'tensor<i32>'}}
  %o, %s = attn.sort_ids %ids {num_ids = 8} : tensor<i32>
  return
}

// -----

func.func @sort_num_ids(%ids: tensor<4x16xi32>) {
  // expected-error @+1 {{expected 'num_ids' in [1, 2^24], got 0}}
  %o, %s = attn.sort_ids %ids {num_ids = 0} : tensor<4x16xi32>
  return
}

// -----

func.func @sort_huge(%ids: tensor<4x4294967296xi32>) {
  // expected-error @+1 {{expected every dimension to be below 2^31, got 4294967296}}
  %o, %s = attn.sort_ids %ids {num_ids = 8} : tensor<4x4294967296xi32>
  return
}

// -----

func.func @permute_rank(%x: tensor<4x16xf32>, %o: tensor<4x1x16xi32>) {
  // expected-error @+1 {{expected the input to be [B, H, S, D] (or [B, S, H, D] with layout bshd) or [B, H, S], got 'tensor<4x16xf32>'}}
  %0 = attn.permute %x, %o : tensor<4x16xf32>, tensor<4x1x16xi32>
  return
}

// -----

func.func @permute_rows_layout(%x: tensor<4x2x16xf32>, %o: tensor<4x2x16xi32>) {
  // expected-error @+1 {{expected no layout for a [B, H, S] input}}
  %0 = attn.permute %x, %o {layout = #attn.layout<bshd>} : tensor<4x2x16xf32>, tensor<4x2x16xi32>
  return
}

// -----

func.func @permute_order(%x: tensor<4x16x2x8xf32>, %o: tensor<4x16x2xi32>) {
  // expected-error @+1 {{expected 'order' to be i32 [B, H, S] = 'tensor<4x2x16xi32>', got 'tensor<4x16x2xi32>'}}
  %0 = attn.permute %x, %o {layout = #attn.layout<bshd>} : tensor<4x16x2x8xf32>, tensor<4x16x2xi32>
  return
}

// -----

func.func @permute_order_type(%x: tensor<4x2x16x8xf32>, %o: tensor<4x2x16xi64>) {
  // expected-error @+1 {{expected 'order' to be i32 [B, H, S] = 'tensor<4x2x16xi32>', got 'tensor<4x2x16xi64>'}}
  %0 = attn.permute %x, %o : tensor<4x2x16x8xf32>, tensor<4x2x16xi64>
  return
}

// -----

// Unsigned or signed integers are not the signless i32 the lowerings make.
func.func @result_unsigned(%x: tensor<1x4x16x64xf32>, %r: tensor<1x1x64x2xf32>) {
  // expected-error @+1 {{expected the result to be 'tensor<1x1x4x16xi32>', got 'tensor<1x1x4x16xui32>'}}
  %0 = attn.lsh_buckets %x, %r : tensor<1x4x16x64xf32>, tensor<1x1x64x2xf32> -> tensor<1x1x4x16xui32>
  return
}

// -----

func.func @sort_signed(%ids: tensor<4x16xsi32>) {
  // expected-error @+1 {{expected ids of i32 with at least one dimension and no encoding, got 'tensor<4x16xsi32>'}}
  %o, %s = attn.sort_ids %ids {num_ids = 8} : tensor<4x16xsi32>
  return
}

// -----

func.func @permute_order_unsigned(%x: tensor<4x2x16x8xf32>, %o: tensor<4x2x16xui32>) {
  // expected-error @+1 {{expected 'order' to be i32 [B, H, S] = 'tensor<4x2x16xi32>', got 'tensor<4x2x16xui32>'}}
  %0 = attn.permute %x, %o : tensor<4x2x16x8xf32>, tensor<4x2x16xui32>
  return
}
