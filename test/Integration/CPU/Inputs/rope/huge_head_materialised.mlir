// D = 3000: the staged rows and angle tables of a fused rope on Q and K
// would not fit the per-thread stack, so the CPU kernel leaves both ropes
// to their own lowering and reads the rotated tensors (KernelPlan).
func.func @huge_head(%q: tensor<1x1x?x3000xf32>, %k: tensor<1x1x?x3000xf32>,
                     %v: tensor<1x1x?x3000xf32>) -> tensor<1x1x?x3000xf32> {
  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : tensor<1x1x?x3000xf32>
  %qr = attn.rope %q offset(%sq : index) : tensor<1x1x?x3000xf32>
  %kr = attn.rope %k : tensor<1x1x?x3000xf32>
  %o = attn.attention
      ins(%qr, %kr, %v : tensor<1x1x?x3000xf32>, tensor<1x1x?x3000xf32>,
                         tensor<1x1x?x3000xf32>) -> tensor<1x1x?x3000xf32>
  return %o : tensor<1x1x?x3000xf32>
}
