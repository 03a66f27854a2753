// Transformer-XL's relative-position attention (Dai et al. 2019, eq. 3
// with the memory): query i sits at absolute position M + i (M = Sk - Sq
// cached positions precede the segment) and attends causally over the
// Sk = M + Sq keys; its score with key j depends on their distance
// r = M + i - j through projected relative embeddings P [Sk, D] (row r is
// W_{k,R} R_r, distances 0 ... Sk - 1) and two learned biases u, w [H, D]:
//
//   A[b,h,i,j] = (q_i + u_h) . k_j  +  (q_i + w_h) . P_r     (terms a+c, b+d)
//   S'         = A / sqrt(D)                       where j <= i + M
//
// The function computes the terms around the attention, with linalg:
//   Q_u = Q + u                    (broadcast over b, i)
//   BD[b,h,i,r] = sum_d (Q + w)[b,h,i,d] * P[r,d] / sqrt(D)   [B, 8, Sq, Sk]
// and the attention adds BD at the key's distance in its score region
// (its default scale already divides (q + u) . k by sqrt(D)):
//
//   mask(b, h, i, j)     = j + Sq <= i + Sk           (j <= i + M, no wrap)
//   score(s, b, h, i, j) = s + BD[b, h, i, (i + Sk) - (j + Sq)]
//
// The score region is evaluated only where the mask keeps the key
// (docs/Semantics.md), so the distance is in [0, Sk) wherever it is read.
// BD is materialised: O(Sq Sk) memory like the scores the attention avoids,
// as in the paper's implementation (which also shifts it rather than
// gathering). docs/Memory.md describes the memory family.
//
// Targets: CPU and CUDA. On CUDA it is a program (docs/CUDATarget.md,
// "Programs"): its steps run as kernels in order over workspaces, and it is
// compiled as written (f32), not retyped by --gpu-element-type.
//
// Expects: Q [B, 8, Sq, 64], K and V [B, 8, Sk, 64] (Sk = M + Sq; the
// check also runs Sk < Sq, where the first rows are fully masked),
// P [Sk, 64], u and w [8, 64], f32.

#bias_q = affine_map<(b, h, i, d) -> (b, h, i, d)>
#bias_u = affine_map<(b, h, i, d) -> (h, d)>
#rel_q = affine_map<(b, h, i, r, d) -> (b, h, i, d)>
#rel_w = affine_map<(b, h, i, r, d) -> (h, d)>
#rel_p = affine_map<(b, h, i, r, d) -> (r, d)>
#rel_o = affine_map<(b, h, i, r, d) -> (b, h, i, r)>

func.func @transformer_xl_relative(
    %q: tensor<?x8x?x64xf32> {attn.dims = ["B", 8, "Sq", 64]},
    %k: tensor<?x8x?x64xf32> {attn.dims = ["B", 8, "Sk", 64]},
    %v: tensor<?x8x?x64xf32> {attn.dims = ["B", 8, "Sk", 64]},
    %p: tensor<?x64xf32> {attn.dims = ["Sk", 64]},
    %u: tensor<8x64xf32>,
    %w: tensor<8x64xf32>) -> tensor<?x8x?x64xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f32
  %inv_sqrt_d = arith.constant 0.125 : f32
  %batch = tensor.dim %q, %c0 : tensor<?x8x?x64xf32>
  %sq = tensor.dim %q, %c2 : tensor<?x8x?x64xf32>
  %sk = tensor.dim %k, %c2 : tensor<?x8x?x64xf32>

  // Q + u: the content bias (terms a + c).
  %q_empty = tensor.empty(%batch, %sq) : tensor<?x8x?x64xf32>
  %q_u = linalg.generic {
      indexing_maps = [#bias_q, #bias_u, #bias_q],
      iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%q, %u : tensor<?x8x?x64xf32>, tensor<8x64xf32>)
      outs(%q_empty : tensor<?x8x?x64xf32>) {
    ^bb0(%x: f32, %bias: f32, %out: f32):
      %y = arith.addf %x, %bias : f32
      linalg.yield %y : f32
  } -> tensor<?x8x?x64xf32>

  // BD[b, h, i, r] = (q_i + w_h) . P_r / sqrt(D): the position terms b + d
  // for every distance r.
  %bd_empty = tensor.empty(%batch, %sq, %sk) : tensor<?x8x?x?xf32>
  %bd_zero = linalg.fill ins(%zero : f32) outs(%bd_empty : tensor<?x8x?x?xf32>)
      -> tensor<?x8x?x?xf32>
  %bd = linalg.generic {
      indexing_maps = [#rel_q, #rel_w, #rel_p, #rel_o],
      iterator_types = ["parallel", "parallel", "parallel", "parallel",
                        "reduction"]}
      ins(%q, %w, %p : tensor<?x8x?x64xf32>, tensor<8x64xf32>,
                       tensor<?x64xf32>)
      outs(%bd_zero : tensor<?x8x?x?xf32>) {
    ^bb0(%x: f32, %bias: f32, %pos: f32, %sum: f32):
      %qw = arith.addf %x, %bias : f32
      %prod = arith.mulf %qw, %pos : f32
      %scaled = arith.mulf %prod, %inv_sqrt_d : f32
      %s = arith.addf %sum, %scaled : f32
      linalg.yield %s : f32
  } -> tensor<?x8x?x?xf32>

  %o = attn.attention
      ins(%q_u, %k, %v : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>,
                         tensor<?x8x?x64xf32>)
      captures(%bd, %sq, %sk : tensor<?x8x?x?xf32>, index, index)
      -> tensor<?x8x?x64xf32>
    mask(%b, %h, %i, %j, %t, %nq, %nk) {
      %jq = arith.addi %j, %nq : index
      %ik = arith.addi %i, %nk : index
      %keep = arith.cmpi ule, %jq, %ik : index
      attn.yield %keep : i1
    }
    score(%s, %b, %h, %i, %j, %t, %nq, %nk) {
      %jq = arith.addi %j, %nq : index
      %ik = arith.addi %i, %nk : index
      %r = arith.subi %ik, %jq : index
      %bias = tensor.extract %t[%b, %h, %i, %r] : tensor<?x8x?x?xf32>
      %y = arith.addf %s, %bias : f32
      attn.yield %y : f32
    }
  return %o : tensor<?x8x?x64xf32>
}
