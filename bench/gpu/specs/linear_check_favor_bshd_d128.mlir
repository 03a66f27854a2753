// Check of attn.linear_attention (docs/LinearAttention.md) with FAVOR+
// (the Performer's positive random features): f16 [B, S, H, D] with
// D = 128, MQA (2 query heads on one K/V head), Dv = 64, r = 96 features
// (f32), causal in the default chunks of 64 and not causal with scale 0.05.
//
// Expects: Q [B, Sq, 2, 128], K [B, Sk, 1, 128], V [B, Sk, 1, 64], f16;
// W [128, 96] f32.

func.func @linear_check_favor_bshd_d128(
    %q: tensor<?x?x2x128xf16> {attn.dims = ["B", "Sq", 2, 128]},
    %k: tensor<?x?x1x128xf16> {attn.dims = ["B", "Sk", 1, 128]},
    %v: tensor<?x?x1x64xf16> {attn.dims = ["B", "Sk", 1, 64]},
    %w: tensor<128x96xf32>)
    -> (tensor<?x?x2x64xf16>, tensor<?x?x2x64xf16>) {
  %o0 = attn.linear_attention %q, %k, %v features(%w : tensor<128x96xf32>)
      {feature_map = #attn.feature_map<favor>, causal,
       layout = #attn.layout<bshd>}
      : tensor<?x?x2x128xf16>, tensor<?x?x1x128xf16>, tensor<?x?x1x64xf16>
     -> tensor<?x?x2x64xf16>
  %o1 = attn.linear_attention %q, %k, %v features(%w : tensor<128x96xf32>)
      {feature_map = #attn.feature_map<favor>, scale = 0.05,
       layout = #attn.layout<bshd>}
      : tensor<?x?x2x128xf16>, tensor<?x?x1x128xf16>, tensor<?x?x1x64xf16>
     -> tensor<?x?x2x64xf16>
  return %o0, %o1 : tensor<?x?x2x64xf16>, tensor<?x?x2x64xf16>
}
