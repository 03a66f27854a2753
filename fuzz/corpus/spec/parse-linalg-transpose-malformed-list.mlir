// attune-fuzz-parse (CI, 2026-12-05), mutating examples/cascade.mlir: MLIR
// 22's linalg.transpose parser stores the null attribute that a failed
// DenseI64ArrayAttr::parse returns (SEGV in Attribute::getContext); so do
// linalg.broadcast and linalg.reduce. Attune's tools now screen such lists
// first (include/attune/Support/ParseSource.h) and report an error.
func.func @f(%l: tensor<2x8x4xf32>) -> tensor<8x2x4xf32> {
  %init = tensor.empty() : tensor<8x2x4xf32>
  %t = linalg.transpose ins(%l : tensor<2x8x4xf32>)
      outs(%init : tensor<8x2x4xf32>) permutation = [1, 0, 99999999999999999999]
  return %t : tensor<8x2x4xf32>
}
