// Check of attn.topk_blocks with learned projections (docs/BlockSelection.md):
// the pooled queries and keys projected by wq and wk ([64, 16], bf16)
// before they are scored, bf16 [B, H, S, D] with D = 64, 4 heads, blocks of
// 32 queries and 16 keys, the 2 best key blocks and 1 local one, causal
// aligned to the end. The map itself is compared exactly on the CPU
// (test/Integration/CPU/block_selection.test returns it there).
//
// Expects: Q [B, 4, Sq, 64], K and V [B, 4, Sk, 64], bf16; wq and wk
// bf16 [64, 16].

func.func @topk_check_learned_d64(
    %q: tensor<?x4x?x64xbf16>, %k: tensor<?x4x?x64xbf16>,
    %v: tensor<?x4x?x64xbf16>, %wq: tensor<64x16xbf16>,
    %wk: tensor<64x16xbf16>)
    -> tensor<?x4x?x64xbf16> {
  %keep = attn.topk_blocks %q, %k projections(%wq, %wk
      : tensor<64x16xbf16>, tensor<64x16xbf16>)
      {block_q = 32, block_k = 16, top_k = 2, local = 1, causal}
      : tensor<?x4x?x64xbf16>, tensor<?x4x?x64xbf16> -> tensor<?x4x?x?xi8>
  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : tensor<?x4x?x64xbf16>
  %sk = tensor.dim %k, %c2 : tensor<?x4x?x64xbf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x4x?x64xbf16>, tensor<?x4x?x64xbf16>,
                       tensor<?x4x?x64xbf16>)
      captures(%keep, %sq, %sk : tensor<?x4x?x?xi8>, index, index)
      -> tensor<?x4x?x64xbf16>
    mask(%b, %h, %i, %j, %map, %nq, %nk) {
      %c32 = arith.constant 32 : index
      %c16 = arith.constant 16 : index
      %qb = arith.divui %i, %c32 : index
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
