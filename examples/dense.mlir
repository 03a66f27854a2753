// Dense multi-head attention (MHA), f32: the plain scaled dot-product
// attention of "Attention Is All You Need", as in BERT / RoBERTa encoders and
// ViT. Every query attends to every key; no mask, no score modifier.
//
//   S[b,h,i,j] = Q[b,h,i,:] . K[b,h,j,:] / sqrt(D)
//   O[b,h,i,:] = sum_j softmax_j(S[b,h,i,:]) * V[b,h,j,:]
//   lse[b,h,i] = log sum_j exp(S[b,h,i,j])
//
// The second result, lse, is what a backward pass needs and what combines
// partial results (split-KV decoding, ring attention; docs/Rationale.md).
//
// Expects: Q, K, V [B, 8, S, 64] f32 (Sq may differ from Sk); no captures.
// Returns: O [B, 8, Sq, 64] f32 and lse [B, 8, Sq] f32.

func.func @dense(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>,
                 %v: tensor<?x8x?x64xf32>)
    -> (tensor<?x8x?x64xf32>, tensor<?x8x?xf32>) {
  %o, %lse = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>,
                       tensor<?x8x?x64xf32>)
      -> tensor<?x8x?x64xf32>, tensor<?x8x?xf32>
  return %o, %lse : tensor<?x8x?x64xf32>, tensor<?x8x?xf32>
}
