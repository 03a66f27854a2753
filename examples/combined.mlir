// Several variants in one op: grouped-query heads (8 query heads, 2 K/V
// heads, as in Llama 3 / Mistral), a causal sliding window of W = 16 keys
// (Mistral), an ALiBi distance bias (BLOOM / MPT) and Gemma 2's logit
// soft-cap, applied last, to the biased score. No single model uses exactly
// this mix; it shows that the pieces compose:
//
//   score(s, b, h, i, j) = cap * tanh((s + m[h] * (j - i)) / cap),  cap = 50.0
//   mask(b, h, i, j)     = j <= i  and  i < j + W                   (i - j < W)
//
// Query head h reads K/V head h / 4 (implied by the shapes); the ALiBi slope
// is per query head, so slopes has Hq = 8 entries and is indexed by h.
//
// Expects: Q [B, 8, Sq, 128], K and V [B, 2, Sk, 128], f32; capture
// slopes : tensor<8xf32>, random in [0, 1).

func.func @combined(%q: tensor<?x8x?x128xf32>, %k: tensor<?x2x?x128xf32>,
                    %v: tensor<?x2x?x128xf32>,
                    %slopes: tensor<8xf32> {attn.range = [0.0, 1.0]})
    -> tensor<?x8x?x128xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x128xf32>, tensor<?x2x?x128xf32>,
                       tensor<?x2x?x128xf32>)
      captures(%slopes : tensor<8xf32>)
      -> tensor<?x8x?x128xf32>
    score(%s, %b, %h, %i, %j, %m) {
      %cap = arith.constant 50.0 : f32
      %slope = tensor.extract %m[%h] : tensor<8xf32>
      %ii = arith.index_cast %i : index to i64
      %jj = arith.index_cast %j : index to i64
      %rel = arith.subi %jj, %ii : i64
      %relf = arith.sitofp %rel : i64 to f32
      %bias = arith.mulf %slope, %relf : f32
      %biased = arith.addf %s, %bias : f32
      %x = arith.divf %biased, %cap : f32
      %t = math.tanh %x : f32
      %r = arith.mulf %cap, %t : f32
      attn.yield %r : f32
    }
    mask(%b, %h, %i, %j, %m) {
      %w = arith.constant 16 : index
      %causal = arith.cmpi ule, %j, %i : index
      %jw = arith.addi %j, %w : index
      %near = arith.cmpi ult, %i, %jw : index
      %keep = arith.andi %causal, %near : i1
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x128xf32>
}
