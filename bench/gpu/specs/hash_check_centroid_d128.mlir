// GPU check of attn.nearest_centroid (docs/Hashing.md): bf16 rows in [B,
// H, S, D] with D = 128, 16 centroids (f32) shared by the 4 heads; queries
// attend to the keys of their cluster. Rows of a cluster with no key are
// fully masked (O = 0, lse = -inf). The ids are results too, so the check
// compares them exactly with the reference's.
//
// Expects: Q [B, 4, Sq, 128], K and V [B, 4, Sk, 128], bf16; centroids
// [1, 16, 128] f32, N(0, 1).

func.func @hash_check_centroid_d128(
    %q: tensor<?x4x?x128xbf16>, %k: tensor<?x4x?x128xbf16>,
    %v: tensor<?x4x?x128xbf16>, %centroids: tensor<1x16x128xf32>)
    -> (tensor<?x4x?x128xbf16>, tensor<?x4x?xf32>, tensor<?x4x?xi32>,
        tensor<?x4x?xi32>) {
  %qc = attn.nearest_centroid %q, %centroids
      : tensor<?x4x?x128xbf16>, tensor<1x16x128xf32> -> tensor<?x4x?xi32>
  %kc = attn.nearest_centroid %k, %centroids
      : tensor<?x4x?x128xbf16>, tensor<1x16x128xf32> -> tensor<?x4x?xi32>
  %o, %lse = attn.attention
      ins(%q, %k, %v : tensor<?x4x?x128xbf16>, tensor<?x4x?x128xbf16>,
                       tensor<?x4x?x128xbf16>)
      captures(%qc, %kc : tensor<?x4x?xi32>, tensor<?x4x?xi32>)
      -> tensor<?x4x?x128xbf16>, tensor<?x4x?xf32>
    mask(%b, %h, %i, %j, %qi, %ki) {
      %ci = tensor.extract %qi[%b, %h, %i] : tensor<?x4x?xi32>
      %cj = tensor.extract %ki[%b, %h, %j] : tensor<?x4x?xi32>
      %same = arith.cmpi eq, %ci, %cj : i32
      attn.yield %same : i1
    }
  return %o, %lse, %qc, %kc : tensor<?x4x?x128xbf16>, tensor<?x4x?xf32>,
                              tensor<?x4x?xi32>, tensor<?x4x?xi32>
}
