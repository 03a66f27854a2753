//===- PagedOpsTest.cpp - The oracle's paged KV cache ops -------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// attn.gather_pages and attn.append_pages in the oracle on small caches
// whose every element is known: the gathered rows and the zeros past the
// length, both cache layouts, the rows written by an append and the rows it
// leaves, and each error the definitions name (docs/PagedKV.md).
//
//===----------------------------------------------------------------------===//

#include "OracleTestFixture.h"

#include "gtest/gtest.h"

using namespace attune::oracle;
using namespace attune::oracle::test;

namespace {

class PagedOpsTest : public OracleFixture {};

/// A cache [N, P, 1, 1] whose element is 10 * page + row.
Array numberedCache(int64_t pages, int64_t pageSize) {
  Array cache{{pages, pageSize, 1, 1}, {}};
  for (int64_t n = 0; n < pages; ++n)
    for (int64_t p = 0; p < pageSize; ++p)
      cache.data.push_back(10.0 * double(n) + double(p));
  return cache;
}

constexpr const char *kGather = R"mlir(
  func.func @f(%c: tensor<?x2x1x1xf32>, %t: tensor<2x3xi32>, %l: tensor<2xi32>)
      -> tensor<2x1x6x1xf32> {
    %g = attn.gather_pages %c[%t] lengths(%l)
        : tensor<?x2x1x1xf32>, tensor<2x3xi32>, tensor<2xi32> -> tensor<2x1x6x1xf32>
    return %g : tensor<2x1x6x1xf32>
  })mlir";

/// Sequence 0 holds 5 rows in pages 3, 0, 2; sequence 1 holds 1 row in page
/// 1, and its other entries are padding (-1, 99) that must not be read.
TEST_F(PagedOpsTest, GatherReadsPagesInOrderAndZerosPastTheLength) {
  std::vector<Array> r =
      run(kGather, {numberedCache(4, 2), Array{{2, 3}, {3, 0, 2, 1, -1, 99}},
                    Array{{2}, {5, 1}}});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].shape, (std::vector<int64_t>{2, 1, 6, 1}));
  EXPECT_EQ(r[0].data, (std::vector<double>{30, 31, 0, 1, 20, 0, //
                                            10, 0, 0, 0, 0, 0}));
}

/// An HND cache [N, H, P, D] gathered into bshd: heads and features land in
/// their places.
TEST_F(PagedOpsTest, GatherHndIntoBshd) {
  const char *source = R"mlir(
    func.func @f(%c: tensor<2x2x2x1xf32>, %t: tensor<1x2xindex>, %l: tensor<1xi64>)
        -> tensor<1x4x2x1xf32> {
      %g = attn.gather_pages %c[%t] lengths(%l)
          {layout = #attn.layout<bshd>, cache_layout = #attn.layout<bhsd>}
          : tensor<2x2x2x1xf32>, tensor<1x2xindex>, tensor<1xi64> -> tensor<1x4x2x1xf32>
      return %g : tensor<1x4x2x1xf32>
    })mlir";
  // cache[n, h, p, 0] = 100 n + 10 h + p; pages 1 then 0, 3 rows.
  Array cache{{2, 2, 2, 1}, {0, 1, 10, 11, 100, 101, 110, 111}};
  std::vector<Array> r =
      run(source, {cache, Array{{1, 2}, {1, 0}}, Array{{1}, {3}}});
  ASSERT_EQ(r.size(), 1u);
  // [b = 0][row][head]: rows 0, 1 from page 1, row 2 from page 0, row 3 = 0.
  EXPECT_EQ(r[0].data,
            (std::vector<double>{100, 110, 101, 111, 0, 10, 0, 0}));
}

TEST_F(PagedOpsTest, GatherErrors) {
  // A page holding a row below the length outside the cache.
  EXPECT_NE(runExpectingError(kGather, {numberedCache(4, 2),
                                        Array{{2, 3}, {3, 4, 2, 1, 0, 0}},
                                        Array{{2}, {3, 1}}})
                .find("block_table[0, 1] = 4 is outside the cache's 4 pages "
                      "(it holds row 2 of sequence 0)"),
            std::string::npos);
  // A length past the table.
  EXPECT_NE(runExpectingError(kGather, {numberedCache(4, 2),
                                        Array{{2, 3}, {3, 0, 2, 1, 0, 0}},
                                        Array{{2}, {1, 7}}})
                .find("seq_lens[1] = 7 is outside [0, 6]"),
            std::string::npos);
  EXPECT_NE(runExpectingError(kGather, {numberedCache(4, 2),
                                        Array{{2, 3}, {3, 0, 2, 1, 0, 0}},
                                        Array{{2}, {-1, 0}}})
                .find("seq_lens[0] = -1 is outside [0, 6]"),
            std::string::npos);
}

constexpr const char *kAppend = R"mlir(
  func.func @f(%r: tensor<2x1x2x1xf32>, %c: tensor<4x2x1x1xf32>,
               %t: tensor<2x2xi32>, %l: tensor<2xi32>) -> tensor<4x2x1x1xf32> {
    %n = attn.append_pages %r into %c[%t] lengths(%l)
        : tensor<2x1x2x1xf32>, tensor<4x2x1x1xf32>, tensor<2x2xi32>, tensor<2xi32>
    return %n : tensor<4x2x1x1xf32>
  })mlir";

/// Sequence 0 (length 1, pages 2, 0) gets rows at positions 1, 2: page 2
/// row 1, page 0 row 0. Sequence 1 (length 0, pages 3, 1) at 0, 1: page 3.
TEST_F(PagedOpsTest, AppendWritesAtTheLengths) {
  std::vector<Array> r =
      run(kAppend, {Array{{2, 1, 2, 1}, {-1, -2, -3, -4}}, numberedCache(4, 2),
                    Array{{2, 2}, {2, 0, 3, 1}}, Array{{2}, {1, 0}}});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].data, (std::vector<double>{-2, 1, 10, 11, 20, -1, -3, -4}));
}

TEST_F(PagedOpsTest, AppendErrors) {
  Array rows{{2, 1, 2, 1}, {-1, -2, -3, -4}};
  // Both sequences list page 2 and write its row 1.
  EXPECT_NE(runExpectingError(kAppend, {rows, numberedCache(4, 2),
                                        Array{{2, 2}, {2, 0, 2, 1}},
                                        Array{{2}, {1, 1}}})
                .find("row 0 of sequence 1 and row 0 of sequence 0 are both "
                      "written to row 1 of page 2"),
            std::string::npos);
  // Length 3 plus 2 rows exceeds the 4 rows of two pages.
  EXPECT_NE(runExpectingError(kAppend, {rows, numberedCache(4, 2),
                                        Array{{2, 2}, {2, 0, 3, 1}},
                                        Array{{2}, {1, 3}}})
                .find("seq_lens[1] = 3 plus 2 new rows exceeds the table's 4 "
                      "rows"),
            std::string::npos);
  // A page written outside the cache.
  EXPECT_NE(runExpectingError(kAppend, {rows, numberedCache(4, 2),
                                        Array{{2, 2}, {2, 0, -1, 1}},
                                        Array{{2}, {1, 0}}})
                .find("block_table[1, 0] = -1 is outside the cache's 4 pages"),
            std::string::npos);
}

} // namespace
