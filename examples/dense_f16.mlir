// Dense multi-head attention in f16, a common inference precision on GPUs
// (Llama 2's released checkpoints are f16; GPUs without bf16, like V100 and
// T4, serve models in f16).
// Same semantics as dense.mlir: inputs are f16, Q.K^T, the softmax and P.V
// accumulate in f32, and O is rounded back to f16.
//
//   O[b,h,i,:] = sum_j softmax_j(Q[b,h,i,:] . K[b,h,j,:] / sqrt(D)) * V[b,h,j,:]
//
// Expects: Q, K, V [B, 8, S, 128] f16 (Sq may differ from Sk); no captures.
// Returns O [B, 8, Sq, 128] f16.

func.func @dense_f16(%q: tensor<?x8x?x128xf16>, %k: tensor<?x8x?x128xf16>,
                     %v: tensor<?x8x?x128xf16>) -> tensor<?x8x?x128xf16> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x128xf16>, tensor<?x8x?x128xf16>,
                       tensor<?x8x?x128xf16>)
      -> tensor<?x8x?x128xf16>
  return %o : tensor<?x8x?x128xf16>
}
