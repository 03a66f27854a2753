// RUN: attune-opt %s -split-input-file --attn-sparsify --convert-attn-to-nvvm=mma=wgmma | FileCheck %s

/// ALiBi's bias converts j - i to f32 per score element. The kernel converts
/// it once per thread and tile, at the thread's first element (i0, j0), and
/// adds each element's constant offset (here: key +1, row +8, key +8): an
/// add instead of a conversion per element, exact below 2^24.
/// The region's float arithmetic, and the kernel's scaling of the score
/// before it, may contract into FMAs (s * scale + slope * (j - i)).
// CHECK-LABEL: gpu.func @alibi_fwd
// CHECK:         %[[SCALED:.*]] = arith.mulf %{{.*}}, %{{.*}} fastmath<contract> : f32
// CHECK:         %[[BASE:.*]] = arith.sitofp %{{.*}} : i64 to f32
// CHECK:         %[[BIAS:.*]] = arith.mulf %{{.*}}, %[[BASE]] fastmath<contract> : f32
// CHECK:         arith.addf %[[SCALED]], %[[BIAS]] fastmath<contract> : f32
// CHECK-NOT:     arith.sitofp
// CHECK-DAG:     %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG:     arith.addf %[[BASE]], %[[ONE]] : f32
// CHECK-DAG:     %[[MINUS8:.*]] = arith.constant -8.000000e+00 : f32
// CHECK-DAG:     arith.addf %[[BASE]], %[[MINUS8]] : f32
// CHECK-DAG:     %[[EIGHT:.*]] = arith.constant 8.000000e+00 : f32
// CHECK-DAG:     arith.addf %[[BASE]], %[[EIGHT]] : f32
// CHECK:         scf.yield
// CHECK:         %[[BASE2:.*]] = arith.sitofp %{{.*}} : i64 to f32
// CHECK-NOT:     arith.sitofp
// CHECK:         gpu.return
func.func @alibi(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>,
                 %v: tensor<?x8x?x64xbf16>, %slopes: tensor<8xf32>)
    -> tensor<?x8x?x64xbf16> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>,
                       tensor<?x8x?x64xbf16>)
      captures(%slopes : tensor<8xf32>)
      -> tensor<?x8x?x64xbf16>
    score(%s, %b, %h, %i, %j, %m) {
      %slope = tensor.extract %m[%h] : tensor<8xf32>
      %ii = arith.index_cast %i : index to i64
      %jj = arith.index_cast %j : index to i64
      %rel = arith.subi %jj, %ii : i64
      %relf = arith.sitofp %rel : i64 to f32
      %bias = arith.mulf %slope, %relf : f32
      %r = arith.addf %s, %bias : f32
      attn.yield %r : f32
    }
    mask(%b, %h, %i, %j, %m) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x64xbf16>
}

// -----

/// A converted position that becomes an index again (here: a bucket read)
/// keeps its conversion per element (32 per path, two paths): reads use
/// clamped positions.
// CHECK-LABEL: gpu.func @bucket_fwd
// CHECK-COUNT-64: arith.sitofp
// CHECK-NOT:     arith.sitofp
// CHECK:         gpu.return
func.func @bucket(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>,
                  %v: tensor<?x8x?x64xbf16>, %bias: tensor<64xf32>)
    -> tensor<?x8x?x64xbf16> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>,
                       tensor<?x8x?x64xbf16>)
      captures(%bias : tensor<64xf32>)
      -> tensor<?x8x?x64xbf16>
    score(%s, %b, %h, %i, %j, %t) {
      %ii = arith.index_cast %i : index to i64
      %jj = arith.index_cast %j : index to i64
      %rel = arith.subi %jj, %ii : i64
      %relf = arith.sitofp %rel : i64 to f32
      %scaled = arith.mulf %relf, %relf : f32
      %bucket64 = arith.fptosi %scaled : f32 to i64
      %c63 = arith.constant 63 : i64
      %c0 = arith.constant 0 : i64
      %lo = arith.maxsi %bucket64, %c0 : i64
      %hi = arith.minsi %lo, %c63 : i64
      %bucket = arith.index_cast %hi : i64 to index
      %bb = tensor.extract %t[%bucket] : tensor<64xf32>
      %r = arith.addf %s, %bb : f32
      attn.yield %r : f32
    }
  return %o : tensor<?x8x?x64xbf16>
}
