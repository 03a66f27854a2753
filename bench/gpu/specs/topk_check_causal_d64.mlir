// Check of attn.topk_blocks (docs/BlockSelection.md) and the block-sparse
// attention it feeds: bf16 [B, H, S, D] with D = 64, GQA (4 query heads on
// 2 K/V heads), blocks of 16 queries and 16 keys, the 3 best key blocks per
// query block plus 1 sink and 1 local block, causal aligned to the end
// (j <= i + Sk - Sq), as NSA's and MoBA's selection branch computes. The
// map is not returned: a CUDA program's results are sized by its
// arguments' symbols (the map's ceil(S / 16) is derived);
// test/Integration/CPU/block_selection.test compares maps exactly.
//
// Expects: Q [B, 4, Sq, 64], K and V [B, 2, Sk, 64], bf16.

func.func @topk_check_causal_d64(
    %q: tensor<?x4x?x64xbf16>, %k: tensor<?x2x?x64xbf16>,
    %v: tensor<?x2x?x64xbf16>)
    -> tensor<?x4x?x64xbf16> {
  %keep = attn.topk_blocks %q, %k {block_q = 16, block_k = 16, top_k = 3,
                                   local = 1, sink = 1, causal}
      : tensor<?x4x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x4x?x?xi8>
  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : tensor<?x4x?x64xbf16>
  %sk = tensor.dim %k, %c2 : tensor<?x2x?x64xbf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x4x?x64xbf16>, tensor<?x2x?x64xbf16>,
                       tensor<?x2x?x64xbf16>)
      captures(%keep, %sq, %sk : tensor<?x4x?x?xi8>, index, index)
      -> tensor<?x4x?x64xbf16>
    mask(%b, %h, %i, %j, %map, %nq, %nk) {
      %c16 = arith.constant 16 : index
      %qb = arith.divui %i, %c16 : index
      %kb = arith.divui %j, %c16 : index
      %flag = tensor.extract %map[%b, %h, %qb, %kb] : tensor<?x4x?x?xi8>
      %zero = arith.constant 0 : i8
      %kept = arith.cmpi ne, %flag, %zero : i8
      %jq = arith.addi %j, %nq : index
      %ik = arith.addi %i, %nk : index
      %causal = arith.cmpi ule, %jq, %ik : index
      %keep_ij = arith.andi %kept, %causal : i1
      attn.yield %keep_ij : i1
    }
  return %o : tensor<?x4x?x64xbf16>
}
