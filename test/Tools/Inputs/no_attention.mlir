// A function without attn.attention: no CUDA artifact (the CPU compiles it).
func.func @no_attention(%q: tensor<2x4x16x64xbf16>, %k: tensor<2x4x16x64xbf16>) -> tensor<2x4x1x1xi8> {
  %keep = attn.topk_blocks %q, %k {block_q = 16, block_k = 16, top_k = 2}
      : tensor<2x4x16x64xbf16>, tensor<2x4x16x64xbf16> -> tensor<2x4x1x1xi8>
  return %keep : tensor<2x4x1x1xi8>
}
