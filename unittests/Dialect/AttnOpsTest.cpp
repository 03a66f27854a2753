//===- AttnOpsTest.cpp - Tests of the attn.attention C++ API ---*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The builder and accessors that passes rely on: building an op from C++,
// the derived sizes (heads, group size, head sizes), the default scale and
// the layout's dimension positions.
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/InitAll.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace mlir;
using namespace attune;

namespace {

class AttnOpsTest : public ::testing::Test {
protected:
  AttnOpsTest() {
    DialectRegistry registry;
    registerAllDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
  }

  /// Builds `func @f(q, k, v)` holding one attention op of the given shapes
  /// in `layout`, and returns the op.
  attn::AttentionOp build(ArrayRef<int64_t> qShape, ArrayRef<int64_t> kShape,
                          ArrayRef<int64_t> vShape, ArrayRef<int64_t> oShape,
                          attn::Layout layout, FloatAttr scale = {},
                          bool withLse = false) {
    OpBuilder b(&ctx);
    Location loc = b.getUnknownLoc();
    module = ModuleOp::create(loc);
    b.setInsertionPointToEnd(module->getBody());
    Type f32 = b.getF32Type();
    auto q = RankedTensorType::get(qShape, f32);
    auto k = RankedTensorType::get(kShape, f32);
    auto v = RankedTensorType::get(vShape, f32);
    auto o = RankedTensorType::get(oShape, f32);
    auto fn = func::FuncOp::create(b, loc, "f",
                                   b.getFunctionType({q, k, v}, {o}));
    Block *body = fn.addEntryBlock();
    b.setInsertionPointToEnd(body);
    Type lse;
    if (withLse)
      lse = RankedTensorType::get(
          {qShape[0], oShape[layout == attn::Layout::bhsd ? 1 : 2],
           oShape[layout == attn::Layout::bhsd ? 2 : 1]},
          f32);
    auto op = attn::AttentionOp::create(
        b, loc, o, lse, body->getArgument(0), body->getArgument(1),
        body->getArgument(2), ValueRange{}, scale, layout);
    func::ReturnOp::create(b, loc, op.getOutput());
    return op;
  }

  MLIRContext ctx;
  OwningOpRef<ModuleOp> module;
};

TEST_F(AttnOpsTest, BuilderMakesVerifiedGqaOp) {
  attn::AttentionOp op = build({2, 8, 17, 64}, {2, 2, 33, 64}, {2, 2, 33, 32},
                               {2, 8, 17, 32}, attn::Layout::bhsd);
  ASSERT_TRUE(succeeded(verify(*module)));
  EXPECT_EQ(op.getNumQueryHeads(), 8);
  EXPECT_EQ(op.getNumKVHeads(), 2);
  EXPECT_EQ(op.getGroupSize(), 4);
  EXPECT_EQ(op.getHeadSize(), 64);
  EXPECT_EQ(op.getValueHeadSize(), 32);
  EXPECT_DOUBLE_EQ(op.getScaleValue(), 1.0 / 8.0);
  EXPECT_EQ(op.getScoreBlock(), nullptr);
  EXPECT_EQ(op.getMaskBlock(), nullptr);
  EXPECT_EQ(op.getLse(), Value());
}

TEST_F(AttnOpsTest, BshdLayoutReadsHeadsFromDimensionTwo) {
  attn::AttentionOp op =
      build({1, 17, 6, 128}, {1, 9, 3, 128}, {1, 9, 3, 128}, {1, 17, 6, 128},
            attn::Layout::bshd, {}, /*withLse=*/true);
  ASSERT_TRUE(succeeded(verify(*module)));
  attn::LayoutDims d = op.getLayoutDims();
  EXPECT_EQ(d.batch, 0u);
  EXPECT_EQ(d.seq, 1u);
  EXPECT_EQ(d.head, 2u);
  EXPECT_EQ(d.feature, 3u);
  EXPECT_EQ(op.getNumQueryHeads(), 6);
  EXPECT_EQ(op.getGroupSize(), 2);
  EXPECT_DOUBLE_EQ(op.getScaleValue(), 1.0 / std::sqrt(128.0));
  ASSERT_TRUE(op.getLse());
}

TEST_F(AttnOpsTest, ExplicitScaleWins) {
  OpBuilder b(&ctx);
  attn::AttentionOp op =
      build({1, 1, 4, 16}, {1, 1, 4, 16}, {1, 1, 4, 16}, {1, 1, 4, 16},
            attn::Layout::bhsd, b.getF32FloatAttr(0.5f));
  ASSERT_TRUE(succeeded(verify(*module)));
  EXPECT_DOUBLE_EQ(op.getScaleValue(), 0.5);
}

TEST_F(AttnOpsTest, VerifierRejectsIndivisibleHeads) {
  build({1, 6, 4, 16}, {1, 4, 4, 16}, {1, 4, 4, 16}, {1, 6, 4, 16},
        attn::Layout::bhsd);
  std::string message;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &diag) {
    message = diag.str();
    return success();
  });
  EXPECT_TRUE(failed(verify(*module)));
  EXPECT_NE(message.find("multiple of the key/value head count"),
            std::string::npos)
      << message;
}

TEST_F(AttnOpsTest, ParsedRegionsAreReachable) {
  const char *src = R"mlir(
    func.func @f(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x4x8xf32>,
                 %v: tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32> {
      %o = attn.attention ins(%q, %k, %v : tensor<1x1x4x8xf32>,
          tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32>
        mask(%b, %h, %i, %j) {
          %c = arith.cmpi ule, %j, %i : index
          attn.yield %c : i1
        }
      return %o : tensor<1x1x4x8xf32>
    })mlir";
  OwningOpRef<ModuleOp> parsed = parseSourceString<ModuleOp>(src, &ctx);
  ASSERT_TRUE(parsed);
  attn::AttentionOp op;
  parsed->walk([&](attn::AttentionOp found) { op = found; });
  ASSERT_TRUE(op);
  Block *mask = op.getMaskBlock();
  ASSERT_NE(mask, nullptr);
  EXPECT_EQ(mask->getNumArguments(), attn::AttentionOp::kNumIndexArgs);
  Value decision = attn::AttentionOp::getYieldedValue(mask);
  EXPECT_TRUE(decision.getType().isInteger(1));
  EXPECT_TRUE(isa<arith::CmpIOp>(decision.getDefiningOp()));
}

} // namespace
