// ALiBi (Attention with Linear Biases), as in BLOOM and MPT: no position
// embeddings; instead each head h adds a bias proportional to the distance
// between query and key, with a fixed per-head slope m[h] (for 8 heads the
// geometric sequence 1/2, 1/4, ..., 1/256). Causal:
//
//   score(s, b, h, i, j) = s + m[h] * (j - i)     (j - i <= 0: farther is lower)
//   mask(b, h, i, j)     = j <= i
//
// The score is in natural-log units, added to the scaled Q.K^T. j - i is
// computed in signed i64 and converted to f32.
//
// Expects: Q [B, 8, Sq, 128], K and V [B, 8, Sk, 128], f32; capture
// slopes : tensor<8xf32> (one per query head), random in [0, 1).

func.func @alibi(%q: tensor<?x8x?x128xf32>, %k: tensor<?x8x?x128xf32>,
                 %v: tensor<?x8x?x128xf32>,
                 %slopes: tensor<8xf32> {attn.range = [0.0, 1.0]})
    -> tensor<?x8x?x128xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x128xf32>, tensor<?x8x?x128xf32>,
                       tensor<?x8x?x128xf32>)
      captures(%slopes : tensor<8xf32>)
      -> tensor<?x8x?x128xf32>
    score(%s, %b, %h, %i, %j, %m) {
      %slope = tensor.extract %m[%h] : tensor<8xf32>
      %ii = arith.index_cast %i : index to i64
      %jj = arith.index_cast %j : index to i64
      %rel = arith.subi %jj, %ii : i64
      %relf = arith.sitofp %rel : i64 to f32
      %bias = arith.mulf %slope, %relf : f32
      %r = arith.addf %s, %bias : f32
      attn.yield %r : f32
    }
    mask(%b, %h, %i, %j, %m) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x128xf32>
}
