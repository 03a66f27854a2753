// GPU check of a CUDA program's long reductions that are not contractions
// (docs/CUDATarget.md, "Programs"): the maximum of K and the sum of V over
// the sequence, per (batch, head, feature), next to an attention. From
// Sk = 256 each takes the kernel with a warp per output point (lanes
// taking every 32nd key, folded by shuffles); below it, a thread per point.
//
// Expects: Q [B, 4, Sq, 64], K and V [B, 4, Sk, 64], f32.

#x = affine_map<(b, h, s, d) -> (b, h, s, d)>
#r = affine_map<(b, h, s, d) -> (b, h, d)>

func.func @program_long_reduction(
    %q: tensor<?x4x?x64xf32>, %k: tensor<?x4x?x64xf32>,
    %v: tensor<?x4x?x64xf32>)
    -> (tensor<?x4x?x64xf32>, tensor<?x4x1x64xf32>, tensor<?x4x1x64xf32>) {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>,
                       tensor<?x4x?x64xf32>)
      -> tensor<?x4x?x64xf32>
  %c0 = arith.constant 0 : index
  %batch = tensor.dim %k, %c0 : tensor<?x4x?x64xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty(%batch) : tensor<?x4x64xf32>
  %lowest = linalg.fill ins(%ninf : f32) outs(%e0 : tensor<?x4x64xf32>)
      -> tensor<?x4x64xf32>
  %kmax = linalg.generic {indexing_maps = [#x, #r],
      iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%k : tensor<?x4x?x64xf32>) outs(%lowest : tensor<?x4x64xf32>) {
    ^bb0(%x: f32, %acc: f32):
      %y = arith.maximumf %x, %acc : f32
      linalg.yield %y : f32
  } -> tensor<?x4x64xf32>
  %e1 = tensor.empty(%batch) : tensor<?x4x64xf32>
  %none = linalg.fill ins(%zero : f32) outs(%e1 : tensor<?x4x64xf32>)
      -> tensor<?x4x64xf32>
  %vsum = linalg.generic {indexing_maps = [#x, #r],
      iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%v : tensor<?x4x?x64xf32>) outs(%none : tensor<?x4x64xf32>) {
    ^bb0(%x: f32, %acc: f32):
      %y = arith.addf %x, %acc : f32
      linalg.yield %y : f32
  } -> tensor<?x4x64xf32>
  // [B, 4, 1, 64] (rank 3 would be named as an lse by its position).
  %kmax4 = tensor.expand_shape %kmax [[0], [1], [2, 3]]
      output_shape [%batch, 4, 1, 64]
      : tensor<?x4x64xf32> into tensor<?x4x1x64xf32>
  %vsum4 = tensor.expand_shape %vsum [[0], [1], [2, 3]]
      output_shape [%batch, 4, 1, 64]
      : tensor<?x4x64xf32> into tensor<?x4x1x64xf32>
  return %o, %kmax4, %vsum4
      : tensor<?x4x?x64xf32>, tensor<?x4x1x64xf32>, tensor<?x4x1x64xf32>
}
