// Benchmark spec (bench/topk/run_cpu.py, bench/gpu/topk_time.py): the
// selection branch of Native Sparse Attention / MoBA, bf16, 8 heads of 64,
// causal: blocks of 64 queries and 64 keys, the 16 best key blocks per
// query block by mean-pooled scores plus the first (sink) and the query
// block's own (local) block, attention over the kept blocks with the
// causal mask. The scripts make variants with other top_k by replacing
// `top_k = 16`.
func.func @nsa_causal(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>,
                      %v: tensor<?x8x?x64xbf16>)
    -> tensor<?x8x?x64xbf16> {
  %keep = attn.topk_blocks %q, %k {block_q = 64, block_k = 64, top_k = 16,
                                   local = 1, sink = 1, causal}
      : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x?xi8>
  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : tensor<?x8x?x64xbf16>
  %sk = tensor.dim %k, %c2 : tensor<?x8x?x64xbf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>,
                       tensor<?x8x?x64xbf16>)
      captures(%keep, %sq, %sk : tensor<?x8x?x?xi8>, index, index)
      -> tensor<?x8x?x64xbf16>
    mask(%b, %h, %i, %j, %map, %nq, %nk) {
      %c64 = arith.constant 64 : index
      %qb = arith.divui %i, %c64 : index
      %kb = arith.divui %j, %c64 : index
      %flag = tensor.extract %map[%b, %h, %qb, %kb] : tensor<?x8x?x?xi8>
      %zero = arith.constant 0 : i8
      %kept = arith.cmpi ne, %flag, %zero : i8
      %jq = arith.addi %j, %nq : index
      %ik = arith.addi %i, %nk : index
      %causal = arith.cmpi ule, %jq, %ik : index
      %keep_ij = arith.andi %kept, %causal : i1
      attn.yield %keep_ij : i1
    }
  return %o : tensor<?x8x?x64xbf16>
}
