// The dense equivalent of examples/cascade.mlir for bench/RESULTS.md
// ("Cascade and hierarchical attention on the CPU"): each of the 4
// requests attends over its own copy of [prefix; its Sq tokens] with the
// mask j < P or j - P <= i, P = Sk - Sq. Run with Sk = P + Sq.

func.func @cascade_dense(
    %q: tensor<4x?x8x64xf32> {attn.dims = [4, "Sq", 8, 64]},
    %k: tensor<4x?x2x64xf32> {attn.dims = [4, "Sk", 2, 64]},
    %v: tensor<4x?x2x64xf32> {attn.dims = [4, "Sk", 2, 64]})
    -> (tensor<4x?x8x64xf32>, tensor<4x8x?xf32>) {
  %c1 = arith.constant 1 : index
  %sq = tensor.dim %q, %c1 : tensor<4x?x8x64xf32>
  %sk = tensor.dim %k, %c1 : tensor<4x?x2x64xf32>
  %prefix = arith.subi %sk, %sq : index
  %o, %lse = attn.attention
      ins(%q, %k, %v : tensor<4x?x8x64xf32>, tensor<4x?x2x64xf32>,
                       tensor<4x?x2x64xf32>)
      captures(%prefix : index)
      layout(bshd) -> tensor<4x?x8x64xf32>, tensor<4x8x?xf32>
    mask(%b, %h, %i, %j, %p) {
      %shared = arith.cmpi ult, %j, %p : index
      %ip = arith.addi %i, %p : index
      %own = arith.cmpi ule, %j, %ip : index
      %keep = arith.ori %shared, %own : i1
      attn.yield %keep : i1
    }
  return %o, %lse : tensor<4x?x8x64xf32>, tensor<4x8x?xf32>
}
