// Bucketed attention over captured bucket ids, as in the Reformer (LSH
// buckets) and the Routing Transformer (k-means clusters), computed before
// this op: a query attends only to keys hashed or routed to the same bucket,
// per head. This is one hash round of the
// Reformer's causal LM attention:
//
//   mask(b, h, i, j)     = q_bucket[b, h, i] == k_bucket[b, h, j]  and  j <= i
//   score(s, b, h, i, j) = -1e5 if i == j else s
//
// The score line is the Reformer's self-mask: with shared Q = K a token's
// score with itself dominates, so it gets the large finite -1e5 rather than
// -inf, and a token with nothing else in its bucket still attends to itself.
// Drop the score region for the Routing Transformer. The ids come as two
// captures, [B, H, Sq] and [B, H, Sk], so every extract is in bounds for any
// Sq and Sk; for self-attention pass the same tensor twice. Several hash
// rounds are combined by their lse (attn.merge, docs/Merge.md);
// reformer_lsh.mlir computes the ids in the function (attn.lsh_buckets).
//
// Expects: Q [B, 8, Sq, 64], K and V [B, 8, Sk, 64], f32; captures
// q_bucket : tensor<B x 8 x Sq x i32> and k_bucket : tensor<B x 8 x Sk x i32>,
// ids in [0, 4).

func.func @lsh_buckets(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>,
                       %v: tensor<?x8x?x64xf32>,
                       %q_bucket: tensor<?x8x?xi32> {attn.dims = ["B", 8, "Sq"], attn.range = [0, 4]},
                       %k_bucket: tensor<?x8x?xi32> {attn.dims = ["B", 8, "Sk"], attn.range = [0, 4]})
    -> tensor<?x8x?x64xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>,
                       tensor<?x8x?x64xf32>)
      captures(%q_bucket, %k_bucket : tensor<?x8x?xi32>, tensor<?x8x?xi32>)
      -> tensor<?x8x?x64xf32>
    score(%s, %b, %h, %i, %j, %qb, %kb) {
      %self = arith.constant -1.0e5 : f32
      %same = arith.cmpi eq, %i, %j : index
      %r = arith.select %same, %self, %s : f32
      attn.yield %r : f32
    }
    mask(%b, %h, %i, %j, %qb, %kb) {
      %bi = tensor.extract %qb[%b, %h, %i] : tensor<?x8x?xi32>
      %bj = tensor.extract %kb[%b, %h, %j] : tensor<?x8x?xi32>
      %sameBucket = arith.cmpi eq, %bi, %bj : i32
      %causal = arith.cmpi ule, %j, %i : index
      %keep = arith.andi %sameBucket, %causal : i1
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x64xf32>
}
