// More ids than attn.sort_ids' CUDA kernel counts in shared memory: the
// CUDA target refuses it at the op (the CPU target compiles it).
func.func @sort_many_ids(%q: tensor<1x2x16x8xbf16>, %k: tensor<1x2x16x8xbf16>,
                         %v: tensor<1x2x16x8xbf16>, %ids: tensor<1x2x16xi32>)
    -> tensor<1x2x16x8xbf16> {
  %order, %sorted = attn.sort_ids %ids {num_ids = 10000} : tensor<1x2x16xi32>
  %o = attn.attention
      ins(%q, %k, %v : tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>,
                       tensor<1x2x16x8xbf16>)
      captures(%sorted : tensor<1x2x16xi32>)
      -> tensor<1x2x16x8xbf16>
    mask(%b, %h, %i, %j, %s) {
      %si = tensor.extract %s[%b, %h, %i] : tensor<1x2x16xi32>
      %sj = tensor.extract %s[%b, %h, %j] : tensor<1x2x16xi32>
      %same = arith.cmpi eq, %si, %sj : i32
      attn.yield %same : i1
    }
  return %o : tensor<1x2x16x8xbf16>
}
