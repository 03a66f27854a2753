// A spec with a static capture of 2^90 elements: attune-run must refuse to
// allocate it, not wrap its size (test/Tools/attune-run-sizes.test).
func.func @huge(%q: tensor<1x1x?x8xf32>, %k: tensor<1x1x?x8xf32>,
                %v: tensor<1x1x?x8xf32>,
                %t: tensor<1073741824x1073741824x1073741824xi8>) -> tensor<1x1x?x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>)
      captures(%t : tensor<1073741824x1073741824x1073741824xi8>) -> tensor<1x1x?x8xf32>
  return %o : tensor<1x1x?x8xf32>
}
