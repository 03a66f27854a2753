// bench/RESULTS.md ("RoPE on the CPU"): the two ropes of examples/rope.mlir
// alone, materialised: what "rotate, then attend" adds to plain.mlir.
func.func @rotate_only(%q: tensor<?x8x?x128xf32> {attn.dims = ["B", 8, "Sq", 128]},
                       %k: tensor<?x2x?x128xf32> {attn.dims = ["B", 2, "Sk", 128]})
    -> (tensor<?x8x?x128xf32>, tensor<?x2x?x128xf32>) {
  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : tensor<?x8x?x128xf32>
  %sk = tensor.dim %k, %c2 : tensor<?x2x?x128xf32>
  %first = arith.subi %sk, %sq : index
  %qr = attn.rope %q offset(%first : index) {base = 500000.0}
      : tensor<?x8x?x128xf32>
  %kr = attn.rope %k {base = 500000.0} : tensor<?x2x?x128xf32>
  return %qr, %kr : tensor<?x8x?x128xf32>, tensor<?x2x?x128xf32>
}
