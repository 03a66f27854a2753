// Logit soft-capping, as in Gemma 2 (cap = 50.0 for attention logits) and
// Grok-1 (cap = 30.0): the score is squashed smoothly into (-cap, cap) so no
// single logit can dominate the softmax:
//
//   score(s, b, h, i, j) = cap * tanh(s / cap)
//
// with cap = 50.0, applied to the scaled Q.K^T. No mask here, to show the
// score modifier alone: Gemma 2 also applies the causal mask (causal.mlir),
// and a sliding window on alternate layers (combined.mlir shows both).
//
// Expects: Q [B, 8, Sq, 128], K and V [B, 8, Sk, 128], f32; no captures.

func.func @softcap(%q: tensor<?x8x?x128xf32>, %k: tensor<?x8x?x128xf32>,
                   %v: tensor<?x8x?x128xf32>) -> tensor<?x8x?x128xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x128xf32>, tensor<?x8x?x128xf32>,
                       tensor<?x8x?x128xf32>)
      -> tensor<?x8x?x128xf32>
    score(%s, %b, %h, %i, %j) {
      %cap = arith.constant 50.0 : f32
      %x = arith.divf %s, %cap : f32
      %t = math.tanh %x : f32
      %r = arith.mulf %cap, %t : f32
      attn.yield %r : f32
    }
  return %o : tensor<?x8x?x128xf32>
}
