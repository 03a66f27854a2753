// Longformer / BigBird-style attention (BigBird without its random keys): a
// symmetric sliding window plus global tokens. Every query sees the keys
// within W positions on either side; the first G tokens (e.g. [CLS] or
// question tokens) are global: they attend to every key, and every query
// attends to them.
//
//   mask(b, h, i, j) = |i - j| <= W  or  i < G  or  j < G
//
// with W = 8 (a window of 2W + 1 = 17 keys) and G = 2, both constants;
// |i - j| is written max(i, j) - min(i, j) so it never goes negative.
// Longformer itself computes the global rows with separate projections
// (Q_g, K_g, V_g); this example is the attention pattern with one set of
// projections, which is what a single attn.attention expresses.
//
// Expects: Q [B, 8, Sq, 64], K and V [B, 8, Sk, 64], f32 (self-attention:
// Sq = Sk, though any sizes are valid); no captures.

func.func @longformer(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>,
                      %v: tensor<?x8x?x64xf32>) -> tensor<?x8x?x64xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>,
                       tensor<?x8x?x64xf32>)
      -> tensor<?x8x?x64xf32>
    mask(%b, %h, %i, %j) {
      %w = arith.constant 8 : index
      %g = arith.constant 2 : index
      %hi = arith.maxui %i, %j : index
      %lo = arith.minui %i, %j : index
      %dist = arith.subi %hi, %lo : index
      %local = arith.cmpi ule, %dist, %w : index
      %gq = arith.cmpi ult, %i, %g : index
      %gk = arith.cmpi ult, %j, %g : index
      %global = arith.ori %gq, %gk : i1
      %keep = arith.ori %local, %global : i1
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x64xf32>
}
