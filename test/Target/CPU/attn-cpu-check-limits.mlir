// RUN: attune-opt %s -split-input-file --attn-cpu-check-limits -verify-diagnostics
// RUN: attune-opt %s -split-input-file --attn-cpu-pipeline -verify-diagnostics

// The CPU target refuses head sizes above 4096 and static shapes whose
// bytes overflow int64 at once, instead of compiling for minutes.

func.func @head_size_65536(%q: tensor<1x1x4x65536xf32>, %k: tensor<1x1x4x65536xf32>, %v: tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32> {
  // expected-error @+1 {{'attn.attention' op has head size D = 65536, above the CPU target's limit of 4096}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x4x65536xf32>, tensor<1x1x4x65536xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32>
  return %o : tensor<1x1x4x8xf32>
}

// -----

func.func @value_head_size_8192(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8192xf32>) -> tensor<1x1x4x8192xf32> {
  // expected-error @+1 {{'attn.attention' op has value head size Dv = 8192, above the CPU target's limit of 4096}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8192xf32>) -> tensor<1x1x4x8192xf32>
  return %o : tensor<1x1x4x8192xf32>
}

// -----

func.func @bytes_overflow(%q: tensor<1073741824x1073741824x1073741824x8xf32>, %k: tensor<1073741824x1073741824x1x8xf32>, %v: tensor<1073741824x1073741824x1x8xf32>) -> tensor<1073741824x1073741824x1073741824x8xf32> {
  // expected-error @+1 {{'attn.attention' op has an operand or result of type 'tensor<1073741824x1073741824x1073741824x8xf32>', whose size in bytes does not fit in 64 bits}}
  %o = attn.attention ins(%q, %k, %v : tensor<1073741824x1073741824x1073741824x8xf32>, tensor<1073741824x1073741824x1x8xf32>, tensor<1073741824x1073741824x1x8xf32>) -> tensor<1073741824x1073741824x1073741824x8xf32>
  return %o : tensor<1073741824x1073741824x1073741824x8xf32>
}


// -----

// Upstream's memref lowering crashes on a group of two dynamic sizes.
func.func @expand_two_dynamic(%x: tensor<?x16xf32>, %n: index, %m: index) -> tensor<?x2x?x16xf32> {
  // expected-error @+1 {{'tensor.expand_shape' op has a reassociation group with more than one dynamic size, which the CPU target does not support}}
  %e = tensor.expand_shape %x [[0, 1, 2], [3]] output_shape [%n, 2, %m, 16] : tensor<?x16xf32> into tensor<?x2x?x16xf32>
  return %e : tensor<?x2x?x16xf32>
}

// -----

// A dimension that does not exist is undefined behaviour; an upstream fold
// of the pipeline crashed on this one (fuzz/corpus/spec/cpu-dim-out-of-range.mlir).
func.func @dim_out_of_range(%q: tensor<?x8x?x64xf32>) -> tensor<?x8x32x64xf32> {
  %c = arith.constant -1 : index
  // expected-error @+1 {{'tensor.dim' op reads dimension -1 of a rank-4 value, which does not exist}}
  %n = tensor.dim %q, %c : tensor<?x8x?x64xf32>
  %e = tensor.empty(%n) : tensor<?x8x32x64xf32>
  return %e : tensor<?x8x32x64xf32>
}

// -----

func.func @memref_dim_out_of_range(%x: memref<?x4xf32>) -> index {
  %c = arith.constant 2 : index
  // expected-error @+1 {{'memref.dim' op reads dimension 2 of a rank-2 value, which does not exist}}
  %n = memref.dim %x, %c : memref<?x4xf32>
  return %n : index
}
