// RUN: attune-opt %s -split-input-file -verify-diagnostics --convert-attn-to-cpu=vector-width=16 | FileCheck %s

// Staged rows of fused producers count against the per-thread stack limit:
// at D = 4096 plain attention's tiles fit (2.1e6 bytes), but Q's and K's
// staged rows for a rope add 2 x 64 x 4096 x 4 bytes and their angle
// tables (cos and sin of 65 positions x 2048 frequencies, f32) 2 x 8 x 65
// x 2048: 6.37e6 bytes in all. Then the ropes are not fused but left to
// their own lowering (attn-lower-rope, later in the pipeline), and the
// kernel reads their results like plain operands, never with an
// overflowing stack.

// CHECK-LABEL: func.func @plain_fits
// CHECK: scf.parallel
func.func @plain_fits(%q: tensor<1x1x64x4096xf32>, %k: tensor<1x1x64x4096xf32>,
                      %v: tensor<1x1x64x4096xf32>) -> tensor<1x1x64x4096xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x64x4096xf32>, tensor<1x1x64x4096xf32>, tensor<1x1x64x4096xf32>) -> tensor<1x1x64x4096xf32>
  return %o : tensor<1x1x64x4096xf32>
}

// -----

// CHECK-LABEL: func.func @rope_materialised
// CHECK: %[[QR:.*]] = attn.rope %arg0
// CHECK: %[[KR:.*]] = attn.rope %arg1
// CHECK-DAG: bufferization.to_buffer %[[QR]]
// CHECK-DAG: bufferization.to_buffer %[[KR]]
// CHECK: scf.parallel
func.func @rope_materialised(%q: tensor<1x1x64x4096xf32>, %k: tensor<1x1x64x4096xf32>,
                             %v: tensor<1x1x64x4096xf32>) -> tensor<1x1x64x4096xf32> {
  %qr = attn.rope %q : tensor<1x1x64x4096xf32>
  %kr = attn.rope %k : tensor<1x1x64x4096xf32>
  %o = attn.attention ins(%qr, %kr, %v : tensor<1x1x64x4096xf32>, tensor<1x1x64x4096xf32>, tensor<1x1x64x4096xf32>) -> tensor<1x1x64x4096xf32>
  return %o : tensor<1x1x64x4096xf32>
}

// -----

// Tiles that do not fit even without staged rows are refused.
func.func @tiles_too_big(%q: tensor<1x1x64x4096xf32>, %k: tensor<1x1x64x4096xf32>,
                         %v: tensor<1x1x64x4096xf32>) -> tensor<1x1x64x4096xf32> {
  // expected-error @+1 {{convert-attn-to-cpu: tile sizes (256, 256) at head sizes (4096, 4096) need 8.65e+06 bytes of per-thread tiles on the stack, above the limit of 3145728: use smaller tile sizes}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x64x4096xf32>, tensor<1x1x64x4096xf32>, tensor<1x1x64x4096xf32>) tile_sizes(256, 256) -> tensor<1x1x64x4096xf32>
  return %o : tensor<1x1x64x4096xf32>
}
