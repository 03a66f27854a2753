// Two attention ops in one function: the second attends from the first's
// output, and both outputs are added by a linalg.generic; a slice, a
// transpose and a collapse/expand round trip of the result are returned
// too (its GPU check; test/Tools/Inputs/two_attentions.mlir is the same function for attune-run).
//
// Targets: CPU and CUDA (a program: docs/CUDATarget.md, "Programs").
//
// Expects: Q [B, 2, Sq, 16], K and V [B, 2, Sk, 16], f32.
#id = affine_map<(b, h, s, d) -> (b, h, s, d)>
func.func @two(%q: tensor<?x2x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>)
    -> (tensor<?x2x?x16xf32>, tensor<?x2x?x8xf32>, tensor<?x?x2x16xf32>, tensor<?x2x?x16xf32>) {
  %o1 = attn.attention ins(%q, %k, %v : tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>) -> tensor<?x2x?x16xf32>
    mask(%b, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
  %o2 = attn.attention ins(%o1, %k, %v : tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>) -> tensor<?x2x?x16xf32>
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %nb = tensor.dim %o1, %c0 : tensor<?x2x?x16xf32>
  %ns = tensor.dim %o1, %c2 : tensor<?x2x?x16xf32>
  %init = tensor.empty(%nb, %ns) : tensor<?x2x?x16xf32>
  %sum = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%o1, %o2 : tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>) outs(%init : tensor<?x2x?x16xf32>) {
    ^bb0(%x: f32, %y: f32, %out: f32):
      %s = arith.addf %x, %y : f32
      linalg.yield %s : f32
  } -> tensor<?x2x?x16xf32>
  %half = tensor.extract_slice %sum[0, 0, 0, 4] [%nb, 2, %ns, 8] [1, 1, 1, 1] : tensor<?x2x?x16xf32> to tensor<?x2x?x8xf32>
  %tinit = tensor.empty(%nb, %ns) : tensor<?x?x2x16xf32>
  %t = linalg.transpose ins(%o2 : tensor<?x2x?x16xf32>) outs(%tinit : tensor<?x?x2x16xf32>) permutation = [0, 2, 1, 3]
  %flat = tensor.collapse_shape %o2 [[0, 1], [2, 3]] : tensor<?x2x?x16xf32> into tensor<?x?xf32>
  %back = tensor.expand_shape %flat [[0, 1], [2, 3]] output_shape [%nb, 2, %ns, 16] : tensor<?x?xf32> into tensor<?x2x?x16xf32>
  return %sum, %half, %t, %back : tensor<?x2x?x16xf32>, tensor<?x2x?x8xf32>, tensor<?x?x2x16xf32>, tensor<?x2x?x16xf32>
}
