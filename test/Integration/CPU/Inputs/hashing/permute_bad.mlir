// attn.permute with an order given by the caller: entries in [0, 4), so at
// S > 4 an inverse order repeats entries, and at S < 4 an entry can lie
// outside [0, S).
func.func @permute_bad(%x: tensor<?x2x?xf32> {attn.dims = ["B", 2, "Sk"]},
                       %order: tensor<?x2x?xi32> {attn.dims = ["B", 2, "Sk"], attn.range = [0, 4]})
    -> (tensor<?x2x?xf32>, tensor<?x2x?xf32>) {
  %y = attn.permute %x, %order : tensor<?x2x?xf32>, tensor<?x2x?xi32>
  %z = attn.permute %x, %order {inverse} : tensor<?x2x?xf32>, tensor<?x2x?xi32>
  return %y, %z : tensor<?x2x?xf32>, tensor<?x2x?xf32>
}
