// attn.sort_ids of the bucket ids of attn.lsh_buckets (16 buckets): the
// stable order of each (b, h) row's positions by id, and the sorted ids.
func.func @sort_ids(%x: tensor<?x3x?x16xbf16> {attn.dims = ["B", 3, "Sk", 16]},
                    %rot: tensor<1x3x16x8xf32>)
    -> (tensor<1x?x3x?xi32>, tensor<1x?x3x?xi32>, tensor<1x?x3x?xi32>) {
  %ids = attn.lsh_buckets %x, %rot
      : tensor<?x3x?x16xbf16>, tensor<1x3x16x8xf32> -> tensor<1x?x3x?xi32>
  %order, %sorted = attn.sort_ids %ids {num_ids = 16} : tensor<1x?x3x?xi32>
  return %ids, %order, %sorted
      : tensor<1x?x3x?xi32>, tensor<1x?x3x?xi32>, tensor<1x?x3x?xi32>
}
