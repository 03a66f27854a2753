// GPU check of a decode/prefill step that appends to a paged KV cache
// (docs/PagedKV.md) with what examples/paged_decode_step.mlir does not
// use: FlashInfer's HND cache layout ([pages, H, P, D]) with pages of 16
// rows, new keys and values in the bshd layout, f16, D = 128, and a GPT-J
// style rope (interleaved pairs) on the first 64 features only, with
// linear scaling and per-frequency scales (a captured tensor), applied to
// the new keys as they are appended and to the queries.
//
// Expects: Q [B, 8, Sq, 128]; K_new and V_new [B, Sq, 2, 128]; caches
// [64, 2, 16, 128]; block_table [B, 8] i32 of pages in [0, 64), no page
// listed twice; seq_lens [B] i32 with len[b] + Sq <= 128; freq_scales
// [32] f32.

#pos = affine_map<(b, r) -> (b)>
#id = affine_map<(b, r) -> (b, r)>
#vec = affine_map<(b) -> (b)>

func.func @append_check_p16_hnd_d128(
    %q: tensor<?x8x?x128xf16>,
    %k_new: tensor<?x?x2x128xf16> {attn.dims = ["B", "Sq", 2, 128]},
    %v_new: tensor<?x?x2x128xf16> {attn.dims = ["B", "Sq", 2, 128]},
    %k_cache: tensor<64x2x16x128xf16>, %v_cache: tensor<64x2x16x128xf16>,
    %block_table: tensor<?x8xi32> {attn.dims = ["B", 8], attn.range = [0, 64]},
    %seq_lens: tensor<?xi32> {attn.dims = ["B"], attn.range = [0, 129]},
    %scales: tensor<32xf32> {attn.range = [0.5, 1.5]})
    -> (tensor<?x8x?x128xf16>, tensor<64x2x16x128xf16>,
        tensor<64x2x16x128xf16>) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %batch = tensor.dim %q, %c0 : tensor<?x8x?x128xf16>
  %sq = tensor.dim %q, %c2 : tensor<?x8x?x128xf16>
  %sq32 = arith.index_cast %sq : index to i32
  %pos_init = tensor.empty(%batch, %sq) : tensor<?x?xi32>
  %pos = linalg.generic {indexing_maps = [#pos, #id],
                         iterator_types = ["parallel", "parallel"]}
      ins(%seq_lens : tensor<?xi32>) outs(%pos_init : tensor<?x?xi32>) {
    ^bb0(%len: i32, %out: i32):
      %r = linalg.index 1 : index
      %r32 = arith.index_cast %r : index to i32
      %p = arith.addi %len, %r32 : i32
      linalg.yield %p : i32
  } -> tensor<?x?xi32>
  %lens_init = tensor.empty(%batch) : tensor<?xi32>
  %new_lens = linalg.generic {indexing_maps = [#vec, #vec],
                              iterator_types = ["parallel"]}
      ins(%seq_lens : tensor<?xi32>) outs(%lens_init : tensor<?xi32>) {
    ^bb0(%len: i32, %out: i32):
      %n = arith.addi %len, %sq32 : i32
      linalg.yield %n : i32
  } -> tensor<?xi32>
  %qr = attn.rope %q positions(%pos : tensor<?x?xi32>)
      freq_scales(%scales : tensor<32xf32>)
      {rotary_dim = 64, base = 10000.0, scaling = 2.0,
       style = #attn.rope_style<interleaved>}
      : tensor<?x8x?x128xf16>
  %kr = attn.rope %k_new positions(%pos : tensor<?x?xi32>)
      freq_scales(%scales : tensor<32xf32>)
      {rotary_dim = 64, base = 10000.0, scaling = 2.0,
       style = #attn.rope_style<interleaved>, layout = #attn.layout<bshd>}
      : tensor<?x?x2x128xf16>
  %kc = attn.append_pages %kr into %k_cache[%block_table] lengths(%seq_lens)
      {layout = #attn.layout<bshd>, cache_layout = #attn.layout<bhsd>}
      : tensor<?x?x2x128xf16>, tensor<64x2x16x128xf16>, tensor<?x8xi32>,
        tensor<?xi32>
  %vc = attn.append_pages %v_new into %v_cache[%block_table] lengths(%seq_lens)
      {layout = #attn.layout<bshd>, cache_layout = #attn.layout<bhsd>}
      : tensor<?x?x2x128xf16>, tensor<64x2x16x128xf16>, tensor<?x8xi32>,
        tensor<?xi32>
  %k = attn.gather_pages %kc[%block_table] lengths(%new_lens)
      {cache_layout = #attn.layout<bhsd>}
      : tensor<64x2x16x128xf16>, tensor<?x8xi32>, tensor<?xi32>
      -> tensor<?x2x128x128xf16>
  %v = attn.gather_pages %vc[%block_table] lengths(%new_lens)
      {cache_layout = #attn.layout<bhsd>}
      : tensor<64x2x16x128xf16>, tensor<?x8xi32>, tensor<?xi32>
      -> tensor<?x2x128x128xf16>
  %o = attn.attention
      ins(%qr, %k, %v : tensor<?x8x?x128xf16>, tensor<?x2x128x128xf16>,
                        tensor<?x2x128x128xf16>)
      captures(%seq_lens, %sq : tensor<?xi32>, index)
      -> tensor<?x8x?x128xf16>
    mask(%b, %h, %i, %j, %lens, %nq) {
      %n = tensor.extract %lens[%b] : tensor<?xi32>
      %len = arith.index_cast %n : i32 to index
      %total = arith.addi %len, %nq : index
      %in = arith.cmpi slt, %j, %total : index
      %il = arith.addi %i, %len : index
      %causal = arith.cmpi sle, %j, %il : index
      %keep = arith.andi %in, %causal : i1
      attn.yield %keep : i1
    }
  return %o, %kc, %vc
      : tensor<?x8x?x128xf16>, tensor<64x2x16x128xf16>, tensor<64x2x16x128xf16>
}
