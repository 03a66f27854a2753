// GPU check of the paged KV cache (docs/PagedKV.md) at the decode benchmark's
// shape, with up to 16 key tiles per sequence: pages of 16 rows in vLLM's
// NHD layout, 32 query heads on 8 K/V heads, D = 128, bf16. The Sq queries
// are the last Sq positions of each sequence (decode and chunked prefill):
//
//   mask(b, h, i, j) = j < len[b]  and  j + Sq <= i + len[b]
//
// Expects: Q [B, 32, Sq, 128]; caches [600, 16, 8, 128]; block_table
// [B, 256] of page ids in [0, 600); seq_lens [B] in [0, 4096].

func.func @paged_check_p16_d128(
    %q: tensor<?x32x?x128xbf16>,
    %k_cache: tensor<600x16x8x128xbf16>, %v_cache: tensor<600x16x8x128xbf16>,
    %block_table: tensor<?x256xi32> {attn.dims = ["B", 256], attn.range = [0, 600]},
    %seq_lens: tensor<?xi32> {attn.dims = ["B"], attn.range = [0, 4097]})
    -> tensor<?x32x?x128xbf16> {
  %k = attn.gather_pages %k_cache[%block_table] lengths(%seq_lens)
      : tensor<600x16x8x128xbf16>, tensor<?x256xi32>, tensor<?xi32>
      -> tensor<?x8x4096x128xbf16>
  %v = attn.gather_pages %v_cache[%block_table] lengths(%seq_lens)
      : tensor<600x16x8x128xbf16>, tensor<?x256xi32>, tensor<?xi32>
      -> tensor<?x8x4096x128xbf16>
  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : tensor<?x32x?x128xbf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x32x?x128xbf16>, tensor<?x8x4096x128xbf16>,
                       tensor<?x8x4096x128xbf16>)
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
