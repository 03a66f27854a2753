// Dilated sliding window (Longformer's dilated attention, used on some heads
// of its upper layers): like a symmetric sliding window of W keys on each
// side, but with gaps of `dil` positions between them, so the window reaches
// W * dil positions away while still holding only 2W + 1 keys:
//
//   mask(b, h, i, j) = |i - j| <= W * dil  and  |i - j| mod dil == 0
//
// with W = 8 and dil = 2 (constants); |i - j| is written max(i, j) - min(i, j)
// so it never goes negative. dil = 1 gives the plain symmetric window.
//
// Expects: Q [B, 8, Sq, 64], K and V [B, 8, Sk, 64], f32; no captures.

func.func @dilated_window(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>,
                          %v: tensor<?x8x?x64xf32>) -> tensor<?x8x?x64xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>,
                       tensor<?x8x?x64xf32>)
      -> tensor<?x8x?x64xf32>
    mask(%b, %h, %i, %j) {
      %w = arith.constant 8 : index
      %dil = arith.constant 2 : index
      %c0 = arith.constant 0 : index
      %reach = arith.muli %w, %dil : index
      %hi = arith.maxui %i, %j : index
      %lo = arith.minui %i, %j : index
      %dist = arith.subi %hi, %lo : index
      %near = arith.cmpi ule, %dist, %reach : index
      %rem = arith.remui %dist, %dil : index
      %onGrid = arith.cmpi eq, %rem, %c0 : index
      %keep = arith.andi %near, %onGrid : i1
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x64xf32>
}
