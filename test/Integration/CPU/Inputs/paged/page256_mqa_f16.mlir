// attn.gather_pages with pages of 256 rows (larger than a key tile), an
// index-typed block table and i64 lengths, multi-query heads (3 query heads,
// one K/V head), f16, D = 96, and the decode / chunked-prefill mask of
// examples/paged_decode.mlir. Only the values come from pages: the keys are
// an ordinary tensor of the same 1024 rows.

func.func @page256_mqa_f16(
    %q: tensor<?x3x?x96xf16>, %k: tensor<?x1x1024x96xf16> {attn.dims = ["B", 1, 1024, 96]},
    %v_cache: tensor<6x256x1x96xf16>,
    %table: tensor<?x4xindex> {attn.dims = ["B", 4], attn.range = [0, 6]},
    %lens: tensor<?xi64> {attn.dims = ["B"], attn.range = [0, 1025]})
    -> tensor<?x3x?x96xf16> {
  %v = attn.gather_pages %v_cache[%table] lengths(%lens)
      : tensor<6x256x1x96xf16>, tensor<?x4xindex>, tensor<?xi64>
      -> tensor<?x1x1024x96xf16>
  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : tensor<?x3x?x96xf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x3x?x96xf16>, tensor<?x1x1024x96xf16>,
                       tensor<?x1x1024x96xf16>)
      captures(%lens, %sq : tensor<?xi64>, index)
      -> tensor<?x3x?x96xf16>
    mask(%b, %h, %i, %j, %l, %nq) {
      %n = tensor.extract %l[%b] : tensor<?xi64>
      %len = arith.index_cast %n : i64 to index
      %in = arith.cmpi slt, %j, %len : index
      %jq = arith.addi %j, %nq : index
      %il = arith.addi %i, %len : index
      %causal = arith.cmpi sle, %jq, %il : index
      %keep = arith.andi %in, %causal : i1
      attn.yield %keep : i1
    }
  return %o : tensor<?x3x?x96xf16>
}
