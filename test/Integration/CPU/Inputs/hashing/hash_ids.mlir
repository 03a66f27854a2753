// Bucket ids alone, returned, so that the check compares them exactly with
// the oracle's: LSH of f32 rows with rotations shared by the heads, and
// nearest centroids per head.
func.func @hash_ids(%x: tensor<?x2x?x8xf32> {attn.dims = ["B", 2, "Sk", 8]},
                    %rot: tensor<2x1x8x3xf32>, %mu: tensor<2x4x8xf32>)
    -> (tensor<2x?x2x?xi32>, tensor<?x2x?xi32>) {
  %lsh = attn.lsh_buckets %x, %rot
      : tensor<?x2x?x8xf32>, tensor<2x1x8x3xf32> -> tensor<2x?x2x?xi32>
  %near = attn.nearest_centroid %x, %mu
      : tensor<?x2x?x8xf32>, tensor<2x4x8xf32> -> tensor<?x2x?xi32>
  return %lsh, %near : tensor<2x?x2x?xi32>, tensor<?x2x?xi32>
}
