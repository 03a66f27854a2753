// Attention over bucket ids in their sorted order (attn.sort_ids), the
// order itself not used: both targets compile it (hashing.test runs it on
// the CPU).
func.func @sorted_buckets(%q: tensor<1x2x16x8xbf16>, %k: tensor<1x2x16x8xbf16>,
                          %v: tensor<1x2x16x8xbf16>, %rot: tensor<1x2x8x2xf32>)
    -> tensor<1x2x16x8xbf16> {
  %ids = attn.lsh_buckets %k, %rot
      : tensor<1x2x16x8xbf16>, tensor<1x2x8x2xf32> -> tensor<1x1x2x16xi32>
  %order, %sorted = attn.sort_ids %ids {num_ids = 4} : tensor<1x1x2x16xi32>
  %o = attn.attention
      ins(%q, %k, %v : tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>,
                       tensor<1x2x16x8xbf16>)
      captures(%sorted : tensor<1x1x2x16xi32>)
      -> tensor<1x2x16x8xbf16>
    mask(%b, %h, %i, %j, %s) {
      %c0 = arith.constant 0 : index
      %si = tensor.extract %s[%c0, %b, %h, %i] : tensor<1x1x2x16xi32>
      %sj = tensor.extract %s[%c0, %b, %h, %j] : tensor<1x1x2x16xi32>
      %same = arith.cmpi eq, %si, %sj : i32
      attn.yield %same : i1
    }
  return %o : tensor<1x2x16x8xbf16>
}
