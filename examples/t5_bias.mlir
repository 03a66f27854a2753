// T5 relative position bias, as in T5 / mT5 / Flan-T5 encoders (t5-small's
// sizes: 8 heads, D = 64, 32 buckets, max_distance 128). The relative position
// j - i is mapped to one of 32 buckets and each (bucket, head) has a learned
// scalar bias, added to the score. Bidirectional (encoder self-attention), no
// mask. T5 does not scale Q.K^T by 1/sqrt(D), hence scale(1.0).
//
//   score(s, b, h, i, j) = s + table[bucket(j - i), h]
//
// bucket(r), as in T5's _relative_position_bucket(r, bidirectional=True,
// num_buckets=32, max_distance=128):
//   n      = |r|
//   half   = 16 if r > 0 else 0            (keys after the query: upper half)
//   bucket = half + n                                   if n < 8
//          = half + min(8 + floor(log(n/8) / log(16) * 8), 15)  otherwise
//
// The log branch is computed exactly in integers: 8 + floor(8 log(n/8)/log 16)
// = 8 + floor(2 log2(n/8)) = 2 + floor(log2(n*n)) = 65 - ctlz64(n*n), and n is
// first clamped to 127, which leaves every bucket unchanged (all n >= 91 land
// in bucket 15) and makes min(., 15) implicit. Integers avoid the float log,
// whose last-bit rounding at n = 16, 32, 64 could otherwise flip a bucket
// between targets. Every bucket is in [0, 31], so the extract is in bounds.
//
// Expects: Q, K, V [B, 8, S, 64] f32 (Sq may differ from Sk); capture
// table : tensor<32x8xf32> [bucket, head], uniform random values.

func.func @t5_bias(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>,
                   %v: tensor<?x8x?x64xf32>, %table: tensor<32x8xf32>)
    -> tensor<?x8x?x64xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>,
                       tensor<?x8x?x64xf32>)
      captures(%table : tensor<32x8xf32>) scale(1.0)
      -> tensor<?x8x?x64xf32>
    score(%s, %b, %h, %i, %j, %t) {
      %c0 = arith.constant 0 : i64
      %c8 = arith.constant 8 : i64        // max_exact = num_buckets / 2 / 2
      %c16 = arith.constant 16 : i64      // num_buckets / 2
      %c65 = arith.constant 65 : i64
      %c127 = arith.constant 127 : i64    // max_distance - 1
      %ii = arith.index_cast %i : index to i64
      %jj = arith.index_cast %j : index to i64
      %rel = arith.subi %jj, %ii : i64
      %after = arith.cmpi sgt, %rel, %c0 : i64
      %half = arith.select %after, %c16, %c0 : i64
      %abs = math.absi %rel : i64
      %n = arith.minsi %abs, %c127 : i64
      %nn = arith.muli %n, %n : i64
      %lz = math.ctlz %nn : i64
      %large = arith.subi %c65, %lz : i64
      %small = arith.cmpi slt, %n, %c8 : i64
      %inHalf = arith.select %small, %n, %large : i64
      %bucket = arith.addi %half, %inHalf : i64
      %bi = arith.index_cast %bucket : i64 to index
      %bias = tensor.extract %t[%bi, %h] : tensor<32x8xf32>
      %r = arith.addf %s, %bias : f32
      attn.yield %r : f32
    }
  return %o : tensor<?x8x?x64xf32>
}
