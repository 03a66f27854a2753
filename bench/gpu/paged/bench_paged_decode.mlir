// GPU timing spec of bench/gpu/paged_time.py: decoding over a paged KV
// cache (docs/PagedKV.md) at the issue's shape, B sequences of L tokens in
// pages of 16 rows (NHD), 32 query heads on 8 K/V heads, D = 128, bf16. The
// table's width M (so L = 16 M) and the cache's page count are dynamic: one
// artifact serves every L, and the split-KV partition follows M.
//
// Expects: Q [B, 32, Sq, 128]; caches [N, 16, 8, 128]; block_table [B, M]
// of page ids in [0, N); seq_lens [B] in [0, 16 M].

func.func @bench_paged_decode(
    %q: tensor<?x32x?x128xbf16>,
    %k_cache: tensor<?x16x8x128xbf16>, %v_cache: tensor<?x16x8x128xbf16>,
    %block_table: tensor<?x?xi32>,
    %seq_lens: tensor<?xi32> {attn.dims = ["B"]})
    -> tensor<?x32x?x128xbf16> {
  %k = attn.gather_pages %k_cache[%block_table] lengths(%seq_lens)
      : tensor<?x16x8x128xbf16>, tensor<?x?xi32>, tensor<?xi32>
      -> tensor<?x8x?x128xbf16>
  %v = attn.gather_pages %v_cache[%block_table] lengths(%seq_lens)
      : tensor<?x16x8x128xbf16>, tensor<?x?xi32>, tensor<?xi32>
      -> tensor<?x8x?x128xbf16>
  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : tensor<?x32x?x128xbf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16>,
                       tensor<?x8x?x128xbf16>)
      captures(%seq_lens, %sq : tensor<?xi32>, index)
      -> tensor<?x32x?x128xbf16>
    mask(%b, %h, %i, %j, %lens, %nq) {
      %n = tensor.extract %lens[%b] : tensor<?xi32>
      %len = arith.index_cast %n : i32 to index
      %in = arith.cmpi slt, %j, %len : index
      %jq = arith.addi %j, %nq : index
      %il = arith.addi %i, %len : index
      %causal = arith.cmpi sle, %jq, %il : index
      %keep = arith.andi %in, %causal : i1
      attn.yield %keep : i1
    }
  return %o : tensor<?x32x?x128xbf16>
}
