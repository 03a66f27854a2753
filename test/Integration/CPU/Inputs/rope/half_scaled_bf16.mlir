// Half-pairing rope with every knob: per-frequency scales (as NTK / YaRN /
// Llama 3.1 compute them), linear scaling 2, base 10^6, an i32 offset,
// bf16 in the bshd layout, grouped-query heads (4 query heads, 2 K/V). D
// = 80: 40 frequencies, a vector tail at 16 lanes.
func.func @half_scaled_bf16(
    %q: tensor<?x?x4x80xbf16>, %k: tensor<?x?x2x80xbf16>, %v: tensor<?x?x2x80xbf16>,
    %scales: tensor<40xf32> {attn.range = [0.25, 1.0]},
    %start: i32 {attn.range = [0, 4096]}) -> tensor<?x?x4x80xbf16> {
  %qr = attn.rope %q offset(%start : i32) freq_scales(%scales : tensor<40xf32>)
      {base = 1000000.0, scaling = 2.0, layout = #attn.layout<bshd>}
      : tensor<?x?x4x80xbf16>
  %kr = attn.rope %k freq_scales(%scales : tensor<40xf32>)
      {base = 1000000.0, scaling = 2.0, layout = #attn.layout<bshd>}
      : tensor<?x?x2x80xbf16>
  %o = attn.attention
      ins(%qr, %kr, %v : tensor<?x?x4x80xbf16>, tensor<?x?x2x80xbf16>,
                         tensor<?x?x2x80xbf16>)
      layout(bshd) -> tensor<?x?x4x80xbf16>
  return %o : tensor<?x?x4x80xbf16>
}
