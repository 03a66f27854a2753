// Linformer (Wang et al., 2020): low-rank attention. The keys and values are
// projected along the sequence by learned E, F in R^{k x Sk} before the
// attention, so every query attends to k = 32 projected positions instead of
// Sk keys:
//
//   K'[b, h] = E . K[b, h],  V'[b, h] = F . V[b, h]       (k x D each)
//   O = softmax(scale * Q . K'^T) . V'
//
// The projections are linalg.generic contractions over the sequence in the
// same function as attn.attention; the cost is O(Sk * k * D) for them and
// O(Sq * k * D) for the attention, linear in the sequence length. On the
// CPU the projections go through upstream bufferization and linalg loops and
// the projected K', V' are materialised.
//
// Targets: CPU and CUDA. On CUDA it is a program (docs/CUDATarget.md,
// "Programs"): its steps run as kernels in order over workspaces, and it is
// compiled as written (f32), not retyped by --gpu-element-type.
//
// Expects: Q [B, 8, Sq, 64], K and V [B, 8, Sk, 64], E and F [32, Sk], f32;
// no mask. K, V, E and F name their dynamic sizes in `attn.dims`, since
// they reach the attention through the projections.

#proj_e = affine_map<(b, h, p, d, s) -> (p, s)>
#proj_x = affine_map<(b, h, p, d, s) -> (b, h, s, d)>
#proj_o = affine_map<(b, h, p, d, s) -> (b, h, p, d)>

func.func @linformer(
    %q: tensor<?x8x?x64xf32>,
    %k: tensor<?x8x?x64xf32> {attn.dims = ["B", 8, "Sk", 64]},
    %v: tensor<?x8x?x64xf32> {attn.dims = ["B", 8, "Sk", 64]},
    %e: tensor<32x?xf32> {attn.dims = [32, "Sk"]},
    %f: tensor<32x?xf32> {attn.dims = [32, "Sk"]}) -> tensor<?x8x?x64xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %batch = tensor.dim %q, %c0 : tensor<?x8x?x64xf32>
  %empty = tensor.empty(%batch) : tensor<?x8x32x64xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x8x32x64xf32>)
      -> tensor<?x8x32x64xf32>
  %kp = linalg.generic {
      indexing_maps = [#proj_e, #proj_x, #proj_o],
      iterator_types = ["parallel", "parallel", "parallel", "parallel",
                        "reduction"]}
      ins(%e, %k : tensor<32x?xf32>, tensor<?x8x?x64xf32>)
      outs(%acc : tensor<?x8x32x64xf32>) {
    ^bb0(%x: f32, %y: f32, %sum: f32):
      %p = arith.mulf %x, %y : f32
      %s = arith.addf %sum, %p : f32
      linalg.yield %s : f32
  } -> tensor<?x8x32x64xf32>
  %vp = linalg.generic {
      indexing_maps = [#proj_e, #proj_x, #proj_o],
      iterator_types = ["parallel", "parallel", "parallel", "parallel",
                        "reduction"]}
      ins(%f, %v : tensor<32x?xf32>, tensor<?x8x?x64xf32>)
      outs(%acc : tensor<?x8x32x64xf32>) {
    ^bb0(%x: f32, %y: f32, %sum: f32):
      %p = arith.mulf %x, %y : f32
      %s = arith.addf %sum, %p : f32
      linalg.yield %s : f32
  } -> tensor<?x8x32x64xf32>
  %o = attn.attention
      ins(%q, %kp, %vp : tensor<?x8x?x64xf32>, tensor<?x8x32x64xf32>,
                         tensor<?x8x32x64xf32>)
      -> tensor<?x8x?x64xf32>
  return %o : tensor<?x8x?x64xf32>
}
