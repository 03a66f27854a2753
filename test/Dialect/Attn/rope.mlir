// RUN: attune-opt %s | attune-opt | FileCheck %s

// attn.rope round-trips in every form: positions [B, S] or [S], an offset,
// no positions, per-frequency scales, both styles, both layouts. Defaults
// (base 10000, scaling 1, half style, bhsd) are not printed.

// CHECK-LABEL: func.func @forms
// CHECK: attn.rope %{{.*}} positions(%{{.*}} : tensor<?x?xi32>) : tensor<?x8x?x64xbf16>
// CHECK: attn.rope %{{.*}} positions(%{{.*}} : tensor<?xi64>) {rotary_dim = 32 : i64, style = #attn.rope_style<interleaved>} : tensor<?x8x?x64xbf16>
// CHECK: attn.rope %{{.*}} offset(%{{.*}} : index) {base = 5.000000e+05 : f64, scaling = 4.000000e+00 : f64} : tensor<?x8x?x64xbf16>
// CHECK: attn.rope %{{.*}} freq_scales(%{{.*}} : tensor<32xf32>) : tensor<?x8x?x64xbf16>
// CHECK: attn.rope %{{.*}} offset(%{{.*}} : i32) {layout = #attn.layout<bshd>} : tensor<2x16x4x8xf16>
func.func @forms(%x: tensor<?x8x?x64xbf16>, %p2: tensor<?x?xi32>,
                 %p1: tensor<?xi64>, %off: index, %s: tensor<32xf32>,
                 %y: tensor<2x16x4x8xf16>, %o32: i32) {
  %0 = attn.rope %x positions(%p2 : tensor<?x?xi32>) : tensor<?x8x?x64xbf16>
  %1 = attn.rope %x positions(%p1 : tensor<?xi64>)
      {rotary_dim = 32, style = #attn.rope_style<interleaved>} : tensor<?x8x?x64xbf16>
  %2 = attn.rope %x offset(%off : index) {base = 500000.0, scaling = 4.0}
      : tensor<?x8x?x64xbf16>
  %3 = attn.rope %x freq_scales(%s : tensor<32xf32>) : tensor<?x8x?x64xbf16>
  %4 = attn.rope %y offset(%o32 : i32) {layout = #attn.layout<bshd>} : tensor<2x16x4x8xf16>
  return
}
