// A spec whose K is computed in the function (an elementwise op on the
// argument): attune-run names K's sizes through the shape-preserving op,
// and the compiled code must not write the negated K into the caller's
// input, which the check reads after the run
// (test/Tools/attune-run-functions.test).
func.func @kcat(%q: tensor<1x1x?x8xf32>, %k: tensor<1x1x?x8xf32>, %v: tensor<1x1x?x8xf32>) -> tensor<1x1x?x8xf32> {
  %k2 = arith.negf %k : tensor<1x1x?x8xf32>
  %o = attn.attention ins(%q, %k2, %v : tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>) -> tensor<1x1x?x8xf32>
  return %o : tensor<1x1x?x8xf32>
}
