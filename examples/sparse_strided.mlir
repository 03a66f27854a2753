// Strided sparse attention, the "strided" pattern of the Sparse Transformer
// (Child et al. 2019, for data with a period, like images or audio): with a
// stride l of about sqrt(S), each query attends causally to the previous l
// positions (local) and to every l-th position before it (strided), the
// union of the paper's two heads A(1) and A(2) in one mask:
//
//   mask(b, h, i, j) = j <= i  and  ( i - j < l  or  (i - j) mod l == 0 )
//
// with l = 16, a constant. (The paper's A(1) is i - j <= l; the extra key
// i - j = l is in A(2) anyway, so the union is the same.) i - j is only
// formed where j <= i, so it never goes negative.
//
// Expects: Q [B, 8, Sq, 64], K and V [B, 8, Sk, 64], f32; no captures.

func.func @sparse_strided(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>,
                          %v: tensor<?x8x?x64xf32>) -> tensor<?x8x?x64xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>,
                       tensor<?x8x?x64xf32>)
      -> tensor<?x8x?x64xf32>
    mask(%b, %h, %i, %j) {
      %l = arith.constant 16 : index
      %c0 = arith.constant 0 : index
      %causal = arith.cmpi ule, %j, %i : index
      // Only meaningful where %causal holds; wraps harmlessly elsewhere.
      %dist = arith.subi %i, %j : index
      %local = arith.cmpi ult, %dist, %l : index
      %rem = arith.remui %dist, %l : index
      %strided = arith.cmpi eq, %rem, %c0 : index
      %either = arith.ori %local, %strided : i1
      %keep = arith.andi %causal, %either : i1
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x64xf32>
}
