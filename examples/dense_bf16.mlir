// Dense multi-head attention in bf16, the training and serving precision of
// most current LLMs (Llama 3, Gemma, Mistral are released in bf16). Same
// semantics as dense.mlir: inputs are bf16, Q.K^T, the softmax and P.V
// accumulate in f32, O is rounded back to bf16, and lse stays f32.
//
//   O[b,h,i,:] = sum_j softmax_j(Q[b,h,i,:] . K[b,h,j,:] / sqrt(D)) * V[b,h,j,:]
//   lse[b,h,i] = log sum_j exp(Q[b,h,i,:] . K[b,h,j,:] / sqrt(D))
//
// Expects: Q, K, V [B, 8, S, 128] bf16 (Sq may differ from Sk); no captures.
// Returns O [B, 8, Sq, 128] bf16 and lse [B, 8, Sq] f32.

func.func @dense_bf16(%q: tensor<?x8x?x128xbf16>, %k: tensor<?x8x?x128xbf16>,
                      %v: tensor<?x8x?x128xbf16>)
    -> (tensor<?x8x?x128xbf16>, tensor<?x8x?xf32>) {
  %o, %lse = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x128xbf16>, tensor<?x8x?x128xbf16>,
                       tensor<?x8x?x128xbf16>)
      -> tensor<?x8x?x128xbf16>, tensor<?x8x?xf32>
  return %o, %lse : tensor<?x8x?x128xbf16>, tensor<?x8x?xf32>
}
