// K is projected along the sequence by E (Linformer-style): E's sequence
// dimension reaches no attention operand through shape-preserving ops, so
// attune-run cannot size it without 'attn.dims'
// (test/Tools/attune-run-functions.test).
#pe = affine_map<(h, p, d, s) -> (p, s)>
#px = affine_map<(h, p, d, s) -> (0, h, s, d)>
#po = affine_map<(h, p, d, s) -> (0, h, p, d)>
func.func @proj(%q: tensor<1x1x?x8xf32>, %k: tensor<1x1x?x8xf32>, %v: tensor<1x1x4x8xf32>, %e: tensor<4x?xf32>) -> tensor<1x1x?x8xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<1x1x4x8xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32>
  %kp = linalg.generic {indexing_maps = [#pe, #px, #po], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%e, %k : tensor<4x?xf32>, tensor<1x1x?x8xf32>) outs(%acc : tensor<1x1x4x8xf32>) {
    ^bb0(%x: f32, %y: f32, %s: f32):
      %p = arith.mulf %x, %y : f32
      %t = arith.addf %s, %p : f32
      linalg.yield %t : f32
  } -> tensor<1x1x4x8xf32>
  %o = attn.attention ins(%q, %kp, %v : tensor<1x1x?x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x?x8xf32>
  return %o : tensor<1x1x?x8xf32>
}
