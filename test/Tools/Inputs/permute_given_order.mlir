// An inverse attn.permute by an order the caller gives: the CPU target
// checks that each row is a permutation; the CUDA target's scatter cannot,
// and refuses it at the op (it takes orders of attn.sort_ids).
func.func @permute_given_order(%q: tensor<1x2x16x8xbf16>,
                               %k: tensor<1x2x16x8xbf16>,
                               %v: tensor<1x2x16x8xbf16>,
                               %order: tensor<1x2x16xi32>)
    -> tensor<1x2x16x8xbf16> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>,
                       tensor<1x2x16x8xbf16>)
      -> tensor<1x2x16x8xbf16>
  %r = attn.permute %o, %order {inverse}
      : tensor<1x2x16x8xbf16>, tensor<1x2x16xi32>
  return %r : tensor<1x2x16x8xbf16>
}
