// K and V each concatenated from three tensors (a fixed 5-row prefix, a
// memory of Sk rows, a segment of Sq rows), D = 20 (vector tails at both
// widths), f32, with lse; the concatenated keys are also returned, so that
// concat is both fused into the kernel and materialised for the result.
func.func @three_way_returned(
    %q: tensor<?x3x?x20xf32>,
    %pk: tensor<?x3x5x20xf32> {attn.dims = ["B", 3, 5, 20]},
    %pv: tensor<?x3x5x20xf32> {attn.dims = ["B", 3, 5, 20]},
    %mk: tensor<?x3x?x20xf32> {attn.dims = ["B", 3, "Sk", 20]},
    %mv: tensor<?x3x?x20xf32> {attn.dims = ["B", 3, "Sk", 20]},
    %k: tensor<?x3x?x20xf32> {attn.dims = ["B", 3, "Sq", 20]},
    %v: tensor<?x3x?x20xf32> {attn.dims = ["B", 3, "Sq", 20]})
    -> (tensor<?x3x?x20xf32>, tensor<?x3x?xf32>, tensor<?x3x?x20xf32>) {
  %keys = tensor.concat dim(2) %pk, %mk, %k
      : (tensor<?x3x5x20xf32>, tensor<?x3x?x20xf32>, tensor<?x3x?x20xf32>)
      -> tensor<?x3x?x20xf32>
  %values = tensor.concat dim(2) %pv, %mv, %v
      : (tensor<?x3x5x20xf32>, tensor<?x3x?x20xf32>, tensor<?x3x?x20xf32>)
      -> tensor<?x3x?x20xf32>
  %o, %lse = attn.attention
      ins(%q, %keys, %values : tensor<?x3x?x20xf32>, tensor<?x3x?x20xf32>,
                               tensor<?x3x?x20xf32>)
      -> tensor<?x3x?x20xf32>, tensor<?x3x?xf32>
  return %o, %lse, %keys
      : tensor<?x3x?x20xf32>, tensor<?x3x?xf32>, tensor<?x3x?x20xf32>
}
