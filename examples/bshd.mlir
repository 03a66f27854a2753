// Causal attention on tensors in the bshd layout, [batch, seq, heads, dim]:
// the layout a linear projection produces before any head transpose, and the
// one FlashAttention's flash_attn_func and HuggingFace's flash-attention path
// take. layout(bshd) swaps the sequence and head dimensions of Q, K, V and O
// (lse, if requested, stays [B, Hq, Sq]); it is read with strides, never
// transposed. Same mask as causal.mlir:
//
//   mask(b, h, i, j) = j <= i
//
// Expects: Q [B, Sq, 8, 64], K and V [B, Sk, 8, 64], f32; no captures.
// Returns O [B, Sq, 8, 64].

func.func @bshd(%q: tensor<?x?x8x64xf32>, %k: tensor<?x?x8x64xf32>,
                %v: tensor<?x?x8x64xf32>) -> tensor<?x?x8x64xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x?x8x64xf32>, tensor<?x?x8x64xf32>,
                       tensor<?x?x8x64xf32>)
      layout(bshd)
      -> tensor<?x?x8x64xf32>
    mask(%b, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x?x8x64xf32>
}
