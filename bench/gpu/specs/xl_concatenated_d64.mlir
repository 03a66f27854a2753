// Transformer-XL's memory mask on K and V the caller concatenated: the
// baseline of bench/gpu/concat_time.py for examples/transformer_xl_memory.mlir
// (which reads the memory and the segment in place). Query i sits at
// absolute position M + i with M = Sk - Sq, so this is
// examples/causal_bottom_right.mlir at the memory example's D = 64:
//
//   mask(b, h, i, j) = j <= i + Sk - Sq,  written  j + Sq <= i + Sk
//
// Expects: Q [B, 8, Sq, 64], K and V [B, 8, Sk, 64] (Sk = M + Sq), f32.

func.func @xl_concatenated_d64(%q: tensor<?x8x?x64xf32>,
                               %k: tensor<?x8x?x64xf32>,
                               %v: tensor<?x8x?x64xf32>)
    -> tensor<?x8x?x64xf32> {
  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : tensor<?x8x?x64xf32>
  %sk = tensor.dim %k, %c2 : tensor<?x8x?x64xf32>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>,
                       tensor<?x8x?x64xf32>)
      captures(%sq, %sk : index, index)
      -> tensor<?x8x?x64xf32>
    mask(%b, %h, %i, %j, %nq, %nk) {
      %jq = arith.addi %j, %nq : index
      %ik = arith.addi %i, %nk : index
      %keep = arith.cmpi ule, %jq, %ik : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x64xf32>
}
