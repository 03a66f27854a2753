// The same with f16 rows in [B, S, H, D], per-head rotations and centroids
// shared by the heads; D = 64 (vector-width multiples) and 16 buckets.
func.func @hash_ids_bshd(%x: tensor<?x?x3x64xf16> {attn.dims = ["B", "Sk", 3, 64]},
                         %rot: tensor<1x3x64x8xf16>, %mu: tensor<1x5x64xbf16>)
    -> (tensor<1x?x3x?xi32>, tensor<?x3x?xi32>) {
  %lsh = attn.lsh_buckets %x, %rot {layout = #attn.layout<bshd>}
      : tensor<?x?x3x64xf16>, tensor<1x3x64x8xf16> -> tensor<1x?x3x?xi32>
  %near = attn.nearest_centroid %x, %mu {layout = #attn.layout<bshd>}
      : tensor<?x?x3x64xf16>, tensor<1x5x64xbf16> -> tensor<?x3x?xi32>
  return %lsh, %near : tensor<1x?x3x?xi32>, tensor<?x3x?xi32>
}
