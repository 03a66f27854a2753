//===- VarlenOpsTest.cpp - The oracle's varlen ops --------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// attn.unpack and attn.pack in the oracle on small packed batches whose
// every element is known: the padded rows and the zeros past each length,
// the packed rows written back and the uncovered ones left 0, and each
// error the definitions name (docs/Varlen.md).
//
//===----------------------------------------------------------------------===//

#include "OracleTestFixture.h"

#include "gtest/gtest.h"

using namespace attune::oracle;
using namespace attune::oracle::test;

namespace {

class VarlenOpsTest : public OracleFixture {};

constexpr const char *kUnpack = R"mlir(
  func.func @f(%p: tensor<?x1x1xf32>, %cu: tensor<4xi32>) -> tensor<3x1x3x1xf32> {
    %u = attn.unpack %p[%cu] : tensor<?x1x1xf32>, tensor<4xi32> -> tensor<3x1x3x1xf32>
    return %u : tensor<3x1x3x1xf32>
  })mlir";

/// Rows 10..15 packed as sequences of 2, 0 and 3 rows (row 15 unused).
TEST_F(VarlenOpsTest, UnpackPadsEachSequenceWithZeros) {
  std::vector<Array> r = run(kUnpack, {Array{{6, 1, 1}, {10, 11, 12, 13, 14, 15}},
                                       Array{{4}, {0, 2, 2, 5}}});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].data,
            (std::vector<double>{10, 11, 0, 0, 0, 0, 12, 13, 14}));
}

TEST_F(VarlenOpsTest, UnpackErrors) {
  Array packed{{6, 1, 1}, {10, 11, 12, 13, 14, 15}};
  EXPECT_NE(runExpectingError(kUnpack, {packed, Array{{4}, {0, 3, 2, 5}}})
                .find("cu_seqlens decreases at 2: [0, 3, 2, 5]"),
            std::string::npos);
  EXPECT_NE(runExpectingError(kUnpack, {packed, Array{{4}, {0, 1, 2, 7}}})
                .find("cu_seqlens must run from at least 0 to at most the 6 "
                      "packed rows, got [0, 1, 2, 7]"),
            std::string::npos);
  EXPECT_NE(runExpectingError(kUnpack, {packed, Array{{4}, {0, 4, 5, 6}}})
                .find("sequence 0 has 4 rows, more than the padded 3"),
            std::string::npos);
}

/// The padded rows of unpack's test written back: the first length rows
/// of each sequence, in a bshd input; rows no sequence covers stay 0.
TEST_F(VarlenOpsTest, PackWritesEachSequencesRows) {
  const char *source = R"mlir(
    func.func @f(%o: tensor<3x3x1x1xf32>, %cu: tensor<4xi64>) -> tensor<7x1x1xf32> {
      %p = attn.pack %o[%cu] {layout = #attn.layout<bshd>}
          : tensor<3x3x1x1xf32>, tensor<4xi64> -> tensor<7x1x1xf32>
      return %p : tensor<7x1x1xf32>
    })mlir";
  std::vector<Array> r =
      run(source, {Array{{3, 3, 1, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9}},
                   Array{{4}, {1, 3, 3, 6}}});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].data, (std::vector<double>{0, 1, 2, 7, 8, 9, 0}));
}

} // namespace
