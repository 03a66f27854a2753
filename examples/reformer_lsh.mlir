// One hash round of the Reformer's LSH attention, the buckets computed in
// the same function: Q and K are hashed by the same random rotation into 8
// buckets per head, and a query attends to the keys of its own bucket, up
// to its position (docs/Hashing.md):
//
//   y(x)                 = x . rot[0, h]                 ([4] per row)
//   bucket(x)            = argmax [y(x) ; -y(x)]          (in [0, 8))
//   mask(b, h, i, j)     = bucket(Q[b,h,i]) == bucket(K[b,h,j])  and  j <= i
//   score(s, b, h, i, j) = -1e5 if i == j else s
//
// The score line is the Reformer's self-mask (lsh_buckets.mlir says why).
// The ids are computed in f64 (exact for these bf16 rows), so the targets'
// buckets are the oracle's. Today the attention visits every tile any
// bucket touches (O(S^2)); sorting by bucket is the clustering pass's work.
//
// Expects: Q [B, 4, Sq, 64], K and V [B, 4, Sk, 64], bf16;
// captures rot : tensor<1 x 4 x 64 x 4 x f32>, random N(0, 1).

func.func @reformer_lsh(%q: tensor<?x4x?x64xbf16>, %k: tensor<?x4x?x64xbf16>,
                        %v: tensor<?x4x?x64xbf16>,
                        %rot: tensor<1x4x64x4xf32>)
    -> tensor<?x4x?x64xbf16> {
  %qb = attn.lsh_buckets %q, %rot
      : tensor<?x4x?x64xbf16>, tensor<1x4x64x4xf32> -> tensor<1x?x4x?xi32>
  %kb = attn.lsh_buckets %k, %rot
      : tensor<?x4x?x64xbf16>, tensor<1x4x64x4xf32> -> tensor<1x?x4x?xi32>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x4x?x64xbf16>, tensor<?x4x?x64xbf16>,
                       tensor<?x4x?x64xbf16>)
      captures(%qb, %kb : tensor<1x?x4x?xi32>, tensor<1x?x4x?xi32>)
      -> tensor<?x4x?x64xbf16>
    score(%s, %b, %h, %i, %j, %qi, %ki) {
      %self = arith.constant -1.0e5 : f32
      %same = arith.cmpi eq, %i, %j : index
      %r = arith.select %same, %self, %s : f32
      attn.yield %r : f32
    }
    mask(%b, %h, %i, %j, %qi, %ki) {
      %c0 = arith.constant 0 : index
      %bi = tensor.extract %qi[%c0, %b, %h, %i] : tensor<1x?x4x?xi32>
      %bj = tensor.extract %ki[%c0, %b, %h, %j] : tensor<1x?x4x?xi32>
      %sameBucket = arith.cmpi eq, %bi, %bj : i32
      %causal = arith.cmpi ule, %j, %i : index
      %keep = arith.andi %sameBucket, %causal : i1
      attn.yield %keep : i1
    }
  return %o : tensor<?x4x?x64xbf16>
}
