// A spec with an op the oracle does not evaluate (tensor.pad): the CPU
// target compiles it, --check names the op at its location
// (test/Tools/attune-run-functions.test).
func.func @pad(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x3x8xf32>, %v: tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %kp = tensor.pad %k low[0, 0, 0, 0] high[0, 0, 1, 0] {
    ^bb0(%a: index, %b: index, %c: index, %d: index):
      tensor.yield %zero : f32
  } : tensor<1x1x3x8xf32> to tensor<1x1x4x8xf32>
  %o = attn.attention ins(%q, %kp, %v : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32>
  return %o : tensor<1x1x4x8xf32>
}
