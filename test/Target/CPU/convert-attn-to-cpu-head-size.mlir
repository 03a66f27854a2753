// RUN: attune-opt %s -split-input-file --convert-attn-to-cpu | FileCheck %s
// RUN: attune-opt %s -split-input-file --convert-attn-to-cpu="vector-width=16" | FileCheck %s --check-prefix=WIDE

/// The IR does not grow with the head size (so neither does compile time):
/// the P.V product loops over blocks of 2 vectors of features instead of
/// unrolling them. At D = Dv = 4091 = 8 * 511 + 3 (the CPU target's largest
/// head sizes are 4096): the Q.K^T block (4 x 2
/// FMAs) and its one-vector block for a tile that ends within a block of
/// queries (4 x 1), the softmax sum (1), one looped P.V block (4 x 2), the
/// block of what is left, one vector (4 x 1), and the transposed tail of 3
/// features (3 x 2, and 3 x 1 for the one-vector block).
// CHECK-LABEL: func.func @huge_head_size
// CHECK-COUNT-34: vector.fma
//     CHECK-NOT: vector.fma
/// With 16 lanes, 4091 = 16 * 255 + 11: the left-over block is a vector
/// again, R = 8 rows per block (8 x 2 FMAs per block, 8 x 1 for the
/// vector and the one-vector Q.K^T block), and the tail of 11 features two
/// blocks (8 x 2 and 3 x 2, and 8 x 1 and 3 x 1).
// WIDE-LABEL: func.func @huge_head_size
// WIDE-COUNT-82: vector.fma
//     WIDE-NOT: vector.fma
func.func @huge_head_size(%q: tensor<1x1x?x4091xf32>, %k: tensor<1x1x?x4091xf32>, %v: tensor<1x1x?x4091xf32>) -> tensor<1x1x?x4091xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x?x4091xf32>, tensor<1x1x?x4091xf32>, tensor<1x1x?x4091xf32>) -> tensor<1x1x?x4091xf32>
  return %o : tensor<1x1x?x4091xf32>
}

// -----

/// A head size below one vector is all tail: Q^T is packed with a masked
/// load, and P.V is one transposed block of 3 features x 2 query vectors
/// (6 FMAs, and 3 for one vector) after Q.K^T (8, and 4 for one vector) and
/// the softmax sum (1); O is stored one feature at a time, no masked store.
// CHECK-LABEL: func.func @tiny_head_size
//       CHECK:   vector.maskedload {{.*}} vector<8xi1>, vector<8xf32> into vector<8xf32>
// CHECK-COUNT-22: vector.fma
//     CHECK-NOT: vector.fma
//     CHECK-NOT: vector.maskedstore
/// 16 lanes: 3 features are one masked vector of Q too.
// WIDE-LABEL: func.func @tiny_head_size
//       WIDE:   vector.maskedload {{.*}} vector<16xi1>, vector<16xf32> into vector<16xf32>
//   WIDE-NOT:   vector.maskedstore
func.func @tiny_head_size(%q: tensor<1x2x?x3xf32>, %k: tensor<1x2x?x3xf32>, %v: tensor<1x2x?x3xf32>) -> tensor<1x2x?x3xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x?x3xf32>, tensor<1x2x?x3xf32>, tensor<1x2x?x3xf32>) -> tensor<1x2x?x3xf32>
  return %o : tensor<1x2x?x3xf32>
}

// -----

/// Head sizes that 8 divides and 16 does not keep 16 lanes, with a tail:
/// a masked load of Q's last 8 features, and O's last 8 features computed
/// transposed (8 features x 2 query vectors: 16 FMAs on vectors of P^T).
// CHECK-LABEL: func.func @head_size_72
// WIDE-LABEL: func.func @head_size_72
//       WIDE:   memref.alloca() {alignment = 64 : i64} : memref<8x64xf32>
//       WIDE:   vector.maskedload {{.*}} vector<16xi1>, vector<16xf32> into vector<16xf32>
//       WIDE:   vector.fma {{.*}} : vector<16xf32>
//   WIDE-NOT:   vector.maskedstore
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
