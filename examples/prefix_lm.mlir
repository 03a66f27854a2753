// Prefix-LM attention, as in UniLM, T5's prefix-LM objective, U-PaLM and
// PaliGemma (image tokens + prompt form the prefix): attention is
// bidirectional inside a prefix of P tokens and causal after it.
//
//   mask(b, h, i, j) = j < P  or  j <= i
//
// A prefix query (i < P) sees every prefix key and no later key; a query after
// the prefix sees the whole prefix and the keys up to itself. P = 0 gives
// causal.mlir. P is a runtime scalar, one per call; for a prefix length per
// sequence, capture a tensor<?xi32> and read it at b, as key_padding.mlir
// does.
//
// Expects: Q [B, 8, Sq, 64], K and V [B, 8, Sk, 64], f32 (self-attention,
// top-left aligned); capture P : index, random in [0, 64).

func.func @prefix_lm(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>,
                     %v: tensor<?x8x?x64xf32>,
                     %prefix: index {attn.range = [0, 64]})
    -> tensor<?x8x?x64xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>,
                       tensor<?x8x?x64xf32>)
      captures(%prefix : index)
      -> tensor<?x8x?x64xf32>
    mask(%b, %h, %i, %j, %p) {
      %inPrefix = arith.cmpi ult, %j, %p : index
      %causal = arith.cmpi ule, %j, %i : index
      %keep = arith.ori %inPrefix, %causal : i1
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x64xf32>
}
