// GPU timing spec of bench/gpu/paged_time.py: the attention of
// bench_paged_decode.mlir on contiguous K and V [B, 8, L, 128] (the same
// mask on the same lengths), the baseline the paged reads are measured
// against.
//
// Expects: Q [B, 32, Sq, 128]; K and V [B, 8, Sk, 128]; seq_lens [B] in
// [0, Sk].

func.func @bench_contiguous_decode(
    %q: tensor<?x32x?x128xbf16>, %k: tensor<?x8x?x128xbf16>,
    %v: tensor<?x8x?x128xbf16>, %seq_lens: tensor<?xi32> {attn.dims = ["B"]})
    -> tensor<?x32x?x128xbf16> {
  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : tensor<?x32x?x128xbf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16>,
                       tensor<?x8x?x128xbf16>)
      captures(%seq_lens, %sq : tensor<?xi32>, index)
      -> tensor<?x32x?x128xbf16>
    mask(%b, %h, %i, %j, %lens, %nq) {
      %n = tensor.extract %lens[%b] : tensor<?xi32>
      %len = arith.index_cast %n : i32 to index
      %in = arith.cmpi slt, %j, %len : index
      %jq = arith.addi %j, %nq : index
      %il = arith.addi %i, %len : index
      %causal = arith.cmpi sle, %jq, %il : index
      %keep = arith.andi %in, %causal : i1
      attn.yield %keep : i1
    }
  return %o : tensor<?x32x?x128xbf16>
}
