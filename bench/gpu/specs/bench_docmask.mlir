// GPU benchmark spec: packed-document mask (examples/document_mask.mlir) at
// H = 16, D = 128, bf16, bhsd; B / Sq / Sk dynamic; no causal part:
//
//   mask(b, h, i, j) = q_doc[b, i] == kv_doc[b, j]
//
// bench/gpu/run.py packs 8 random-length documents per batch row (sorted ids,
// the same [B, S] tensor passed as both captures); the correctness check
// draws unsorted ids in attn.range.
//
// Expects: Q, K, V [B, 16, S, 128] bf16; captures q_doc : tensor<B x Sq x i32>
// and kv_doc : tensor<B x Sk x i32>, ids in [0, 8).

func.func @bench_docmask(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>,
                         %v: tensor<?x16x?x128xbf16>,
                         %q_doc: tensor<?x?xi32> {attn.dims = ["B", "Sq"], attn.range = [0, 8]},
                         %kv_doc: tensor<?x?xi32> {attn.dims = ["B", "Sk"], attn.range = [0, 8]})
    -> tensor<?x16x?x128xbf16> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>,
                       tensor<?x16x?x128xbf16>)
      captures(%q_doc, %kv_doc : tensor<?x?xi32>, tensor<?x?xi32>)
      -> tensor<?x16x?x128xbf16>
    mask(%b, %h, %i, %j, %qd, %kd) {
      %di = tensor.extract %qd[%b, %i] : tensor<?x?xi32>
      %dj = tensor.extract %kd[%b, %j] : tensor<?x?xi32>
      %keep = arith.cmpi eq, %di, %dj : i32
      attn.yield %keep : i1
    }
  return %o : tensor<?x16x?x128xbf16>
}
