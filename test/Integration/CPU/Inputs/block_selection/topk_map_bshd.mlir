// Block maps alone, returned for an exact comparison with the oracle's
// (docs/BlockSelection.md): f16 queries and keys in [B, S, H, D], MQA (4
// query heads on one key head), D = 16, the map [B, H, nQb, nKb] whatever
// the layout:
//   #0 causal, query blocks of 5 and key blocks of 3, the 3 best blocks,
//      one sink and two local blocks;
//   #1 not causal, single-row query blocks and key blocks of 7, the 2 best.
func.func @topk_map_bshd(
    %q: tensor<?x?x4x16xf16> {attn.dims = ["B", "Sq", 4, 16]},
    %k: tensor<?x?x1x16xf16> {attn.dims = ["B", "Sk", 1, 16]})
    -> (tensor<?x4x?x?xi8>, tensor<?x4x?x?xi8>) {
  %m0 = attn.topk_blocks %q, %k {block_q = 5, block_k = 3, top_k = 3,
                                 local = 2, sink = 1, causal,
                                 layout = #attn.layout<bshd>}
      : tensor<?x?x4x16xf16>, tensor<?x?x1x16xf16> -> tensor<?x4x?x?xi8>
  %m1 = attn.topk_blocks %q, %k {block_q = 1, block_k = 7, top_k = 2,
                                 layout = #attn.layout<bshd>}
      : tensor<?x?x4x16xf16>, tensor<?x?x1x16xf16> -> tensor<?x4x?x?xi8>
  return %m0, %m1 : tensor<?x4x?x?xi8>, tensor<?x4x?x?xi8>
}
