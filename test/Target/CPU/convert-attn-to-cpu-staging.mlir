// RUN: attune-opt %s -split-input-file -verify-diagnostics --convert-attn-to-cpu=vector-width=16

// Staged rows of fused producers count against the per-thread stack limit:
// at D = 4096 plain attention's tiles fit (2.1e6 bytes), but Q's and K's
// staged rows for a rope add 2 x 64 x 4096 x 4 bytes and their angle
// tables (cos and sin of 65 positions x 2048 frequencies, f32) 2 x 8 x 65
// x 2048, and the op is refused, not run with an overflowing stack.

func.func @plain_fits(%q: tensor<1x1x64x4096xf32>, %k: tensor<1x1x64x4096xf32>,
                      %v: tensor<1x1x64x4096xf32>) -> tensor<1x1x64x4096xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x64x4096xf32>, tensor<1x1x64x4096xf32>, tensor<1x1x64x4096xf32>) -> tensor<1x1x64x4096xf32>
  return %o : tensor<1x1x64x4096xf32>
}

// -----

func.func @rope_too_big(%q: tensor<1x1x64x4096xf32>, %k: tensor<1x1x64x4096xf32>,
                        %v: tensor<1x1x64x4096xf32>) -> tensor<1x1x64x4096xf32> {
  %qr = attn.rope %q : tensor<1x1x64x4096xf32>
  %kr = attn.rope %k : tensor<1x1x64x4096xf32>
  // expected-error @+1 {{convert-attn-to-cpu: tile sizes (64, 64) at head sizes (4096, 4096) need 6.37e+06 bytes of per-thread tiles on the stack, above the limit of 3145728: use smaller tile sizes}}
  %o = attn.attention ins(%qr, %kr, %v : tensor<1x1x64x4096xf32>, tensor<1x1x64x4096xf32>, tensor<1x1x64x4096xf32>) -> tensor<1x1x64x4096xf32>
  return %o : tensor<1x1x64x4096xf32>
}
