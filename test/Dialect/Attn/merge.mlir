// RUN: attune-opt %s -split-input-file -verify-diagnostics | attune-opt | FileCheck %s

// attn.merge round-trips (the default bhsd layout is not printed) and its
// verifier names each error.

// CHECK-LABEL: func.func @forms
// CHECK: attn.merge (%{{.*}}, %{{.*}}), (%{{.*}}, %{{.*}}), (%{{.*}}, %{{.*}}) : tensor<?x8x?x64xbf16>, tensor<?x8x?xf32>
// CHECK: attn.merge (%{{.*}}, %{{.*}}) {layout = #attn.layout<bshd>} : tensor<2x16x4x8xf32>, tensor<2x4x16xf32>
func.func @forms(%o: tensor<?x8x?x64xbf16>, %l: tensor<?x8x?xf32>,
                 %p: tensor<2x16x4x8xf32>, %m: tensor<2x4x16xf32>) {
  %0:2 = attn.merge (%o, %l), (%o, %l), (%o, %l)
      : tensor<?x8x?x64xbf16>, tensor<?x8x?xf32>
  %1:2 = attn.merge (%p, %m) {layout = #attn.layout<bshd>}
      : tensor<2x16x4x8xf32>, tensor<2x4x16xf32>
  return
}

// -----

func.func @rank(%o: tensor<8x16x64xf32>, %l: tensor<1x8x16xf32>) {
  // expected-error @+1 {{expected O to have rank 4, got 'tensor<8x16x64xf32>'}}
  %0:2 = attn.merge (%o, %l) : tensor<8x16x64xf32>, tensor<1x8x16xf32>
  return
}

// -----

func.func @element(%o: tensor<1x8x16x64xf64>, %l: tensor<1x8x16xf32>) {
  // expected-error @+1 {{expected O's element type to be f32, f16 or bf16, got 'f64'}}
  %0:2 = attn.merge (%o, %l) : tensor<1x8x16x64xf64>, tensor<1x8x16xf32>
  return
}

// -----

func.func @lse_type(%o: tensor<1x8x16x64xf32>, %l: tensor<1x8x16xf16>) {
  // expected-error @+1 {{expected lse to be an f32 tensor [B, H, S], got 'tensor<1x8x16xf16>'}}
  %0:2 = attn.merge (%o, %l) : tensor<1x8x16x64xf32>, tensor<1x8x16xf16>
  return
}

// -----

func.func @lse_shape(%o: tensor<1x16x8x64xf32>, %l: tensor<1x8x16xf32>) {
  // expected-error @+1 {{expected lse [B, H, S] to match O's B, H and S, got 'tensor<1x8x16xf32>' for 'tensor<1x16x8x64xf32>'}}
  %0:2 = attn.merge (%o, %l) : tensor<1x16x8x64xf32>, tensor<1x8x16xf32>
  return
}

// -----

func.func @partial_type(%o: tensor<1x8x16x64xf32>, %p: tensor<1x8x16x64xf16>, %l: tensor<1x8x16xf32>) {
  // expected-error @+1 {{expected partial output #1 to have the result type 'tensor<1x8x16x64xf32>', got 'tensor<1x8x16x64xf16>'}}
  %0:2 = "attn.merge"(%o, %p, %l, %l) : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf16>, tensor<1x8x16xf32>, tensor<1x8x16xf32>) -> (tensor<1x8x16x64xf32>, tensor<1x8x16xf32>)
  return
}

// -----

func.func @empty() {
  // expected-error @+1 {{expected at least one (O, lse) pair}}
  %0:2 = "attn.merge"() : () -> (tensor<1x8x16x64xf32>, tensor<1x8x16xf32>)
  return
}
