// Block maps alone, returned, so that the check compares them exactly with
// the oracle's (docs/BlockSelection.md): f32 queries and keys in
// [B, H, S, D], GQA (2 query heads on one key head), query blocks of 3 and
// key blocks of 2 (both ragged at most sizes), from the same scores:
//   #0 causal, the best block, one sink and one local block;
//   #1 not causal, the best block alone;
//   #2 causal, top_k = 8: more than the candidates at small sizes;
//   #3 causal, the first 4 blocks forced (sink = 4), no selection;
//   #4 not causal, the 2 best blocks and one local block.
// block_selection.test runs it at the awkward sizes and on crafted inputs
// (select_cases.py).
func.func @topk_map(%q: tensor<?x2x?x4xf32> {attn.dims = ["B", 2, "Sq", 4]},
                    %k: tensor<?x1x?x4xf32> {attn.dims = ["B", 1, "Sk", 4]})
    -> (tensor<?x2x?x?xi8>, tensor<?x2x?x?xi8>, tensor<?x2x?x?xi8>,
        tensor<?x2x?x?xi8>, tensor<?x2x?x?xi8>) {
  %m0 = attn.topk_blocks %q, %k {block_q = 3, block_k = 2, top_k = 1,
                                 local = 1, sink = 1, causal}
      : tensor<?x2x?x4xf32>, tensor<?x1x?x4xf32> -> tensor<?x2x?x?xi8>
  %m1 = attn.topk_blocks %q, %k {block_q = 3, block_k = 2, top_k = 1}
      : tensor<?x2x?x4xf32>, tensor<?x1x?x4xf32> -> tensor<?x2x?x?xi8>
  %m2 = attn.topk_blocks %q, %k {block_q = 3, block_k = 2, top_k = 8, causal}
      : tensor<?x2x?x4xf32>, tensor<?x1x?x4xf32> -> tensor<?x2x?x?xi8>
  %m3 = attn.topk_blocks %q, %k {block_q = 3, block_k = 2, top_k = 0,
                                 sink = 4, causal}
      : tensor<?x2x?x4xf32>, tensor<?x1x?x4xf32> -> tensor<?x2x?x?xi8>
  %m4 = attn.topk_blocks %q, %k {block_q = 3, block_k = 2, top_k = 2,
                                 local = 1}
      : tensor<?x2x?x4xf32>, tensor<?x1x?x4xf32> -> tensor<?x2x?x?xi8>
  return %m0, %m1, %m2, %m3, %m4
      : tensor<?x2x?x?xi8>, tensor<?x2x?x?xi8>, tensor<?x2x?x?xi8>,
        tensor<?x2x?x?xi8>, tensor<?x2x?x?xi8>
}
