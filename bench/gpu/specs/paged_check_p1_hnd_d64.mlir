// GPU check of the paged KV cache (docs/PagedKV.md) with pages of one row
// (every key row on its own page) in FlashInfer's HND layout
// ([pages, H, P, D]), an i64 block table, f16, D = 64, and only the key
// padding as mask (a sequence of length 0 has fully masked rows).
//
// Expects: Q [B, 4, Sq, 64]; caches [3000, 4, 1, 64]; block_table [B, 1500]
// of page ids in [0, 3000); seq_lens [B] in [0, 1500].

func.func @paged_check_p1_hnd_d64(
    %q: tensor<?x4x?x64xf16>,
    %k_cache: tensor<3000x4x1x64xf16>, %v_cache: tensor<3000x4x1x64xf16>,
    %block_table: tensor<?x1500xi64> {attn.dims = ["B", 1500], attn.range = [0, 3000]},
    %seq_lens: tensor<?xi64> {attn.dims = ["B"], attn.range = [0, 1501]})
    -> tensor<?x4x?x64xf16> {
  %k = attn.gather_pages %k_cache[%block_table] lengths(%seq_lens)
      {cache_layout = #attn.layout<bhsd>}
      : tensor<3000x4x1x64xf16>, tensor<?x1500xi64>, tensor<?xi64>
      -> tensor<?x4x1500x64xf16>
  %v = attn.gather_pages %v_cache[%block_table] lengths(%seq_lens)
      {cache_layout = #attn.layout<bhsd>}
      : tensor<3000x4x1x64xf16>, tensor<?x1500xi64>, tensor<?xi64>
      -> tensor<?x4x1500x64xf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x4x?x64xf16>, tensor<?x4x1500x64xf16>,
                       tensor<?x4x1500x64xf16>)
      captures(%seq_lens : tensor<?xi64>)
      -> tensor<?x4x?x64xf16>
    mask(%b, %h, %i, %j, %lens) {
      %n = tensor.extract %lens[%b] : tensor<?xi64>
      %len = arith.index_cast %n : i64 to index
      %in = arith.cmpi slt, %j, %len : index
      attn.yield %in : i1
    }
  return %o : tensor<?x4x?x64xf16>
}
