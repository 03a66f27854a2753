// Decode and chunked prefill over a paged KV cache (vLLM's PagedAttention,
// FlashInfer's BatchDecodeWithPagedKVCache), with grouped-query heads: 8
// query heads share 2 K/V heads. Keys and values live in pages of P = 16
// rows of a cache of 80 pages, [pages, P, Hkv, D] (vLLM's and FlashInfer's
// NHD layout); sequence b holds len[b] rows, its pages listed in order in
// block_table[b, :]. attn.gather_pages reads them as one [B, Hkv, 128, D]
// sequence (docs/PagedKV.md); the CPU kernel reads each key tile from its
// pages, and no gathered copy exists.
//
// The Sq queries are the last Sq positions of each sequence (Sq = 1 is
// decoding), so query i of sequence b sits at position len[b] - Sq + i:
//
//   mask(b, h, i, j) = j < len[b]  and  j + Sq <= i + len[b]
//
// The first conjunct excludes the zero rows past the length (and keys of
// a tile past it are skipped, not computed); a sequence shorter than Sq has
// fully masked leading rows (O = 0, lse = -inf). Page ids of pages wholly
// past len[b] are never read.
//
// On CUDA the kernels' copies read each key and value row from its page;
// a length or a page id the table cannot hold fails a device-side
// assertion, which the launch reports.
//
// Expects: Q [B, 8, Sq, 128], bf16; K and V caches [80, 16, 2, 128], bf16;
// block_table [B, 8] i32 of page ids in [0, 80); seq_lens [B] i32 in
// [0, 128].

func.func @paged_decode(
    %q: tensor<?x8x?x128xbf16>,
    %k_cache: tensor<80x16x2x128xbf16>, %v_cache: tensor<80x16x2x128xbf16>,
    %block_table: tensor<?x8xi32> {attn.dims = ["B", 8], attn.range = [0, 80]},
    %seq_lens: tensor<?xi32> {attn.dims = ["B"], attn.range = [0, 129]})
    -> tensor<?x8x?x128xbf16> {
  %k = attn.gather_pages %k_cache[%block_table] lengths(%seq_lens)
      : tensor<80x16x2x128xbf16>, tensor<?x8xi32>, tensor<?xi32>
      -> tensor<?x2x128x128xbf16>
  %v = attn.gather_pages %v_cache[%block_table] lengths(%seq_lens)
      : tensor<80x16x2x128xbf16>, tensor<?x8xi32>, tensor<?xi32>
      -> tensor<?x2x128x128xbf16>
  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : tensor<?x8x?x128xbf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x128xbf16>, tensor<?x2x128x128xbf16>,
                       tensor<?x2x128x128xbf16>)
      captures(%seq_lens, %sq : tensor<?xi32>, index)
      -> tensor<?x8x?x128xbf16>
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
  return %o : tensor<?x8x?x128xbf16>
}
