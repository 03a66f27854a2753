// RUN: attune-opt %s -split-input-file --attn-cpu-innermost-parallel | FileCheck %s

/// Linformer's projection K' = E . K, written with the reduction over the
/// sequence innermost: the output's stride-1 loop d moves innermost, and
/// the reduction s outside p, since (p, d) spans 32 x 64 <= 4096 output
/// elements: (b, h, s, p, d) reads each row of K once.

// CHECK-DAG: #[[E:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d3, d2)>
// CHECK-DAG: #[[K:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[O:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>
// CHECK-LABEL: func.func @projection
// CHECK:         linalg.generic {indexing_maps = [#[[E]], #[[K]], #[[O]]], iterator_types = ["parallel", "parallel", "reduction", "parallel", "parallel"]}
#e = affine_map<(b, h, p, d, s) -> (p, s)>
#x = affine_map<(b, h, p, d, s) -> (b, h, s, d)>
#o = affine_map<(b, h, p, d, s) -> (b, h, p, d)>
func.func @projection(%e: memref<32x?xf32>, %k: memref<?x8x?x64xf32>,
                      %out: memref<?x8x32x64xf32>) {
  linalg.generic {indexing_maps = [#e, #x, #o],
                  iterator_types = ["parallel", "parallel", "parallel",
                                    "parallel", "reduction"]}
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

/// An input reads d at a stride other than 1 (a transposed K): unchanged.

// CHECK-LABEL: func.func @transposed
// CHECK:         iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
#e = affine_map<(b, h, p, d, s) -> (p, s)>
#x = affine_map<(b, h, p, d, s) -> (b, h, d, s)>
#o = affine_map<(b, h, p, d, s) -> (b, h, p, d)>
func.func @transposed(%e: memref<32x?xf32>, %k: memref<?x8x64x?xf32>,
                      %out: memref<?x8x32x64xf32>) {
  linalg.generic {indexing_maps = [#e, #x, #o],
                  iterator_types = ["parallel", "parallel", "parallel",
                                    "parallel", "reduction"]}
      ins(%e, %k : memref<32x?xf32>, memref<?x8x64x?xf32>)
      outs(%out : memref<?x8x32x64xf32>) {
    ^bb0(%a: f32, %b: f32, %acc: f32):
      %m = arith.mulf %a, %b : f32
      %s = arith.addf %acc, %m : f32
      linalg.yield %s : f32
  }
  return
}

// -----

/// No reduction (an elementwise op): unchanged, even with d not innermost.

// CHECK-LABEL: func.func @elementwise
// CHECK:         indexing_maps = [#{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel"]
// CHECK-SAME:    ins(%{{.*}} : memref<4x8xf32>)
#in = affine_map<(i, j) -> (j, i)>
#out = affine_map<(i, j) -> (j, i)>
func.func @elementwise(%x: memref<4x8xf32>, %y: memref<4x8xf32>) {
  linalg.generic {indexing_maps = [#in, #out],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x8xf32>) outs(%y : memref<4x8xf32>) {
    ^bb0(%a: f32, %b: f32):
      linalg.yield %a : f32
  }
  return
}

// -----

/// The rows past the reduction would span 128 x 64 > 4096 output elements:
/// s stays just outside d.

// CHECK-LABEL: func.func @large_tile
// CHECK:         iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]
#e = affine_map<(b, h, p, d, s) -> (p, s)>
#x = affine_map<(b, h, p, d, s) -> (b, h, s, d)>
#o = affine_map<(b, h, p, d, s) -> (b, h, p, d)>
func.func @large_tile(%e: memref<128x?xf32>, %k: memref<?x8x?x64xf32>,
                      %out: memref<?x8x128x64xf32>) {
  linalg.generic {indexing_maps = [#e, #x, #o],
                  iterator_types = ["parallel", "parallel", "parallel",
                                    "parallel", "reduction"]}
      ins(%e, %k : memref<128x?xf32>, memref<?x8x?x64xf32>)
      outs(%out : memref<?x8x128x64xf32>) {
    ^bb0(%a: f32, %b: f32, %acc: f32):
      %m = arith.mulf %a, %b : f32
      %s = arith.addf %acc, %m : f32
      linalg.yield %s : f32
  }
  return
}

// -----

/// A dynamic number of projected rows: the tile is unknown, s stays.

// CHECK-LABEL: func.func @dynamic_rows
// CHECK:         iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]
#e = affine_map<(b, h, p, d, s) -> (p, s)>
#x = affine_map<(b, h, p, d, s) -> (b, h, s, d)>
#o = affine_map<(b, h, p, d, s) -> (b, h, p, d)>
func.func @dynamic_rows(%e: memref<?x?xf32>, %k: memref<?x8x?x64xf32>,
                        %out: memref<?x8x?x64xf32>) {
  linalg.generic {indexing_maps = [#e, #x, #o],
                  iterator_types = ["parallel", "parallel", "parallel",
                                    "parallel", "reduction"]}
      ins(%e, %k : memref<?x?xf32>, memref<?x8x?x64xf32>)
      outs(%out : memref<?x8x?x64xf32>) {
    ^bb0(%a: f32, %b: f32, %acc: f32):
      %m = arith.mulf %a, %b : f32
      %s = arith.addf %acc, %m : f32
      linalg.yield %s : f32
  }
  return
}

// -----

/// No batch loops: the reduction stops after p, which stays outside for the
/// threads to split, (p, s, d).

// CHECK-LABEL: func.func @unbatched
// CHECK:         iterator_types = ["parallel", "reduction", "parallel"]
#e = affine_map<(p, d, s) -> (p, s)>
#x = affine_map<(p, d, s) -> (s, d)>
#o = affine_map<(p, d, s) -> (p, d)>
func.func @unbatched(%e: memref<32x?xf32>, %k: memref<?x64xf32>,
                     %out: memref<32x64xf32>) {
  linalg.generic {indexing_maps = [#e, #x, #o],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%e, %k : memref<32x?xf32>, memref<?x64xf32>)
      outs(%out : memref<32x64xf32>) {
    ^bb0(%a: f32, %b: f32, %acc: f32):
      %m = arith.mulf %a, %b : f32
      %s = arith.addf %acc, %m : f32
      linalg.yield %s : f32
  }
  return
}
