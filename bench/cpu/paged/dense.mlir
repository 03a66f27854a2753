// The dense equivalent of paged.mlir for bench/RESULTS.md ("Paged KV
// cache on the CPU"): the same decode / chunked-prefill attention (32 query
// heads on 8 K/V heads, D = 128, bf16, the mask of examples/paged_decode.mlir)
// over contiguous K and V [B, 8, Sk, 128]. Run with Sk = 4096 and lengths
// 4096 (attn.range fixes them).

func.func @dense(
    %q: tensor<?x32x?x128xbf16>, %k: tensor<?x8x?x128xbf16>,
    %v: tensor<?x8x?x128xbf16>,
    %seq_lens: tensor<?xi32> {attn.dims = ["B"], attn.range = [4096, 4097]})
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
