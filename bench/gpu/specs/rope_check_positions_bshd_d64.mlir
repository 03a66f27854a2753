// GPU check of attn.rope (docs/Rope.md) by positions tensors: bshd, D = 64,
// bf16, GQA (4 query heads, 2 K/V heads), the interleaved pairing (GPT-J)
// on the first 48 features only (partial rotary), per-frequency scales
// (NTK/YaRN style), positions up to 100000 (angles far from [-pi, pi]).
//
// Expects: Q [B, Sq, 4, 64], K and V [B, Sk, 2, 64]; q_pos [B, Sq] and
// k_pos [B, Sk] i32 in [0, 100000); scales [24] f32 in [0.25, 1).

func.func @rope_check_positions_bshd_d64(
    %q: tensor<?x?x4x64xbf16>, %k: tensor<?x?x2x64xbf16>,
    %v: tensor<?x?x2x64xbf16>,
    %q_pos: tensor<?x?xi32> {attn.dims = ["B", "Sq"], attn.range = [0, 100000]},
    %k_pos: tensor<?x?xi32> {attn.dims = ["B", "Sk"], attn.range = [0, 100000]},
    %scales: tensor<24xf32> {attn.range = [0.25, 1.0]})
    -> tensor<?x?x4x64xbf16> {
  %qr = attn.rope %q positions(%q_pos : tensor<?x?xi32>)
      freq_scales(%scales : tensor<24xf32>)
      {rotary_dim = 48, style = #attn.rope_style<interleaved>,
       layout = #attn.layout<bshd>}
      : tensor<?x?x4x64xbf16>
  %kr = attn.rope %k positions(%k_pos : tensor<?x?xi32>)
      freq_scales(%scales : tensor<24xf32>)
      {rotary_dim = 48, style = #attn.rope_style<interleaved>,
       layout = #attn.layout<bshd>}
      : tensor<?x?x2x64xbf16>
  %o = attn.attention
      ins(%qr, %kr, %v : tensor<?x?x4x64xbf16>, tensor<?x?x2x64xbf16>,
                         tensor<?x?x2x64xbf16>)
      layout(bshd)
      -> tensor<?x?x4x64xbf16>
  return %o : tensor<?x?x4x64xbf16>
}
