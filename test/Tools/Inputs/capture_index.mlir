// A spec that indexes a captured table with captured ids: ids outside their
// attn.range would read out of bounds, so attune-run refuses them
// (test/Tools/attune-run-capture-range.test).
func.func @bucket_bias(%q: tensor<1x1x?x8xf32>, %k: tensor<1x1x?x8xf32>,
                       %v: tensor<1x1x?x8xf32>,
                       %ids: tensor<?xi32> {attn.dims = ["Sk"], attn.range = [0, 4]},
                       %bias: tensor<4xf32>) -> tensor<1x1x?x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>)
      captures(%ids, %bias : tensor<?xi32>, tensor<4xf32>) -> tensor<1x1x?x8xf32>
    score(%s, %b, %h, %i, %j, %id, %table) {
      %n = tensor.extract %id[%j] : tensor<?xi32>
      %x = arith.index_cast %n : i32 to index
      %t = tensor.extract %table[%x] : tensor<4xf32>
      %r = arith.addf %s, %t : f32
      attn.yield %r : f32
    }
  return %o : tensor<1x1x?x8xf32>
}
