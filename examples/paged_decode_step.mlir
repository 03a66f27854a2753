// One step of batched decoding (or chunked prefill) with a paged KV cache,
// as an inference server runs it for Llama-style models: the Sq new tokens
// of each sequence get their rotary embedding at positions len[b] + r, their
// keys and values are appended to the cache's pages, and the queries attend
// to everything the sequence now holds (docs/PagedKV.md, docs/Rope.md):
//
//   pos[b, r]   = len[b] + r                                  (linalg)
//   K_new'      = rope(K_new, pos);  Q' = rope(Q, pos)
//   caches'     = append K_new', V_new at len[b] into the pages of b
//   K, V        = gather_pages(caches', block_table, len + Sq)
//   mask(b, h, i, j) = j < len[b] + Sq  and  j <= i + len[b]
//
// Pages hold P = 5 rows (any size works: vLLM uses 16, FlashInfer any), 24
// pages per cache, 6 pages per sequence (30 rows). Grouped-query heads: 4
// query heads share 2 K/V heads. The updated caches are returned.
//
// Targets: CPU and CUDA. On the CPU the query's rope is fused into the
// kernel's Q loads and the gathers into its K and V loads; the append and
// the new keys' rope are their own loops. On CUDA the function compiles as
// a program (docs/CUDATarget.md, "Programs"): the positions and lengths
// are linalg kernels, each append a kernel that writes the new rows into
// the caller's cache in place (the manifest's "in_place_of") with the
// keys' rope applied as it writes, the query's rope a kernel of its own,
// and the attention reads the caches through the block table.
//
// Expects: Q [B, 4, Sq, 64], K_new and V_new [B, 2, Sq, 64], caches
// [24, 5, 2, 64], bf16; block_table [B, 6] i32 of pages in [0, 24), no page
// listed twice; seq_lens [B] i32 with len[b] + Sq <= 30. Random inputs break
// the "no page twice" rule: test/Integration/CPU/paged.test passes valid
// tables (Inputs/page_tables.py).

#pos = affine_map<(b, r) -> (b)>
#id = affine_map<(b, r) -> (b, r)>
#vec = affine_map<(b) -> (b)>

func.func @paged_decode_step(
    %q: tensor<?x4x?x64xbf16>,
    %k_new: tensor<?x2x?x64xbf16> {attn.dims = ["B", 2, "Sq", 64]},
    %v_new: tensor<?x2x?x64xbf16> {attn.dims = ["B", 2, "Sq", 64]},
    %k_cache: tensor<24x5x2x64xbf16>, %v_cache: tensor<24x5x2x64xbf16>,
    %block_table: tensor<?x6xi32> {attn.dims = ["B", 6], attn.range = [0, 24]},
    %seq_lens: tensor<?xi32> {attn.dims = ["B"], attn.range = [0, 31]})
    -> (tensor<?x4x?x64xbf16>, tensor<24x5x2x64xbf16>,
        tensor<24x5x2x64xbf16>) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %batch = tensor.dim %q, %c0 : tensor<?x4x?x64xbf16>
  %sq = tensor.dim %q, %c2 : tensor<?x4x?x64xbf16>
  %sq32 = arith.index_cast %sq : index to i32
  // Positions of the new rows, and the lengths after the append.
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
      : tensor<?x4x?x64xbf16>
  %kr = attn.rope %k_new positions(%pos : tensor<?x?xi32>) {base = 500000.0}
      : tensor<?x2x?x64xbf16>
  %kc = attn.append_pages %kr into %k_cache[%block_table] lengths(%seq_lens)
      : tensor<?x2x?x64xbf16>, tensor<24x5x2x64xbf16>, tensor<?x6xi32>,
        tensor<?xi32>
  %vc = attn.append_pages %v_new into %v_cache[%block_table] lengths(%seq_lens)
      : tensor<?x2x?x64xbf16>, tensor<24x5x2x64xbf16>, tensor<?x6xi32>,
        tensor<?xi32>
  %k = attn.gather_pages %kc[%block_table] lengths(%new_lens)
      : tensor<24x5x2x64xbf16>, tensor<?x6xi32>, tensor<?xi32>
      -> tensor<?x2x30x64xbf16>
  %v = attn.gather_pages %vc[%block_table] lengths(%new_lens)
      : tensor<24x5x2x64xbf16>, tensor<?x6xi32>, tensor<?xi32>
      -> tensor<?x2x30x64xbf16>
  %o = attn.attention
      ins(%qr, %k, %v : tensor<?x4x?x64xbf16>, tensor<?x2x30x64xbf16>,
                        tensor<?x2x30x64xbf16>)
      captures(%seq_lens, %sq : tensor<?xi32>, index)
      -> tensor<?x4x?x64xbf16>
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
      : tensor<?x4x?x64xbf16>, tensor<24x5x2x64xbf16>, tensor<24x5x2x64xbf16>
}
