//===- LowerMerge.cpp - attn.merge to linalg --------------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The materialised form of attn.merge (docs/Merge.md): one linalg.generic
// for lse (the largest partial lse subtracted before the exponentials) and
// one for O, weighting each partial by exp(lse_i - lse), both in f32. Both
// targets' pipelines and attn-lower-to-reference use it.
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/Dialect/Attn/Transforms/Passes.h"
#include "attune/Dialect/Attn/Transforms/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

#include <limits>

namespace attune::attn {
#define GEN_PASS_DEF_ATTNLOWERMERGE
#include "attune/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attune::attn

using namespace mlir;
using namespace attune::attn;

LogicalResult attune::attn::lowerMerge(RewriterBase &rewriter, MergeOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  Type f32 = rewriter.getF32Type();
  auto negInf = [&](OpBuilder &b, Location l) {
    return arith::ConstantOp::create(
        b, l, b.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
  };
  auto isNegInf = [&](OpBuilder &b, Location l, Value x) {
    return arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, x,
                                 negInf(b, l));
  };
  size_t n = op.getOutputs().size();
  emitMergeShapeChecks(rewriter, op);
  LayoutDims dims = op.getLayoutDims();
  auto parallel = [](unsigned loops) {
    return SmallVector<utils::IteratorType>(loops,
                                            utils::IteratorType::parallel);
  };

  // lse = m + log sum_i exp(lse_i - m), m = max_i lse_i; -inf if m is.
  Value first = op.getLses().front();
  Value lseInit = tensor::EmptyOp::create(
      rewriter, loc, tensor::getMixedSizes(rewriter, loc, first), f32);
  AffineMap id3 = rewriter.getMultiDimIdentityMap(3);
  SmallVector<AffineMap> lseMaps(n + 1, id3);
  Value lse =
      linalg::GenericOp::create(
          rewriter, loc, TypeRange{lseInit.getType()}, op.getLses(),
          ValueRange{lseInit}, lseMaps, parallel(3),
          [&](OpBuilder &b, Location l, ValueRange args) {
            Value m = args[0];
            for (Value x : args.take_front(n).drop_front())
              m = arith::MaximumFOp::create(b, l, m, x);
            Value sum = arith::ConstantOp::create(b, l, b.getF32FloatAttr(0));
            for (Value x : args.take_front(n))
              sum = arith::AddFOp::create(
                  b, l, sum,
                  math::ExpOp::create(b, l,
                                      arith::SubFOp::create(b, l, x, m)));
            Value merged = arith::AddFOp::create(
                b, l, m, math::LogOp::create(b, l, sum));
            linalg::YieldOp::create(
                b, l,
                ValueRange{arith::SelectOp::create(b, l, isNegInf(b, l, m),
                                                   negInf(b, l), merged)
                               .getResult()});
          })
          .getResult(0);

  // O = sum_i exp(lse_i - lse) O_i; 0 where lse = -inf.
  Value output = op.getOutputs().front();
  auto outType = cast<RankedTensorType>(output.getType());
  Type element = outType.getElementType();
  Value outInit = tensor::EmptyOp::create(
      rewriter, loc, tensor::getMixedSizes(rewriter, loc, output), element);
  LayoutDims d = dims;
  AffineMap id4 = rewriter.getMultiDimIdentityMap(4);
  AffineMap row = AffineMap::get(
      4, 0,
      {getAffineDimExpr(d.batch, ctx), getAffineDimExpr(d.head, ctx),
       getAffineDimExpr(d.seq, ctx)},
      ctx);
  SmallVector<Value> inputs(op.getOutputs());
  llvm::append_range(inputs, op.getLses());
  inputs.push_back(lse);
  SmallVector<AffineMap> maps(n, id4);
  maps.append(n + 1, row);
  maps.push_back(id4);
  Value merged =
      linalg::GenericOp::create(
          rewriter, loc, TypeRange{outType}, inputs, ValueRange{outInit}, maps,
          parallel(4),
          [&](OpBuilder &b, Location l, ValueRange args) {
            Value total = args[2 * n];
            Value acc = arith::ConstantOp::create(b, l, b.getF32FloatAttr(0));
            for (size_t k = 0; k < n; ++k) {
              Value o = args[k];
              if (o.getType() != f32)
                o = arith::ExtFOp::create(b, l, f32, o);
              Value weight = math::ExpOp::create(
                  b, l, arith::SubFOp::create(b, l, args[n + k], total));
              acc = math::FmaOp::create(b, l, weight, o, acc);
            }
            Value zero = arith::ConstantOp::create(b, l, b.getF32FloatAttr(0));
            Value y = arith::SelectOp::create(b, l, isNegInf(b, l, total), zero,
                                              acc);
            if (element != f32)
              y = arith::TruncFOp::create(b, l, element, y);
            linalg::YieldOp::create(b, l, y);
          })
          .getResult(0);
  rewriter.replaceOp(op, ValueRange{merged, lse});
  return success();
}

namespace {
struct AttnLowerMerge
    : attune::attn::impl::AttnLowerMergeBase<AttnLowerMerge> {
  using Base::Base;
  void runOnOperation() override {
    if (failed(lowerAll(getOperation(), lowerMerge)))
      signalPassFailure();
  }
};
} // namespace
