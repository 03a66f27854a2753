// RUN: attune-opt %s -split-input-file --attn-cpu-entry-points | FileCheck %s

/// Memref results become trailing out-parameters with a run-time size
/// check for each dynamic dimension, then a copy.
// CHECK-LABEL: func.func @entry(
//  CHECK-SAME:     %[[IN:.*]]: memref<?x4xf32>, %[[OUT:.*]]: memref<?x4xf32>)
//  CHECK-SAME:     attributes {llvm.emit_c_interface}
//       CHECK:   %[[WANT:.*]] = memref.dim %[[IN]], %{{.*}} : memref<?x4xf32>
//       CHECK:   %[[HAVE:.*]] = memref.dim %[[OUT]], %{{.*}} : memref<?x4xf32>
//       CHECK:   %[[SAME:.*]] = arith.cmpi eq, %[[WANT]], %[[HAVE]] : index
//       CHECK:   cf.assert %[[SAME]], "attune: result buffer 0 of @entry has the wrong size in dimension 0"
//       CHECK:   memref.copy %[[IN]], %[[OUT]]
//       CHECK:   return{{$}}
func.func @entry(%in: memref<?x4xf32>) -> memref<?x4xf32> {
  return %in : memref<?x4xf32>
}

// -----

/// A result the function allocates is computed in the caller's buffer: the
/// allocation becomes the out-parameter, after the size check; no copy.
// CHECK-LABEL: func.func @in_place(
//  CHECK-SAME:     %[[IN:.*]]: memref<?x4xf32>, %[[OUT:.*]]: memref<?x4xf32>)
//   CHECK-NOT:   memref.alloc
//       CHECK:   %[[N:.*]] = memref.dim %[[IN]]
//       CHECK:   %[[HAVE:.*]] = memref.dim %[[OUT]], %{{.*}} : memref<?x4xf32>
//       CHECK:   %[[SAME:.*]] = arith.cmpi eq, %[[N]], %[[HAVE]] : index
//       CHECK:   cf.assert %[[SAME]], "attune: result buffer 0 of @in_place has the wrong size in dimension 0"
//       CHECK:   memref.store %{{.*}}, %[[OUT]]
//   CHECK-NOT:   memref.copy
//       CHECK:   return{{$}}
func.func @in_place(%in: memref<?x4xf32>) -> memref<?x4xf32> {
  %c0 = arith.constant 0 : index
  %f = arith.constant 1.0 : f32
  %n = memref.dim %in, %c0 : memref<?x4xf32>
  %r = memref.alloc(%n) : memref<?x4xf32>
  memref.store %f, %r[%c0, %c0] : memref<?x4xf32>
  return %r : memref<?x4xf32>
}

// -----

/// Driver metadata (`attn.*` argument attributes) is dropped.
// CHECK-LABEL: func.func @metadata(
//  CHECK-SAME:     %{{.*}}: memref<?xi32>)
//   CHECK-NOT:   attn.range
func.func @metadata(%lens: memref<?xi32> {attn.dims = ["B"], attn.range = [0, 4]}) {
  return
}

// -----

/// Private functions keep their signature.
// CHECK-LABEL: func.func private @helper(
//  CHECK-SAME:     -> memref<4xf32>
//   CHECK-NOT:   llvm.emit_c_interface
func.func private @helper(%in: memref<4xf32>) -> memref<4xf32> {
  return %in : memref<4xf32>
}
