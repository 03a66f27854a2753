// GPU benchmark spec (dense, D = 128): the FlashAttention papers'
// shapes (16k tokens per batch, hidden 2048, so H = 16 heads of D = 128), bf16,
// bhsd, B / Sq / Sk dynamic, H and D static. Conventions of
// examples/dense_bf16.mlir; only O is returned (like the SDPA peers).
//
// Expects: Q, K, V [B, 16, S, 128] bf16. Served by bench/gpu/run.py rows
// "dense D=128".

func.func @bench_dense_d128(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>,
                            %v: tensor<?x16x?x128xbf16>) -> tensor<?x16x?x128xbf16> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>,
                       tensor<?x16x?x128xbf16>)
      -> tensor<?x16x?x128xbf16>
  return %o : tensor<?x16x?x128xbf16>
}
