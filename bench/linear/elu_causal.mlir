// The benchmark of issue 15, item 5 (causal kernelised attention,
// docs/LinearAttention.md): elu + 1 features, causal in chunks of 64 keys,
// bf16 [1, 8, S, 64] (Q, K, V, O). bench/gpu/linear_time.py compiles
// variants with other chunks by editing `chunk`.
func.func @elu_causal(
    %q: tensor<1x8x?x64xbf16> {attn.dims = [1, 8, "Sq", 64]},
    %k: tensor<1x8x?x64xbf16> {attn.dims = [1, 8, "Sk", 64]},
    %v: tensor<1x8x?x64xbf16> {attn.dims = [1, 8, "Sk", 64]})
    -> tensor<1x8x?x64xbf16> {
  %o = attn.linear_attention %q, %k, %v {causal, chunk = 64}
      : tensor<1x8x?x64xbf16>, tensor<1x8x?x64xbf16>, tensor<1x8x?x64xbf16>
     -> tensor<1x8x?x64xbf16>
  return %o : tensor<1x8x?x64xbf16>
}
