// RUN: attune-opt %s | attune-opt | FileCheck %s

// attn.gather_pages and attn.append_pages round-trip, with both cache
// layouts, both result layouts and dynamic batch sizes.

// CHECK-LABEL: func.func @gather_nhd
// CHECK: attn.gather_pages %{{.*}}[%{{.*}}] lengths(%{{.*}}) : tensor<64x16x2x128xbf16>, tensor<?x8xi32>, tensor<?xi32> -> tensor<?x2x128x128xbf16>
func.func @gather_nhd(%cache: tensor<64x16x2x128xbf16>, %table: tensor<?x8xi32>,
                      %lens: tensor<?xi32>) -> tensor<?x2x128x128xbf16> {
  %k = attn.gather_pages %cache[%table] lengths(%lens)
      : tensor<64x16x2x128xbf16>, tensor<?x8xi32>, tensor<?xi32>
      -> tensor<?x2x128x128xbf16>
  return %k : tensor<?x2x128x128xbf16>
}

// CHECK-LABEL: func.func @gather_hnd_bshd
// CHECK: attn.gather_pages %{{.*}}[%{{.*}}] lengths(%{{.*}}) {cache_layout = #attn.layout<bhsd>, layout = #attn.layout<bshd>} : tensor<?x4x1x64xf32>, tensor<3x?xindex>, tensor<3xi64> -> tensor<3x?x4x64xf32>
func.func @gather_hnd_bshd(%cache: tensor<?x4x1x64xf32>, %table: tensor<3x?xindex>,
                           %lens: tensor<3xi64>) -> tensor<3x?x4x64xf32> {
  %k = attn.gather_pages %cache[%table] lengths(%lens)
      {cache_layout = #attn.layout<bhsd>, layout = #attn.layout<bshd>}
      : tensor<?x4x1x64xf32>, tensor<3x?xindex>, tensor<3xi64>
      -> tensor<3x?x4x64xf32>
  return %k : tensor<3x?x4x64xf32>
}

// CHECK-LABEL: func.func @append
// CHECK: attn.append_pages %{{.*}} into %{{.*}}[%{{.*}}] lengths(%{{.*}}) : tensor<?x2x1x128xf16>, tensor<64x16x2x128xf16>, tensor<?x8xi32>, tensor<?xi32>
func.func @append(%new: tensor<?x2x1x128xf16>, %cache: tensor<64x16x2x128xf16>,
                  %table: tensor<?x8xi32>, %lens: tensor<?xi32>)
    -> tensor<64x16x2x128xf16> {
  %c = attn.append_pages %new into %cache[%table] lengths(%lens)
      : tensor<?x2x1x128xf16>, tensor<64x16x2x128xf16>, tensor<?x8xi32>,
        tensor<?xi32>
  return %c : tensor<64x16x2x128xf16>
}
