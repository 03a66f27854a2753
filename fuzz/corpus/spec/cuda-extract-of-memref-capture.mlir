// attunec --target=cuda:sm_90a --emit=mlir, with assertions: convert-attn-to-nvgpu
// (rewriteTensorReads) calls tensor.extract's getTensor() once the capture is a
// memref: "cast<Ty>() argument of incompatible type!". Every example whose
// regions read a capture with tensor.extract (alibi, key_padding, ...) hits it.
func.func @f(%q: tensor<1x1x16x64xf32>, %k: tensor<1x1x16x64xf32>,
             %v: tensor<1x1x16x64xf32>, %len: tensor<1xi32>)
    -> tensor<1x1x16x64xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>,
                       tensor<1x1x16x64xf32>)
      captures(%len : tensor<1xi32>)
      -> tensor<1x1x16x64xf32>
    mask(%b, %h, %i, %j, %l) {
      %n = tensor.extract %l[%b] : tensor<1xi32>
      %ni = arith.index_cast %n : i32 to index
      %keep = arith.cmpi slt, %j, %ni : index
      attn.yield %keep : i1
    }
  return %o : tensor<1x1x16x64xf32>
}
