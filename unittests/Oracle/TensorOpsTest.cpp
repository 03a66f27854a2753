//===- TensorOpsTest.cpp - The oracle's tensor/linalg ops, shapes -*- C++ -*-=//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Each test evaluates a small function of tensor and linalg ops with the
// oracle and compares with values computed by hand (or by plain loops in the
// test), and checks oracle::inferShapes on functions around attention.
//
//===----------------------------------------------------------------------===//

#include "OracleTestFixture.h"

#include "attune/Oracle/Oracle.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"

#include "gtest/gtest.h"

#include <cmath>
#include <string>

using namespace mlir;
using attune::oracle::Array;
using attune::oracle::test::OracleFixture;
using attune::oracle::test::randomData;

namespace {

/// 0, 1, 2, ... as an array of `shape`.
Array iota(std::vector<int64_t> shape) {
  Array a{shape, {}};
  a.data.resize(a.numElements());
  for (size_t k = 0; k < a.data.size(); ++k)
    a.data[k] = double(k);
  return a;
}

class TensorOpsTest : public OracleFixture {
protected:
  /// The shapes inferShapes gives the returned values, or the diagnostic.
  std::pair<std::vector<std::vector<int64_t>>, std::string>
  inferResults(llvm::StringRef source,
               llvm::ArrayRef<llvm::SmallVector<int64_t>> argShapes) {
    func::FuncOp func = parse(source);
    EXPECT_TRUE(func) << "failed to parse";
    if (!func)
      return {};
    std::string messages;
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
      messages += diag.str() + "\n";
      return success();
    });
    FailureOr<attune::oracle::ShapeMap> shapes =
        attune::oracle::inferShapes(func, argShapes);
    std::vector<std::vector<int64_t>> results;
    if (failed(shapes))
      return {results, messages};
    for (Value v : func.getBody().front().getTerminator()->getOperands()) {
      llvm::SmallVector<int64_t> shape = shapes->lookup(v);
      results.emplace_back(shape.begin(), shape.end());
    }
    return {results, messages};
  }
};

//===----------------------------------------------------------------------===//
// linalg
//===----------------------------------------------------------------------===//

/// [[1, 2, 3], [4, 5, 6]] . [[1, 0], [0, 1], [1, 1]] + fill 10.
TEST_F(TensorOpsTest, MatmulByHand) {
  const char *source = R"mlir(
    func.func @f(%a: tensor<2x3xf32>, %b: tensor<3x2xf32>) -> tensor<2x2xf32> {
      %ten = arith.constant 10.0 : f32
      %e = tensor.empty() : tensor<2x2xf32>
      %c = linalg.fill ins(%ten : f32) outs(%e : tensor<2x2xf32>) -> tensor<2x2xf32>
      %r = linalg.matmul ins(%a, %b : tensor<2x3xf32>, tensor<3x2xf32>) outs(%c : tensor<2x2xf32>) -> tensor<2x2xf32>
      return %r : tensor<2x2xf32>
    })mlir";
  std::vector<Array> r = run(source, {Array{{2, 3}, {1, 2, 3, 4, 5, 6}},
                                      Array{{3, 2}, {1, 0, 0, 1, 1, 1}}});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(r[0].data, (std::vector<double>{14, 15, 20, 21}));
}

/// batch_matmul against plain loops, with dynamic sizes.
TEST_F(TensorOpsTest, BatchMatmulMatchesLoops) {
  const char *source = R"mlir(
    func.func @f(%a: tensor<?x3x4xf32>, %b: tensor<?x4x5xf32>) -> tensor<?x3x5xf32> {
      %c0 = arith.constant 0 : index
      %zero = arith.constant 0.0 : f32
      %n = tensor.dim %a, %c0 : tensor<?x3x4xf32>
      %e = tensor.empty(%n) : tensor<?x3x5xf32>
      %c = linalg.fill ins(%zero : f32) outs(%e : tensor<?x3x5xf32>) -> tensor<?x3x5xf32>
      %r = linalg.batch_matmul ins(%a, %b : tensor<?x3x4xf32>, tensor<?x4x5xf32>) outs(%c : tensor<?x3x5xf32>) -> tensor<?x3x5xf32>
      return %r : tensor<?x3x5xf32>
    })mlir";
  Array a{{2, 3, 4}, randomData(24, 1)}, b{{2, 4, 5}, randomData(40, 2)};
  std::vector<Array> r = run(source, {a, b});
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].shape, (std::vector<int64_t>{2, 3, 5}));
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 5; ++j) {
        double want = 0;
        for (int64_t k = 0; k < 4; ++k)
          want += a.data[(n * 3 + i) * 4 + k] * b.data[(n * 4 + k) * 5 + j];
        EXPECT_NEAR(r[0].data[(n * 3 + i) * 5 + j], want, 1e-12);
      }
}

/// A broadcast (bias over rows), a reduction (row sums) and linalg.index.
TEST_F(TensorOpsTest, GenericBroadcastReductionIndex) {
  const char *source = R"mlir(
    #row = affine_map<(i, j) -> (i, j)>
    #bias = affine_map<(i, j) -> (j)>
    #sum = affine_map<(i, j) -> (i)>
    func.func @f(%x: tensor<2x3xf32>, %b: tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2xf32>) {
      %e = tensor.empty() : tensor<2x3xf32>
      %y = linalg.generic {indexing_maps = [#row, #bias, #row], iterator_types = ["parallel", "parallel"]}
          ins(%x, %b : tensor<2x3xf32>, tensor<3xf32>) outs(%e : tensor<2x3xf32>) {
        ^bb0(%u: f32, %v: f32, %o: f32):
          %s = arith.addf %u, %v : f32
          linalg.yield %s : f32
      } -> tensor<2x3xf32>
      %zero = arith.constant 0.0 : f32
      %e2 = tensor.empty() : tensor<2xf32>
      %acc = linalg.fill ins(%zero : f32) outs(%e2 : tensor<2xf32>) -> tensor<2xf32>
      %r = linalg.generic {indexing_maps = [#row, #sum], iterator_types = ["parallel", "reduction"]}
          ins(%x : tensor<2x3xf32>) outs(%acc : tensor<2xf32>) {
        ^bb0(%u: f32, %o: f32):
          %j = linalg.index 1 : index
          %ji = arith.index_cast %j : index to i32
          %jf = arith.sitofp %ji : i32 to f32
          %w = arith.mulf %u, %jf : f32
          %s = arith.addf %o, %w : f32
          linalg.yield %s : f32
      } -> tensor<2xf32>
      return %y, %r : tensor<2x3xf32>, tensor<2xf32>
    })mlir";
  std::vector<Array> r =
      run(source, {iota({2, 3}), Array{{3}, {100, 200, 300}}});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].data, (std::vector<double>{100, 201, 302, 103, 204, 305}));
  // Row sums of x[i, j] * j: 0*0 + 1*1 + 2*2 and 3*0 + 4*1 + 5*2.
  EXPECT_EQ(r[1].data, (std::vector<double>{5, 14}));
}

/// linalg.transpose and elementwise arith on tensors.
TEST_F(TensorOpsTest, TransposeAndElementwise) {
  const char *source = R"mlir(
    func.func @f(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
      %e = tensor.empty() : tensor<3x2xf32>
      %t = linalg.transpose ins(%x : tensor<2x3xf32>) outs(%e : tensor<3x2xf32>) permutation = [1, 0]
      %n = arith.negf %t : tensor<3x2xf32>
      %m = arith.mulf %n, %t : tensor<3x2xf32>
      return %m : tensor<3x2xf32>
    })mlir";
  std::vector<Array> r = run(source, {iota({2, 3})});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(r[0].data, (std::vector<double>{0, -9, -1, -16, -4, -25}));
}

/// Reading an empty tensor is undefined: the oracle gives NaN.
TEST_F(TensorOpsTest, EmptyTensorReadsAsNaN) {
  const char *source = R"mlir(
    func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> {
      %e = tensor.empty() : tensor<2xf32>
      %r = arith.addf %x, %e : tensor<2xf32>
      return %r : tensor<2xf32>
    })mlir";
  std::vector<Array> r = run(source, {Array{{2}, {1, 2}}});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(std::isnan(r[0].data[0]) && std::isnan(r[0].data[1]));
}

//===----------------------------------------------------------------------===//
// tensor
//===----------------------------------------------------------------------===//

TEST_F(TensorOpsTest, ConcatAlongEachDimension) {
  const char *source = R"mlir(
    func.func @f(%a: tensor<2x?xf32>, %b: tensor<2x1xf32>) -> (tensor<2x?xf32>, tensor<4x?xf32>) {
      %c = tensor.concat dim(1) %a, %b : (tensor<2x?xf32>, tensor<2x1xf32>) -> tensor<2x?xf32>
      %d = tensor.concat dim(0) %a, %a : (tensor<2x?xf32>, tensor<2x?xf32>) -> tensor<4x?xf32>
      return %c, %d : tensor<2x?xf32>, tensor<4x?xf32>
    })mlir";
  std::vector<Array> r = run(source, {iota({2, 2}), Array{{2, 1}, {10, 20}}});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(r[0].data, (std::vector<double>{0, 1, 10, 2, 3, 20}));
  EXPECT_EQ(r[1].shape, (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(r[1].data, (std::vector<double>{0, 1, 2, 3, 0, 1, 2, 3}));
}

/// Static and dynamic offsets, a stride of 2, a rank-reducing slice, and
/// insert_slice at a dynamic offset.
TEST_F(TensorOpsTest, Slices) {
  const char *source = R"mlir(
    func.func @f(%x: tensor<3x4xf32>, %o: index) -> (tensor<2x2xf32>, tensor<4xf32>, tensor<3x4xf32>) {
      %s = tensor.extract_slice %x[1, %o] [2, 2] [1, 2] : tensor<3x4xf32> to tensor<2x2xf32>
      %row = tensor.extract_slice %x[2, 0] [1, 4] [1, 1] : tensor<3x4xf32> to tensor<4xf32>
      %i = tensor.insert_slice %s into %x[0, %o] [2, 2] [1, 1] : tensor<2x2xf32> into tensor<3x4xf32>
      return %s, %row, %i : tensor<2x2xf32>, tensor<4xf32>, tensor<3x4xf32>
    })mlir";
  std::vector<Array> r = run(source, {iota({3, 4}), Array{{}, {1}}});
  ASSERT_EQ(r.size(), 3u);
  // Rows 1..2, columns 1 and 3.
  EXPECT_EQ(r[0].data, (std::vector<double>{5, 7, 9, 11}));
  EXPECT_EQ(r[1].shape, (std::vector<int64_t>{4}));
  EXPECT_EQ(r[1].data, (std::vector<double>{8, 9, 10, 11}));
  EXPECT_EQ(r[2].data,
            (std::vector<double>{0, 5, 7, 3, 4, 9, 11, 7, 8, 9, 10, 11}));
}

TEST_F(TensorOpsTest, SliceOutOfBoundsIsAnError) {
  const char *source = R"mlir(
    func.func @f(%x: tensor<3x4xf32>, %o: index) -> tensor<2x2xf32> {
      %s = tensor.extract_slice %x[1, %o] [2, 2] [1, 1] : tensor<3x4xf32> to tensor<2x2xf32>
      return %s : tensor<2x2xf32>
    })mlir";
  std::string message = runExpectingError(source, {iota({3, 4}), {{}, {3}}});
  EXPECT_NE(message.find("is out of bounds of a tensor of shape [3, 4]"),
            std::string::npos)
      << message;
}

TEST_F(TensorOpsTest, CollapseAndExpand) {
  const char *source = R"mlir(
    func.func @f(%x: tensor<2x3x4xf32>) -> (tensor<6x4xf32>, tensor<2x3x2x2xf32>) {
      %c = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>
      %e = tensor.expand_shape %x [[0], [1], [2, 3]] output_shape [2, 3, 2, 2] : tensor<2x3x4xf32> into tensor<2x3x2x2xf32>
      return %c, %e : tensor<6x4xf32>, tensor<2x3x2x2xf32>
    })mlir";
  Array x = iota({2, 3, 4});
  std::vector<Array> r = run(source, {x});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].shape, (std::vector<int64_t>{6, 4}));
  EXPECT_EQ(r[0].data, x.data);
  EXPECT_EQ(r[1].shape, (std::vector<int64_t>{2, 3, 2, 2}));
  EXPECT_EQ(r[1].data, x.data);
}

//===----------------------------------------------------------------------===//
// Several attention ops
//===----------------------------------------------------------------------===//

/// The second attention reads the first's output: the same as evaluating
/// the single attention twice.
TEST_F(TensorOpsTest, ChainedAttentionMatchesTwoRuns) {
  const char *chained = R"mlir(
    func.func @f(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>) -> tensor<1x2x3x4xf32> {
      %o1 = attn.attention ins(%q, %k, %v : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x3x4xf32>
      %o2 = attn.attention ins(%o1, %k, %v : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x3x4xf32>
      return %o2 : tensor<1x2x3x4xf32>
    })mlir";
  const char *single = R"mlir(
    func.func @f(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>) -> tensor<1x2x3x4xf32> {
      %o = attn.attention ins(%q, %k, %v : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x3x4xf32>
      return %o : tensor<1x2x3x4xf32>
    })mlir";
  Array q{{1, 2, 3, 4}, randomData(24, 3)}, k{{1, 2, 5, 4}, randomData(40, 4)},
      v{{1, 2, 5, 4}, randomData(40, 5)};
  std::vector<Array> once = run(single, {q, k, v});
  ASSERT_EQ(once.size(), 1u);
  std::vector<Array> twice = run(single, {once[0], k, v});
  std::vector<Array> r = run(chained, {q, k, v});
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(twice.size(), 1u);
  EXPECT_EQ(r[0].data, twice[0].data);
}

//===----------------------------------------------------------------------===//
// Shape inference
//===----------------------------------------------------------------------===//

/// Linformer-like: projection results sized by tensor.empty from tensor.dim
/// and an arith op, concat along the sequence, and attention.
TEST_F(TensorOpsTest, InferShapesThroughFunction) {
  const char *source = R"mlir(
    func.func @f(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>, %m: tensor<?x2x?x8xf32>)
        -> (tensor<?x2x?x8xf32>, tensor<?x2x?xf32>, tensor<?x2x?x8xf32>, tensor<?xf32>) {
      %c0 = arith.constant 0 : index
      %c2 = arith.constant 2 : index
      %kk = tensor.concat dim(2) %m, %k : (tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32>
      %o, %lse = attn.attention ins(%q, %kk, %kk : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32>, tensor<?x2x?xf32>
      %n = arith.negf %kk : tensor<?x2x?x8xf32>
      %s = tensor.dim %kk, %c2 : tensor<?x2x?x8xf32>
      %b = tensor.dim %q, %c0 : tensor<?x2x?x8xf32>
      %sz = arith.muli %s, %b : index
      %e = tensor.empty(%sz) : tensor<?xf32>
      return %o, %lse, %n, %e : tensor<?x2x?x8xf32>, tensor<?x2x?xf32>, tensor<?x2x?x8xf32>, tensor<?xf32>
    })mlir";
  auto [shapes, messages] =
      inferResults(source, {{3, 2, 5, 8}, {3, 2, 7, 8}, {3, 2, 4, 8}});
  ASSERT_EQ(shapes.size(), 4u) << messages;
  EXPECT_EQ(shapes[0], (std::vector<int64_t>{3, 2, 5, 8}));
  EXPECT_EQ(shapes[1], (std::vector<int64_t>{3, 2, 5}));
  EXPECT_EQ(shapes[2], (std::vector<int64_t>{3, 2, 11, 8}));
  EXPECT_EQ(shapes[3], (std::vector<int64_t>{33}));
}

/// tensor.pad grows its source (the default rule would keep its shape).
TEST_F(TensorOpsTest, InferShapesOfPad) {
  const char *source = R"mlir(
    func.func @f(%x: tensor<?x4xf32>) -> tensor<?x?xf32> {
      %c1 = arith.constant 1 : index
      %zero = arith.constant 0.0 : f32
      %p = tensor.pad %x low[%c1, 0] high[2, %c1] {
        ^bb0(%i: index, %j: index):
          tensor.yield %zero : f32
      } : tensor<?x4xf32> to tensor<?x?xf32>
      return %p : tensor<?x?xf32>
    })mlir";
  auto [shapes, messages] = inferResults(source, {{3, 4}});
  ASSERT_EQ(shapes.size(), 1u) << messages;
  EXPECT_EQ(shapes[0], (std::vector<int64_t>{6, 5}));
}

/// A size that depends on an argument's value cannot be inferred.
TEST_F(TensorOpsTest, InferShapesRefusesValueDependentSizes) {
  const char *source = R"mlir(
    func.func @f(%n: index) -> tensor<?xf32> {
      %e = tensor.empty(%n) : tensor<?xf32>
      return %e : tensor<?xf32>
    })mlir";
  auto [shapes, messages] = inferResults(source, {{}});
  EXPECT_TRUE(shapes.empty());
  EXPECT_NE(messages.find("cannot tell a size of 'tensor.empty' before "
                          "running"),
            std::string::npos)
      << messages;
}

/// Operand shapes that disagree at the requested sizes are an error before
/// anything runs: compiled code would read out of bounds.
TEST_F(TensorOpsTest, InferShapesChecksOperandsAgree) {
  const char *source = R"mlir(
    func.func @f(%a: tensor<2x?xf32>, %b: tensor<?x3xf32>, %c: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<?x3xf32>) {
      %r = linalg.matmul ins(%a, %b : tensor<2x?xf32>, tensor<?x3xf32>) outs(%c : tensor<2x3xf32>) -> tensor<2x3xf32>
      %s = tensor.concat dim(0) %b, %c : (tensor<?x3xf32>, tensor<2x3xf32>) -> tensor<?x3xf32>
      return %r, %s : tensor<2x3xf32>, tensor<?x3xf32>
    })mlir";
  auto [good, noMessages] = inferResults(source, {{2, 4}, {4, 3}, {2, 3}});
  ASSERT_EQ(good.size(), 2u) << noMessages;
  EXPECT_EQ(good[1], (std::vector<int64_t>{6, 3}));
  auto [shapes, messages] = inferResults(source, {{2, 4}, {5, 3}, {2, 3}});
  EXPECT_TRUE(shapes.empty());
  EXPECT_NE(messages.find("'linalg.matmul' has loop d2 of sizes 4 and 5"),
            std::string::npos)
      << messages;
}

/// Arguments reach attention operands through shape-preserving ops only.
TEST_F(TensorOpsTest, SameShapeOperand) {
  const char *source = R"mlir(
    #id = affine_map<(i, j) -> (i, j)>
    func.func @f(%x: tensor<?x4xf32>, %y: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>) {
      %n = arith.negf %x : tensor<?x4xf32>
      %g = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
          ins(%n : tensor<?x4xf32>) outs(%y : tensor<?x4xf32>) {
        ^bb0(%a: f32, %o: f32):
          linalg.yield %a : f32
      } -> tensor<?x4xf32>
      %c = tensor.concat dim(0) %x, %y : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
      return %n, %g, %c : tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>
    })mlir";
  func::FuncOp func = parse(source);
  ASSERT_TRUE(func);
  auto ret = func.getBody().front().getTerminator()->getOperands();
  auto source0 = [](Value v) {
    return attune::oracle::getSameShapeOperand(cast<OpResult>(v));
  };
  EXPECT_EQ(source0(ret[0]), func.getArgument(0));
  EXPECT_EQ(source0(ret[1]), ret[0]);
  EXPECT_EQ(source0(ret[2]), Value());
}

} // namespace
