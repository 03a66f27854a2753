// GQA with g = 3 (6 query heads on 2 K/V heads) and a mask that depends on
// the head through arithmetic: the CPU kernel packs the 3 query heads of a
// K/V head into one tile, so h differs between the lanes of the vectorised
// mask. Even heads are causal, odd heads see h more keys ahead; both
// bottom-right aligned, so rows can be fully masked when Sq > Sk.
func.func @head_mask(%q: tensor<?x6x?x24xf32>, %k: tensor<?x2x?x24xf32>,
                     %v: tensor<?x2x?x24xf32>) -> tensor<?x6x?x24xf32> {
  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : tensor<?x6x?x24xf32>
  %sk = tensor.dim %k, %c2 : tensor<?x2x?x24xf32>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x6x?x24xf32>, tensor<?x2x?x24xf32>,
                       tensor<?x2x?x24xf32>)
      captures(%sq, %sk : index, index)
      -> tensor<?x6x?x24xf32>
    mask(%b, %h, %i, %j, %nq, %nk) {
      %c1 = arith.constant 1 : index
      %c2i = arith.constant 2 : index
      %odd = arith.remui %h, %c2i : index
      %ahead = arith.muli %odd, %h : index
      %jq = arith.addi %j, %nq : index
      %ik = arith.addi %i, %nk : index
      %reach = arith.addi %ik, %ahead : index
      %keep = arith.cmpi ule, %jq, %reach : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x6x?x24xf32>
}
