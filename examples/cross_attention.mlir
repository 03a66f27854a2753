// Cross attention: queries from one sequence, keys and values from another,
// as in the decoder of T5 / BART / Whisper (decoder states attend to the
// encoder output) and in Perceiver / Flamingo-style resamplers. No mask:
// every query sees every key. Sq and Sk are independent, and the value head
// size Dv may differ from the query/key head size D (here 64 and 128).
//
//   O[b,h,i,:] = sum_j softmax_j(Q[b,h,i,:] . K[b,h,j,:] / sqrt(D)) * V[b,h,j,:]
//
// Expects: Q [B, 8, Sq, 64], K [B, 8, Sk, 64], V [B, 8, Sk, 128], f32;
// no captures. Returns O [B, 8, Sq, 128].

func.func @cross_attention(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>,
                           %v: tensor<?x8x?x128xf32>) -> tensor<?x8x?x128xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>,
                       tensor<?x8x?x128xf32>)
      -> tensor<?x8x?x128xf32>
  return %o : tensor<?x8x?x128xf32>
}
