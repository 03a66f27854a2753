// Check of attn.linear_attention (docs/LinearAttention.md) with the elu + 1
// feature map: bf16 [B, H, S, D] with D = 64, GQA (4 query heads on 2 K/V
// heads), not causal and causal in chunks of 16 keys (S = 17, 113 and 1000
// end mid-chunk; Sq > Sk leaves rows with no keys, which are 0).
//
// Expects: Q [B, 4, Sq, 64], K and V [B, 2, Sk, 64], bf16.

func.func @linear_check_elu_d64(
    %q: tensor<?x4x?x64xbf16> {attn.dims = ["B", 4, "Sq", 64]},
    %k: tensor<?x2x?x64xbf16> {attn.dims = ["B", 2, "Sk", 64]},
    %v: tensor<?x2x?x64xbf16> {attn.dims = ["B", 2, "Sk", 64]})
    -> (tensor<?x4x?x64xbf16>, tensor<?x4x?x64xbf16>) {
  %o0 = attn.linear_attention %q, %k, %v
      : tensor<?x4x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>
     -> tensor<?x4x?x64xbf16>
  %o1 = attn.linear_attention %q, %k, %v {causal, chunk = 16}
      : tensor<?x4x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>
     -> tensor<?x4x?x64xbf16>
  return %o0, %o1 : tensor<?x4x?x64xbf16>, tensor<?x4x?x64xbf16>
}
