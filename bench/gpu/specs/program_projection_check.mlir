// GPU check of the tiled contraction kernels of a CUDA program
// (docs/CUDATarget.md, "Programs") at shapes Linformer's example does not
// have: a projection per head (E [4, 24, Sk]: the head is a batch loop of
// the contraction), 24 projected rows (fewer than a 32-row tile), D = 40
// (n = B x 40 columns, not a whole number of 64-column tiles), and V
// projected by a transposed F [4, Sk, 24] (the contraction loop innermost
// in neither operand). From Sk = 256 the tiled kernels run, below it a
// thread per point.
//
// Expects: Q [B, 4, Sq, 40], K and V [B, 4, Sk, 40], E [4, 24, Sk],
// F [4, Sk, 24], f32.

#e = affine_map<(b, h, p, d, s) -> (h, p, s)>
#f = affine_map<(b, h, p, d, s) -> (h, s, p)>
#x = affine_map<(b, h, p, d, s) -> (b, h, s, d)>
#o = affine_map<(b, h, p, d, s) -> (b, h, p, d)>

func.func @program_projection_check(
    %q: tensor<?x4x?x40xf32>,
    %k: tensor<?x4x?x40xf32> {attn.dims = ["B", 4, "Sk", 40]},
    %v: tensor<?x4x?x40xf32> {attn.dims = ["B", 4, "Sk", 40]},
    %e: tensor<4x24x?xf32> {attn.dims = [4, 24, "Sk"]},
    %f: tensor<4x?x24xf32> {attn.dims = [4, "Sk", 24]})
    -> tensor<?x4x?x40xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %batch = tensor.dim %q, %c0 : tensor<?x4x?x40xf32>
  %empty = tensor.empty(%batch) : tensor<?x4x24x40xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x4x24x40xf32>)
      -> tensor<?x4x24x40xf32>
  %kp = linalg.generic {indexing_maps = [#e, #x, #o],
      iterator_types = ["parallel", "parallel", "parallel", "parallel",
                        "reduction"]}
      ins(%e, %k : tensor<4x24x?xf32>, tensor<?x4x?x40xf32>)
      outs(%acc : tensor<?x4x24x40xf32>) {
    ^bb0(%a: f32, %x: f32, %y: f32):
      %p = arith.mulf %a, %x : f32
      %s = arith.addf %y, %p : f32
      linalg.yield %s : f32
  } -> tensor<?x4x24x40xf32>
  %vp = linalg.generic {indexing_maps = [#f, #x, #o],
      iterator_types = ["parallel", "parallel", "parallel", "parallel",
                        "reduction"]}
      ins(%f, %v : tensor<4x?x24xf32>, tensor<?x4x?x40xf32>)
      outs(%acc : tensor<?x4x24x40xf32>) {
    ^bb0(%a: f32, %x: f32, %y: f32):
      %p = arith.mulf %a, %x : f32
      %s = arith.addf %y, %p : f32
      linalg.yield %s : f32
  } -> tensor<?x4x24x40xf32>
  %o = attn.attention
      ins(%q, %kp, %vp : tensor<?x4x?x40xf32>, tensor<?x4x24x40xf32>,
                         tensor<?x4x24x40xf32>)
      -> tensor<?x4x?x40xf32>
  return %o : tensor<?x4x?x40xf32>
}
