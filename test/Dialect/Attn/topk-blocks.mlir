// RUN: attune-opt %s | attune-opt | FileCheck %s
// RUN: attune-opt %s --mlir-print-op-generic | attune-opt | FileCheck %s
// RUN: attune-opt %s --verify-roundtrip
// RUN: attune-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// attn.topk_blocks round-trips in every form: GQA, MHA and MQA, both
// layouts, static and dynamic sizes, f32, f16 and bf16, every attribute
// set and none of the defaulted ones. Defaults (local = 0, sink = 0, bhsd,
// not causal) are not printed; the generic form spells them out.

// CHECK-LABEL: func.func @forms
// CHECK: attn.topk_blocks %{{.*}}, %{{.*}} {block_k = 64 : i64, block_q = 64 : i64, causal, local = 1 : i64, sink = 1 : i64, top_k = 16 : i64} : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x8x?x?xi8>
// CHECK: attn.topk_blocks %{{.*}}, %{{.*}} {block_k = 8 : i64, block_q = 32 : i64, layout = #attn.layout<bshd>, sink = 2 : i64, top_k = 4 : i64} : tensor<2x33x4x16xf16>, tensor<2x70x1x16xf16> -> tensor<2x4x2x9xi8>
// CHECK: attn.topk_blocks %{{.*}}, %{{.*}} {block_k = 1 : i64, block_q = 16 : i64, top_k = 0 : i64} : tensor<1x4x16x8xf32>, tensor<1x4x?x8xf32> -> tensor<1x4x1x?xi8>
// CHECK: attn.topk_blocks %{{.*}}, %{{.*}} {block_k = 1 : i64, block_q = 16 : i64, top_k = 0 : i64} : tensor<1x4x16x8xf32>, tensor<1x4x?x8xf32> -> tensor<1x4x1x?xi8>
// CHECK: attn.topk_blocks %{{.*}}, %{{.*}} {block_k = 16777216 : i64, block_q = 16777216 : i64, causal, layout = #attn.layout<bshd>, local = 2147483647 : i64, sink = 2147483647 : i64, top_k = 256 : i64} : tensor<?x?x6x128xbf16>, tensor<?x?x3x128xbf16> -> tensor<?x6x?x?xi8>
// GENERIC-LABEL: "func.func"
// GENERIC: "attn.topk_blocks"(%{{.*}}, %{{.*}}) <{block_k = 64 : i64, block_q = 64 : i64, causal, layout = #attn.layout<bhsd>, local = 1 : i64, operandSegmentSizes = array<i32: 1, 1, 0, 0>, sink = 1 : i64, top_k = 16 : i64}> : (tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>) -> tensor<?x8x?x?xi8>
// GENERIC: "attn.topk_blocks"(%{{.*}}, %{{.*}}) <{block_k = 8 : i64, block_q = 32 : i64, layout = #attn.layout<bshd>, local = 0 : i64, operandSegmentSizes = array<i32: 1, 1, 0, 0>, sink = 2 : i64, top_k = 4 : i64}>
// GENERIC: "attn.topk_blocks"(%{{.*}}, %{{.*}}) <{block_k = 1 : i64, block_q = 16 : i64, layout = #attn.layout<bhsd>, local = 0 : i64, operandSegmentSizes = array<i32: 1, 1, 0, 0>, sink = 0 : i64, top_k = 0 : i64}>
func.func @forms(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x2x?x64xbf16>,
                 %qs: tensor<2x33x4x16xf16>, %ks: tensor<2x70x1x16xf16>,
                 %q32: tensor<1x4x16x8xf32>, %k32: tensor<1x4x?x8xf32>,
                 %qb: tensor<?x?x6x128xbf16>, %kb: tensor<?x?x3x128xbf16>) {
  // GQA (8 query heads on 2 key heads), causal, every attribute.
  %0 = attn.topk_blocks %q, %k {block_q = 64, block_k = 64, top_k = 16,
                                local = 1, sink = 1, causal}
      : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x8x?x?xi8>
  // MQA in [B, S, H, D], static: ceil(33 / 32) = 2, ceil(70 / 8) = 9.
  %1 = attn.topk_blocks %qs, %ks {block_q = 32, block_k = 8, top_k = 4,
                                  sink = 2, layout = #attn.layout<bshd>}
      : tensor<2x33x4x16xf16>, tensor<2x70x1x16xf16> -> tensor<2x4x2x9xi8>
  // MHA, f32, the forced blocks only; a dynamic key length.
  %2 = attn.topk_blocks %q32, %k32 {block_q = 16, block_k = 1, top_k = 0}
      : tensor<1x4x16x8xf32>, tensor<1x4x?x8xf32> -> tensor<1x4x1x?xi8>
  // The defaults spelt out are not printed.
  %3 = attn.topk_blocks %q32, %k32 {block_q = 16, block_k = 1, top_k = 0,
                                    local = 0, sink = 0,
                                    layout = #attn.layout<bhsd>}
      : tensor<1x4x16x8xf32>, tensor<1x4x?x8xf32> -> tensor<1x4x1x?xi8>
  // The largest values the verifier accepts, in the generic form.
  %4 = "attn.topk_blocks"(%qb, %kb) <{block_q = 16777216 : i64,
      block_k = 16777216 : i64, top_k = 256 : i64, local = 2147483647 : i64,
      sink = 2147483647 : i64, causal, layout = #attn.layout<bshd>,
      operandSegmentSizes = array<i32: 1, 1, 0, 0>}>
      : (tensor<?x?x6x128xbf16>, tensor<?x?x3x128xbf16>) -> tensor<?x6x?x?xi8>
  return
}

// A block map feeding the attention's mask, as docs/BlockSelection.md
// shows.
// CHECK-LABEL: func.func @feeds_mask
// CHECK: %[[KEEP:.*]] = attn.topk_blocks %{{.*}}, %{{.*}} {block_k = 16 : i64, block_q = 16 : i64, causal, local = 1 : i64, sink = 1 : i64, top_k = 3 : i64}
// CHECK: captures(%[[KEEP]] : tensor<?x4x?x?xi8>)
// CHECK: tensor.extract %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : tensor<?x4x?x?xi8>
func.func @feeds_mask(%q: tensor<?x4x?x64xbf16>, %k: tensor<?x2x?x64xbf16>,
                      %v: tensor<?x2x?x64xbf16>) -> tensor<?x4x?x64xbf16> {
  %keep = attn.topk_blocks %q, %k {block_q = 16, block_k = 16, top_k = 3,
                                   local = 1, sink = 1, causal}
      : tensor<?x4x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x4x?x?xi8>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x4x?x64xbf16>, tensor<?x2x?x64xbf16>,
                       tensor<?x2x?x64xbf16>)
      captures(%keep : tensor<?x4x?x?xi8>)
      -> tensor<?x4x?x64xbf16>
    mask(%b, %h, %i, %j, %map) {
      %c16 = arith.constant 16 : index
      %qb = arith.divui %i, %c16 : index
      %kb = arith.divui %j, %c16 : index
      %flag = tensor.extract %map[%b, %h, %qb, %kb] : tensor<?x4x?x?xi8>
      %zero = arith.constant 0 : i8
      %kept = arith.cmpi ne, %flag, %zero : i8
      attn.yield %kept : i1
    }
  return %o : tensor<?x4x?x64xbf16>
}

// Learned projections of the pooled rows (both [D, P], one P).
// CHECK-LABEL: func.func @learned
// CHECK: attn.topk_blocks %{{.*}}, %{{.*}} projections(%{{.*}}, %{{.*}} : tensor<64x32xf32>, tensor<64x32xbf16>) {block_k = 64 : i64, block_q = 128 : i64, top_k = 8 : i64} : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x8x?x?xi8>
// GENERIC-LABEL: "func.func"
// GENERIC: "attn.topk_blocks"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{block_k = 64 : i64, block_q = 128 : i64, layout = #attn.layout<bhsd>, local = 0 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1>, sink = 0 : i64, top_k = 8 : i64}>
func.func @learned(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x2x?x64xbf16>,
                   %wq: tensor<64x32xf32>, %wk: tensor<64x32xbf16>) {
  %0 = attn.topk_blocks %q, %k projections(%wq, %wk
      : tensor<64x32xf32>, tensor<64x32xbf16>)
      {block_q = 128, block_k = 64, top_k = 8}
      : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x8x?x?xi8>
  return
}
