// RUN: attune-opt %s -split-input-file | FileCheck %s
// RUN: attune-opt %s -split-input-file | attune-opt -split-input-file | FileCheck %s

/// #attn.kernel, the launch contract convert-attn-to-nvvm gives each kernel
/// and the artifact writer reads: parameters at their defaults are omitted
/// when printed and may be omitted when parsed; it survives a round trip.

// CHECK-LABEL: func.func @forward
// CHECK-SAME:    attn.kernel = #attn.kernel<role = fwd, block = 128, shared_bytes = 51208, tile_q = 128, tile_k = 64>
func.func @forward() attributes {attn.kernel = #attn.kernel<role = fwd, block = 128, shared_bytes = 51208, tile_q = 128, tile_k = 64, heads_per_cta = 1>} {
  return
}

// -----

// CHECK-LABEL: func.func @decode
// CHECK-SAME:    attn.kernel = #attn.kernel<role = decode, block = 32, shared_bytes = 36872, tile_q = 16, tile_k = 64, splits = 16, heads_per_cta = 4, max_sq = 4>
func.func @decode() attributes {attn.kernel = #attn.kernel<role = decode, block = 32, shared_bytes = 36872, tile_q = 16, tile_k = 64, splits = 16, heads_per_cta = 4, max_sq = 4>} {
  return
}

// -----

// CHECK-LABEL: func.func @planes
// CHECK-SAME:    attn.kernel = #attn.kernel<role = planes, block = 128, operand = "k", planes = 3, rows = 16>
func.func @planes() attributes {attn.kernel = #attn.kernel<role = planes, block = 128, operand = "k", planes = 3, rows = 16>} {
  return
}
