// RUN: attune-opt %s -split-input-file --attn-tile | FileCheck %s
// RUN: attune-opt %s -split-input-file --attn-tile="tile-q=128 tile-k=32" | FileCheck %s --check-prefix=SIZES
// RUN: attune-opt %s -split-input-file --attn-tile="tile-q=128 tile-k=32 force=1" | FileCheck %s --check-prefix=FORCE
// RUN: attune-opt %s -split-input-file --attn-tile="fit-keys=1" | FileCheck %s --check-prefix=FIT
// RUN: not attune-opt %s -split-input-file --attn-tile="tile-q=0" 2>&1 | FileCheck %s --check-prefix=BAD

/// attn-tile only chooses the tiling: the regions stay as written and no
/// classifier appears (attn-sparsify adds it).

// CHECK-LABEL: func.func @causal
//       CHECK:   attn.attention {{.*}} tile_sizes(64, 64) ->
//       CHECK:     mask(
//   CHECK-NOT:     tiles(
// SIZES-LABEL: func.func @causal
//       SIZES:   tile_sizes(128, 32)
func.func @causal(%q: tensor<?x4x?x64xf32>, %k: tensor<?x4x?x64xf32>,
                  %v: tensor<?x4x?x64xf32>) -> tensor<?x4x?x64xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>)
      -> tensor<?x4x?x64xf32>
    mask(%b, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x4x?x64xf32>
}

// -----

/// Tile sizes already chosen are kept unless forced.

// SIZES-LABEL: func.func @pretiled
//       SIZES:   tile_sizes(16, 16)
// FORCE-LABEL: func.func @pretiled
//       FORCE:   tile_sizes(128, 32)
func.func @pretiled(%q: tensor<1x4x8x64xf32>, %k: tensor<1x4x8x64xf32>,
                    %v: tensor<1x4x8x64xf32>) -> tensor<1x4x8x64xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x64xf32>, tensor<1x4x8x64xf32>, tensor<1x4x8x64xf32>)
      tile_sizes(16, 16) -> tensor<1x4x8x64xf32>
  return %o : tensor<1x4x8x64xf32>
}

// BAD: error: attn-tile: tile-q and tile-k must be positive, got 0 and 64

// -----

/// fit-keys: a static key length below tile-k gets the smallest power of two
/// at least max(Sk, 8); a dynamic one, or one at least tile-k, keeps it.

// FIT-LABEL: func.func @fit
//       FIT:   tile_sizes(64, 32)
//       FIT:   tile_sizes(64, 8)
//       FIT:   tile_sizes(64, 64)
//       FIT:   tile_sizes(64, 64)
// CHECK-LABEL: func.func @fit
//       CHECK:   tile_sizes(64, 64)
func.func @fit(%q: tensor<1x4x?x64xf32>, %k32: tensor<1x4x32x64xf32>,
               %k3: tensor<1x4x3x64xf32>, %k100: tensor<1x4x100x64xf32>,
               %kd: tensor<1x4x?x64xf32>) {
  %a = attn.attention ins(%q, %k32, %k32 : tensor<1x4x?x64xf32>, tensor<1x4x32x64xf32>, tensor<1x4x32x64xf32>)
      -> tensor<1x4x?x64xf32>
  %b = attn.attention ins(%q, %k3, %k3 : tensor<1x4x?x64xf32>, tensor<1x4x3x64xf32>, tensor<1x4x3x64xf32>)
      -> tensor<1x4x?x64xf32>
  %c = attn.attention ins(%q, %k100, %k100 : tensor<1x4x?x64xf32>, tensor<1x4x100x64xf32>, tensor<1x4x100x64xf32>)
      -> tensor<1x4x?x64xf32>
  %d = attn.attention ins(%q, %kd, %kd : tensor<1x4x?x64xf32>, tensor<1x4x?x64xf32>, tensor<1x4x?x64xf32>)
      -> tensor<1x4x?x64xf32>
  return
}
