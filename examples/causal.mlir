// Causal attention, top-left aligned: the autoregressive mask of every
// decoder-only language model (GPT-2/3, Llama, Mistral, ...) in training and
// prefill. Query i attends to key j iff j comes no later than i:
//
//   mask(b, h, i, j) = j <= i
//
// Indices are absolute positions in Q and K, so with Sq != Sk the triangle is
// anchored at the top-left corner (query 0 sees key 0 only). For decoding
// with a KV cache, where the last query lines up with the last key, use
// causal_bottom_right.mlir.
//
// Expects: Q [B, 8, Sq, 64], K and V [B, 8, Sk, 64], f32; no captures.

func.func @causal(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>,
                  %v: tensor<?x8x?x64xf32>) -> tensor<?x8x?x64xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>,
                       tensor<?x8x?x64xf32>)
      -> tensor<?x8x?x64xf32>
    mask(%b, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x64xf32>
}
