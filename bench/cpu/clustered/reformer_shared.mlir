// Benchmark spec (bench/cpu/clustered/run.py): one round of the Reformer's
// shared-QK LSH attention, 32 buckets per head, causal with the self-mask,
// 8 heads of 64, bf16. The ids are returned so that run.py counts the
// pairs the mask keeps (the useful work).
func.func @reformer_shared(
    %qk: tensor<?x8x?x64xbf16> {attn.dims = ["B", 8, "Sk", 64]},
    %v: tensor<?x8x?x64xbf16> {attn.dims = ["B", 8, "Sk", 64]},
    %rot: tensor<1x8x64x16xf32>)
    -> (tensor<?x8x?x64xbf16>, tensor<1x?x8x?xi32>) {
  %ids = attn.lsh_buckets %qk, %rot
      : tensor<?x8x?x64xbf16>, tensor<1x8x64x16xf32> -> tensor<1x?x8x?xi32>
  %o = attn.attention
      ins(%qk, %qk, %v : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>,
                         tensor<?x8x?x64xbf16>)
      captures(%ids : tensor<1x?x8x?xi32>) -> tensor<?x8x?x64xbf16>
    score(%s, %b, %h, %i, %j, %x) {
      %self = arith.constant -1.0e5 : f32
      %same = arith.cmpi eq, %i, %j : index
      %r = arith.select %same, %self, %s : f32
      attn.yield %r : f32
    }
    mask(%b, %h, %i, %j, %x) {
      %c0 = arith.constant 0 : index
      %bi = tensor.extract %x[%c0, %b, %h, %i] : tensor<1x?x8x?xi32>
      %bj = tensor.extract %x[%c0, %b, %h, %j] : tensor<1x?x8x?xi32>
      %sameBucket = arith.cmpi eq, %bi, %bj : i32
      %causal = arith.cmpi ule, %j, %i : index
      %keep = arith.andi %sameBucket, %causal : i1
      attn.yield %keep : i1
    }
  return %o, %ids : tensor<?x8x?x64xbf16>, tensor<1x?x8x?xi32>
}
