// A result whose size is the value of a scalar argument: attune-run sizes
// results before it runs, from shapes only, and says so
// (test/Tools/attune-run-functions.test).
func.func @scalar_size(%q: tensor<1x1x?x8xf32>, %k: tensor<1x1x?x8xf32>, %v: tensor<1x1x?x8xf32>, %n: index {attn.range = [1, 4]}) -> (tensor<1x1x?x8xf32>, tensor<?xf32>) {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>) -> tensor<1x1x?x8xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty(%n) : tensor<?xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  return %o, %f : tensor<1x1x?x8xf32>, tensor<?xf32>
}
