// GPU benchmark spec: causal ALiBi (examples/alibi.mlir) at H = 16, D = 128,
// bf16, bhsd; B / Sq / Sk dynamic:
//
//   score(s, b, h, i, j) = s + m[h] * (j - i)
//   mask(b, h, i, j)     = j <= i
//
// bench/gpu/run.py passes the standard slopes m[h] = 2^(-8 (h + 1) / 16) for
// the timed rows (FlexAttention gets the same score_mod); the correctness
// check draws them in attn.range.
//
// Expects: Q, K, V [B, 16, S, 128] bf16; capture slopes : tensor<16xf32>.

func.func @bench_alibi(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>,
                       %v: tensor<?x16x?x128xbf16>,
                       %slopes: tensor<16xf32> {attn.range = [0.0, 1.0]})
    -> tensor<?x16x?x128xbf16> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>,
                       tensor<?x16x?x128xbf16>)
      captures(%slopes : tensor<16xf32>)
      -> tensor<?x16x?x128xbf16>
    score(%s, %b, %h, %i, %j, %m) {
      %slope = tensor.extract %m[%h] : tensor<16xf32>
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
  return %o : tensor<?x16x?x128xbf16>
}
