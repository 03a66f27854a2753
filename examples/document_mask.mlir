// Document mask (sequence packing): several documents are packed into one
// batch row, and a token may only attend to tokens of its own document. Used
// in Llama 3 pretraining; FlashAttention's varlen API and FlexAttention's
// document mask compute the same thing. Every position carries a document id:
//
//   mask(b, h, i, j) = q_doc[b, i] == kv_doc[b, j]
//
// The ids come as two captures, q_doc [B, Sq] and kv_doc [B, Sk], so that
// every tensor.extract is in bounds for any Sq and Sk; for packed
// self-attention pass the same [B, S] tensor as both (then Sq = Sk = S).
// Ids need not be sorted or contiguous. A query whose id appears in no key is
// fully masked (O = 0, lse = -inf). Causal LMs also require j <= i (AND it in).
//
// Expects: Q [B, 8, Sq, 128], K and V [B, 8, Sk, 128], f32; captures
// q_doc : tensor<B x Sq x i32> and kv_doc : tensor<B x Sk x i32>, ids in [0, 4).

func.func @document_mask(%q: tensor<?x8x?x128xf32>, %k: tensor<?x8x?x128xf32>,
                         %v: tensor<?x8x?x128xf32>,
                         %q_doc: tensor<?x?xi32> {attn.dims = ["B", "Sq"], attn.range = [0, 4]},
                         %kv_doc: tensor<?x?xi32> {attn.dims = ["B", "Sk"], attn.range = [0, 4]})
    -> tensor<?x8x?x128xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x128xf32>, tensor<?x8x?x128xf32>,
                       tensor<?x8x?x128xf32>)
      captures(%q_doc, %kv_doc : tensor<?x?xi32>, tensor<?x?xi32>)
      -> tensor<?x8x?x128xf32>
    mask(%b, %h, %i, %j, %qd, %kd) {
      %di = tensor.extract %qd[%b, %i] : tensor<?x?xi32>
      %dj = tensor.extract %kd[%b, %j] : tensor<?x?xi32>
      %keep = arith.cmpi eq, %di, %dj : i32
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x128xf32>
}
