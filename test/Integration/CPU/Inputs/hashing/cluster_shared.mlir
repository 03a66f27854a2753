// The Reformer's shared-QK attention on the second of two hash rounds, as
// attn-cluster sees it: one id tensor for both sides (one sort), the causal
// mask and the self-mask (a score at i == j) in original positions, lse
// returned. Queries and keys are one tensor, so Sq = Sk (the check sizes
// B and Sk).
func.func @cluster_shared(
    %qk: tensor<?x2x?x32xbf16> {attn.dims = ["B", 2, "Sk", 32]},
    %v: tensor<?x2x?x32xbf16> {attn.dims = ["B", 2, "Sk", 32]},
    %rot: tensor<2x2x32x3xf32>)
    -> (tensor<?x2x?x32xbf16>, tensor<?x2x?xf32>) {
  %ids = attn.lsh_buckets %qk, %rot
      : tensor<?x2x?x32xbf16>, tensor<2x2x32x3xf32> -> tensor<2x?x2x?xi32>
  %o, %lse = attn.attention
      ins(%qk, %qk, %v : tensor<?x2x?x32xbf16>, tensor<?x2x?x32xbf16>,
                         tensor<?x2x?x32xbf16>)
      captures(%ids : tensor<2x?x2x?xi32>)
      -> tensor<?x2x?x32xbf16>, tensor<?x2x?xf32>
    score(%s, %b, %h, %i, %j, %x) {
      %self = arith.constant -1.0e5 : f32
      %same = arith.cmpi eq, %i, %j : index
      %r = arith.select %same, %self, %s : f32
      attn.yield %r : f32
    }
    mask(%b, %h, %i, %j, %x) {
      %c1 = arith.constant 1 : index
      %bi = tensor.extract %x[%c1, %b, %h, %i] : tensor<2x?x2x?xi32>
      %bj = tensor.extract %x[%c1, %b, %h, %j] : tensor<2x?x2x?xi32>
      %sameBucket = arith.cmpi eq, %bi, %bj : i32
      %causal = arith.cmpi ule, %j, %i : index
      %keep = arith.andi %sameBucket, %causal : i1
      attn.yield %keep : i1
    }
  return %o, %lse : tensor<?x2x?x32xbf16>, tensor<?x2x?xf32>
}
