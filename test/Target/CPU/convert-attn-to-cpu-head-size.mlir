// RUN: attune-opt %s -split-input-file --convert-attn-to-cpu | FileCheck %s
// RUN: attune-opt %s -split-input-file --convert-attn-to-cpu="vector-width=16" | FileCheck %s --check-prefix=WIDE

/// The IR does not grow with the head size (so neither does compile time):
/// the P.V product loops over blocks of 2 vectors of features instead of
/// unrolling them. At D = Dv = 4091 = 8 * 511 + 3 (the CPU target's largest
/// head sizes are 4096): the Q.K^T block (4 x 2
/// FMAs), the softmax sum (1), one looped P.V block (4 x 2) and the block of
/// what is left, a whole vector and the masked tail (4 x 2).
// CHECK-LABEL: func.func @huge_head_size
// CHECK-COUNT-25: vector.fma
//     CHECK-NOT: vector.fma
/// With 16 lanes, 4091 = 16 * 255 + 11: the left-over block is a vector
/// and the tail again; R = 8 rows per block (8 x 2 FMAs per block).
// WIDE-LABEL: func.func @huge_head_size
// WIDE-COUNT-49: vector.fma
//     WIDE-NOT: vector.fma
func.func @huge_head_size(%q: tensor<1x1x?x4091xf32>, %k: tensor<1x1x?x4091xf32>, %v: tensor<1x1x?x4091xf32>) -> tensor<1x1x?x4091xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x?x4091xf32>, tensor<1x1x?x4091xf32>, tensor<1x1x?x4091xf32>) -> tensor<1x1x?x4091xf32>
  return %o : tensor<1x1x?x4091xf32>
}

// -----

/// A head size below one vector is all tail: no P.V loop, one block of the
/// masked tail (4 x 1 FMAs), after Q.K^T (8) and the softmax sum (1).
// CHECK-LABEL: func.func @tiny_head_size
//       CHECK:   vector.maskedload {{.*}} vector<8xi1>, vector<8xf32> into vector<8xf32>
// CHECK-COUNT-13: vector.fma
//     CHECK-NOT: vector.fma
//       CHECK:   vector.maskedstore {{.*}} vector<8xi1>, vector<8xf32>
/// 16 lanes: 3 features are one masked vector too.
// WIDE-LABEL: func.func @tiny_head_size
//       WIDE:   vector.maskedload {{.*}} vector<16xi1>, vector<16xf32> into vector<16xf32>
//       WIDE:   vector.maskedstore {{.*}} vector<16xi1>, vector<16xf32>
func.func @tiny_head_size(%q: tensor<1x2x?x3xf32>, %k: tensor<1x2x?x3xf32>, %v: tensor<1x2x?x3xf32>) -> tensor<1x2x?x3xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x?x3xf32>, tensor<1x2x?x3xf32>, tensor<1x2x?x3xf32>) -> tensor<1x2x?x3xf32>
  return %o : tensor<1x2x?x3xf32>
}

// -----

/// Head sizes that 8 divides and 16 does not keep 16 lanes, with a tail:
/// padding to 80 features costs less than halving the width.
// WIDE-LABEL: func.func @head_size_72
//       WIDE:   vector.maskedload {{.*}} vector<16xi1>, vector<16xf32> into vector<16xf32>
//       WIDE:   vector.fma {{.*}} : vector<16xf32>
//       WIDE:   vector.maskedstore {{.*}} vector<16xi1>, vector<16xf32>
func.func @head_size_72(%q: tensor<1x2x?x72xf32>, %k: tensor<1x2x?x72xf32>, %v: tensor<1x2x?x72xf32>) -> tensor<1x2x?x72xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x?x72xf32>, tensor<1x2x?x72xf32>, tensor<1x2x?x72xf32>) -> tensor<1x2x?x72xf32>
  return %o : tensor<1x2x?x72xf32>
}

// -----

/// Tiles too small for 16-lane blocks (32 queries, 8 keys) take 8 lanes.
// WIDE-LABEL: func.func @small_tiles
//   WIDE-NOT:   vector<16xf32>
//       WIDE:   vector.fma {{.*}} : vector<8xf32>
//   WIDE-NOT:   vector<16xf32>
func.func @small_tiles(%q: tensor<1x2x?x64xf32>, %k: tensor<1x2x?x64xf32>, %v: tensor<1x2x?x64xf32>) -> tensor<1x2x?x64xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>)
      tile_sizes(16, 4) -> tensor<1x2x?x64xf32>
  return %o : tensor<1x2x?x64xf32>
}
