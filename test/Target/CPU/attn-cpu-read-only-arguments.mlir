// RUN: attune-opt %s --attn-cpu-read-only-arguments | FileCheck %s

// Tensor arguments become non-writable, so an op whose init is an argument
// writes into a copy instead of the caller's buffer; scalars are untouched.

// CHECK-LABEL: func.func @negate
// CHECK-SAME:    %{{.*}}: tensor<4xf32> {bufferization.writable = false}
// CHECK-SAME:    %{{.*}}: f32)
func.func @negate(%x: tensor<4xf32>, %s: f32) -> tensor<4xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      outs(%x : tensor<4xf32>) {
    ^bb0(%a: f32):
      %n = arith.mulf %a, %s : f32
      linalg.yield %n : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}
