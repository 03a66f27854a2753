// RUN: attune-opt %s --attn-print-tile-map -o /dev/null | FileCheck %s
// RUN: attune-opt %s --attn-print-tile-map="tile-q=16 tile-k=16 captures=40" -o /dev/null | FileCheck %s --check-prefix=GIVEN
// RUN: attune-opt %s --attn-print-tile-map="tile-q=16 tile-k=16 captures=8:23" -o /dev/null | FileCheck %s --check-prefix=RANGE
// RUN: attune-opt %s --attn-print-tile-map="tile-q=32 tile-k=32 svg=%t.svg" -o /dev/null
// RUN: FileCheck %s --check-prefix=SVG < %t.svg
// RUN: FileCheck %s --check-prefix=SVG2 < %t.1.svg
// RUN: not attune-opt %s --attn-print-tile-map="captures=x" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BADCAPTURE
// RUN: not attune-opt %s --attn-print-tile-map="tile-q=0" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BADTILE
// RUN: not attune-opt %s --attn-print-tile-map="seq-q=1000000000000 seq-k=1000000000000" -o /dev/null 2>&1 | FileCheck %s --check-prefix=TOOMANY
// RUN: not attune-opt %s --attn-print-tile-map="refine=4000000000" -o /dev/null 2>&1 | FileCheck %s --check-prefix=REFINE

/// Static shapes give the sizes. A scalar capture the printer cannot see
/// (a function argument) may be anything: without `captures`, every tile
/// that depends on it is partial. With a value, the map is exact; with a
/// range, tiles decided for the whole range are.
// CHECK-LABEL: tile map of @prefix_lm #0: Sq = 64, Sk = 64, tiles 64 x 64, b in [0, 0], h in [0, 0]
// CHECK-NEXT: |+|
// CHECK-NEXT: 1 tiles (1 x 1): 0 full, 1 partial, 0 empty; non-empty 1/1 (100.0%)
// GIVEN-LABEL: tile map of @prefix_lm #0: Sq = 64, Sk = 64, tiles 16 x 16
// GIVEN-NEXT: |##+.|
// GIVEN-NEXT: |##+.|
// GIVEN-NEXT: |##+.|
// GIVEN-NEXT: |###+|
// RANGE-LABEL: tile map of @prefix_lm #0: Sq = 64, Sk = 64, tiles 16 x 16
// RANGE-NEXT: |++..|
// RANGE-NEXT: |#+..|
// RANGE-NEXT: |##+.|
// RANGE-NEXT: |###+|
// SVG: <svg xmlns="http://www.w3.org/2000/svg"
// SVG: tile map of @prefix_lm #0: Sq = 64, Sk = 64, tiles 32 x 32
// SVG: fill="#f4a261"
// SVG: partial 3
// SVG: </svg>
// BADCAPTURE: error: attn-print-tile-map: cannot parse capture value 'x' (expected an integer, lo:hi or ?)
// BADTILE: error: attn-print-tile-map: expected positive tile sizes
func.func @prefix_lm(%q: tensor<1x2x64x8xf32>, %k: tensor<1x2x64x8xf32>, %v: tensor<1x2x64x8xf32>, %prefix: index) -> tensor<1x2x64x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>)
      captures(%prefix : index) -> tensor<1x2x64x8xf32>
    mask(%b, %h, %i, %j, %p) {
      %inPrefix = arith.cmpi ult, %j, %p : index
      %causal = arith.cmpi ule, %j, %i : index
      %keep = arith.ori %inPrefix, %causal : i1
      attn.yield %keep : i1
    }
  return %o : tensor<1x2x64x8xf32>
}

/// Data-dependent: key padding reads a length per batch entry from a tensor.
/// `captures` bounds the elements of the tensor: lengths in [8, 23].
// GIVEN-LABEL: tile map of @key_padding #1: Sq = 64, Sk = 64, tiles 16 x 16, b in [0, 0], h in [0, 0]
// GIVEN-NEXT: |##+.|
// GIVEN-NEXT: |##+.|
// RANGE-LABEL: tile map of @key_padding #1: Sq = 64, Sk = 64, tiles 16 x 16, b in [0, 0], h in [0, 0]
// RANGE-NEXT: |++..|
// SVG2: tile map of @key_padding #1
func.func @key_padding(%q: tensor<2x2x64x8xf32>, %k: tensor<2x2x64x8xf32>, %v: tensor<2x2x64x8xf32>, %len: tensor<2xi32>) -> tensor<2x2x64x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<2x2x64x8xf32>, tensor<2x2x64x8xf32>, tensor<2x2x64x8xf32>)
      captures(%len : tensor<2xi32>) -> tensor<2x2x64x8xf32>
    mask(%b, %h, %i, %j, %lens) {
      %n = tensor.extract %lens[%b] : tensor<2xi32>
      %ni = arith.index_cast %n : i32 to index
      %keep = arith.cmpi slt, %j, %ni : index
      attn.yield %keep : i1
    }
  return %o : tensor<2x2x64x8xf32>
}
// TOOMANY: error: attn-print-tile-map: the map would have 15625000000 x 15625000000 tiles, more than the 1048576 it prints; use larger tile-q / tile-k
// REFINE: error: attn-print-tile-map: refine must be at most 1024, got 4000000000
