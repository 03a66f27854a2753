// RUN: attune-opt %s --attn-print-tile-map -verify-diagnostics -o /dev/null

/// Dynamic sequence lengths need seq-q and seq-k.
func.func @dynamic(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  // expected-error @+1 {{attn-print-tile-map: the sequence lengths are dynamic; pass seq-q and seq-k}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32>
  return %o : tensor<1x2x?x8xf32>
}
