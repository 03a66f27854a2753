//===- RegionLoweringTest.cpp - Tests of the region lowering ---*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The region-argument accessors of attn.attention and the parts of the
// region lowering both targets share: the variance analysis, the affine
// position casts, hoisting and inlining with capture reads.
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/Utils/RegionLowering.h"
#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/InitAll.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include "gtest/gtest.h"

using namespace mlir;
using namespace attune;
using attn::AttentionOp;
using attn::RegionDim;

namespace {

/// ALiBi with a padding mask: the slope read depends on h only, the
/// distance j - i is affine in the positions, the padding read on j.
constexpr const char *kSpec = R"mlir(
func.func @f(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>,
             %v: tensor<1x2x8x16xf32>, %slopes: tensor<2xf32>,
             %pad: tensor<8xi1>, %n: index) -> tensor<1x2x8x16xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x8x16xf32>,
                          tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
      captures(%slopes, %pad, %n : tensor<2xf32>, tensor<8xi1>, index)
      -> tensor<1x2x8x16xf32>
    score(%s, %b, %h, %i, %j, %sl, %p, %c) {
      %m = tensor.extract %sl[%h] : tensor<2xf32>
      %ii = arith.index_cast %i : index to i64
      %jj = arith.index_cast %j : index to i64
      %d = arith.subi %jj, %ii : i64
      %df = arith.sitofp %d : i64 to f32
      %bias = arith.mulf %m, %df : f32
      %r = arith.addf %s, %bias : f32
      attn.yield %r : f32
    }
    mask(%b, %h, %i, %j, %sl, %p, %c) {
      %keep = tensor.extract %p[%j] : tensor<8xi1>
      attn.yield %keep : i1
    }
  return %o : tensor<1x2x8x16xf32>
}
)mlir";

class RegionLoweringTest : public ::testing::Test {
protected:
  RegionLoweringTest() {
    DialectRegistry registry;
    registerAllDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
    module = parseSourceString<ModuleOp>(kSpec, &ctx);
    module->walk([&](AttentionOp found) { op = found; });
  }

  /// The first op of `block` named `name`.
  static Operation *find(Block *block, StringRef name) {
    for (Operation &nested : *block)
      if (nested.getName().getStringRef() == name)
        return &nested;
    return nullptr;
  }

  MLIRContext ctx;
  OwningOpRef<ModuleOp> module;
  AttentionOp op;
};

TEST_F(RegionLoweringTest, AccessorsNameArgumentsByRole) {
  ASSERT_TRUE(op);
  Block *score = op.getScoreBlock(), *mask = op.getMaskBlock();
  EXPECT_TRUE(AttentionOp::isScoreBlock(score));
  EXPECT_FALSE(AttentionOp::isScoreBlock(mask));
  EXPECT_EQ(AttentionOp::getNumLeadingArgs(score), 5u);
  EXPECT_EQ(AttentionOp::getNumLeadingArgs(mask), 4u);
  EXPECT_EQ(AttentionOp::getScoreArg(score), score->getArgument(0));
  // i is argument 3 of the score region and 2 of the mask region.
  EXPECT_EQ(AttentionOp::getIndexArg(score, RegionDim::I),
            score->getArgument(3));
  EXPECT_EQ(AttentionOp::getIndexArg(mask, RegionDim::I), mask->getArgument(2));
  EXPECT_EQ(AttentionOp::getIndexArgs(mask).size(), 4u);
  EXPECT_EQ(AttentionOp::getCaptureArgs(score).size(), 3u);
  EXPECT_EQ(AttentionOp::getCaptureArg(mask, 1), mask->getArgument(5));
  EXPECT_EQ(AttentionOp::getCaptureNumber(mask, mask->getArgument(6)), 2u);
  EXPECT_EQ(AttentionOp::getCaptureNumber(mask, mask->getArgument(3)),
            std::nullopt);
}

TEST_F(RegionLoweringTest, VarianceFollowsTheSeeds) {
  ASSERT_TRUE(op);
  Block *score = op.getScoreBlock();
  Operation *slope = find(score, "tensor.extract");
  Operation *cast = find(score, "arith.sitofp");
  attn::RegionVariance perElement(
      score, {AttentionOp::getScoreArg(score),
              AttentionOp::getIndexArg(score, RegionDim::I),
              AttentionOp::getIndexArg(score, RegionDim::J)});
  EXPECT_TRUE(perElement.isHoistable(*slope));
  EXPECT_FALSE(perElement.isHoistable(*cast));
  EXPECT_TRUE(perElement.isVarying(AttentionOp::getYieldedValue(score)));
  // With h among the seeds (heads packed into rows), the slope varies too.
  attn::RegionVariance packed(score,
                              {AttentionOp::getIndexArg(score, RegionDim::I),
                               AttentionOp::getIndexArg(score, RegionDim::H)});
  EXPECT_FALSE(packed.isHoistable(*slope));
}

TEST_F(RegionLoweringTest, FindsTheAffineDistanceCast) {
  ASSERT_TRUE(op);
  Block *score = op.getScoreBlock();
  attn::AffineCasts casts =
      attn::findAffineCasts(score, [](Value) { return false; });
  ASSERT_EQ(casts.size(), 1u);
  EXPECT_EQ(casts.begin()->first, find(score, "arith.sitofp"));
  // j - i: ci = -1, cj = 1.
  EXPECT_EQ(casts.begin()->second, std::make_pair(int64_t(-1), int64_t(1)));
}

TEST_F(RegionLoweringTest, HoistsInvariantsAndReadsCapturesFromBuffers) {
  ASSERT_TRUE(op);
  Block *score = op.getScoreBlock();
  OpBuilder b(op);
  Location loc = op.getLoc();
  // Buffers for the tensor captures; the index capture stays a scalar.
  Value slopes =
      memref::AllocaOp::create(b, loc, MemRefType::get({2}, b.getF32Type()));
  Value pad =
      memref::AllocaOp::create(b, loc, MemRefType::get({8}, b.getI1Type()));
  SmallVector<Value> buffers{slopes, pad, Value()};
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value s = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(1.0f));

  attn::RegionVariance variance(score,
                                {AttentionOp::getScoreArg(score),
                                 AttentionOp::getIndexArg(score, RegionDim::I),
                                 AttentionOp::getIndexArg(score, RegionDim::J)},
                                /*opaqueOpsVary=*/true);
  IRMapping arguments, hoisted;
  attn::mapRegionArguments(score, Value(), {zero, one, Value(), Value()},
                           op.getCaptures(), arguments);
  attn::hoistInvariants(b, score, variance, arguments, buffers, hoisted);
  // The slope read was hoisted as a load of the buffer.
  Operation *slope = find(score, "tensor.extract");
  Value hoistedSlope = hoisted.lookupOrNull(slope->getResult(0));
  ASSERT_TRUE(hoistedSlope);
  auto load = hoistedSlope.getDefiningOp<memref::LoadOp>();
  ASSERT_TRUE(load);
  EXPECT_EQ(load.getMemRef(), slopes);
  EXPECT_EQ(load.getIndices().front(), one);

  IRMapping mapping;
  attn::mapRegionArguments(score, s, {zero, one, zero, one}, op.getCaptures(),
                           mapping);
  int clones = 0;
  Value result = attn::inlineRegion(
      b, score, mapping, buffers,
      [&](Operation &nested, IRMapping &m) {
        return attn::lookupHoisted(nested, hoisted, m);
      },
      [&](Operation *) { ++clones; });
  // Everything but the hoisted read is cloned: 2 casts, subi, sitofp,
  // mulf, addf.
  EXPECT_EQ(clones, 6);
  auto add = result.getDefiningOp<arith::AddFOp>();
  ASSERT_TRUE(add);
  EXPECT_EQ(add.getLhs(), s);
  auto mul = add.getRhs().getDefiningOp<arith::MulFOp>();
  ASSERT_TRUE(mul);
  EXPECT_EQ(mul.getLhs(), hoistedSlope);

  // The mask reads the padding at j from its buffer.
  Block *mask = op.getMaskBlock();
  IRMapping maskMapping;
  attn::mapRegionArguments(mask, Value(), {zero, one, zero, one},
                           op.getCaptures(), maskMapping);
  Value keep = attn::inlineRegion(b, mask, maskMapping, buffers);
  auto padLoad = keep.getDefiningOp<memref::LoadOp>();
  ASSERT_TRUE(padLoad);
  EXPECT_EQ(padLoad.getMemRef(), pad);
  EXPECT_EQ(padLoad.getIndices().front(), one);
}

} // namespace
