// GPU timing spec of bench/gpu/paged_step_time.py: one whole decoding step
// over a paged KV cache at the issue's shape (B sequences, pages of 16
// rows, NHD, 32 query heads on 8 K/V heads, D = 128, bf16): Llama 3's rope
// on the queries and the new keys at positions len[b] + r, the new keys
// and values appended to the pages in place, then attention over
// everything each sequence holds (examples/paged_decode_step.mlir at full
// size). The table's width M and the page count are dynamic.
//
// Expects: Q [B, 32, Sq, 128]; K_new, V_new [B, 8, Sq, 128]; caches
// [N, 16, 8, 128]; block_table [B, M] of page ids in [0, N), no page
// listed twice; seq_lens [B] with len[b] + Sq <= 16 M.

#pos = affine_map<(b, r) -> (b)>
#id = affine_map<(b, r) -> (b, r)>
#vec = affine_map<(b) -> (b)>

func.func @bench_paged_decode_step(
    %q: tensor<?x32x?x128xbf16>,
    %k_new: tensor<?x8x?x128xbf16> {attn.dims = ["B", 8, "Sq", 128]},
    %v_new: tensor<?x8x?x128xbf16> {attn.dims = ["B", 8, "Sq", 128]},
    %k_cache: tensor<?x16x8x128xbf16>, %v_cache: tensor<?x16x8x128xbf16>,
    %block_table: tensor<?x?xi32>,
    %seq_lens: tensor<?xi32> {attn.dims = ["B"]})
    -> (tensor<?x32x?x128xbf16>, tensor<?x16x8x128xbf16>,
        tensor<?x16x8x128xbf16>) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %batch = tensor.dim %q, %c0 : tensor<?x32x?x128xbf16>
  %sq = tensor.dim %q, %c2 : tensor<?x32x?x128xbf16>
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
  %qr = attn.rope %q positions(%pos : tensor<?x?xi32>) {base = 500000.0}
      : tensor<?x32x?x128xbf16>
  %kr = attn.rope %k_new positions(%pos : tensor<?x?xi32>) {base = 500000.0}
      : tensor<?x8x?x128xbf16>
  %kc = attn.append_pages %kr into %k_cache[%block_table] lengths(%seq_lens)
      : tensor<?x8x?x128xbf16>, tensor<?x16x8x128xbf16>, tensor<?x?xi32>,
        tensor<?xi32>
  %vc = attn.append_pages %v_new into %v_cache[%block_table] lengths(%seq_lens)
      : tensor<?x8x?x128xbf16>, tensor<?x16x8x128xbf16>, tensor<?x?xi32>,
        tensor<?xi32>
  %k = attn.gather_pages %kc[%block_table] lengths(%new_lens)
      : tensor<?x16x8x128xbf16>, tensor<?x?xi32>, tensor<?xi32>
      -> tensor<?x8x?x128xbf16>
  %v = attn.gather_pages %vc[%block_table] lengths(%new_lens)
      : tensor<?x16x8x128xbf16>, tensor<?x?xi32>, tensor<?xi32>
      -> tensor<?x8x?x128xbf16>
  %o = attn.attention
      ins(%qr, %k, %v : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16>,
                        tensor<?x8x?x128xbf16>)
      captures(%seq_lens, %sq : tensor<?xi32>, index)
      -> tensor<?x32x?x128xbf16>
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
      : tensor<?x32x?x128xbf16>, tensor<?x16x8x128xbf16>,
        tensor<?x16x8x128xbf16>
}
