// Segment-level recurrence with memory, as in Transformer-XL and XLNet: the
// keys and values are the concatenation [memory; current segment] of M cached
// positions from earlier segments and the current ones (tensor.concat along
// the sequence, done by the caller or fused by the compiler), so query i sits
// at absolute position M + i and attends causally over memory and segment:
//
//   mask(b, h, i, j) = j <= i + M
//
// This is the mask of HuggingFace's TransfoXL (triu(ones, 1 + mlen)). M is
// passed as a runtime scalar rather than read from the shapes, so one spec
// serves every memory length; with M = Sk - Sq it is causal_bottom_right.mlir.
// Transformer-XL's relative position terms depend on Q and a projection of
// position embeddings, so they are not part of this example: only the memory
// mask is.
//
// Expects: Q [B, 8, Sq, 64], K and V [B, 8, Sk, 64] (Sk = M + Sq in a real
// model, any size here), f32; capture M : index, random in [0, 64).

func.func @transformer_xl(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>,
                          %v: tensor<?x8x?x64xf32>,
                          %mem_len: index {attn.range = [0, 64]})
    -> tensor<?x8x?x64xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>,
                       tensor<?x8x?x64xf32>)
      captures(%mem_len : index)
      -> tensor<?x8x?x64xf32>
    mask(%b, %h, %i, %j, %m) {
      %pos = arith.addi %i, %m : index
      %keep = arith.cmpi ule, %j, %pos : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x64xf32>
}
