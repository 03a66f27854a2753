// RUN: attune-opt %s -split-input-file --convert-attn-to-cpu | FileCheck %s
// RUN: attune-opt %s -split-input-file --convert-attn-to-cpu="tile-q=32 tile-k=32" | FileCheck %s --check-prefix=TILE32
// RUN: attune-opt %s -split-input-file --attn-tile="tile-q=32 tile-k=32" --attn-sparsify --convert-attn-to-cpu | FileCheck %s --check-prefix=TILE32
// RUN: not attune-opt %s -split-input-file --convert-attn-to-cpu="tile-q=24" 2>&1 | FileCheck %s --check-prefix=BADTILE

/// Tile sizes come from the op (attn-tile) or, without them, from the pass
/// options; either way they must fit the microkernel.
// BADTILE: error: convert-attn-to-cpu: tile sizes (24, 64) do not fit the 8-lane microkernel: queries per tile must be a positive multiple of 16 and keys of 4

/// Tiles too small for 16 lanes (32 queries per tile) take 8 (the CPU
/// KernelPlan): any head size runs at either width, so only the tiles decide.
// RUN: attune-opt %s -split-input-file --convert-attn-to-cpu="vector-width=16 tile-q=16 tile-k=8" | FileCheck %s --check-prefix=NARROW
// RUN: attune-opt %s -split-input-file --convert-attn-to-cpu="vector-width=16 tile-q=32 tile-k=8" | FileCheck %s --check-prefix=WIDE
// NARROW-LABEL: func.func @dense
//   NARROW-NOT:   vector<16xf32>
//       NARROW:   vector.fma {{.*}} : vector<8xf32>
//   NARROW-NOT:   vector<16xf32>
// NARROW-LABEL: func.func @causal
// WIDE-LABEL: func.func @dense
//       WIDE:   vector.fma {{.*}} : vector<16xf32>
// WIDE-LABEL: func.func @causal

/// The per-thread tiles live on the stack: tile sizes whose tiles would not
/// fit a worker thread's stack are refused, and absurd ones do not overflow.
// RUN: not attune-opt %s -split-input-file --convert-attn-to-cpu="tile-q=4096" 2>&1 | FileCheck %s --check-prefix=BIGTILE
// RUN: not attune-opt %s -split-input-file --convert-attn-to-cpu="tile-q=4611686018427387904 tile-k=4611686018427387904" 2>&1 | FileCheck %s --check-prefix=HUGETILE
// BIGTILE: error: convert-attn-to-cpu: tile sizes (4096, 64) at head sizes (64, 64) need 3.19e+06 bytes of per-thread tiles on the stack, above the limit of 3145728: use smaller tile sizes
// HUGETILE: error: convert-attn-to-cpu: tile sizes (4611686018427387904, 4611686018427387904) at head sizes (64, 64) need {{.*}} bytes of per-thread tiles on the stack

/// The fused form: a parallel loop over (batch, head, query tile), per-thread
/// stack tiles, FMA microkernels, and only the output is allocated (no
/// [Sq, Sk] buffer).
// CHECK-LABEL: func.func @dense
//       CHECK:   %[[OUT:.*]] = memref.alloc(%{{.*}}, %{{.*}}) {alignment = 64 : i64} : memref<?x4x?x64xf32>
//   CHECK-NOT:   memref.alloc
//       CHECK:   scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}) =
//       CHECK:     memref.alloca_scope
//       CHECK:       memref.alloca() {alignment = 64 : i64} : memref<64x64xf32>
//       CHECK:       vector.fma
//       CHECK:   bufferization.to_tensor %[[OUT]] restrict writable
// TILE32-LABEL: func.func @dense
//       TILE32:   memref.alloca() {alignment = 64 : i64} : memref<64x32xf32>
func.func @dense(%q: tensor<?x4x?x64xf32>, %k: tensor<?x4x?x64xf32>, %v: tensor<?x4x?x64xf32>) -> tensor<?x4x?x64xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>) -> tensor<?x4x?x64xf32>
  return %o : tensor<?x4x?x64xf32>
}

// -----

/// A causal mask bounds the key-tile loop by the query tile: tiles past the
/// diagonal are never visited, tiles before it skip the mask, and the mask
/// is evaluated on 8 queries at once.
// CHECK-LABEL: func.func @causal
//       CHECK:   scf.parallel
//       CHECK:     arith.ceildivui
//       CHECK:     %[[END:.*]] = arith.minui
//       CHECK:     scf.for %{{.*}} = %{{.*}} to %[[END]]
//       CHECK:       arith.cmpi ule, %{{.*}}, %{{.*}} : vector<8xindex>
func.func @causal(%q: tensor<1x2x?x64xbf16>, %k: tensor<1x2x?x64xbf16>, %v: tensor<1x2x?x64xbf16>) -> tensor<1x2x?x64xbf16> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>) -> tensor<1x2x?x64xbf16>
    mask(%b, %h, %i, %j) {
      %c = arith.cmpi ule, %j, %i : index
      attn.yield %c : i1
    }
  return %o : tensor<1x2x?x64xbf16>
}

// -----

/// Head sizes that the vector width does not divide run the fused kernel
/// too: Q^T is packed with a masked load of the last D mod 8 features; O
/// is a [Tq, 8] tile of whole vectors (Dv rounded down) and a [3, Tq] tile
/// of its last Dv mod 8 features, transposed (queries in the lanes), stored
/// one feature at a time.
// CHECK-LABEL: func.func @odd_head_size
//   CHECK-NOT:   linalg.generic
//       CHECK:   scf.parallel
//   CHECK-DAG:     memref.alloca() {alignment = 64 : i64} : memref<12x64xf32>
//   CHECK-DAG:     memref.alloca() {alignment = 64 : i64} : memref<64x8xf32>
//   CHECK-DAG:     memref.alloca() {alignment = 64 : i64} : memref<3x64xf32>
//       CHECK:     vector.maskedload %{{.*}}, %{{.*}}, %{{.*}} : memref<1x1x8x12xf32, strided<[?, ?, ?, 1], offset: ?>>, vector<8xi1>, vector<8xf32> into vector<8xf32>
//       CHECK:     vector.fma
//   CHECK-NOT:     vector.maskedstore
//       CHECK:     memref.store %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : memref<1x1x8x11xf32>
//   CHECK-NOT:   linalg.generic
func.func @odd_head_size(%q: tensor<1x1x8x12xf32>, %k: tensor<1x1x8x12xf32>, %v: tensor<1x1x8x11xf32>) -> tensor<1x1x8x11xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x8x12xf32>, tensor<1x1x8x12xf32>, tensor<1x1x8x11xf32>) -> tensor<1x1x8x11xf32>
  return %o : tensor<1x1x8x11xf32>
}

// -----

/// A soft-cap score region runs on vectors of queries, and its tanh is
/// expanded into a polynomial rather than a libm call per lane.
// CHECK-LABEL: func.func @softcap
//   CHECK-NOT:   math.tanh
//       CHECK:   arith.divf %{{.*}}, %{{.*}} : vector<8xf32>
//   CHECK-NOT:   math.tanh
func.func @softcap(%q: tensor<1x1x?x64xf32>, %k: tensor<1x1x?x64xf32>, %v: tensor<1x1x?x64xf32>) -> tensor<1x1x?x64xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x?x64xf32>, tensor<1x1x?x64xf32>, tensor<1x1x?x64xf32>) -> tensor<1x1x?x64xf32>
    score(%s, %b, %h, %i, %j) {
      %cap = arith.constant 50.0 : f32
      %x = arith.divf %s, %cap : f32
      %t = math.tanh %x : f32
      %r = arith.mulf %t, %cap : f32
      attn.yield %r : f32
    }
  return %o : tensor<1x1x?x64xf32>
}
