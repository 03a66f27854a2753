// Causal attention, bottom-right aligned: the mask for decoding and chunked
// prefill with a KV cache (Llama, Mistral, ... at inference; FlashAttention 2's
// `causal=True` when Sq != Sk). The Sq queries are the last Sq positions of
// the Sk keys, so query i sits at absolute position i + (Sk - Sq):
//
//   mask(b, h, i, j) = j <= i + Sk - Sq,  written  j + Sq <= i + Sk
//
// (the second form never goes negative in unsigned index arithmetic). With
// Sq == Sk this is causal.mlir. With Sq > Sk the first Sq - Sk query rows see
// no key at all: they are fully masked and give O = 0, lse = -inf.
// Sq and Sk are read from the shapes with tensor.dim and passed as captures.
//
// Expects: Q [B, 8, Sq, 128], K and V [B, 8, Sk, 128], f32; no captures from
// the caller (Sq, Sk are computed inside).

func.func @causal_bottom_right(%q: tensor<?x8x?x128xf32>,
                               %k: tensor<?x8x?x128xf32>,
                               %v: tensor<?x8x?x128xf32>)
    -> tensor<?x8x?x128xf32> {
  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : tensor<?x8x?x128xf32>
  %sk = tensor.dim %k, %c2 : tensor<?x8x?x128xf32>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x128xf32>, tensor<?x8x?x128xf32>,
                       tensor<?x8x?x128xf32>)
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
