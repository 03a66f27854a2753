// Hierarchical (multi-scale) attention: each query attends to its recent
// keys at full resolution and to older keys only through the means of
// blocks of 16, and the two partial results are merged exactly with
// attn.merge. With W = 64 and L = 16, query i sees
//
//   local:  keys j with i - 64 < j <= i                 (full resolution)
//   pooled: blocks c (keys [16c, 16c + 16)) with 16c + 16 <= i - 63, i.e.
//           wholly before the window, as one key K_c = mean of the block's
//           keys and one value V_c = mean of its values
//
// and O, lse = merge(local, pooled) is softmax attention over that union
// (docs/Merge.md). Keys of a block that straddles the window's start are
// seen only if in the window; a last incomplete block is never pooled (its
// keys are within 16 of the end, so in the window of every query that
// may see them). Cost O(S (W + S / 16) D) instead of O(S^2 D); the local
// part is a sliding window (empty tiles skipped), the pooled part a
// 16-times shorter causal attention.
//
// Targets: CPU and CUDA. On CUDA it is a program (docs/CUDATarget.md,
// "Programs"): its steps run as kernels in order over workspaces, and it is
// compiled as written (f32), not retyped by --gpu-element-type.
//
// Expects: Q [B, 4, Sq, 64], K and V [B, 4, Sk, 64], f32.

#block = affine_map<(b, h, c, l, d) -> (b, h, c, l, d)>
#pooled = affine_map<(b, h, c, l, d) -> (b, h, c, d)>

func.func @hierarchical(%q: tensor<?x4x?x64xf32>, %k: tensor<?x4x?x64xf32>,
                        %v: tensor<?x4x?x64xf32>)
    -> (tensor<?x4x?x64xf32>, tensor<?x4x?xf32>) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c16 = arith.constant 16 : index
  %batch = tensor.dim %k, %c0 : tensor<?x4x?x64xf32>
  %sk = tensor.dim %k, %c2 : tensor<?x4x?x64xf32>
  %blocks = arith.divui %sk, %c16 : index
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty(%batch, %blocks) : tensor<?x4x?x64xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x4x?x64xf32>)
      -> tensor<?x4x?x64xf32>
  // Means of whole blocks of 16 keys and values: the first 16 * blocks
  // rows, viewed as [B, 4, blocks, 16, 64], reduced over the 16.
  %whole = arith.muli %blocks, %c16 : index
  %kw = tensor.extract_slice %k[0, 0, 0, 0] [%batch, 4, %whole, 64] [1, 1, 1, 1]
      : tensor<?x4x?x64xf32> to tensor<?x4x?x64xf32>
  %vw = tensor.extract_slice %v[0, 0, 0, 0] [%batch, 4, %whole, 64] [1, 1, 1, 1]
      : tensor<?x4x?x64xf32> to tensor<?x4x?x64xf32>
  %kb = tensor.expand_shape %kw [[0], [1], [2, 3], [4]]
      output_shape [%batch, 4, %blocks, 16, 64]
      : tensor<?x4x?x64xf32> into tensor<?x4x?x16x64xf32>
  %vb = tensor.expand_shape %vw [[0], [1], [2, 3], [4]]
      output_shape [%batch, 4, %blocks, 16, 64]
      : tensor<?x4x?x64xf32> into tensor<?x4x?x16x64xf32>
  %kp, %vp = linalg.generic {
      indexing_maps = [#block, #block, #pooled, #pooled],
      iterator_types = ["parallel", "parallel", "parallel", "reduction",
                        "parallel"]}
      ins(%kb, %vb : tensor<?x4x?x16x64xf32>, tensor<?x4x?x16x64xf32>)
      outs(%init, %init : tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>) {
    ^bb0(%x: f32, %y: f32, %sx: f32, %sy: f32):
      %sixteenth = arith.constant 0.0625 : f32
      %ax = arith.mulf %x, %sixteenth : f32
      %ay = arith.mulf %y, %sixteenth : f32
      %nx = arith.addf %sx, %ax : f32
      %ny = arith.addf %sy, %ay : f32
      linalg.yield %nx, %ny : f32, f32
  } -> (tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>)
  %ol, %ll = attn.attention
      ins(%q, %k, %v : tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>,
                       tensor<?x4x?x64xf32>)
      -> tensor<?x4x?x64xf32>, tensor<?x4x?xf32>
    mask(%b, %h, %i, %j) {
      %c64 = arith.constant 64 : index
      %causal = arith.cmpi ule, %j, %i : index
      %reach = arith.addi %j, %c64 : index
      %near = arith.cmpi ugt, %reach, %i : index
      %keep = arith.andi %causal, %near : i1
      attn.yield %keep : i1
    }
  %og, %lg = attn.attention
      ins(%q, %kp, %vp : tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>,
                         tensor<?x4x?x64xf32>)
      -> tensor<?x4x?x64xf32>, tensor<?x4x?xf32>
    mask(%b, %h, %i, %c) {
      %c16b = arith.constant 16 : index
      %c79 = arith.constant 79 : index
      // 16c + 16 <= i - 63  <=>  16c + 79 <= i
      %start = arith.muli %c, %c16b : index
      %end = arith.addi %start, %c79 : index
      %keep = arith.cmpi ule, %end, %i : index
      attn.yield %keep : i1
    }
  %o, %lse = attn.merge (%ol, %ll), (%og, %lg)
      : tensor<?x4x?x64xf32>, tensor<?x4x?xf32>
  return %o, %lse : tensor<?x4x?x64xf32>, tensor<?x4x?xf32>
}
