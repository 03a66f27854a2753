// The quadratic peer of bench/linear/elu_causal.mlir: causal softmax
// attention at the same shape, bf16 [1, 8, S, 64].
func.func @softmax_causal(
    %q: tensor<1x8x?x64xbf16> {attn.dims = [1, 8, "Sq", 64]},
    %k: tensor<1x8x?x64xbf16> {attn.dims = [1, 8, "Sk", 64]},
    %v: tensor<1x8x?x64xbf16> {attn.dims = [1, 8, "Sk", 64]})
    -> tensor<1x8x?x64xbf16> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x8x?x64xbf16>,
                                       tensor<1x8x?x64xbf16>,
                                       tensor<1x8x?x64xbf16>)
      -> tensor<1x8x?x64xbf16>
    mask(%b, %h, %i, %j) {
      %ok = arith.cmpi ule, %j, %i : index
      attn.yield %ok : i1
    }
  return %o : tensor<1x8x?x64xbf16>
}
