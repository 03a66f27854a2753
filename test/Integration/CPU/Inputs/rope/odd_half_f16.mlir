// Half-pairing rope of 10 of D = 16 features (5 frequencies: a tail at
// both vector widths) with positions shared by the batch ([S]), f16,
// rotating only K, with lse.
func.func @odd_half_f16(
    %q: tensor<?x2x?x16xf16>, %k: tensor<?x2x?x16xf16>, %v: tensor<?x2x?x16xf16>,
    %pk: tensor<?xindex> {attn.dims = ["Sk"], attn.range = [-50, 50]})
    -> (tensor<?x2x?x16xf16>, tensor<?x2x?xf32>) {
  %kr = attn.rope %k positions(%pk : tensor<?xindex>) {rotary_dim = 10}
      : tensor<?x2x?x16xf16>
  %o, %lse = attn.attention
      ins(%q, %kr, %v : tensor<?x2x?x16xf16>, tensor<?x2x?x16xf16>,
                        tensor<?x2x?x16xf16>)
      -> tensor<?x2x?x16xf16>, tensor<?x2x?xf32>
  return %o, %lse : tensor<?x2x?x16xf16>, tensor<?x2x?xf32>
}
