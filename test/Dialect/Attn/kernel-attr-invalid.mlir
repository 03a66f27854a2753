// RUN: not attune-opt %s -split-input-file 2>&1 | FileCheck %s

/// A malformed #attn.kernel is a parse error with a location.

// CHECK: kernel-attr-invalid.mlir:[[# @LINE + 2]]:{{[0-9]+}}: error: expected ::attune::attn::KernelRole to be one of: fwd, decode, combine, planes
// CHECK: error: failed to parse Attn_KernelAttr parameter 'role'
func.func @role() attributes {attn.kernel = #attn.kernel<role = bwd, block = 128>} {
  return
}

// -----

// CHECK: kernel-attr-invalid.mlir:[[# @LINE + 1]]:{{[0-9]+}}: error: struct is missing required parameter: block
func.func @block() attributes {attn.kernel = #attn.kernel<role = fwd>} {
  return
}
