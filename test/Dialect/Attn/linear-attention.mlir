// RUN: attune-opt %s | attune-opt | FileCheck %s
// RUN: attune-opt %s --mlir-print-op-generic | attune-opt | FileCheck %s
// RUN: attune-opt %s --verify-roundtrip
// RUN: attune-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// attn.linear_attention round-trips in every form: elu and favor, causal
// and not, GQA, MHA and MQA, both layouts, static and dynamic sizes, f32,
// f16 and bf16, features in f32 and bf16, a value size Dv other than D,
// every attribute set and none of the defaulted ones. Defaults (elu,
// chunk = 64, bhsd, not causal, no scale) are not printed; the generic form
// spells them out (the scale, optional, only when set).

// CHECK-LABEL: func.func @forms
// CHECK: attn.linear_attention %{{.*}}, %{{.*}}, %{{.*}} {causal, chunk = 128 : i64} : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x32xbf16> -> tensor<?x8x?x32xbf16>
// CHECK: attn.linear_attention %{{.*}}, %{{.*}}, %{{.*}} features(%{{.*}} : tensor<16x32xf32>) {feature_map = #attn.feature_map<favor>, layout = #attn.layout<bshd>, scale = 2.500000e-01 : f64} : tensor<2x33x4x16xf16>, tensor<2x70x4x16xf16>, tensor<2x70x4x8xf16> -> tensor<2x33x4x8xf16>
// CHECK: attn.linear_attention %{{.*}}, %{{.*}}, %{{.*}} features(%{{.*}} : tensor<8x5xbf16>) {causal, chunk = 1 : i64, feature_map = #attn.feature_map<favor>} : tensor<1x4x16x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32> -> tensor<1x4x16x8xf32>
// CHECK: attn.linear_attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x16x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32> -> tensor<1x4x16x8xf32>
// CHECK: attn.linear_attention %{{.*}}, %{{.*}}, %{{.*}} features(%{{.*}} : tensor<128x4096xf32>) {causal, chunk = 4096 : i64, feature_map = #attn.feature_map<favor>, layout = #attn.layout<bshd>, scale = 1.000000e+00 : f64} : tensor<?x?x6x128xbf16>, tensor<?x?x3x128xbf16>, tensor<?x?x3x1xbf16> -> tensor<?x?x6x1xbf16>
// CHECK: attn.linear_attention %{{.*}}, %{{.*}}, %{{.*}} {layout = #attn.layout<bshd>} : tensor<?x2147483647x2x4xf16>, tensor<?x2147483647x1x4xf16>, tensor<?x2147483647x1x4xf16> -> tensor<?x2147483647x2x4xf16>
// GENERIC-LABEL: "func.func"
// GENERIC: "attn.linear_attention"(%{{.*}}, %{{.*}}, %{{.*}}) <{causal, chunk = 128 : i64, feature_map = #attn.feature_map<elu>, layout = #attn.layout<bhsd>}> : (tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x32xbf16>) -> tensor<?x8x?x32xbf16>
// GENERIC: "attn.linear_attention"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{chunk = 64 : i64, feature_map = #attn.feature_map<favor>, layout = #attn.layout<bshd>, scale = 2.500000e-01 : f64}> : (tensor<2x33x4x16xf16>, tensor<2x70x4x16xf16>, tensor<2x70x4x8xf16>, tensor<16x32xf32>) -> tensor<2x33x4x8xf16>
// GENERIC: "attn.linear_attention"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{causal, chunk = 1 : i64, feature_map = #attn.feature_map<favor>, layout = #attn.layout<bhsd>}> : (tensor<1x4x16x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>, tensor<8x5xbf16>) -> tensor<1x4x16x8xf32>
// GENERIC: "attn.linear_attention"(%{{.*}}, %{{.*}}, %{{.*}}) <{chunk = 64 : i64, feature_map = #attn.feature_map<elu>, layout = #attn.layout<bhsd>}> : (tensor<1x4x16x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>) -> tensor<1x4x16x8xf32>
// GENERIC: "attn.linear_attention"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{causal, chunk = 4096 : i64, feature_map = #attn.feature_map<favor>, layout = #attn.layout<bshd>, scale = 1.000000e+00 : f64}>
// GENERIC: "attn.linear_attention"(%{{.*}}, %{{.*}}, %{{.*}}) <{chunk = 64 : i64, feature_map = #attn.feature_map<elu>, layout = #attn.layout<bshd>}>
// GENERIC-NOT: "attn.linear_attention"
func.func @forms(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x2x?x64xbf16>,
                 %v: tensor<?x2x?x32xbf16>,
                 %qs: tensor<2x33x4x16xf16>, %ks: tensor<2x70x4x16xf16>,
                 %vs: tensor<2x70x4x8xf16>, %ws: tensor<16x32xf32>,
                 %q32: tensor<1x4x16x8xf32>, %k32: tensor<1x1x?x8xf32>,
                 %v32: tensor<1x1x?x8xf32>, %w16: tensor<8x5xbf16>,
                 %qb: tensor<?x?x6x128xbf16>, %kb: tensor<?x?x3x128xbf16>,
                 %vb: tensor<?x?x3x1xbf16>, %wb: tensor<128x4096xf32>,
                 %qh: tensor<?x2147483647x2x4xf16>,
                 %kh: tensor<?x2147483647x1x4xf16>) {
  // GQA (8 query heads on 2 key heads), elu, causal in chunks of 128,
  // Dv = 32 != D = 64, dynamic batch and sequence lengths.
  %0 = attn.linear_attention %q, %k, %v
      {feature_map = #attn.feature_map<elu>, causal, chunk = 128}
      : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x32xbf16>
     -> tensor<?x8x?x32xbf16>
  // MHA in [B, S, H, D], static, f16, FAVOR+ with f32 features and a scale,
  // not causal: Sq = 33 queries on Sk = 70 keys, Dv = 8.
  %1 = attn.linear_attention %qs, %ks, %vs features(%ws : tensor<16x32xf32>)
      {feature_map = #attn.feature_map<favor>, scale = 0.25,
       layout = #attn.layout<bshd>}
      : tensor<2x33x4x16xf16>, tensor<2x70x4x16xf16>, tensor<2x70x4x8xf16>
     -> tensor<2x33x4x8xf16>
  // MQA, f32, FAVOR+ with bf16 features and the scale defaulted, causal in
  // chunks of one key; a dynamic key length.
  %2 = attn.linear_attention %q32, %k32, %v32 features(%w16 : tensor<8x5xbf16>)
      {feature_map = #attn.feature_map<favor>, causal, chunk = 1}
      : tensor<1x4x16x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>
     -> tensor<1x4x16x8xf32>
  // The defaults spelt out are not printed.
  %3 = attn.linear_attention %q32, %k32, %v32
      {feature_map = #attn.feature_map<elu>, chunk = 64,
       layout = #attn.layout<bhsd>}
      : tensor<1x4x16x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>
     -> tensor<1x4x16x8xf32>
  // The largest chunk and feature count the verifier accepts, Dv = 1, in
  // the generic form; dynamic batch and sequence lengths in [B, S, H, D].
  %4 = "attn.linear_attention"(%qb, %kb, %vb, %wb) <{causal,
      chunk = 4096 : i64, feature_map = #attn.feature_map<favor>,
      layout = #attn.layout<bshd>, scale = 1.0 : f64}>
      : (tensor<?x?x6x128xbf16>, tensor<?x?x3x128xbf16>,
         tensor<?x?x3x1xbf16>, tensor<128x4096xf32>)
     -> tensor<?x?x6x1xbf16>
  // The longest sequences (2^31 - 1); the generic form with every
  // defaulted attribute left out.
  %5 = "attn.linear_attention"(%qh, %kh, %kh) <{layout = #attn.layout<bshd>}>
      : (tensor<?x2147483647x2x4xf16>, tensor<?x2147483647x1x4xf16>,
         tensor<?x2147483647x1x4xf16>) -> tensor<?x2147483647x2x4xf16>
  return
}

// The docs' examples (docs/LinearAttention.md): a causal GQA elu layer and
// an MHA FAVOR+ layer with 128 features, their results returned.
// CHECK-LABEL: func.func @docs
// CHECK: %[[O:.*]] = attn.linear_attention %{{.*}}, %{{.*}}, %{{.*}} {causal} : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x8x?x64xbf16>
// CHECK: %[[P:.*]] = attn.linear_attention %{{.*}}, %{{.*}}, %{{.*}} features(%{{.*}} : tensor<64x128xf32>) {feature_map = #attn.feature_map<favor>} : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
// CHECK: return %[[O]], %[[P]] : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xf32>
// GENERIC-LABEL: "func.func"
// GENERIC: "attn.linear_attention"(%{{.*}}, %{{.*}}, %{{.*}}) <{causal, chunk = 64 : i64, feature_map = #attn.feature_map<elu>, layout = #attn.layout<bhsd>}>
// GENERIC: "attn.linear_attention"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{chunk = 64 : i64, feature_map = #attn.feature_map<favor>, layout = #attn.layout<bhsd>}> : (tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<64x128xf32>) -> tensor<?x8x?x64xf32>
func.func @docs(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x2x?x64xbf16>,
                %v: tensor<?x2x?x64xbf16>, %qf: tensor<?x8x?x64xf32>,
                %kf: tensor<?x8x?x64xf32>, %vf: tensor<?x8x?x64xf32>,
                %w: tensor<64x128xf32>)
    -> (tensor<?x8x?x64xbf16>, tensor<?x8x?x64xf32>) {
  %o = attn.linear_attention %q, %k, %v {feature_map = #attn.feature_map<elu>,
                                          causal}
      : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>
     -> tensor<?x8x?x64xbf16>
  %p = attn.linear_attention %qf, %kf, %vf features(%w : tensor<64x128xf32>)
      {feature_map = #attn.feature_map<favor>}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>
     -> tensor<?x8x?x64xf32>
  return %o, %p : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xf32>
}
