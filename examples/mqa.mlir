// Multi-query attention (MQA), as in PaLM, Falcon-7B, StarCoder and Gemma 2B:
// all query heads share a single key/value head (Hkv = 1), which shrinks the
// KV cache by a factor of Hq. It is GQA with one group:
//
//   O[b,h,i,:] = sum_j softmax_j(Q[b,h,i,:] . K[b,0,j,:] / sqrt(D)) * V[b,0,j,:]
//
// No mask here, to show MQA alone: decoder models add the causal mask of
// causal.mlir.
//
// Expects: Q [B, 8, Sq, 64], K and V [B, 1, Sk, 64], f32; no captures.

func.func @mqa(%q: tensor<?x8x?x64xf32>, %k: tensor<?x1x?x64xf32>,
               %v: tensor<?x1x?x64xf32>) -> tensor<?x8x?x64xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xf32>, tensor<?x1x?x64xf32>,
                       tensor<?x1x?x64xf32>)
      -> tensor<?x8x?x64xf32>
  return %o : tensor<?x8x?x64xf32>
}
