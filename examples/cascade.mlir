// Cascade attention (FlashInfer's cascade inference): 4 requests share a
// prompt prefix of P tokens, which is attended once for all of them, and
// each request's own Sq new tokens attend causally to its own Sq keys; the
// two partial results are merged exactly with attn.merge:
//
//   prefix:  all 4 * Sq queries as one sequence over the P shared keys
//   suffix:  per request, mask j <= i over its Sq keys
//   O, lse = merge((O_prefix, lse_prefix), (O_suffix, lse_suffix))
//
// which is attention of each query over [prefix keys; its suffix keys]
// with mask "j < P or j - P <= i" (docs/Merge.md), without copying the
// prefix per request or concatenating anything. The queries are flattened
// to one sequence for the prefix (bshd makes that a reshape, no copy) and
// the prefix's lse is put back in [B, H, S] order by a transpose.
//
// Targets: CPU and CUDA. On CUDA it is a program (docs/CUDATarget.md,
// "Programs"): its steps run as kernels in order over workspaces, and it is
// compiled as written (f32), not retyped by --gpu-element-type.
//
// Expects (bshd): Q [4, Sq, 8, 64], the requests' K and V [4, Sq, 2, 64],
// the prefix's K and V [1, P, 2, 64] with P named Sk, f32.

func.func @cascade(
    %q: tensor<4x?x8x64xf32> {attn.dims = [4, "Sq", 8, 64]},
    %k: tensor<4x?x2x64xf32> {attn.dims = [4, "Sq", 2, 64]},
    %v: tensor<4x?x2x64xf32> {attn.dims = [4, "Sq", 2, 64]},
    %kp: tensor<1x?x2x64xf32> {attn.dims = [1, "Sk", 2, 64]},
    %vp: tensor<1x?x2x64xf32> {attn.dims = [1, "Sk", 2, 64]})
    -> (tensor<4x?x8x64xf32>, tensor<4x8x?xf32>) {
  %c1 = arith.constant 1 : index
  %sq = tensor.dim %q, %c1 : tensor<4x?x8x64xf32>
  // The shared prefix, once, for the 4 * Sq queries as one sequence.
  %flat = tensor.collapse_shape %q [[0, 1], [2], [3]]
      : tensor<4x?x8x64xf32> into tensor<?x8x64xf32>
  %c4 = arith.constant 4 : index
  %rows = arith.muli %sq, %c4 : index
  %qall = tensor.expand_shape %flat [[0, 1], [2], [3]] output_shape [1, %rows, 8, 64]
      : tensor<?x8x64xf32> into tensor<1x?x8x64xf32>
  %op, %lp = attn.attention
      ins(%qall, %kp, %vp : tensor<1x?x8x64xf32>, tensor<1x?x2x64xf32>,
                            tensor<1x?x2x64xf32>)
      layout(bshd) -> tensor<1x?x8x64xf32>, tensor<1x8x?xf32>
  // Back to the requests: O [4, Sq, 8, 64]; lse [1, 8, 4 Sq] -> [4, 8, Sq].
  %of = tensor.collapse_shape %op [[0, 1], [2], [3]]
      : tensor<1x?x8x64xf32> into tensor<?x8x64xf32>
  %oprefix = tensor.expand_shape %of [[0, 1], [2], [3]] output_shape [4, %sq, 8, 64]
      : tensor<?x8x64xf32> into tensor<4x?x8x64xf32>
  %lf = tensor.collapse_shape %lp [[0, 1], [2]]
      : tensor<1x8x?xf32> into tensor<8x?xf32>
  %lhs = tensor.expand_shape %lf [[0], [1, 2]] output_shape [8, 4, %sq]
      : tensor<8x?xf32> into tensor<8x4x?xf32>
  %init = tensor.empty(%sq) : tensor<4x8x?xf32>
  %lprefix = linalg.transpose ins(%lhs : tensor<8x4x?xf32>)
      outs(%init : tensor<4x8x?xf32>) permutation = [1, 0, 2]
  // Each request's own tokens, causal.
  %os, %ls = attn.attention
      ins(%q, %k, %v : tensor<4x?x8x64xf32>, tensor<4x?x2x64xf32>,
                       tensor<4x?x2x64xf32>)
      layout(bshd) -> tensor<4x?x8x64xf32>, tensor<4x8x?xf32>
    mask(%b, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
  %o, %lse = attn.merge (%oprefix, %lprefix), (%os, %ls)
      {layout = #attn.layout<bshd>} : tensor<4x?x8x64xf32>, tensor<4x8x?xf32>
  return %o, %lse : tensor<4x?x8x64xf32>, tensor<4x8x?xf32>
}
