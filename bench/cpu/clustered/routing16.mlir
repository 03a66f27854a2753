// Benchmark spec (bench/cpu/clustered/run.py): the Routing Transformer's
// attention, 16 centroids per head, queries and keys routed separately,
// not causal, 8 heads of 64, bf16. The ids are returned so that run.py
// counts the pairs the mask keeps (the useful work).
func.func @routing16(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>,
                   %v: tensor<?x8x?x64xbf16>, %mu: tensor<8x16x64xf32>)
    -> (tensor<?x8x?x64xbf16>, tensor<?x8x?xi32>, tensor<?x8x?xi32>) {
  %qc = attn.nearest_centroid %q, %mu
      : tensor<?x8x?x64xbf16>, tensor<8x16x64xf32> -> tensor<?x8x?xi32>
  %kc = attn.nearest_centroid %k, %mu
      : tensor<?x8x?x64xbf16>, tensor<8x16x64xf32> -> tensor<?x8x?xi32>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>,
                       tensor<?x8x?x64xbf16>)
      captures(%qc, %kc : tensor<?x8x?xi32>, tensor<?x8x?xi32>)
      -> tensor<?x8x?x64xbf16>
    mask(%b, %h, %i, %j, %qi, %ki) {
      %ci = tensor.extract %qi[%b, %h, %i] : tensor<?x8x?xi32>
      %cj = tensor.extract %ki[%b, %h, %j] : tensor<?x8x?xi32>
      %same = arith.cmpi eq, %ci, %cj : i32
      attn.yield %same : i1
    }
  return %o, %qc, %kc : tensor<?x8x?x64xbf16>, tensor<?x8x?xi32>,
                        tensor<?x8x?xi32>
}
