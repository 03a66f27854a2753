// GPU check of the paged KV cache (docs/PagedKV.md) with pages of 5 rows
// (no key tile starts on a page boundary), the attention in bshd, one K/V
// head for 8 query heads (MQA), D = 96, bf16, and no mask: the zero rows
// past each sequence's length are keys like any other (score 0), as the
// gather's semantics say.
//
// Expects: Q [B, Sq, 8, 96]; caches [400, 5, 1, 96]; block_table [B, 120]
// of page ids in [0, 400); seq_lens [B] in [0, 600].

func.func @paged_check_p5_bshd_d96(
    %q: tensor<?x?x8x96xbf16>,
    %k_cache: tensor<400x5x1x96xbf16>, %v_cache: tensor<400x5x1x96xbf16>,
    %block_table: tensor<?x120xi32> {attn.dims = ["B", 120], attn.range = [0, 400]},
    %seq_lens: tensor<?xi32> {attn.dims = ["B"], attn.range = [0, 601]})
    -> tensor<?x?x8x96xbf16> {
  %k = attn.gather_pages %k_cache[%block_table] lengths(%seq_lens)
      {layout = #attn.layout<bshd>}
      : tensor<400x5x1x96xbf16>, tensor<?x120xi32>, tensor<?xi32>
      -> tensor<?x600x1x96xbf16>
  %v = attn.gather_pages %v_cache[%block_table] lengths(%seq_lens)
      {layout = #attn.layout<bshd>}
      : tensor<400x5x1x96xbf16>, tensor<?x120xi32>, tensor<?xi32>
      -> tensor<?x600x1x96xbf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x?x8x96xbf16>, tensor<?x600x1x96xbf16>,
                       tensor<?x600x1x96xbf16>)
      layout(bshd)
      -> tensor<?x?x8x96xbf16>
  return %o : tensor<?x?x8x96xbf16>
}
