// The list after `permutation =` is malformed; MLIR 22's linalg parser
// crashes on it, Attune's tools report it (include/attune/Support/ParseSource.h).
func.func @lse_to_bhs(%l: tensor<2x8x4xf32>) -> tensor<8x2x4xf32> {
  %init = tensor.empty() : tensor<8x2x4xf32>
  %t = linalg.transpose ins(%l : tensor<2x8x4xf32>)
      outs(%init : tensor<8x2x4xf32>) permutation = [1, 0 2]
  return %t : tensor<8x2x4xf32>
}
