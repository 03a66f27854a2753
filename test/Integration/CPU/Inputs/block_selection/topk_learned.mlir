// attn.topk_blocks with learned projections, the maps returned: f32 [B, H,
// S, D] (D = 16) with projections to P = 8 (f32) and, for a second map, to
// P = 1 (f16: one learned direction), GQA (4 query heads on 2 key heads).
func.func @topk_learned(%q: tensor<?x4x?x16xf32> {attn.dims = ["B", 4, "Sq", 16]},
                        %k: tensor<?x2x?x16xf32> {attn.dims = ["B", 2, "Sk", 16]},
                        %wq: tensor<16x8xf32>, %wk: tensor<16x8xf32>,
                        %uq: tensor<16x1xf16>, %uk: tensor<16x1xf16>)
    -> (tensor<?x4x?x?xi8>, tensor<?x4x?x?xi8>) {
  %a = attn.topk_blocks %q, %k projections(%wq, %wk
      : tensor<16x8xf32>, tensor<16x8xf32>)
      {block_q = 8, block_k = 4, top_k = 3, sink = 1, causal}
      : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32> -> tensor<?x4x?x?xi8>
  %b = attn.topk_blocks %q, %k projections(%uq, %uk
      : tensor<16x1xf16>, tensor<16x1xf16>)
      {block_q = 5, block_k = 7, top_k = 2, local = 1}
      : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32> -> tensor<?x4x?x?xi8>
  return %a, %b : tensor<?x4x?x?xi8>, tensor<?x4x?x?xi8>
}
