// bench/RESULTS.md ("RoPE on the CPU"): examples/rope.mlir without the ropes (the same
// attention on unrotated Q and K).
func.func @plain(%q: tensor<?x8x?x128xf32>, %k: tensor<?x2x?x128xf32>,
                 %v: tensor<?x2x?x128xf32>) -> tensor<?x8x?x128xf32> {
  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : tensor<?x8x?x128xf32>
  %sk = tensor.dim %k, %c2 : tensor<?x2x?x128xf32>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x128xf32>, tensor<?x2x?x128xf32>,
                       tensor<?x2x?x128xf32>)
      captures(%sq, %sk : index, index)
      -> tensor<?x8x?x128xf32>
    mask(%b, %h, %i, %j, %nq, %nk) {
      %jq = arith.addi %j, %nq : index
      %ik = arith.addi %i, %nk : index
      %keep = arith.cmpi ule, %jq, %ik : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x128xf32>
}
