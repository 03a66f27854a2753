//===- OracleTest.cpp - Tests for the float64 oracle ------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Each test parses a small spec, evaluates it with the oracle and compares
// the result with a value computed by hand (or, for the bshd layout, with the
// bhsd result on transposed data).
//
//===----------------------------------------------------------------------===//

#include "OracleTestFixture.h"

#include "attune/Oracle/Oracle.h"

#include "gtest/gtest.h"

#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <string>

using namespace mlir;
using attune::oracle::Array;
using attune::oracle::test::OracleFixture;
using attune::oracle::test::randomData;

namespace {

/// A rank-0 array holding `value`.
static Array scalar(double value) { return Array{{}, {value}}; }

/// The bshd copy of a bhsd array of shape [B, H, S, D].
static Array toBSHD(const Array &a) {
  int64_t nb = a.shape[0], nh = a.shape[1], ns = a.shape[2], nd = a.shape[3];
  Array t{{nb, ns, nh, nd}, std::vector<double>(a.data.size())};
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t h = 0; h < nh; ++h)
      for (int64_t s = 0; s < ns; ++s)
        for (int64_t d = 0; d < nd; ++d)
          t.data[((b * ns + s) * nh + h) * nd + d] =
              a.data[((b * nh + h) * ns + s) * nd + d];
  return t;
}

class OracleTest : public OracleFixture {
protected:
  /// Evaluates a function of scalars returning one scalar.
  double runScalar(llvm::StringRef source, llvm::ArrayRef<double> args) {
    std::vector<Array> arrays;
    for (double a : args)
      arrays.push_back(scalar(a));
    std::vector<Array> results = run(source, arrays);
    EXPECT_EQ(results.size(), 1u);
    if (results.size() != 1 || results[0].data.size() != 1)
      return std::numeric_limits<double>::quiet_NaN();
    EXPECT_TRUE(results[0].shape.empty());
    return results[0].data[0];
  }
};

//===----------------------------------------------------------------------===//
// Attention semantics
//===----------------------------------------------------------------------===//

/// Q = [1, 2], K = [0, 1], V = [10, 20] with D = 1 (scale 1): row i has
/// scores [0, q_i] and weights [1, e^{q_i}] / (1 + e^{q_i}).
TEST_F(OracleTest, HandComputedTwoByOne) {
  const char *source = R"mlir(
    func.func @f(%q: tensor<1x1x2x1xf32>, %k: tensor<1x1x2x1xf32>, %v: tensor<1x1x2x1xf32>) -> (tensor<1x1x2x1xf32>, tensor<1x1x2xf32>) {
      %o, %lse = attn.attention ins(%q, %k, %v : tensor<1x1x2x1xf32>, tensor<1x1x2x1xf32>, tensor<1x1x2x1xf32>) -> tensor<1x1x2x1xf32>, tensor<1x1x2xf32>
      return %o, %lse : tensor<1x1x2x1xf32>, tensor<1x1x2xf32>
    })mlir";
  std::vector<Array> r =
      run(source, {Array{{1, 1, 2, 1}, {1, 2}}, Array{{1, 1, 2, 1}, {0, 1}},
                   Array{{1, 1, 2, 1}, {10, 20}}});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].shape, (std::vector<int64_t>{1, 1, 2, 1}));
  EXPECT_EQ(r[1].shape, (std::vector<int64_t>{1, 1, 2}));
  double e1 = std::exp(1.0), e2 = std::exp(2.0);
  EXPECT_NEAR(r[0].data[0], (10 + 20 * e1) / (1 + e1), 1e-12);
  EXPECT_NEAR(r[0].data[1], (10 + 20 * e2) / (1 + e2), 1e-12);
  EXPECT_NEAR(r[1].data[0], std::log(1 + e1), 1e-12);
  EXPECT_NEAR(r[1].data[1], std::log(1 + e2), 1e-12);
}

/// A NaN in Q makes its query's row of O and lse NaN and leaves the other
/// rows alone; with a single key the row's only score is NaN, which must
/// not be taken for a fully masked row (O = 0, lse = -inf).
TEST_F(OracleTest, NaNInQueryGivesNaNRow) {
  const char *source = R"mlir(
    func.func @f(%q: tensor<1x1x2x1xf32>, %k: tensor<1x1x?x1xf32>, %v: tensor<1x1x?x1xf32>) -> (tensor<1x1x2x1xf32>, tensor<1x1x2xf32>) {
      %o, %lse = attn.attention ins(%q, %k, %v : tensor<1x1x2x1xf32>, tensor<1x1x?x1xf32>, tensor<1x1x?x1xf32>) -> tensor<1x1x2x1xf32>, tensor<1x1x2xf32>
      return %o, %lse : tensor<1x1x2x1xf32>, tensor<1x1x2xf32>
    })mlir";
  double nan = std::numeric_limits<double>::quiet_NaN();
  for (int64_t keys : {1, 3}) {
    std::vector<Array> r =
        run(source, {Array{{1, 1, 2, 1}, {nan, 1}},
                     Array{{1, 1, keys, 1}, std::vector<double>(keys, 0.5)},
                     Array{{1, 1, keys, 1}, std::vector<double>(keys, 2)}});
    ASSERT_EQ(r.size(), 2u);
    EXPECT_TRUE(std::isnan(r[0].data[0])) << keys << " keys";
    EXPECT_TRUE(std::isnan(r[1].data[0])) << keys << " keys";
    EXPECT_NEAR(r[0].data[1], 2.0, 1e-12);
    EXPECT_NEAR(r[1].data[1], 0.5 + std::log(double(keys)), 1e-12);
  }
}

/// With K = 0 every score is 0, so each output row is the mean of V's rows
/// and lse = log(Sk).
TEST_F(OracleTest, UniformScoresGiveMeanOfV) {
  const char *source = R"mlir(
    func.func @f(%q: tensor<1x1x3x2xf32>, %k: tensor<1x1x4x2xf32>, %v: tensor<1x1x4x3xf32>) -> (tensor<1x1x3x3xf32>, tensor<1x1x3xf32>) {
      %o, %lse = attn.attention ins(%q, %k, %v : tensor<1x1x3x2xf32>, tensor<1x1x4x2xf32>, tensor<1x1x4x3xf32>) -> tensor<1x1x3x3xf32>, tensor<1x1x3xf32>
      return %o, %lse : tensor<1x1x3x3xf32>, tensor<1x1x3xf32>
    })mlir";
  Array v{{1, 1, 4, 3}, randomData(12, 1)};
  std::vector<Array> r =
      run(source, {Array{{1, 1, 3, 2}, randomData(6, 2)},
                   Array{{1, 1, 4, 2}, std::vector<double>(8)}, v});
  ASSERT_EQ(r.size(), 2u);
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t d = 0; d < 3; ++d) {
      double mean = 0;
      for (int64_t j = 0; j < 4; ++j)
        mean += v.data[j * 3 + d] / 4;
      EXPECT_NEAR(r[0].data[i * 3 + d], mean, 1e-12);
    }
    EXPECT_NEAR(r[1].data[i], std::log(4.0), 1e-12);
  }
}

/// A causal mask `j <= i` with equal scores averages V over the prefix.
TEST_F(OracleTest, CausalMask) {
  const char *source = R"mlir(
    func.func @f(%q: tensor<1x1x3x1xf32>, %k: tensor<1x1x3x1xf32>, %v: tensor<1x1x3x1xf32>) -> tensor<1x1x3x1xf32> {
      %o = attn.attention ins(%q, %k, %v : tensor<1x1x3x1xf32>, tensor<1x1x3x1xf32>, tensor<1x1x3x1xf32>) -> tensor<1x1x3x1xf32>
        mask(%b, %h, %i, %j) {
          %c = arith.cmpi ule, %j, %i : index
          attn.yield %c : i1
        }
      return %o : tensor<1x1x3x1xf32>
    })mlir";
  std::vector<Array> r = run(source, {Array{{1, 1, 3, 1}, {1, 2, 3}},
                                      Array{{1, 1, 3, 1}, {0, 0, 0}},
                                      Array{{1, 1, 3, 1}, {3, 6, 12}}});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_NEAR(r[0].data[0], 3.0, 1e-12);
  EXPECT_NEAR(r[0].data[1], 4.5, 1e-12);
  EXPECT_NEAR(r[0].data[2], 7.0, 1e-12);
}

/// A row whose keys are all masked gives O = 0 and lse = -inf, never NaN.
TEST_F(OracleTest, FullyMaskedRowGivesZeroAndNegInfLse) {
  const char *source = R"mlir(
    func.func @f(%q: tensor<1x1x2x2xf32>, %k: tensor<1x1x2x2xf32>, %v: tensor<1x1x2x2xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2xf32>) {
      %o, %lse = attn.attention ins(%q, %k, %v : tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>, tensor<1x1x2xf32>
        mask(%b, %h, %i, %j) {
          %c = arith.cmpi ult, %j, %i : index
          attn.yield %c : i1
        }
      return %o, %lse : tensor<1x1x2x2xf32>, tensor<1x1x2xf32>
    })mlir";
  Array v{{1, 1, 2, 2}, {5, 6, 7, 8}};
  std::vector<Array> r =
      run(source, {Array{{1, 1, 2, 2}, randomData(4, 3)},
                   Array{{1, 1, 2, 2}, randomData(4, 4)}, v});
  ASSERT_EQ(r.size(), 2u);
  for (double x : r[0].data)
    EXPECT_FALSE(std::isnan(x));
  EXPECT_EQ(r[0].data[0], 0.0);
  EXPECT_EQ(r[0].data[1], 0.0);
  EXPECT_EQ(r[1].data[0], -std::numeric_limits<double>::infinity());
  // Row 1 attends only to key 0.
  EXPECT_NEAR(r[0].data[2], 5.0, 1e-12);
  EXPECT_NEAR(r[0].data[3], 6.0, 1e-12);
  EXPECT_TRUE(std::isfinite(r[1].data[1]));
}

/// Four query heads share two key/value heads: head h reads kv head h / 2.
TEST_F(OracleTest, GroupedQueryHeadMapping) {
  const char *source = R"mlir(
    func.func @f(%q: tensor<1x4x1x1xf32>, %k: tensor<1x2x2x1xf32>, %v: tensor<1x2x2x1xf32>) -> tensor<1x4x1x1xf32> {
      %o = attn.attention ins(%q, %k, %v : tensor<1x4x1x1xf32>, tensor<1x2x2x1xf32>, tensor<1x2x2x1xf32>) -> tensor<1x4x1x1xf32>
      return %o : tensor<1x4x1x1xf32>
    })mlir";
  // Uniform scores; kv head 0 holds values {10, 11}, kv head 1 {20, 21}.
  std::vector<Array> r = run(source, {Array{{1, 4, 1, 1}, {1, 2, 3, 4}},
                                      Array{{1, 2, 2, 1}, {0, 0, 0, 0}},
                                      Array{{1, 2, 2, 1}, {10, 11, 20, 21}}});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_NEAR(r[0].data[0], 10.5, 1e-12);
  EXPECT_NEAR(r[0].data[1], 10.5, 1e-12);
  EXPECT_NEAR(r[0].data[2], 20.5, 1e-12);
  EXPECT_NEAR(r[0].data[3], 20.5, 1e-12);
}

/// The bshd layout on transposed data gives the transposed bhsd output and
/// the same lse (with GQA and a mask, so heads and positions both matter).
TEST_F(OracleTest, BshdMatchesBhsdOnTransposedData) {
  const char *bhsd = R"mlir(
    func.func @f(%q: tensor<2x4x3x5xf32>, %k: tensor<2x2x6x5xf32>, %v: tensor<2x2x6x3xf32>) -> (tensor<2x4x3x3xf32>, tensor<2x4x3xf32>) {
      %o, %lse = attn.attention ins(%q, %k, %v : tensor<2x4x3x5xf32>, tensor<2x2x6x5xf32>, tensor<2x2x6x3xf32>) -> tensor<2x4x3x3xf32>, tensor<2x4x3xf32>
        mask(%b, %h, %i, %j) {
          %s = arith.addi %i, %h : index
          %c = arith.cmpi ule, %j, %s : index
          attn.yield %c : i1
        }
      return %o, %lse : tensor<2x4x3x3xf32>, tensor<2x4x3xf32>
    })mlir";
  const char *bshd = R"mlir(
    func.func @f(%q: tensor<2x3x4x5xf32>, %k: tensor<2x6x2x5xf32>, %v: tensor<2x6x2x3xf32>) -> (tensor<2x3x4x3xf32>, tensor<2x4x3xf32>) {
      %o, %lse = attn.attention ins(%q, %k, %v : tensor<2x3x4x5xf32>, tensor<2x6x2x5xf32>, tensor<2x6x2x3xf32>) layout(bshd) -> tensor<2x3x4x3xf32>, tensor<2x4x3xf32>
        mask(%b, %h, %i, %j) {
          %s = arith.addi %i, %h : index
          %c = arith.cmpi ule, %j, %s : index
          attn.yield %c : i1
        }
      return %o, %lse : tensor<2x3x4x3xf32>, tensor<2x4x3xf32>
    })mlir";
  Array q{{2, 4, 3, 5}, randomData(120, 5)};
  Array k{{2, 2, 6, 5}, randomData(120, 6)};
  Array v{{2, 2, 6, 3}, randomData(72, 7)};
  std::vector<Array> a = run(bhsd, {q, k, v});
  std::vector<Array> b = run(bshd, {toBSHD(q), toBSHD(k), toBSHD(v)});
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  Array expected = toBSHD(a[0]);
  EXPECT_EQ(b[0].shape, expected.shape);
  for (size_t n = 0; n < expected.data.size(); ++n)
    EXPECT_NEAR(b[0].data[n], expected.data[n], 1e-14);
  for (size_t n = 0; n < a[1].data.size(); ++n)
    EXPECT_NEAR(b[1].data[n], a[1].data[n], 1e-14);
}

/// A score region adding a captured bias table read with tensor.extract.
TEST_F(OracleTest, ScoreRegionAddsCapturedBias) {
  const char *source = R"mlir(
    func.func @f(%q: tensor<1x1x2x1xf32>, %k: tensor<1x1x2x1xf32>, %v: tensor<1x1x2x1xf32>, %bias: tensor<2x2xf32>) -> tensor<1x1x2x1xf32> {
      %o = attn.attention ins(%q, %k, %v : tensor<1x1x2x1xf32>, tensor<1x1x2x1xf32>, tensor<1x1x2x1xf32>) captures(%bias : tensor<2x2xf32>) -> tensor<1x1x2x1xf32>
        score(%s, %b, %h, %i, %j, %t) {
          %x = tensor.extract %t[%i, %j] : tensor<2x2xf32>
          %r = arith.addf %s, %x : f32
          attn.yield %r : f32
        }
      return %o : tensor<1x1x2x1xf32>
    })mlir";
  // K = 0, so the scores are the bias itself.
  std::vector<Array> r =
      run(source, {Array{{1, 1, 2, 1}, {1, 1}}, Array{{1, 1, 2, 1}, {0, 0}},
                   Array{{1, 1, 2, 1}, {1, 0}}, Array{{2, 2}, {0, 1, 2, -1}}});
  ASSERT_EQ(r.size(), 1u);
  // O[i] = softmax(bias[i])[0] since V = [1, 0].
  EXPECT_NEAR(r[0].data[0], 1 / (1 + std::exp(1.0)), 1e-12);
  EXPECT_NEAR(r[0].data[1], 1 / (1 + std::exp(-3.0)), 1e-12);
}

/// Softcapping: s' = 5 * tanh(s / 5).
TEST_F(OracleTest, SoftcapScoreWithTanh) {
  const char *source = R"mlir(
    func.func @f(%q: tensor<1x1x1x1xf32>, %k: tensor<1x1x2x1xf32>, %v: tensor<1x1x2x1xf32>) -> tensor<1x1x1x1xf32> {
      %o = attn.attention ins(%q, %k, %v : tensor<1x1x1x1xf32>, tensor<1x1x2x1xf32>, tensor<1x1x2x1xf32>) -> tensor<1x1x1x1xf32>
        score(%s, %b, %h, %i, %j) {
          %cap = arith.constant 5.0 : f32
          %x = arith.divf %s, %cap : f32
          %t = math.tanh %x : f32
          %r = arith.mulf %t, %cap : f32
          attn.yield %r : f32
        }
      return %o : tensor<1x1x1x1xf32>
    })mlir";
  std::vector<Array> r =
      run(source, {Array{{1, 1, 1, 1}, {2}}, Array{{1, 1, 2, 1}, {3, -1}},
                   Array{{1, 1, 2, 1}, {1, 0}}});
  ASSERT_EQ(r.size(), 1u);
  double s0 = 5 * std::tanh(6.0 / 5), s1 = 5 * std::tanh(-2.0 / 5);
  EXPECT_NEAR(r[0].data[0], 1 / (1 + std::exp(s1 - s0)), 1e-12);
}

/// The scale attribute replaces the default 1/sqrt(D).
TEST_F(OracleTest, ScaleAttribute) {
  const char *source = R"mlir(
    func.func @f(%q: tensor<1x1x1x4xf32>, %k: tensor<1x1x2x4xf32>, %v: tensor<1x1x2x1xf32>) -> (tensor<1x1x1x1xf32>, tensor<1x1x1xf32>) {
      %o, %lse = attn.attention ins(%q, %k, %v : tensor<1x1x1x4xf32>, tensor<1x1x2x4xf32>, tensor<1x1x2x1xf32>) scale(2.0) -> tensor<1x1x1x1xf32>, tensor<1x1x1xf32>
      return %o, %lse : tensor<1x1x1x1xf32>, tensor<1x1x1xf32>
    })mlir";
  // q.k = [1, 0]; with scale 2 the scores are [2, 0].
  std::vector<Array> r =
      run(source, {Array{{1, 1, 1, 4}, {1, 0, 0, 0}},
                   Array{{1, 1, 2, 4}, {1, 0, 0, 0, 0, 1, 0, 0}},
                   Array{{1, 1, 2, 1}, {1, 0}}});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_NEAR(r[0].data[0], 1 / (1 + std::exp(-2.0)), 1e-12);
  EXPECT_NEAR(r[1].data[0], std::log(std::exp(2.0) + 1), 1e-12);
}

/// The mask is evaluated first: a score region that reads a captured
/// tensor out of bounds at (i, j) = (1, 1) (an error in the oracle) is never
/// run on the diagonal the mask removes. (A division by j - i would show
/// the same, but the verifier refuses divisors that may be zero.)
TEST_F(OracleTest, MaskIsEvaluatedBeforeScore) {
  const char *source = R"mlir(
    func.func @f(%q: tensor<1x1x2x1xf32>, %k: tensor<1x1x2x1xf32>, %v: tensor<1x1x2x1xf32>, %t: tensor<2xf32>) -> tensor<1x1x2x1xf32> {
      %o = attn.attention ins(%q, %k, %v : tensor<1x1x2x1xf32>, tensor<1x1x2x1xf32>, tensor<1x1x2x1xf32>) captures(%t : tensor<2xf32>) -> tensor<1x1x2x1xf32>
        score(%s, %b, %h, %i, %j, %table) {
          %n = arith.addi %i, %j : index
          %x = tensor.extract %table[%n] : tensor<2xf32>
          %r = arith.addf %s, %x : f32
          attn.yield %r : f32
        }
        mask(%b, %h, %i, %j, %table) {
          %c = arith.cmpi ne, %j, %i : index
          attn.yield %c : i1
        }
      return %o : tensor<1x1x2x1xf32>
    })mlir";
  std::vector<Array> r =
      run(source, {Array{{1, 1, 2, 1}, {1, 1}}, Array{{1, 1, 2, 1}, {0, 0}},
                   Array{{1, 1, 2, 1}, {3, 4}}, Array{{2}, {0, 0}}});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_NEAR(r[0].data[0], 4.0, 1e-12);
  EXPECT_NEAR(r[0].data[1], 3.0, 1e-12);
}

/// Bottom-right aligned causal mask `j <= i + (Sk - Sq)`, the offset computed
/// from tensor.dim of the arguments and passed as an index capture.
TEST_F(OracleTest, TensorDimFeedsIndexCapture) {
  const char *source = R"mlir(
    func.func @f(%q: tensor<1x1x?x1xf32>, %k: tensor<1x1x?x1xf32>, %v: tensor<1x1x?x1xf32>) -> tensor<1x1x?x1xf32> {
      %c2 = arith.constant 2 : index
      %sq = tensor.dim %q, %c2 : tensor<1x1x?x1xf32>
      %sk = tensor.dim %k, %c2 : tensor<1x1x?x1xf32>
      %off = arith.subi %sk, %sq : index
      %o = attn.attention ins(%q, %k, %v : tensor<1x1x?x1xf32>, tensor<1x1x?x1xf32>, tensor<1x1x?x1xf32>) captures(%off : index) -> tensor<1x1x?x1xf32>
        mask(%b, %h, %i, %j, %d) {
          %lim = arith.addi %i, %d : index
          %c = arith.cmpi ule, %j, %lim : index
          attn.yield %c : i1
        }
      return %o : tensor<1x1x?x1xf32>
    })mlir";
  std::vector<Array> r = run(source, {Array{{1, 1, 2, 1}, {1, 1}},
                                      Array{{1, 1, 4, 1}, {0, 0, 0, 0}},
                                      Array{{1, 1, 4, 1}, {1, 2, 3, 6}}});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].shape, (std::vector<int64_t>{1, 1, 2, 1}));
  EXPECT_NEAR(r[0].data[0], 2.0, 1e-12);
  EXPECT_NEAR(r[0].data[1], 3.0, 1e-12);
}

/// scf.if inside a score region: key 0 gets a bonus of log(3).
TEST_F(OracleTest, ScfIfInScoreRegion) {
  const char *source = R"mlir(
    func.func @f(%q: tensor<1x1x1x1xf32>, %k: tensor<1x1x2x1xf32>, %v: tensor<1x1x2x1xf32>) -> tensor<1x1x1x1xf32> {
      %o = attn.attention ins(%q, %k, %v : tensor<1x1x1x1xf32>, tensor<1x1x2x1xf32>, tensor<1x1x2x1xf32>) -> tensor<1x1x1x1xf32>
        score(%s, %b, %h, %i, %j) {
          %c0 = arith.constant 0 : index
          %first = arith.cmpi eq, %j, %c0 : index
          %r = scf.if %first -> f32 {
            %bonus = arith.constant 1.0986122886681098 : f32
            %t = arith.addf %s, %bonus : f32
            scf.yield %t : f32
          } else {
            scf.yield %s : f32
          }
          attn.yield %r : f32
        }
      return %o : tensor<1x1x1x1xf32>
    })mlir";
  std::vector<Array> r =
      run(source, {Array{{1, 1, 1, 1}, {1}}, Array{{1, 1, 2, 1}, {0, 0}},
                   Array{{1, 1, 2, 1}, {4, 0}}});
  ASSERT_EQ(r.size(), 1u);
  // Weights 3:1 up to the f32 rounding of log(3).
  EXPECT_NEAR(r[0].data[0], 3.0, 1e-6);
}

//===----------------------------------------------------------------------===//
// Scalar semantics
//===----------------------------------------------------------------------===//

/// i8 arithmetic wraps around at 8 bits.
TEST_F(OracleTest, I8ArithmeticWrapsAround) {
  const char *add = R"mlir(
    func.func @f(%a: i8, %b: i8) -> i8 {
      %c = arith.addi %a, %b : i8
      return %c : i8
    })mlir";
  const char *mul = R"mlir(
    func.func @f(%a: i8, %b: i8) -> i8 {
      %c = arith.muli %a, %b : i8
      return %c : i8
    })mlir";
  EXPECT_EQ(runScalar(add, {100, 100}), -56);
  EXPECT_EQ(runScalar(add, {-128, -1}), 127);
  EXPECT_EQ(runScalar(mul, {16, 16}), 0);
  EXPECT_EQ(runScalar(mul, {-3, 50}), 106);
}

/// Wrap-around also holds inside a mask region: (j * 64 : i8) >= 0 is true
/// for j = 0, 1 only (128 and 192 wrap to negative values).
TEST_F(OracleTest, I8WrapInsideMaskRegion) {
  const char *source = R"mlir(
    func.func @f(%q: tensor<1x1x1x1xf32>, %k: tensor<1x1x4x1xf32>, %v: tensor<1x1x4x1xf32>) -> tensor<1x1x1x1xf32> {
      %o = attn.attention ins(%q, %k, %v : tensor<1x1x1x1xf32>, tensor<1x1x4x1xf32>, tensor<1x1x4x1xf32>) -> tensor<1x1x1x1xf32>
        mask(%b, %h, %i, %j) {
          %c64 = arith.constant 64 : i8
          %c0 = arith.constant 0 : i8
          %x = arith.index_cast %j : index to i8
          %y = arith.muli %x, %c64 : i8
          %c = arith.cmpi sge, %y, %c0 : i8
          attn.yield %c : i1
        }
      return %o : tensor<1x1x1x1xf32>
    })mlir";
  std::vector<Array> r =
      run(source, {Array{{1, 1, 1, 1}, {1}}, Array{{1, 1, 4, 1}, {0, 0, 0, 0}},
                   Array{{1, 1, 4, 1}, {1, 3, 100, 1000}}});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_NEAR(r[0].data[0], 2.0, 1e-12);
}

/// Unsigned division and remainder read -1 : i8 as 255.
TEST_F(OracleTest, UnsignedDivisionAndRemainder) {
  const char *div = R"mlir(
    func.func @f(%a: i8, %b: i8) -> i8 {
      %c = arith.divui %a, %b : i8
      return %c : i8
    })mlir";
  const char *rem = R"mlir(
    func.func @f(%a: i8, %b: i8) -> i8 {
      %c = arith.remui %a, %b : i8
      return %c : i8
    })mlir";
  const char *ceil = R"mlir(
    func.func @f(%a: i8, %b: i8) -> i8 {
      %c = arith.ceildivui %a, %b : i8
      return %c : i8
    })mlir";
  EXPECT_EQ(runScalar(div, {-1, 16}), 15);
  EXPECT_EQ(runScalar(rem, {-1, 16}), 15);
  EXPECT_EQ(runScalar(div, {-128, 3}), 42);
  EXPECT_EQ(runScalar(div, {100, -1}), 0);
  EXPECT_EQ(runScalar(ceil, {-128, 3}), 43);
}

/// Shifts at 8 bits: shli into the sign bit, logical and arithmetic right
/// shifts of a negative value.
TEST_F(OracleTest, Shifts) {
  const char *shl = R"mlir(
    func.func @f(%a: i8, %b: i8) -> i8 {
      %c = arith.shli %a, %b : i8
      return %c : i8
    })mlir";
  const char *shrui = R"mlir(
    func.func @f(%a: i8, %b: i8) -> i8 {
      %c = arith.shrui %a, %b : i8
      return %c : i8
    })mlir";
  const char *shrsi = R"mlir(
    func.func @f(%a: i8, %b: i8) -> i8 {
      %c = arith.shrsi %a, %b : i8
      return %c : i8
    })mlir";
  EXPECT_EQ(runScalar(shl, {1, 7}), -128);
  EXPECT_EQ(runScalar(shl, {3, 7}), -128);
  EXPECT_EQ(runScalar(shrui, {-16, 2}), 60);
  EXPECT_EQ(runScalar(shrsi, {-16, 2}), -4);
}

/// floordivsi, ceildivsi and remsi on negative operands.
TEST_F(OracleTest, SignedDivisionRounding) {
  const char *floorDiv = R"mlir(
    func.func @f(%a: i32, %b: i32) -> i32 {
      %c = arith.floordivsi %a, %b : i32
      return %c : i32
    })mlir";
  const char *ceilDiv = R"mlir(
    func.func @f(%a: i32, %b: i32) -> i32 {
      %c = arith.ceildivsi %a, %b : i32
      return %c : i32
    })mlir";
  const char *rem = R"mlir(
    func.func @f(%a: i32, %b: i32) -> i32 {
      %c = arith.remsi %a, %b : i32
      return %c : i32
    })mlir";
  EXPECT_EQ(runScalar(floorDiv, {-7, 2}), -4);
  EXPECT_EQ(runScalar(floorDiv, {7, -2}), -4);
  EXPECT_EQ(runScalar(floorDiv, {-8, 2}), -4);
  EXPECT_EQ(runScalar(ceilDiv, {-7, 2}), -3);
  EXPECT_EQ(runScalar(ceilDiv, {7, 2}), 4);
  EXPECT_EQ(runScalar(rem, {-7, 2}), -1);
}

/// Unsigned comparisons read negative values as large unsigned ones.
TEST_F(OracleTest, CmpiUnsignedOnNegativeValues) {
  const char *ult = R"mlir(
    func.func @f(%a: i32, %b: i32) -> i1 {
      %c = arith.cmpi ult, %a, %b : i32
      return %c : i1
    })mlir";
  const char *slt = R"mlir(
    func.func @f(%a: i32, %b: i32) -> i1 {
      %c = arith.cmpi slt, %a, %b : i32
      return %c : i1
    })mlir";
  const char *maxui = R"mlir(
    func.func @f(%a: i32, %b: i32) -> i32 {
      %c = arith.maxui %a, %b : i32
      return %c : i32
    })mlir";
  EXPECT_EQ(runScalar(ult, {-1, 1}), 0);
  EXPECT_EQ(runScalar(slt, {-1, 1}), 1);
  EXPECT_EQ(runScalar(maxui, {-1, 1}), -1);
}

/// Sign- and zero-extension, truncation and index casts.
TEST_F(OracleTest, IntegerCastsRespectSignedness) {
  const char *source = R"mlir(
    func.func @f(%a: i8, %w: i32) -> (i32, i32, i8, index, index, f32) {
      %s = arith.extsi %a : i8 to i32
      %z = arith.extui %a : i8 to i32
      %t = arith.trunci %w : i32 to i8
      %i = arith.index_cast %a : i8 to index
      %u = arith.index_castui %a : i8 to index
      %f = arith.uitofp %a : i8 to f32
      return %s, %z, %t, %i, %u, %f : i32, i32, i8, index, index, f32
    })mlir";
  std::vector<Array> r = run(source, {scalar(-1), scalar(300)});
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[0].data[0], -1);
  EXPECT_EQ(r[1].data[0], 255);
  EXPECT_EQ(r[2].data[0], 44);
  EXPECT_EQ(r[3].data[0], -1);
  EXPECT_EQ(r[4].data[0], 255);
  EXPECT_EQ(r[5].data[0], 255);
}

/// truncf to bf16 rounds to nearest, ties to even (bf16 has 7 fraction
/// bits, so 1 + 2^-8 is a tie between 1 and 1 + 2^-7).
TEST_F(OracleTest, TruncFToBF16Rounds) {
  const char *source = R"mlir(
    func.func @f(%x: f32) -> f32 {
      %t = arith.truncf %x : f32 to bf16
      %e = arith.extf %t : bf16 to f32
      return %e : f32
    })mlir";
  EXPECT_EQ(runScalar(source, {1 + std::ldexp(1.0, -8)}), 1.0);
  EXPECT_EQ(runScalar(source, {1 + 3 * std::ldexp(1.0, -8)}),
            1 + std::ldexp(1.0, -6));
  EXPECT_EQ(runScalar(source, {1 + std::ldexp(1.0, -8) + std::ldexp(1.0, -20)}),
            1 + std::ldexp(1.0, -7));
}

/// truncf to f16 overflows to infinity past the largest f16 (65504).
TEST_F(OracleTest, TruncFToF16Overflows) {
  const char *source = R"mlir(
    func.func @f(%x: f32) -> f32 {
      %t = arith.truncf %x : f32 to f16
      %e = arith.extf %t : f16 to f32
      return %e : f32
    })mlir";
  EXPECT_EQ(runScalar(source, {65519}), 65504);
  EXPECT_EQ(runScalar(source, {65520}),
            std::numeric_limits<double>::infinity());
  EXPECT_EQ(runScalar(source, {1.0 / 3}), 0.333251953125);
}

/// Ordered predicates are false on NaN, unordered ones true.
TEST_F(OracleTest, CmpfOrderedAndUnorderedOnNaN) {
  const char *source = R"mlir(
    func.func @f(%a: f32, %b: f32) -> (i1, i1, i1, i1, i1, i1) {
      %olt = arith.cmpf olt, %a, %b : f32
      %ult = arith.cmpf ult, %a, %b : f32
      %oeq = arith.cmpf oeq, %a, %b : f32
      %une = arith.cmpf une, %a, %b : f32
      %ord = arith.cmpf ord, %a, %b : f32
      %uno = arith.cmpf uno, %a, %b : f32
      return %olt, %ult, %oeq, %une, %ord, %uno : i1, i1, i1, i1, i1, i1
    })mlir";
  double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<Array> r = run(source, {scalar(nan), scalar(1)});
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[0].data[0], 0);
  EXPECT_EQ(r[1].data[0], 1);
  EXPECT_EQ(r[2].data[0], 0);
  EXPECT_EQ(r[3].data[0], 1);
  EXPECT_EQ(r[4].data[0], 0);
  EXPECT_EQ(r[5].data[0], 1);
  r = run(source, {scalar(0.5), scalar(1)});
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[0].data[0], 1);
  EXPECT_EQ(r[1].data[0], 1);
  EXPECT_EQ(r[4].data[0], 1);
  EXPECT_EQ(r[5].data[0], 0);
}

/// maximumf propagates NaN, maxnumf returns the other operand.
TEST_F(OracleTest, MaximumfAndMaxnumfOnNaN) {
  const char *source = R"mlir(
    func.func @f(%a: f32, %b: f32) -> (f32, f32) {
      %x = arith.maximumf %a, %b : f32
      %y = arith.maxnumf %a, %b : f32
      return %x, %y : f32, f32
    })mlir";
  double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<Array> r = run(source, {scalar(nan), scalar(2)});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(std::isnan(r[0].data[0]));
  EXPECT_EQ(r[1].data[0], 2);
}

/// scf.if between scalar ops of the function body reads outer values.
TEST_F(OracleTest, ScfIfInFunctionBody) {
  const char *source = R"mlir(
    func.func @f(%a: i32, %b: i32) -> i32 {
      %c = arith.cmpi slt, %a, %b : i32
      %r = scf.if %c -> i32 {
        %d = arith.subi %b, %a : i32
        scf.yield %d : i32
      } else {
        scf.yield %a : i32
      }
      return %r : i32
    })mlir";
  EXPECT_EQ(runScalar(source, {2, 7}), 5);
  EXPECT_EQ(runScalar(source, {9, 7}), 9);
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

/// An op the oracle does not interpret is named in the diagnostic.
TEST_F(OracleTest, UnsupportedOpIsNamed) {
  const char *source = R"mlir(
    func.func @f(%q: tensor<1x1x1x1xf32>, %k: tensor<1x1x1x1xf32>, %v: tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32> {
      %o = attn.attention ins(%q, %k, %v : tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32>
        score(%s, %b, %h, %i, %j) {
          %n = arith.bitcast %s : f32 to i32
          %r = arith.bitcast %n : i32 to f32
          attn.yield %r : f32
        }
      return %o : tensor<1x1x1x1xf32>
    })mlir";
  Array one{{1, 1, 1, 1}, {1}};
  std::string message = runExpectingError(source, {one, one, one});
  EXPECT_NE(message.find("oracle does not support 'arith.bitcast'"),
            std::string::npos)
      << message;
}

/// An op outside attn.attention that the oracle does not interpret.
TEST_F(OracleTest, UnsupportedTopLevelOpIsNamed) {
  const char *source = R"mlir(
    func.func @f(%x: f32) -> tensor<2xf32> {
      %e = tensor.from_elements %x, %x : tensor<2xf32>
      return %e : tensor<2xf32>
    })mlir";
  std::string message = runExpectingError(source, {scalar(1.0)});
  EXPECT_NE(message.find("oracle does not support 'tensor.from_elements'"),
            std::string::npos)
      << message;
}

/// An out-of-bounds tensor.extract is an error naming the indices.
TEST_F(OracleTest, OutOfBoundsExtractIsAnError) {
  const char *source = R"mlir(
    func.func @f(%q: tensor<1x1x1x1xf32>, %k: tensor<1x1x3x1xf32>, %v: tensor<1x1x3x1xf32>, %t: tensor<2xf32>) -> tensor<1x1x1x1xf32> {
      %o = attn.attention ins(%q, %k, %v : tensor<1x1x1x1xf32>, tensor<1x1x3x1xf32>, tensor<1x1x3x1xf32>) captures(%t : tensor<2xf32>) -> tensor<1x1x1x1xf32>
        score(%s, %b, %h, %i, %j, %bias) {
          %x = tensor.extract %bias[%j] : tensor<2xf32>
          %r = arith.addf %s, %x : f32
          attn.yield %r : f32
        }
      return %o : tensor<1x1x1x1xf32>
    })mlir";
  std::string message = runExpectingError(
      source, {Array{{1, 1, 1, 1}, {1}}, Array{{1, 1, 3, 1}, {0, 0, 0}},
               Array{{1, 1, 3, 1}, {0, 0, 0}}, Array{{2}, {0, 0}}});
  EXPECT_NE(
      message.find("index [2] is out of bounds for a tensor of shape [2]"),
      std::string::npos)
      << message;
  EXPECT_NE(message.find("j=2"), std::string::npos) << message;
}

/// An argument whose shape differs from the function type is an error.
TEST_F(OracleTest, WrongArgumentShapeIsAnError) {
  const char *source = R"mlir(
    func.func @f(%q: tensor<1x1x2x1xf32>, %k: tensor<1x1x2x1xf32>, %v: tensor<1x1x2x1xf32>) -> tensor<1x1x2x1xf32> {
      %o = attn.attention ins(%q, %k, %v : tensor<1x1x2x1xf32>, tensor<1x1x2x1xf32>, tensor<1x1x2x1xf32>) -> tensor<1x1x2x1xf32>
      return %o : tensor<1x1x2x1xf32>
    })mlir";
  Array good{{1, 1, 2, 1}, {0, 0}};
  std::string message =
      runExpectingError(source, {good, Array{{1, 1, 3, 1}, {0, 0, 0}}, good});
  EXPECT_NE(message.find("argument #1 has shape [1, 1, 3, 1]"),
            std::string::npos)
      << message;
}

/// Integer division by zero is an error at the op.
TEST_F(OracleTest, DivisionByZeroIsAnError) {
  const char *source = R"mlir(
    func.func @f(%a: i32, %b: i32) -> i32 {
      %c = arith.divsi %a, %b : i32
      return %c : i32
    })mlir";
  std::string message = runExpectingError(source, {scalar(1), scalar(0)});
  EXPECT_NE(message.find("integer division by zero in 'arith.divsi'"),
            std::string::npos)
      << message;
}

} // namespace
