// The benchmark of issue 15, item 5 (the Performer, non-causal,
// docs/LinearAttention.md): FAVOR+ with r = 64 random features (f32),
// bf16 [1, 8, S, 64] (Q, K, V, O): O(S r D) work and traffic.
func.func @favor(
    %q: tensor<1x8x?x64xbf16> {attn.dims = [1, 8, "Sq", 64]},
    %k: tensor<1x8x?x64xbf16> {attn.dims = [1, 8, "Sk", 64]},
    %v: tensor<1x8x?x64xbf16> {attn.dims = [1, 8, "Sk", 64]},
    %w: tensor<64x64xf32>)
    -> tensor<1x8x?x64xbf16> {
  %o = attn.linear_attention %q, %k, %v features(%w : tensor<64x64xf32>)
      {feature_map = #attn.feature_map<favor>}
      : tensor<1x8x?x64xbf16>, tensor<1x8x?x64xbf16>, tensor<1x8x?x64xbf16>
     -> tensor<1x8x?x64xbf16>
  return %o : tensor<1x8x?x64xbf16>
}
