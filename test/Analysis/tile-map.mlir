/// Sizes that are multiples of the tiles: every family is exact.
// RUN: attune-opt %s --attn-print-tile-map="seq-q=256 seq-k=256 tile-q=32 tile-k=32" -o /dev/null | FileCheck %s
/// Sq != Sk: top-left and bottom-right causal alignment.
// RUN: attune-opt %s --attn-print-tile-map="seq-q=128 seq-k=256 tile-q=32 tile-k=32" -o /dev/null | FileCheck %s --check-prefix=ALIGN
/// Head 2 has a window of 32 << 2 = 128 keys.
// RUN: attune-opt %s --attn-print-tile-map="seq-q=256 seq-k=256 tile-q=32 tile-k=32 head=2" -o /dev/null | FileCheck %s --check-prefix=HEAD2
/// A map over all 4 heads and 4 batch entries holds for each of them.
// RUN: attune-opt %s --attn-print-tile-map="seq-q=256 seq-k=256 tile-q=32 tile-k=32 head=-1 batch=4" -o /dev/null | FileCheck %s --check-prefix=HEADS
/// Sizes that are not multiples of the tiles: the last tiles are clipped.
// RUN: attune-opt %s --attn-print-tile-map="seq-q=100 seq-k=150 tile-q=32 tile-k=16" -o /dev/null | FileCheck %s --check-prefix=ODD
/// Tiles not aligned with the segments: a tile across the boundary between
/// two cases of an and / or is partial for intervals alone (sound, inexact)...
// RUN: attune-opt %s --attn-print-tile-map="seq-q=240 seq-k=200 tile-q=24 tile-k=40" -o /dev/null | FileCheck %s --check-prefix=MISALIGNED
/// ... and exact with refine, which bisects partial tiles.
// RUN: attune-opt %s --attn-print-tile-map="seq-q=240 seq-k=200 tile-q=24 tile-k=40 refine=64" -o /dev/null | FileCheck %s --check-prefix=REFINED

/// Tile maps of the mask families ('.' empty, '#' full, '+' partial), each
/// checked against brute-force evaluation of every element.

/// Causal, top-left aligned: j <= i.
// CHECK-LABEL: tile map of @causal #{{[0-9]+}}: Sq = 256, Sk = 256, tiles 32 x 32, b in [0, 0], h in [0, 0]
// CHECK-NEXT: |+.......|
// CHECK-NEXT: |#+......|
// CHECK-NEXT: |##+.....|
// CHECK-NEXT: |###+....|
// CHECK-NEXT: |####+...|
// CHECK-NEXT: |#####+..|
// CHECK-NEXT: |######+.|
// CHECK-NEXT: |#######+|
// CHECK-NEXT: 64 tiles (8 x 8): 28 full, 8 partial, 28 empty; non-empty 36/64 (56.2%)
// ALIGN-LABEL: tile map of @causal #{{[0-9]+}}: Sq = 128, Sk = 256, tiles 32 x 32, b in [0, 0], h in [0, 0]
// ALIGN-NEXT: |+.......|
// ALIGN-NEXT: |#+......|
// ALIGN-NEXT: |##+.....|
// ALIGN-NEXT: |###+....|
// ALIGN-NEXT: 32 tiles (4 x 8): 6 full, 4 partial, 22 empty; non-empty 10/32 (31.2%)
// ODD-LABEL: tile map of @causal #{{[0-9]+}}: Sq = 100, Sk = 150, tiles 32 x 16, b in [0, 0], h in [0, 0]
// ODD-NEXT: |++........|
// ODD-NEXT: |##++......|
// ODD-NEXT: |####++....|
// ODD-NEXT: |######+...|
// ODD-NEXT: 40 tiles (4 x 10): 12 full, 7 partial, 21 empty; non-empty 19/40 (47.5%)
func.func @causal(%q: tensor<1x4x?x8xf32>, %k: tensor<1x4x?x8xf32>, %v: tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32>
    mask(%b, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
  return %o : tensor<1x4x?x8xf32>
}

/// Causal, bottom-right aligned: j + Sq <= i + Sk, with Sq and Sk read by
/// tensor.dim outside the op (known to the printer from its options).
// CHECK-LABEL: tile map of @causal_bottom_right #{{[0-9]+}}: Sq = 256, Sk = 256, tiles 32 x 32, b in [0, 0], h in [0, 0]
// CHECK-NEXT: |+.......|
// CHECK-NEXT: |#+......|
// CHECK-NEXT: |##+.....|
// CHECK-NEXT: |###+....|
// CHECK-NEXT: |####+...|
// CHECK-NEXT: |#####+..|
// CHECK-NEXT: |######+.|
// CHECK-NEXT: |#######+|
// CHECK-NEXT: 64 tiles (8 x 8): 28 full, 8 partial, 28 empty; non-empty 36/64 (56.2%)
// ALIGN-LABEL: tile map of @causal_bottom_right #{{[0-9]+}}: Sq = 128, Sk = 256, tiles 32 x 32, b in [0, 0], h in [0, 0]
// ALIGN-NEXT: |####+...|
// ALIGN-NEXT: |#####+..|
// ALIGN-NEXT: |######+.|
// ALIGN-NEXT: |#######+|
// ALIGN-NEXT: 32 tiles (4 x 8): 22 full, 4 partial, 6 empty; non-empty 26/32 (81.2%)
func.func @causal_bottom_right(%q: tensor<1x4x?x8xf32>, %k: tensor<1x4x?x8xf32>, %v: tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32> {
  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : tensor<1x4x?x8xf32>
  %sk = tensor.dim %k, %c2 : tensor<1x4x?x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>)
      captures(%sq, %sk : index, index) -> tensor<1x4x?x8xf32>
    mask(%b, %h, %i, %j, %nq, %nk) {
      %jq = arith.addi %j, %nq : index
      %ik = arith.addi %i, %nk : index
      %keep = arith.cmpi ule, %jq, %ik : index
      attn.yield %keep : i1
    }
  return %o : tensor<1x4x?x8xf32>
}

/// Sliding window of 64 keys: j <= i < j + 64.
// CHECK-LABEL: tile map of @sliding_window #{{[0-9]+}}: Sq = 256, Sk = 256, tiles 32 x 32, b in [0, 0], h in [0, 0]
// CHECK-NEXT: |+.......|
// CHECK-NEXT: |#+......|
// CHECK-NEXT: |+#+.....|
// CHECK-NEXT: |.+#+....|
// CHECK-NEXT: |..+#+...|
// CHECK-NEXT: |...+#+..|
// CHECK-NEXT: |....+#+.|
// CHECK-NEXT: |.....+#+|
// CHECK-NEXT: 64 tiles (8 x 8): 7 full, 14 partial, 43 empty; non-empty 21/64 (32.8%)
// ODD-LABEL: tile map of @sliding_window #{{[0-9]+}}: Sq = 100, Sk = 150, tiles 32 x 16, b in [0, 0], h in [0, 0]
// ODD-NEXT: |++........|
// ODD-NEXT: |##++......|
// ODD-NEXT: |++##++....|
// ODD-NEXT: |..+###+...|
// ODD-NEXT: 40 tiles (4 x 10): 7 full, 10 partial, 23 empty; non-empty 17/40 (42.5%)
func.func @sliding_window(%q: tensor<1x4x?x8xf32>, %k: tensor<1x4x?x8xf32>, %v: tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32>
    mask(%b, %h, %i, %j) {
      %w = arith.constant 64 : index
      %causal = arith.cmpi ule, %j, %i : index
      %jw = arith.addi %j, %w : index
      %near = arith.cmpi ult, %i, %jw : index
      %keep = arith.andi %causal, %near : i1
      attn.yield %keep : i1
    }
  return %o : tensor<1x4x?x8xf32>
}

/// Dilated window: |i - j| <= 8 * 4 and |i - j| mod 4 == 0. Inside the band
/// a tile wider than the dilation is partial: that is the truth.
// CHECK-LABEL: tile map of @dilated_window #{{[0-9]+}}: Sq = 256, Sk = 256, tiles 32 x 32, b in [0, 0], h in [0, 0]
// CHECK-NEXT: |++......|
// CHECK-NEXT: |+++.....|
// CHECK-NEXT: |.+++....|
// CHECK-NEXT: |..+++...|
// CHECK-NEXT: |...+++..|
// CHECK-NEXT: |....+++.|
// CHECK-NEXT: |.....+++|
// CHECK-NEXT: |......++|
// CHECK-NEXT: 64 tiles (8 x 8): 0 full, 22 partial, 42 empty; non-empty 22/64 (34.4%)
func.func @dilated_window(%q: tensor<1x4x?x8xf32>, %k: tensor<1x4x?x8xf32>, %v: tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32>
    mask(%b, %h, %i, %j) {
      %w = arith.constant 8 : index
      %dil = arith.constant 4 : index
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
  return %o : tensor<1x4x?x8xf32>
}

/// Block-diagonal segments of 64: i / 64 == j / 64.
// CHECK-LABEL: tile map of @block_diagonal #{{[0-9]+}}: Sq = 256, Sk = 256, tiles 32 x 32, b in [0, 0], h in [0, 0]
// CHECK-NEXT: |##......|
// CHECK-NEXT: |##......|
// CHECK-NEXT: |..##....|
// CHECK-NEXT: |..##....|
// CHECK-NEXT: |....##..|
// CHECK-NEXT: |....##..|
// CHECK-NEXT: |......##|
// CHECK-NEXT: |......##|
// CHECK-NEXT: 64 tiles (8 x 8): 16 full, 0 partial, 48 empty; non-empty 16/64 (25.0%)
// HEADS-LABEL: tile map of @block_diagonal #{{[0-9]+}}: Sq = 256, Sk = 256, tiles 32 x 32, b in [0, 3], h in [0, 3]
// HEADS-NEXT: |##......|
// HEADS-NEXT: |##......|
// HEADS-NEXT: |..##....|
// HEADS-NEXT: |..##....|
// HEADS-NEXT: |....##..|
// HEADS-NEXT: |....##..|
// HEADS-NEXT: |......##|
// HEADS-NEXT: |......##|
// HEADS-NEXT: 64 tiles (8 x 8): 16 full, 0 partial, 48 empty; non-empty 16/64 (25.0%)
// ODD-LABEL: tile map of @block_diagonal #{{[0-9]+}}: Sq = 100, Sk = 150, tiles 32 x 16, b in [0, 0], h in [0, 0]
// ODD-NEXT: |####......|
// ODD-NEXT: |####......|
// ODD-NEXT: |....####..|
// ODD-NEXT: |....####..|
// ODD-NEXT: 40 tiles (4 x 10): 16 full, 0 partial, 24 empty; non-empty 16/40 (40.0%)
func.func @block_diagonal(%q: tensor<1x4x?x8xf32>, %k: tensor<1x4x?x8xf32>, %v: tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32>
    mask(%b, %h, %i, %j) {
      %seg = arith.constant 64 : index
      %qs = arith.divui %i, %seg : index
      %ks = arith.divui %j, %seg : index
      %keep = arith.cmpi eq, %qs, %ks : index
      attn.yield %keep : i1
    }
  return %o : tensor<1x4x?x8xf32>
}

/// Prefix-LM with a constant prefix of 64, captured from outside the op:
/// j < P or j <= i.
// CHECK-LABEL: tile map of @prefix_lm #{{[0-9]+}}: Sq = 256, Sk = 256, tiles 32 x 32, b in [0, 0], h in [0, 0]
// CHECK-NEXT: |##......|
// CHECK-NEXT: |##......|
// CHECK-NEXT: |##+.....|
// CHECK-NEXT: |###+....|
// CHECK-NEXT: |####+...|
// CHECK-NEXT: |#####+..|
// CHECK-NEXT: |######+.|
// CHECK-NEXT: |#######+|
// CHECK-NEXT: 64 tiles (8 x 8): 31 full, 6 partial, 27 empty; non-empty 37/64 (57.8%)
func.func @prefix_lm(%q: tensor<1x4x?x8xf32>, %k: tensor<1x4x?x8xf32>, %v: tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32> {
  %prefix = arith.constant 64 : index
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>)
      captures(%prefix : index) -> tensor<1x4x?x8xf32>
    mask(%b, %h, %i, %j, %p) {
      %inPrefix = arith.cmpi ult, %j, %p : index
      %causal = arith.cmpi ule, %j, %i : index
      %keep = arith.ori %inPrefix, %causal : i1
      attn.yield %keep : i1
    }
  return %o : tensor<1x4x?x8xf32>
}

/// Longformer: |i - j| <= 32, or a global query or key (the first 32).
// CHECK-LABEL: tile map of @longformer #{{[0-9]+}}: Sq = 256, Sk = 256, tiles 32 x 32, b in [0, 0], h in [0, 0]
// CHECK-NEXT: |########|
// CHECK-NEXT: |##+.....|
// CHECK-NEXT: |#+#+....|
// CHECK-NEXT: |#.+#+...|
// CHECK-NEXT: |#..+#+..|
// CHECK-NEXT: |#...+#+.|
// CHECK-NEXT: |#....+#+|
// CHECK-NEXT: |#.....+#|
// CHECK-NEXT: 64 tiles (8 x 8): 22 full, 12 partial, 30 empty; non-empty 34/64 (53.1%)
// ODD-LABEL: tile map of @longformer #{{[0-9]+}}: Sq = 100, Sk = 150, tiles 32 x 16, b in [0, 0], h in [0, 0]
// ODD-NEXT: |##########|
// ODD-NEXT: |####++....|
// ODD-NEXT: |##++##++..|
// ODD-NEXT: |##..+###+.|
// ODD-NEXT: 40 tiles (4 x 10): 23 full, 8 partial, 9 empty; non-empty 31/40 (77.5%)
// MISALIGNED-LABEL: tile map of @longformer #{{[0-9]+}}: Sq = 240, Sk = 200, tiles 24 x 40, b in [0, 0], h in [0, 0]
// MISALIGNED-NEXT: |#####|
// MISALIGNED-NEXT: |+++++|
// MISALIGNED-NEXT: |+#+..|
// MISALIGNED-NEXT: |++++.|
// MISALIGNED-NEXT: |++++.|
// MISALIGNED-NEXT: |+.+++|
// MISALIGNED-NEXT: |+.+++|
// MISALIGNED-NEXT: |+..+#|
// MISALIGNED-NEXT: |+...+|
// MISALIGNED-NEXT: |+...+|
// MISALIGNED-NEXT: 50 tiles (10 x 5): 7 full, 29 partial, 14 empty; non-empty 36/50 (72.0%)
// REFINED-LABEL: tile map of @longformer #{{[0-9]+}}: Sq = 240, Sk = 200, tiles 24 x 40, b in [0, 0], h in [0, 0]
// REFINED-NEXT: |#####|
// REFINED-NEXT: |#++++|
// REFINED-NEXT: |+#+..|
// REFINED-NEXT: |++++.|
// REFINED-NEXT: |++++.|
// REFINED-NEXT: |+.+++|
// REFINED-NEXT: |+.+++|
// REFINED-NEXT: |+..+#|
// REFINED-NEXT: |+...+|
// REFINED-NEXT: |+...+|
// REFINED-NEXT: 50 tiles (10 x 5): 8 full, 28 partial, 14 empty; non-empty 36/50 (72.0%)
func.func @longformer(%q: tensor<1x4x?x8xf32>, %k: tensor<1x4x?x8xf32>, %v: tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32>
    mask(%b, %h, %i, %j) {
      %w = arith.constant 32 : index
      %g = arith.constant 32 : index
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
  return %o : tensor<1x4x?x8xf32>
}

/// Strided (Sparse Transformer): j <= i and (i - j < 32 or (i - j) mod 32
/// == 0). Below the band every tile holds one strided diagonal: partial.
// CHECK-LABEL: tile map of @sparse_strided #{{[0-9]+}}: Sq = 256, Sk = 256, tiles 32 x 32, b in [0, 0], h in [0, 0]
// CHECK-NEXT: |+.......|
// CHECK-NEXT: |++......|
// CHECK-NEXT: |+++.....|
// CHECK-NEXT: |++++....|
// CHECK-NEXT: |+++++...|
// CHECK-NEXT: |++++++..|
// CHECK-NEXT: |+++++++.|
// CHECK-NEXT: |++++++++|
// CHECK-NEXT: 64 tiles (8 x 8): 0 full, 36 partial, 28 empty; non-empty 36/64 (56.2%)
func.func @sparse_strided(%q: tensor<1x4x?x8xf32>, %k: tensor<1x4x?x8xf32>, %v: tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32>
    mask(%b, %h, %i, %j) {
      %l = arith.constant 32 : index
      %c0 = arith.constant 0 : index
      %causal = arith.cmpi ule, %j, %i : index
      %dist = arith.subi %i, %j : index
      %local = arith.cmpi ult, %dist, %l : index
      %rem = arith.remui %dist, %l : index
      %strided = arith.cmpi eq, %rem, %c0 : index
      %either = arith.ori %local, %strided : i1
      %keep = arith.andi %causal, %either : i1
      attn.yield %keep : i1
    }
  return %o : tensor<1x4x?x8xf32>
}

/// A window that depends on the head: j <= i < j + (32 << h).
// CHECK-LABEL: tile map of @head_window #{{[0-9]+}}: Sq = 256, Sk = 256, tiles 32 x 32, b in [0, 0], h in [0, 0]
// CHECK-NEXT: |+.......|
// CHECK-NEXT: |++......|
// CHECK-NEXT: |.++.....|
// CHECK-NEXT: |..++....|
// CHECK-NEXT: |...++...|
// CHECK-NEXT: |....++..|
// CHECK-NEXT: |.....++.|
// CHECK-NEXT: |......++|
// CHECK-NEXT: 64 tiles (8 x 8): 0 full, 15 partial, 49 empty; non-empty 15/64 (23.4%)
// HEAD2-LABEL: tile map of @head_window #{{[0-9]+}}: Sq = 256, Sk = 256, tiles 32 x 32, b in [0, 0], h in [2, 2]
// HEAD2-NEXT: |+.......|
// HEAD2-NEXT: |#+......|
// HEAD2-NEXT: |##+.....|
// HEAD2-NEXT: |###+....|
// HEAD2-NEXT: |+###+...|
// HEAD2-NEXT: |.+###+..|
// HEAD2-NEXT: |..+###+.|
// HEAD2-NEXT: |...+###+|
// HEAD2-NEXT: 64 tiles (8 x 8): 18 full, 12 partial, 34 empty; non-empty 30/64 (46.9%)
// HEADS-LABEL: tile map of @head_window #{{[0-9]+}}: Sq = 256, Sk = 256, tiles 32 x 32, b in [0, 3], h in [0, 3]
// HEADS-NEXT: |+.......|
// HEADS-NEXT: |++......|
// HEADS-NEXT: |+++.....|
// HEADS-NEXT: |++++....|
// HEADS-NEXT: |+++++...|
// HEADS-NEXT: |++++++..|
// HEADS-NEXT: |+++++++.|
// HEADS-NEXT: |++++++++|
// HEADS-NEXT: 64 tiles (8 x 8): 0 full, 36 partial, 28 empty; non-empty 36/64 (56.2%)
func.func @head_window(%q: tensor<1x4x?x8xf32>, %k: tensor<1x4x?x8xf32>, %v: tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32>
    mask(%b, %h, %i, %j) {
      %c32 = arith.constant 32 : index
      %w = arith.shli %c32, %h : index
      %causal = arith.cmpi ule, %j, %i : index
      %jw = arith.addi %j, %w : index
      %near = arith.cmpi ult, %i, %jw : index
      %keep = arith.andi %causal, %near : i1
      attn.yield %keep : i1
    }
  return %o : tensor<1x4x?x8xf32>
}

/// and / or / not: causal but not within the own segment of 64, or one of
/// the first 32 keys: (j <= i and not(i / 64 == j / 64)) or j < 32.
// CHECK-LABEL: tile map of @combination #{{[0-9]+}}: Sq = 256, Sk = 256, tiles 32 x 32, b in [0, 0], h in [0, 0]
// CHECK-NEXT: |#.......|
// CHECK-NEXT: |#.......|
// CHECK-NEXT: |##......|
// CHECK-NEXT: |##......|
// CHECK-NEXT: |####....|
// CHECK-NEXT: |####....|
// CHECK-NEXT: |######..|
// CHECK-NEXT: |######..|
// CHECK-NEXT: 64 tiles (8 x 8): 26 full, 0 partial, 38 empty; non-empty 26/64 (40.6%)
// ODD-LABEL: tile map of @combination #{{[0-9]+}}: Sq = 100, Sk = 150, tiles 32 x 16, b in [0, 0], h in [0, 0]
// ODD-NEXT: |##........|
// ODD-NEXT: |##........|
// ODD-NEXT: |####......|
// ODD-NEXT: |####......|
// ODD-NEXT: 40 tiles (4 x 10): 12 full, 0 partial, 28 empty; non-empty 12/40 (30.0%)
// MISALIGNED-LABEL: tile map of @combination #{{[0-9]+}}: Sq = 240, Sk = 200, tiles 24 x 40, b in [0, 0], h in [0, 0]
// MISALIGNED-NEXT: |+....|
// MISALIGNED-NEXT: |++...|
// MISALIGNED-NEXT: |++...|
// MISALIGNED-NEXT: |#+...|
// MISALIGNED-NEXT: |#+...|
// MISALIGNED-NEXT: |#+++.|
// MISALIGNED-NEXT: |###++|
// MISALIGNED-NEXT: |###++|
// MISALIGNED-NEXT: |####+|
// MISALIGNED-NEXT: |####+|
// MISALIGNED-NEXT: 50 tiles (10 x 5): 17 full, 16 partial, 17 empty; non-empty 33/50 (66.0%)
// REFINED-LABEL: tile map of @combination #{{[0-9]+}}: Sq = 240, Sk = 200, tiles 24 x 40, b in [0, 0], h in [0, 0]
// REFINED-NEXT: |+....|
// REFINED-NEXT: |+....|
// REFINED-NEXT: |++...|
// REFINED-NEXT: |#+...|
// REFINED-NEXT: |#+...|
// REFINED-NEXT: |#+++.|
// REFINED-NEXT: |###+.|
// REFINED-NEXT: |###+.|
// REFINED-NEXT: |####+|
// REFINED-NEXT: |####+|
// REFINED-NEXT: 50 tiles (10 x 5): 17 full, 13 partial, 20 empty; non-empty 30/50 (60.0%)
func.func @combination(%q: tensor<1x4x?x8xf32>, %k: tensor<1x4x?x8xf32>, %v: tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32>
    mask(%b, %h, %i, %j) {
      %true = arith.constant true
      %seg = arith.constant 64 : index
      %g = arith.constant 32 : index
      %causal = arith.cmpi ule, %j, %i : index
      %qs = arith.divui %i, %seg : index
      %ks = arith.divui %j, %seg : index
      %same = arith.cmpi eq, %qs, %ks : index
      %other = arith.xori %same, %true : i1
      %past = arith.andi %causal, %other : i1
      %sink = arith.cmpi ult, %j, %g : index
      %keep = arith.ori %past, %sink : i1
      attn.yield %keep : i1
    }
  return %o : tensor<1x4x?x8xf32>
}
