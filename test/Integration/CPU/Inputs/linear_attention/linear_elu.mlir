// Kernelised attention with the elu + 1 feature map
// (docs/LinearAttention.md): f32 [B, H, S, D], GQA (4 query heads on 2 key
// heads), D = 16, Dv = 8:
//   #0 not causal;
//   #1 causal in chunks of 8 keys (S = 17, 113, 1000 end mid-chunk);
//   #2 causal in chunks of 1 (every key its own chunk: the prefix alone).
func.func @linear_elu(
    %q: tensor<?x4x?x16xf32> {attn.dims = ["B", 4, "Sq", 16]},
    %k: tensor<?x2x?x16xf32> {attn.dims = ["B", 2, "Sk", 16]},
    %v: tensor<?x2x?x8xf32> {attn.dims = ["B", 2, "Sk", 8]})
    -> (tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>) {
  %o0 = attn.linear_attention %q, %k, %v
      : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x8xf32>
     -> tensor<?x4x?x8xf32>
  %o1 = attn.linear_attention %q, %k, %v {causal, chunk = 8}
      : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x8xf32>
     -> tensor<?x4x?x8xf32>
  %o2 = attn.linear_attention %q, %k, %v {causal, chunk = 1}
      : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x8xf32>
     -> tensor<?x4x?x8xf32>
  return %o0, %o1, %o2
      : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>
}
