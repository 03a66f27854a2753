// FAVOR+ (the Performer's positive random features,
// docs/LinearAttention.md): bf16 [B, S, H, D], MQA (2 query heads on one
// key head), D = 32, Dv = 16, r = 24 features in f32:
//   #0 not causal, the default scale 1 / sqrt(D);
//   #1 causal in the default chunks of 64 keys, scale 0.5.
func.func @linear_favor_bshd(
    %q: tensor<?x?x2x32xbf16> {attn.dims = ["B", "Sq", 2, 32]},
    %k: tensor<?x?x1x32xbf16> {attn.dims = ["B", "Sk", 1, 32]},
    %v: tensor<?x?x1x16xbf16> {attn.dims = ["B", "Sk", 1, 16]},
    %w: tensor<32x24xf32>)
    -> (tensor<?x?x2x16xbf16>, tensor<?x?x2x16xbf16>) {
  %o0 = attn.linear_attention %q, %k, %v features(%w : tensor<32x24xf32>)
      {feature_map = #attn.feature_map<favor>, layout = #attn.layout<bshd>}
      : tensor<?x?x2x32xbf16>, tensor<?x?x1x32xbf16>, tensor<?x?x1x16xbf16>
     -> tensor<?x?x2x16xbf16>
  %o1 = attn.linear_attention %q, %k, %v features(%w : tensor<32x24xf32>)
      {feature_map = #attn.feature_map<favor>, causal, scale = 0.5,
       layout = #attn.layout<bshd>}
      : tensor<?x?x2x32xbf16>, tensor<?x?x1x32xbf16>, tensor<?x?x1x16xbf16>
     -> tensor<?x?x2x16xbf16>
  return %o0, %o1 : tensor<?x?x2x16xbf16>, tensor<?x?x2x16xbf16>
}
