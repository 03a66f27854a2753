// Learned block sparsity (the selection branch of Native Sparse Attention,
// MoBA's gate): keys in blocks of 32, every query block of 32 scores each
// key block by the dot product of the blocks' mean query and mean key and
// attends to its 4 best blocks, plus the first block (an attention sink)
// and its own (local), causally (docs/BlockSelection.md):
//
//   keep = attn.topk_blocks(Q, K)                 [B, 4, Sq/32, Sk/32] i8
//   mask(b, h, i, j) = keep[b, h, i / 32, j / 32] != 0  and  j <= i + Sk - Sq
//
// The gate runs in the same function at run time; attn-sparsify turns the
// mask into a block map, so the kernel visits only the kept tiles (6 key
// blocks per query block whatever the length). Query head h scores against
// key head h / 2 (GQA).
//
// Expects: Q [B, 4, Sq, 64], K and V [B, 2, Sk, 64], f32.

func.func @nsa_selection(%q: tensor<?x4x?x64xf32>, %k: tensor<?x2x?x64xf32>,
                         %v: tensor<?x2x?x64xf32>)
    -> tensor<?x4x?x64xf32> {
  %keep = attn.topk_blocks %q, %k {block_q = 32, block_k = 32, top_k = 4,
                                   local = 1, sink = 1, causal}
      : tensor<?x4x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x4x?x?xi8>
  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : tensor<?x4x?x64xf32>
  %sk = tensor.dim %k, %c2 : tensor<?x2x?x64xf32>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x4x?x64xf32>, tensor<?x2x?x64xf32>,
                       tensor<?x2x?x64xf32>)
      captures(%keep, %sq, %sk : tensor<?x4x?x?xi8>, index, index)
      -> tensor<?x4x?x64xf32>
    mask(%b, %h, %i, %j, %map, %nq, %nk) {
      %c32 = arith.constant 32 : index
      %qb = arith.divui %i, %c32 : index
      %kb = arith.divui %j, %c32 : index
      %flag = tensor.extract %map[%b, %h, %qb, %kb] : tensor<?x4x?x?xi8>
      %zero = arith.constant 0 : i8
      %kept = arith.cmpi ne, %flag, %zero : i8
      %jq = arith.addi %j, %nq : index
      %ik = arith.addi %i, %nk : index
      %causal = arith.cmpi ule, %jq, %ik : index
      %keep_ij = arith.andi %kept, %causal : i1
      attn.yield %keep_ij : i1
    }
  return %o : tensor<?x4x?x64xf32>
}
