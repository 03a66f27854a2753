// Grouped-query attention (GQA), as in Llama 2 70B, Llama 3, Mistral and
// Qwen 2: Hq query heads share Hkv < Hq key/value heads, here 8 and 2, so
// each group of g = Hq / Hkv = 4 consecutive query heads reads one K/V head:
//
//   O[b,h,i,:] = sum_j softmax_j(Q[b,h,i,:] . K[b,h/g,j,:] / sqrt(D))
//                      * V[b,h/g,j,:]
//
// The sharing is implied by the shapes (K and V have 2 heads); K and V are
// never copied or broadcast. No mask here, to show GQA alone: decoder models
// add the causal mask of causal.mlir (combined.mlir shows GQA with a mask).
//
// Expects: Q [B, 8, Sq, 128], K and V [B, 2, Sk, 128], f32; no captures.

func.func @gqa(%q: tensor<?x8x?x128xf32>, %k: tensor<?x2x?x128xf32>,
               %v: tensor<?x2x?x128xf32>) -> tensor<?x8x?x128xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x128xf32>, tensor<?x2x?x128xf32>,
                       tensor<?x2x?x128xf32>)
      -> tensor<?x8x?x128xf32>
  return %o : tensor<?x8x?x128xf32>
}
