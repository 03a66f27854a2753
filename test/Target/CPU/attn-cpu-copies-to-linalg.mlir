// RUN: attune-opt %s --attn-cpu-copies-to-linalg | FileCheck %s

// A copy into a strided subview (what tensor.concat bufferizes to) becomes
// linalg.copy, lowered to loops later; a contiguous copy stays memref.copy.

// CHECK-LABEL: func.func @strided
// CHECK-NOT:     memref.copy
// CHECK:         linalg.copy ins(%{{.*}} : memref<2x3xf32>) outs(%{{.*}} : memref<2x3xf32, strided<[6, 1], offset: 3>>)
func.func @strided(%src: memref<2x3xf32>, %dst: memref<2x6xf32>) {
  %view = memref.subview %dst[0, 3] [2, 3] [1, 1]
      : memref<2x6xf32> to memref<2x3xf32, strided<[6, 1], offset: 3>>
  memref.copy %src, %view
      : memref<2x3xf32> to memref<2x3xf32, strided<[6, 1], offset: 3>>
  return
}

// CHECK-LABEL: func.func @contiguous
// CHECK:         memref.copy
// CHECK-NOT:     linalg.copy
func.func @contiguous(%src: memref<2x3xf32>, %dst: memref<2x3xf32>) {
  memref.copy %src, %dst : memref<2x3xf32> to memref<2x3xf32>
  return
}
