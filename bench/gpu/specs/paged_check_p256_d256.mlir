// GPU check of the paged KV cache (docs/PagedKV.md) with pages of 256 rows
// (several key tiles per page), D = 256, 4 query heads on 2 K/V heads,
// bf16, and the key padding as mask.
//
// Expects: Q [B, 4, Sq, 256]; caches [12, 256, 2, 256]; block_table [B, 4]
// of page ids in [0, 12); seq_lens [B] in [0, 1024].

func.func @paged_check_p256_d256(
    %q: tensor<?x4x?x256xbf16>,
    %k_cache: tensor<12x256x2x256xbf16>, %v_cache: tensor<12x256x2x256xbf16>,
    %block_table: tensor<?x4xi32> {attn.dims = ["B", 4], attn.range = [0, 12]},
    %seq_lens: tensor<?xi32> {attn.dims = ["B"], attn.range = [0, 1025]})
    -> tensor<?x4x?x256xbf16> {
  %k = attn.gather_pages %k_cache[%block_table] lengths(%seq_lens)
      : tensor<12x256x2x256xbf16>, tensor<?x4xi32>, tensor<?xi32>
      -> tensor<?x2x1024x256xbf16>
  %v = attn.gather_pages %v_cache[%block_table] lengths(%seq_lens)
      : tensor<12x256x2x256xbf16>, tensor<?x4xi32>, tensor<?xi32>
      -> tensor<?x2x1024x256xbf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x4x?x256xbf16>, tensor<?x2x1024x256xbf16>,
                       tensor<?x2x1024x256xbf16>)
      captures(%seq_lens : tensor<?xi32>)
      -> tensor<?x4x?x256xbf16>
    mask(%b, %h, %i, %j, %lens) {
      %n = tensor.extract %lens[%b] : tensor<?xi32>
      %len = arith.index_cast %n : i32 to index
      %in = arith.cmpi slt, %j, %len : index
      attn.yield %in : i1
    }
  return %o : tensor<?x4x?x256xbf16>
}
