// RUN: attune-opt %s --arith-int-range-narrowing="int-bitwidths-supported=32" | FileCheck %s
// RUN: attune-opt %s --arith-int-range-narrowing="int-bitwidths-supported=8" | FileCheck %s --check-prefix=STATIC

/// attn.attention bounds the index arguments of its regions to [0, 2^31 - 1)
/// (InferIntRangeInterface), so upstream integer range narrowing computes
/// `j - i` in signed i32 and `i + j` in unsigned i32, but not their sum,
/// which may not fit, nor arithmetic on a captured integer, whose range is
/// unknown.

// CHECK-LABEL: func.func @ranges
// CHECK:       score(
// CHECK:         %[[J:.*]] = arith.trunci %{{.*}} : i64 to i32
// CHECK:         %[[I:.*]] = arith.trunci %{{.*}} : i64 to i32
// CHECK:         arith.subi %[[J]], %[[I]] : i32
// CHECK:         arith.extsi
// CHECK:         arith.addi %{{.*}}, %{{.*}} : i32
// CHECK:         arith.extui
// CHECK:         arith.addi %{{.*}}, %{{.*}} : i64
// CHECK:       mask(
// CHECK:         arith.cmpi ule, %{{.*}}, %{{.*}} : i32
// CHECK:         arith.addi %{{.*}}, %{{.*}} : index
func.func @ranges(%q: tensor<1x2x?x64xf32>, %k: tensor<1x2x?x64xf32>,
                  %v: tensor<1x2x?x64xf32>, %w: index) -> tensor<1x2x?x64xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x?x64xf32>,
                          tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>)
      captures(%w : index) -> tensor<1x2x?x64xf32>
    score(%s, %b, %h, %i, %j, %c) {
      %ii = arith.index_cast %i : index to i64
      %jj = arith.index_cast %j : index to i64
      %rel = arith.subi %jj, %ii : i64
      %sum = arith.addi %jj, %ii : i64
      %x = arith.addi %rel, %sum : i64
      %f = arith.sitofp %x : i64 to f32
      %r = arith.addf %s, %f : f32
      attn.yield %r : f32
    }
    mask(%b, %h, %i, %j, %c) {
      %keep = arith.cmpi ule, %j, %i : index
      %lim = arith.addi %i, %c : index
      %in = arith.cmpi ult, %j, %lim : index
      %both = arith.andi %keep, %in : i1
      attn.yield %both : i1
    }
  return %o : tensor<1x2x?x64xf32>
}

/// With static sizes the mask's and score's (b, h, i, j) are also below B,
/// Hq, Sq and Sk: (1 << h) + b + i * j <= 8 + 1 + 7 * 15 fits in i8 (and
/// the verifier accepts the shift by h, below the bit width).
// STATIC-LABEL: func.func @static_sizes
// STATIC:         arith.shli %{{.*}}, %{{.*}} : i8
// STATIC:         arith.muli %{{.*}}, %{{.*}} : i8
// STATIC:         arith.addi %{{.*}}, %{{.*}} : i8
// STATIC:         arith.cmpi ult, %{{.*}}, %{{.*}} : i8
func.func @static_sizes(%q: tensor<2x4x8x64xf32>, %k: tensor<2x4x16x64xf32>,
                        %v: tensor<2x4x16x64xf32>) -> tensor<2x4x8x64xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<2x4x8x64xf32>,
                          tensor<2x4x16x64xf32>, tensor<2x4x16x64xf32>)
      -> tensor<2x4x8x64xf32>
    mask(%b, %h, %i, %j) {
      %c1 = arith.constant 1 : index
      %w = arith.shli %c1, %h : index
      %x = arith.addi %w, %b : index
      %y = arith.muli %i, %j : index
      %z = arith.addi %x, %y : index
      %keep = arith.cmpi ult, %z, %j : index
      attn.yield %keep : i1
    }
  return %o : tensor<2x4x8x64xf32>
}
