// attn.sort_ids of ids given by the caller, which may lie outside its
// num_ids (4) when the caller's range ([0, 8)) says they can.
func.func @sort_range(%ids: tensor<?x?xi32> {attn.dims = ["B", "Sk"], attn.range = [0, 8]})
    -> (tensor<?x?xi32>, tensor<?x?xi32>) {
  %order, %sorted = attn.sort_ids %ids {num_ids = 4} : tensor<?x?xi32>
  return %order, %sorted : tensor<?x?xi32>, tensor<?x?xi32>
}
