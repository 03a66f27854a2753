// RUN: attune-opt %s -split-input-file --attn-cpu-parallel-linalg | FileCheck %s

/// Linformer's projection with d innermost (after
/// attn-cpu-innermost-parallel): the band (b, h, p) becomes one
/// scf.parallel; the reduction s and the stride-1 d stay serial inside it.

// CHECK-LABEL: func.func @projection
// CHECK-NOT:     linalg.generic
// CHECK:         scf.parallel (%[[B:.*]], %[[H:.*]], %[[P:.*]]) =
// CHECK:           scf.for %[[S:.*]] =
// CHECK:             scf.for %[[D:.*]] =
// CHECK:               memref.load %{{.*}}[%[[P]], %[[S]]]
// CHECK:               memref.load %{{.*}}[%[[B]], %[[H]], %[[S]], %[[D]]]
// CHECK:               arith.mulf
// CHECK:               arith.addf
// CHECK:               memref.store %{{.*}}, %{{.*}}[%[[B]], %[[H]], %[[P]], %[[D]]]
// CHECK-NOT:     scf.parallel
#e = affine_map<(b, h, p, s, d) -> (p, s)>
#x = affine_map<(b, h, p, s, d) -> (b, h, s, d)>
#o = affine_map<(b, h, p, s, d) -> (b, h, p, d)>
func.func @projection(%e: memref<32x?xf32>, %k: memref<?x8x?x64xf32>,
                      %out: memref<?x8x32x64xf32>) {
  linalg.generic {indexing_maps = [#e, #x, #o],
                  iterator_types = ["parallel", "parallel", "parallel",
                                    "reduction", "parallel"]}
      ins(%e, %k : memref<32x?xf32>, memref<?x8x?x64xf32>)
      outs(%out : memref<?x8x32x64xf32>) {
    ^bb0(%a: f32, %b: f32, %acc: f32):
      %m = arith.mulf %a, %b : f32
      %s = arith.addf %acc, %m : f32
      linalg.yield %s : f32
  }
  return
}

// -----

/// A parallel iterator that the output does not index (d1 here) ends the
/// band: iterations along it write the same element.

// CHECK-LABEL: func.func @unindexed
// CHECK:         scf.parallel (%{{.*}}) =
// CHECK-NEXT:      scf.for
#i = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d2)>
func.func @unindexed(%in: memref<?x?x?xf32>, %out: memref<?x?xf32>) {
  linalg.generic {indexing_maps = [#i, #o],
                  iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%in : memref<?x?x?xf32>) outs(%out : memref<?x?xf32>) {
    ^bb0(%a: f32, %acc: f32):
      linalg.yield %a : f32
  }
  return
}

// -----

/// A reduction first: no band, the op is left to convert-linalg-to-loops.

// CHECK-LABEL: func.func @reduction_first
// CHECK:         linalg.generic
#i = affine_map<(d0, d1) -> (d1, d0)>
#o = affine_map<(d0, d1) -> (d1)>
func.func @reduction_first(%in: memref<?x?xf32>, %out: memref<?xf32>) {
  linalg.generic {indexing_maps = [#i, #o],
                  iterator_types = ["reduction", "parallel"]}
      ins(%in : memref<?x?xf32>) outs(%out : memref<?xf32>) {
    ^bb0(%a: f32, %acc: f32):
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
  }
  return
}

// -----

/// Fewer than 2^14 points, known statically: serial.

// CHECK-LABEL: func.func @small
// CHECK:         linalg.fill
// CHECK-NOT:     scf.parallel
func.func @small(%out: memref<8x32x63xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<8x32x63xf32>)
  return
}

// -----

/// 2^14 points: a parallel fill, its stride-1 loop serial inside (to be
/// vectorised).

// CHECK-LABEL: func.func @large
// CHECK:         scf.parallel (%{{.*}}, %{{.*}}) =
// CHECK-NEXT:      scf.for
// CHECK:             memref.store
func.func @large(%out: memref<8x32x64xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<8x32x64xf32>)
  return
}

// -----

/// Inside a kernel's parallel loop: left alone.

// CHECK-LABEL: func.func @nested
// CHECK:         scf.parallel
// CHECK:           linalg.fill
func.func @nested(%out: memref<?x8x32x64xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %row = memref.subview %out[%i, 0, 0, 0] [1, 8, 32, 64] [1, 1, 1, 1]
        : memref<?x8x32x64xf32> to memref<8x32x64xf32, strided<[2048, 64, 1], offset: ?>>
    linalg.fill ins(%zero : f32)
        outs(%row : memref<8x32x64xf32, strided<[2048, 64, 1], offset: ?>>)
    scf.reduce
  }
  return
}
