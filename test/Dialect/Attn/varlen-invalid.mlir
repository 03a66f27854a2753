// RUN: attune-opt %s -split-input-file -verify-diagnostics

// One case per error of the attn.unpack and attn.pack verifiers.

func.func @packed_rank(%p: tensor<?x8x2x64xf32>, %cu: tensor<5xi32>) {
  // expected-error @+1 {{expected the packed tensor to be [T, H, D], got 'tensor<?x8x2x64xf32>'}}
  %0 = attn.unpack %p[%cu] : tensor<?x8x2x64xf32>, tensor<5xi32> -> tensor<4x8x16x64xf32>
  return
}

// -----

func.func @padded_rank(%p: tensor<?x8x64xf32>, %cu: tensor<5xi32>) {
  // expected-error @+1 {{expected the padded tensor to have rank 4, got 'tensor<4x16x64xf32>'}}
  %0 = attn.unpack %p[%cu] : tensor<?x8x64xf32>, tensor<5xi32> -> tensor<4x16x64xf32>
  return
}

// -----

func.func @element(%p: tensor<?x8x64xf64>, %cu: tensor<5xi32>) {
  // expected-error @+1 {{expected f32, f16 or bf16 elements, got 'tensor<?x8x64xf64>'}}
  %0 = attn.unpack %p[%cu] : tensor<?x8x64xf64>, tensor<5xi32> -> tensor<4x8x16x64xf64>
  return
}

// -----

func.func @mixed_elements(%p: tensor<?x8x64xf32>, %cu: tensor<5xi32>) {
  // expected-error @+1 {{expected the packed and padded tensors to have one element type}}
  %0 = attn.unpack %p[%cu] : tensor<?x8x64xf32>, tensor<5xi32> -> tensor<4x8x16x64xbf16>
  return
}

// -----

func.func @dynamic_heads(%p: tensor<?x?x64xf32>, %cu: tensor<5xi32>) {
  // expected-error @+1 {{expected the packed tensor's heads and head size to be static}}
  %0 = attn.unpack %p[%cu] : tensor<?x?x64xf32>, tensor<5xi32> -> tensor<4x8x16x64xf32>
  return
}

// -----

func.func @heads(%p: tensor<?x8x64xf32>, %cu: tensor<5xi32>) {
  // expected-error @+1 {{expected the packed and padded tensors to have the same heads and head size}}
  %0 = attn.unpack %p[%cu] : tensor<?x8x64xf32>, tensor<5xi32> -> tensor<4x4x16x64xf32>
  return
}

// -----

func.func @offsets_type(%p: tensor<?x8x64xf32>, %cu: tensor<5xf32>) {
  // expected-error @+1 {{expected 'cu_seqlens' to be a 1-D tensor of signless integers or indices ([B + 1]), got 'tensor<5xf32>'}}
  %0 = attn.unpack %p[%cu] : tensor<?x8x64xf32>, tensor<5xf32> -> tensor<4x8x16x64xf32>
  return
}

// -----

func.func @no_offsets(%p: tensor<?x8x64xf32>, %cu: tensor<0xi32>) {
  // expected-error @+1 {{expected 'cu_seqlens' to have B + 1 >= 1 entries}}
  %0 = attn.unpack %p[%cu] : tensor<?x8x64xf32>, tensor<0xi32> -> tensor<0x8x16x64xf32>
  return
}

// -----

func.func @batch(%p: tensor<?x8x64xf32>, %cu: tensor<5xi32>) {
  // expected-error @+1 {{expected the padded tensor's batch size to be size(cu_seqlens) - 1 = 4, got 'tensor<5x8x16x64xf32>'}}
  %0 = attn.unpack %p[%cu] : tensor<?x8x64xf32>, tensor<5xi32> -> tensor<5x8x16x64xf32>
  return
}

// -----

func.func @missing_max_len(%p: tensor<?x8x64xf32>, %cu: tensor<5xi32>) {
  // expected-error @+1 {{expected 'max_len' for a dynamic sequence size}}
  %0 = attn.unpack %p[%cu] : tensor<?x8x64xf32>, tensor<5xi32> -> tensor<4x8x?x64xf32>
  return
}

// -----

func.func @extra_max_len(%p: tensor<?x8x64xf32>, %cu: tensor<5xi32>, %m: index) {
  // expected-error @+1 {{expected no 'max_len' with a static sequence size}}
  %0 = attn.unpack %p[%cu] max_len(%m : index) : tensor<?x8x64xf32>, tensor<5xi32> -> tensor<4x8x16x64xf32>
  return
}

// -----

func.func @missing_total(%o: tensor<4x8x16x64xf32>, %cu: tensor<5xi32>) {
  // expected-error @+1 {{expected 'total' for a dynamic number of rows}}
  %0 = attn.pack %o[%cu] : tensor<4x8x16x64xf32>, tensor<5xi32> -> tensor<?x8x64xf32>
  return
}

// -----

func.func @extra_total(%o: tensor<4x8x16x64xf32>, %cu: tensor<5xi32>, %t: index) {
  // expected-error @+1 {{expected no 'total' with a static number of rows}}
  %0 = attn.pack %o[%cu] total(%t : index) : tensor<4x8x16x64xf32>, tensor<5xi32> -> tensor<50x8x64xf32>
  return
}

// -----

func.func @pack_heads(%o: tensor<4x8x16x64xf32>, %cu: tensor<5xi32>) {
  // expected-error @+1 {{expected the packed and padded tensors to have the same heads and head size}}
  %0 = attn.pack %o[%cu] : tensor<4x8x16x64xf32>, tensor<5xi32> -> tensor<50x8x32xf32>
  return
}
