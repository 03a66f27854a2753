// A spec whose K is computed in the function: attune-run cannot size or
// time it from the arguments, and says so (test/Tools/attune-run-errors.test).
func.func @kcat(%q: tensor<1x1x?x8xf32>, %k: tensor<1x1x?x8xf32> {attn.dims = [1, 1, "Sk", 8]}, %v: tensor<1x1x?x8xf32>) -> tensor<1x1x?x8xf32> {
  %k2 = arith.negf %k : tensor<1x1x?x8xf32>
  %o = attn.attention ins(%q, %k2, %v : tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>) -> tensor<1x1x?x8xf32>
  return %o : tensor<1x1x?x8xf32>
}
