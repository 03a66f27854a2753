// GPU benchmark spec: causal logit soft-capping with cap = 30 (Grok-1;
// examples/softcap.mlir uses Gemma 2's 50 and no mask) at H = 16, D = 128,
// bf16, bhsd; B / Sq / Sk dynamic:
//
//   score(s, b, h, i, j) = cap * tanh(s / cap)
//   mask(b, h, i, j)     = j <= i
//
// Expects: Q, K, V [B, 16, S, 128] bf16; no captures.

func.func @bench_softcap(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>,
                         %v: tensor<?x16x?x128xbf16>) -> tensor<?x16x?x128xbf16> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>,
                       tensor<?x16x?x128xbf16>)
      -> tensor<?x16x?x128xbf16>
    score(%s, %b, %h, %i, %j) {
      %cap = arith.constant 30.0 : f32
      %x = arith.divf %s, %cap : f32
      %t = math.tanh %x : f32
      %r = arith.mulf %cap, %t : f32
      attn.yield %r : f32
    }
    mask(%b, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x16x?x128xbf16>
}
