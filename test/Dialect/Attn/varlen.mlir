// RUN: attune-opt %s | attune-opt | FileCheck %s

// attn.unpack and attn.pack round-trip, with static and dynamic padded
// lengths and totals, both layouts.

// CHECK-LABEL: func.func @unpack_dynamic
// CHECK: attn.unpack %{{.*}}[%{{.*}}] max_len(%{{.*}} : index) : tensor<?x8x64xbf16>, tensor<5xi32> -> tensor<4x8x?x64xbf16>
func.func @unpack_dynamic(%p: tensor<?x8x64xbf16>, %cu: tensor<5xi32>, %m: index)
    -> tensor<4x8x?x64xbf16> {
  %u = attn.unpack %p[%cu] max_len(%m : index)
      : tensor<?x8x64xbf16>, tensor<5xi32> -> tensor<4x8x?x64xbf16>
  return %u : tensor<4x8x?x64xbf16>
}

// CHECK-LABEL: func.func @unpack_static_bshd
// CHECK: attn.unpack %{{.*}}[%{{.*}}] {layout = #attn.layout<bshd>} : tensor<100x2x32xf32>, tensor<?xindex> -> tensor<?x64x2x32xf32>
func.func @unpack_static_bshd(%p: tensor<100x2x32xf32>, %cu: tensor<?xindex>)
    -> tensor<?x64x2x32xf32> {
  %u = attn.unpack %p[%cu] {layout = #attn.layout<bshd>}
      : tensor<100x2x32xf32>, tensor<?xindex> -> tensor<?x64x2x32xf32>
  return %u : tensor<?x64x2x32xf32>
}

// CHECK-LABEL: func.func @pack
// CHECK: attn.pack %{{.*}}[%{{.*}}] total(%{{.*}} : index) : tensor<4x8x?x64xf16>, tensor<5xi64> -> tensor<?x8x64xf16>
// CHECK: attn.pack %{{.*}}[%{{.*}}] : tensor<4x8x?x64xf16>, tensor<5xi64> -> tensor<77x8x64xf16>
func.func @pack(%o: tensor<4x8x?x64xf16>, %cu: tensor<5xi64>, %t: index)
    -> (tensor<?x8x64xf16>, tensor<77x8x64xf16>) {
  %p = attn.pack %o[%cu] total(%t : index)
      : tensor<4x8x?x64xf16>, tensor<5xi64> -> tensor<?x8x64xf16>
  %s = attn.pack %o[%cu] : tensor<4x8x?x64xf16>, tensor<5xi64> -> tensor<77x8x64xf16>
  return %p, %s : tensor<?x8x64xf16>, tensor<77x8x64xf16>
}
