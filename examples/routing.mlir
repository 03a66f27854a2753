// Routing attention (the Routing Transformer): queries and keys are routed
// to the nearest of 8 centroids of their head, and a query attends to the
// keys routed to its cluster (docs/Hashing.md):
//
//   cluster(x)       = argmin_c |x - centroids[h, c]|^2     (in [0, 8))
//   mask(b, h, i, j) = cluster(Q[b,h,i]) == cluster(K[b,h,j])
//
// The centroids are the model's (learned by k-means during training); the
// ids are computed in f64 (exact for these bf16 rows and centroids). A
// query whose cluster has no key is a fully masked row: O = 0, lse = -inf.
// Today the attention visits every tile any cluster touches (O(S^2));
// sorting by cluster is the clustering pass's work.
//
// Expects: Q [B, 4, Sq, 64], K and V [B, 4, Sk, 64], bf16; captures
// centroids : tensor<4 x 8 x 64 x bf16>, random N(0, 1).

func.func @routing(%q: tensor<?x4x?x64xbf16>, %k: tensor<?x4x?x64xbf16>,
                   %v: tensor<?x4x?x64xbf16>,
                   %centroids: tensor<4x8x64xbf16>)
    -> (tensor<?x4x?x64xbf16>, tensor<?x4x?xf32>) {
  %qc = attn.nearest_centroid %q, %centroids
      : tensor<?x4x?x64xbf16>, tensor<4x8x64xbf16> -> tensor<?x4x?xi32>
  %kc = attn.nearest_centroid %k, %centroids
      : tensor<?x4x?x64xbf16>, tensor<4x8x64xbf16> -> tensor<?x4x?xi32>
  %o, %lse = attn.attention
      ins(%q, %k, %v : tensor<?x4x?x64xbf16>, tensor<?x4x?x64xbf16>,
                       tensor<?x4x?x64xbf16>)
      captures(%qc, %kc : tensor<?x4x?xi32>, tensor<?x4x?xi32>)
      -> tensor<?x4x?x64xbf16>, tensor<?x4x?xf32>
    mask(%b, %h, %i, %j, %qi, %ki) {
      %ci = tensor.extract %qi[%b, %h, %i] : tensor<?x4x?xi32>
      %cj = tensor.extract %ki[%b, %h, %j] : tensor<?x4x?xi32>
      %same = arith.cmpi eq, %ci, %cj : i32
      attn.yield %same : i1
    }
  return %o, %lse : tensor<?x4x?x64xbf16>, tensor<?x4x?xf32>
}
