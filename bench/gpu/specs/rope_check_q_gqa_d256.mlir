// GPU check of Q rotated on load (docs/CUDATarget.md, "attn.rope"): D = 256,
// bf16, GQA (8 query heads, 2 K/V heads, so short queries take the split-KV
// decode kernel with 4 heads packed per CTA, whose rows map to (head,
// position)), half pairing on 128 of 256 features (partial rotary, 8 chunk
// pairs per row), positions by an offset plus the row, linear scaling; K
// rotated by a rope kernel with its own positions tensor, causal.
//
// Expects: Q [B, 8, Sq, 256], K and V [B, 2, Sk, 256]; offset in
// [0, 100000); k_pos [B, Sk] i32 in [0, 100000).

func.func @rope_check_q_gqa_d256(
    %q: tensor<?x8x?x256xbf16>, %k: tensor<?x2x?x256xbf16>,
    %v: tensor<?x2x?x256xbf16>,
    %offset: index {attn.range = [0, 100000]},
    %k_pos: tensor<?x?xi32> {attn.dims = ["B", "Sk"], attn.range = [0, 100000]})
    -> tensor<?x8x?x256xbf16> {
  %qr = attn.rope %q offset(%offset : index)
      {rotary_dim = 128, scaling = 4.0 : f64}
      : tensor<?x8x?x256xbf16>
  %kr = attn.rope %k positions(%k_pos : tensor<?x?xi32>)
      {rotary_dim = 128, scaling = 4.0 : f64}
      : tensor<?x2x?x256xbf16>
  %o = attn.attention
      ins(%qr, %kr, %v : tensor<?x8x?x256xbf16>, tensor<?x2x?x256xbf16>,
                         tensor<?x2x?x256xbf16>)
      -> tensor<?x8x?x256xbf16>
    mask(%b, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x256xbf16>
}
