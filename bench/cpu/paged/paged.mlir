// Paged decode / chunked prefill for bench/RESULTS.md ("Paged KV cache on
// the CPU"): dense.mlir's attention with K and V read from a paged cache of
// 1024 pages of 16 rows ([1024, 16, 8, 128], NHD, bf16) through a block
// table of 256 random pages per sequence (4096 rows), lengths 4096. Run at
// B = 4 (the table's pages may repeat, which a gather allows).

func.func @paged(
    %q: tensor<?x32x?x128xbf16>,
    %k_cache: tensor<1024x16x8x128xbf16>, %v_cache: tensor<1024x16x8x128xbf16>,
    %block_table: tensor<?x256xi32> {attn.dims = ["B", 256], attn.range = [0, 1024]},
    %seq_lens: tensor<?xi32> {attn.dims = ["B"], attn.range = [4096, 4097]})
    -> tensor<?x32x?x128xbf16> {
  %k = attn.gather_pages %k_cache[%block_table] lengths(%seq_lens)
      : tensor<1024x16x8x128xbf16>, tensor<?x256xi32>, tensor<?xi32>
      -> tensor<?x8x4096x128xbf16>
  %v = attn.gather_pages %v_cache[%block_table] lengths(%seq_lens)
      : tensor<1024x16x8x128xbf16>, tensor<?x256xi32>, tensor<?xi32>
      -> tensor<?x8x4096x128xbf16>
  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : tensor<?x32x?x128xbf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x32x?x128xbf16>, tensor<?x8x4096x128xbf16>,
                       tensor<?x8x4096x128xbf16>)
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
