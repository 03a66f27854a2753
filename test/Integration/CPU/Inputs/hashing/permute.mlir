// attn.permute: rows of f32 [B, H, S, D] put in the order attn.sort_ids
// gives the LSH ids of round 0, and back (inverse), and an lse-like
// [B, H, S] tensor scattered by the same order.
func.func @perm(%x: tensor<?x3x?x16xf32> {attn.dims = ["B", 3, "Sk", 16]},
                %rot: tensor<1x3x16x4xf32>, %lse: tensor<?x3x?xf32> {attn.dims = ["B", 3, "Sk"]})
    -> (tensor<?x3x?x16xf32>, tensor<?x3x?x16xf32>, tensor<?x3x?xf32>) {
  %ids = attn.lsh_buckets %x, %rot
      : tensor<?x3x?x16xf32>, tensor<1x3x16x4xf32> -> tensor<1x?x3x?xi32>
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %x, %c0 : tensor<?x3x?x16xf32>
  %sk = tensor.dim %x, %c2 : tensor<?x3x?x16xf32>
  %row = tensor.extract_slice %ids[0, 0, 0, 0] [1, %b, 3, %sk] [1, 1, 1, 1]
      : tensor<1x?x3x?xi32> to tensor<?x3x?xi32>
  %order, %sorted = attn.sort_ids %row {num_ids = 8} : tensor<?x3x?xi32>
  %y = attn.permute %x, %order : tensor<?x3x?x16xf32>, tensor<?x3x?xi32>
  %back = attn.permute %y, %order {inverse} : tensor<?x3x?x16xf32>, tensor<?x3x?xi32>
  %l = attn.permute %lse, %order {inverse} : tensor<?x3x?xf32>, tensor<?x3x?xi32>
  return %y, %back, %l : tensor<?x3x?x16xf32>, tensor<?x3x?x16xf32>, tensor<?x3x?xf32>
}
