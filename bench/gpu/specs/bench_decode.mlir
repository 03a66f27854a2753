// GPU benchmark spec: decoding, grouped-query attention (examples/gqa.mlir)
// with Hq = 32 query heads sharing Hkv = 8 K/V heads (Llama 3 8B / 70B
// style), D = 128, bf16, bhsd, no mask. The timed row is one query token
// (Sq = 1) over a KV cache of Sk = 32768 keys, B = 8: memory bound, reported
// in GB/s against the same run's device copy bandwidth.
//
// Expects: Q [B, 32, Sq, 128], K and V [B, 8, Sk, 128] bf16; no captures.

func.func @bench_decode(%q: tensor<?x32x?x128xbf16>, %k: tensor<?x8x?x128xbf16>,
                        %v: tensor<?x8x?x128xbf16>) -> tensor<?x32x?x128xbf16> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16>,
                       tensor<?x8x?x128xbf16>)
      -> tensor<?x32x?x128xbf16>
  return %o : tensor<?x32x?x128xbf16>
}
