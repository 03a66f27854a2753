// RUN: attune-opt %s | attune-opt | FileCheck %s

// attn.lsh_buckets and attn.nearest_centroid round-trip: per-head and
// shared parameters, both layouts, static and dynamic sizes. The default
// layout (bhsd) is not printed.

// CHECK-LABEL: func.func @forms
// CHECK: attn.lsh_buckets %{{.*}}, %{{.*}} : tensor<?x8x?x64xbf16>, tensor<4x8x64x32xf32> -> tensor<4x?x8x?xi32>
// CHECK: attn.lsh_buckets %{{.*}}, %{{.*}} {layout = #attn.layout<bshd>} : tensor<2x16x4x8xf16>, tensor<1x1x8x2xbf16> -> tensor<1x2x4x16xi32>
// CHECK: attn.nearest_centroid %{{.*}}, %{{.*}} : tensor<?x8x?x64xbf16>, tensor<8x16x64xf32> -> tensor<?x8x?xi32>
// CHECK: attn.nearest_centroid %{{.*}}, %{{.*}} {layout = #attn.layout<bshd>} : tensor<2x16x4x8xf16>, tensor<1x3x8xf16> -> tensor<2x4x16xi32>
func.func @forms(%x: tensor<?x8x?x64xbf16>, %rot: tensor<4x8x64x32xf32>,
                 %y: tensor<2x16x4x8xf16>, %rot1: tensor<1x1x8x2xbf16>,
                 %c: tensor<8x16x64xf32>, %c1: tensor<1x3x8xf16>) {
  %0 = attn.lsh_buckets %x, %rot
      : tensor<?x8x?x64xbf16>, tensor<4x8x64x32xf32> -> tensor<4x?x8x?xi32>
  %1 = attn.lsh_buckets %y, %rot1 {layout = #attn.layout<bshd>}
      : tensor<2x16x4x8xf16>, tensor<1x1x8x2xbf16> -> tensor<1x2x4x16xi32>
  %2 = attn.nearest_centroid %x, %c
      : tensor<?x8x?x64xbf16>, tensor<8x16x64xf32> -> tensor<?x8x?xi32>
  %3 = attn.nearest_centroid %y, %c1 {layout = #attn.layout<bshd>}
      : tensor<2x16x4x8xf16>, tensor<1x3x8xf16> -> tensor<2x4x16xi32>
  return
}

// CHECK-LABEL: func.func @sort
// CHECK: attn.sort_ids %{{.*}} {num_ids = 64 : i64} : tensor<?x8x?xi32>
// CHECK: attn.sort_ids %{{.*}} {num_ids = 1 : i64} : tensor<5xi32>
func.func @sort(%ids: tensor<?x8x?xi32>, %one: tensor<5xi32>) {
  %o, %s = attn.sort_ids %ids {num_ids = 64} : tensor<?x8x?xi32>
  %o1, %s1 = attn.sort_ids %one {num_ids = 1} : tensor<5xi32>
  return
}

// CHECK-LABEL: func.func @permute
// CHECK: attn.permute %{{.*}}, %{{.*}} : tensor<?x8x?x64xbf16>, tensor<?x8x?xi32>
// CHECK: attn.permute %{{.*}}, %{{.*}} {inverse, layout = #attn.layout<bshd>} : tensor<2x16x4x8xf16>, tensor<2x4x16xi32>
// CHECK: attn.permute %{{.*}}, %{{.*}} {inverse} : tensor<?x8x?xf32>, tensor<?x8x?xi32>
func.func @permute(%x: tensor<?x8x?x64xbf16>, %o: tensor<?x8x?xi32>,
                   %y: tensor<2x16x4x8xf16>, %o2: tensor<2x4x16xi32>,
                   %lse: tensor<?x8x?xf32>) {
  %0 = attn.permute %x, %o : tensor<?x8x?x64xbf16>, tensor<?x8x?xi32>
  %1 = attn.permute %y, %o2 {inverse, layout = #attn.layout<bshd>}
      : tensor<2x16x4x8xf16>, tensor<2x4x16xi32>
  %2 = attn.permute %lse, %o {inverse} : tensor<?x8x?xf32>, tensor<?x8x?xi32>
  return
}
