//===- LowerRope.cpp - attn.rope to linalg ----------------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The materialised form of attn.rope: one linalg.generic over the input's
// four dimensions whose body reads the partner feature with tensor.extract
// and rotates in f64 (docs/Rope.md). Both targets use it for a rope whose
// result is not fused into attention's loads, and attn-lower-to-reference
// for every rope.
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

namespace attune::attn {
#define GEN_PASS_DEF_ATTNLOWERROPE
#include "attune/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attune::attn

using namespace mlir;
using namespace attune::attn;

/// The body of the generic: y at loop indices `loops` (in the input's
/// dimension order) from the input element `x`.
static Value rotateElement(OpBuilder &b, Location loc, RopeOp op, Value x,
                           ArrayRef<Value> loops) {
  LayoutDims dims = op.getLayoutDims();
  int64_t rotary = op.getNumRotated();
  bool interleaved = op.getStyle() == RopeStyle::interleaved;
  Type f64 = b.getF64Type();
  auto index = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  auto real = [&](double v) {
    return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(v)).getResult();
  };
  Value f = loops[dims.feature], s = loops[dims.seq], batch = loops[dims.batch];
  Value inside =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, f, index(rotary));
  // Features past R are copied; clamp so that the partner read of those
  // stays in bounds.
  Value fc = arith::MinUIOp::create(b, loc, f, index(rotary - 1));
  Value half = index(rotary / 2);
  Value k, partner, first;
  if (interleaved) {
    k = arith::DivUIOp::create(b, loc, fc, index(2));
    partner = arith::XOrIOp::create(b, loc, fc, index(1));
    first = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq,
        arith::RemUIOp::create(b, loc, fc, index(2)), index(0));
  } else {
    first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, fc, half);
    k = arith::SelectOp::create(b, loc, first, fc,
                                arith::SubIOp::create(b, loc, fc, half));
    partner = arith::SelectOp::create(
        b, loc, first, arith::AddIOp::create(b, loc, fc, half), k);
  }
  SmallVector<Value> at(loops);
  at[dims.feature] = partner;
  Value xp = tensor::ExtractOp::create(b, loc, op.getInput(), at);

  // The position, as f64.
  Value position;
  if (Value positions = op.getPositions()) {
    auto type = cast<RankedTensorType>(positions.getType());
    SmallVector<Value> idx;
    if (type.getRank() == 2)
      idx.push_back(batch);
    idx.push_back(s);
    position = tensor::ExtractOp::create(b, loc, positions, idx);
  } else if (Value offset = op.getOffset()) {
    Value wide = offset;
    if (!offset.getType().isIndex())
      wide = arith::IndexCastOp::create(b, loc, b.getIndexType(), offset);
    position = arith::AddIOp::create(b, loc, wide, s);
  } else {
    position = s;
  }
  if (position.getType().isIndex())
    position = arith::IndexCastOp::create(b, loc, b.getI64Type(), position);
  position = arith::SIToFPOp::create(b, loc, f64, position);

  // theta_k = scale_k base^(-2k/R) = scale_k exp(-2k ln(base) / R).
  Value kf = arith::SIToFPOp::create(
      b, loc, f64, arith::IndexCastOp::create(b, loc, b.getI64Type(), k));
  Value theta = math::ExpOp::create(
      b, loc,
      arith::MulFOp::create(
          b, loc, kf,
          real(-2.0 * std::log(op.getBase().convertToDouble()) /
               double(rotary))));
  if (Value scales = op.getFreqScales())
    theta = arith::MulFOp::create(
        b, loc, theta,
        arith::ExtFOp::create(b, loc, f64,
                              tensor::ExtractOp::create(b, loc, scales, k).getResult()));
  Value angle = arith::MulFOp::create(
      b, loc,
      arith::DivFOp::create(b, loc, position,
                            real(op.getScaling().convertToDouble())),
      theta);
  Value c = math::CosOp::create(b, loc, angle);
  Value sn = math::SinOp::create(b, loc, angle);
  Value sign = arith::SelectOp::create(b, loc, first, real(-1.0), real(1.0));
  Value xw = arith::ExtFOp::create(b, loc, f64, x);
  Value xpw = arith::ExtFOp::create(b, loc, f64, xp);
  Value y = arith::AddFOp::create(
      b, loc, arith::MulFOp::create(b, loc, xw, c),
      arith::MulFOp::create(b, loc, arith::MulFOp::create(b, loc, sign, xpw),
                            sn));
  // Through f32: the JIT has no f64 -> bf16 / f16 conversion routine, and
  // rounding twice moves at most a tie by one unit of the last place.
  y = arith::TruncFOp::create(b, loc, b.getF32Type(), y);
  if (!x.getType().isF32())
    y = arith::TruncFOp::create(b, loc, x.getType(), y);
  return arith::SelectOp::create(b, loc, inside, y, x);
}

LogicalResult attune::attn::lowerRope(RewriterBase &rewriter, RopeOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  emitRopeShapeChecks(rewriter, op);
  Location loc = op.getLoc();
  Value input = op.getInput();
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<OpFoldResult> sizes =
      tensor::getMixedSizes(rewriter, loc, input);
  Value init =
      tensor::EmptyOp::create(rewriter, loc, sizes, type.getElementType());
  AffineMap identity = rewriter.getMultiDimIdentityMap(4);
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{type}, ValueRange{input}, ValueRange{init},
      ArrayRef<AffineMap>{identity, identity},
      SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
      [&](OpBuilder &b, Location l, ValueRange args) {
        SmallVector<Value> loops;
        for (int64_t d = 0; d < 4; ++d)
          loops.push_back(linalg::IndexOp::create(b, l, d));
        linalg::YieldOp::create(b, l,
                                rotateElement(b, l, op, args[0], loops));
      });
  rewriter.replaceOp(op, generic.getResults());
  return success();
}

namespace {
struct AttnLowerRope
    : attune::attn::impl::AttnLowerRopeBase<AttnLowerRope> {
  using Base::Base;
  void runOnOperation() override {
    if (failed(lowerAll(getOperation(), lowerRope)))
      signalPassFailure();
  }
};
} // namespace
