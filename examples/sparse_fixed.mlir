// Fixed sparse attention, the "fixed" pattern of the Sparse Transformer
// (Child et al. 2019), meant for data without a periodic structure (text):
// the sequence is cut into blocks of l positions; each query attends causally
// within its own block (A(1)), and to the last c positions of every block,
// which act as summary cells that carry information between blocks (A(2)):
//
//   mask(b, h, i, j) = j <= i  and  ( i / l == j / l  or  j mod l >= l - c )
//
// with l = 16 and c = 2, constants (integer division and remainder).
//
// Expects: Q [B, 8, Sq, 64], K and V [B, 8, Sk, 64], f32; no captures.

func.func @sparse_fixed(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>,
                        %v: tensor<?x8x?x64xf32>) -> tensor<?x8x?x64xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>,
                       tensor<?x8x?x64xf32>)
      -> tensor<?x8x?x64xf32>
    mask(%b, %h, %i, %j) {
      %l = arith.constant 16 : index
      %c = arith.constant 2 : index
      %causal = arith.cmpi ule, %j, %i : index
      %qb = arith.divui %i, %l : index
      %kb = arith.divui %j, %l : index
      %sameBlock = arith.cmpi eq, %qb, %kb : index
      %pos = arith.remui %j, %l : index
      %first = arith.subi %l, %c : index
      %summary = arith.cmpi uge, %pos, %first : index
      %either = arith.ori %sameBlock, %summary : i1
      %keep = arith.andi %causal, %either : i1
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x64xf32>
}
