// GPU check spec (bench/gpu/run.py check): attn.sort_ids of LSH ids and
// attention over rows permuted by its order, written out as attn-cluster
// writes it (the permutes, the sorted ids as the mask's capture, the
// inverse permute of O). The order and the sorted ids are returned and
// compared exactly with reference.py's stable sort; O with its attention.
// Q and K share the sequence length (one order permutes both).
func.func @hash_check_sort_permute(
    %q: tensor<?x2x?x32xbf16> {attn.dims = ["B", 2, "Sk", 32]},
    %k: tensor<?x2x?x32xbf16> {attn.dims = ["B", 2, "Sk", 32]},
    %v: tensor<?x2x?x32xbf16> {attn.dims = ["B", 2, "Sk", 32]},
    %rot: tensor<1x2x32x8xf32>)
    -> (tensor<1x?x2x?xi32>, tensor<1x?x2x?xi32>, tensor<?x2x?x32xbf16>) {
  %ids = attn.lsh_buckets %k, %rot
      : tensor<?x2x?x32xbf16>, tensor<1x2x32x8xf32> -> tensor<1x?x2x?xi32>
  %order, %sorted = attn.sort_ids %ids {num_ids = 16} : tensor<1x?x2x?xi32>
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %b = tensor.dim %order, %c1 : tensor<1x?x2x?xi32>
  %s = tensor.dim %order, %c3 : tensor<1x?x2x?xi32>
  %rows = tensor.extract_slice %order[0, 0, 0, 0] [1, %b, 2, %s] [1, 1, 1, 1]
      : tensor<1x?x2x?xi32> to tensor<?x2x?xi32>
  %qp = attn.permute %q, %rows : tensor<?x2x?x32xbf16>, tensor<?x2x?xi32>
  %kp = attn.permute %k, %rows : tensor<?x2x?x32xbf16>, tensor<?x2x?xi32>
  %vp = attn.permute %v, %rows : tensor<?x2x?x32xbf16>, tensor<?x2x?xi32>
  %o = attn.attention
      ins(%qp, %kp, %vp : tensor<?x2x?x32xbf16>, tensor<?x2x?x32xbf16>,
                          tensor<?x2x?x32xbf16>)
      captures(%sorted : tensor<1x?x2x?xi32>) -> tensor<?x2x?x32xbf16>
    mask(%bb, %h, %i, %j, %x) {
      %c0 = arith.constant 0 : index
      %si = tensor.extract %x[%c0, %bb, %h, %i] : tensor<1x?x2x?xi32>
      %sj = tensor.extract %x[%c0, %bb, %h, %j] : tensor<1x?x2x?xi32>
      %same = arith.cmpi eq, %si, %sj : i32
      attn.yield %same : i1
    }
  %r = attn.permute %o, %rows {inverse}
      : tensor<?x2x?x32xbf16>, tensor<?x2x?xi32>
  return %order, %sorted, %r : tensor<1x?x2x?xi32>, tensor<1x?x2x?xi32>,
                               tensor<?x2x?x32xbf16>
}
