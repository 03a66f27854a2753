// GPU benchmark spec (dense, D = 64): the FlashAttention papers'
// shapes (16k tokens per batch, hidden 2048, so H = 32 heads of D = 64), bf16,
// bhsd, B / Sq / Sk dynamic, H and D static. Conventions of
// examples/dense_bf16.mlir; only O is returned (like the SDPA peers).
//
// Expects: Q, K, V [B, 32, S, 64] bf16. Served by bench/gpu/run.py rows
// "dense D=64".

func.func @bench_dense_d64(%q: tensor<?x32x?x64xbf16>, %k: tensor<?x32x?x64xbf16>,
                           %v: tensor<?x32x?x64xbf16>) -> tensor<?x32x?x64xbf16> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x32x?x64xbf16>, tensor<?x32x?x64xbf16>,
                       tensor<?x32x?x64xbf16>)
      -> tensor<?x32x?x64xbf16>
  return %o : tensor<?x32x?x64xbf16>
}
