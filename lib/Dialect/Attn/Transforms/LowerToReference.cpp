//===- LowerToReference.cpp - attn.attention to naive linalg ----*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The textbook evaluation of attn.attention on tensors, one linalg.generic
// per step: scores, masked/modified scores, row max, exponentials, row sum,
// P.V and normalisation. It materialises [B, Hq, Sq, Sk] and is meant to be
// obviously right, not fast.
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/Dialect/Attn/Transforms/Passes.h"
#include "attune/Dialect/Attn/Transforms/Utils.h"
#include "attune/Dialect/Attn/Utils/RegionLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

#include <limits>

namespace attune::attn {
#define GEN_PASS_DEF_ATTNLOWERTOREFERENCE
#include "attune/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attune::attn

using namespace mlir;
using namespace attune::attn;

using utils::IteratorType;

namespace {

/// Builds the linalg.generic ops of one attention op. Loop dimensions are
/// named after the math: b, h (query head), i, j, and d/e for the reduction
/// over the head size and the value feature.
class ReferenceBuilder {
public:
  ReferenceBuilder(OpBuilder &b, AttentionOp op)
      : b(b), op(op), loc(op.getLoc()), ctx(op.getContext()),
        f32(b.getF32Type()), dims(op.getLayoutDims()),
        group(op.getGroupSize()) {}

  /// Emits the lowering and returns the replacement values (O and, if the op
  /// has it, lse).
  SmallVector<Value> build();

private:
  /// An f32 constant.
  Value constF32(double value) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
  }
  /// A map from `numLoops` loop dims to a 4-D operand in the op's layout.
  AffineMap layoutMap(unsigned numLoops, AffineExpr batch, AffineExpr head,
                      AffineExpr seq, AffineExpr feature) const {
    SmallVector<AffineExpr, 4> results(4);
    results[dims.batch] = batch;
    results[dims.head] = head;
    results[dims.seq] = seq;
    results[dims.feature] = feature;
    return AffineMap::get(numLoops, 0, results, ctx);
  }
  /// The f32 attribute -inf.
  FloatAttr negInfAttr() const {
    return FloatAttr::get(f32, -std::numeric_limits<float>::infinity());
  }
  /// A zero-/value-filled tensor of `sizes` and `type`.
  Value filled(ArrayRef<OpFoldResult> sizes, Type type, Value fill) {
    Value empty = tensor::EmptyOp::create(b, loc, sizes, type);
    if (!fill)
      return empty;
    return linalg::FillOp::create(b, loc, ValueRange{fill}, ValueRange{empty})
        .getResult(0);
  }
  /// Widens `v` to f32 when it is narrower.
  static Value toF32(OpBuilder &nb, Location l, Value v) {
    if (v.getType().isF32())
      return v;
    return arith::ExtFOp::create(nb, l, nb.getF32Type(), v);
  }
  /// Clones the body of the score or mask block `block` at `nb`'s insertion
  /// point with `s` (score only), `indices` (b, h, i, j) and the op's
  /// captures for its arguments, and returns the value it yields.
  Value inlineBlock(OpBuilder &nb, Block *block, Value s,
                    ArrayRef<Value> indices) {
    IRMapping map;
    mapRegionArguments(block, s, indices, op.getCaptures(), map);
    // Captures stay tensors: no buffer reads.
    return inlineRegion(nb, block, map, /*captureBuffers=*/{});
  }
  /// The body of the masked-score generic: s' for one element.
  Value maskedScore(OpBuilder &nb, Location l, Value rawScore);

  OpBuilder &b;
  AttentionOp op;
  Location loc;
  MLIRContext *ctx;
  Type f32;
  LayoutDims dims;
  int64_t group;
};

} // namespace

Value ReferenceBuilder::maskedScore(OpBuilder &nb, Location l,
                                    Value rawScore) {
  SmallVector<Value> indices;
  for (unsigned k = 0; k < AttentionOp::kNumIndexArgs; ++k)
    indices.push_back(linalg::IndexOp::create(nb, l, k)); // b, h, i, j
  Value scale = arith::ConstantOp::create(
      nb, l, nb.getF32FloatAttr(static_cast<float>(op.getScaleValue())));
  Value s = arith::MulFOp::create(nb, l, rawScore, scale);
  Value negInf = arith::ConstantOp::create(
      nb, l, nb.getF32FloatAttr(-std::numeric_limits<float>::infinity()));

  Value keep;
  if (Block *mask = op.getMaskBlock())
    keep = inlineBlock(nb, mask, Value(), indices);

  Block *score = op.getScoreBlock();
  if (!score)
    return keep ? arith::SelectOp::create(nb, l, keep, s, negInf) : s;

  if (!keep)
    return inlineBlock(nb, score, s, indices);
  // The score region is only defined where the mask holds (it may, say,
  // index a table by a position the mask excludes), so guard it.
  auto ifOp = scf::IfOp::create(
      nb, l, keep,
      [&](OpBuilder &tb, Location tl) {
        scf::YieldOp::create(tb, tl, inlineBlock(tb, score, s, indices));
      },
      [&](OpBuilder &eb, Location el) { scf::YieldOp::create(eb, el, negInf); });
  return ifOp.getResult(0);
}

SmallVector<Value> ReferenceBuilder::build() {
  Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
  emitShapeChecks(b, op);
  OpFoldResult batch = tensor::getMixedSize(b, loc, q, dims.batch);
  OpFoldResult sq = tensor::getMixedSize(b, loc, q, dims.seq);
  OpFoldResult sk = tensor::getMixedSize(b, loc, k, dims.seq);
  OpFoldResult hq = b.getIndexAttr(op.getNumQueryHeads());
  SmallVector<OpFoldResult> rowSizes{batch, hq, sq};
  SmallVector<OpFoldResult> scoreSizes{batch, hq, sq, sk};
  SmallVector<OpFoldResult> outSizes(4);
  outSizes[dims.batch] = batch;
  outSizes[dims.head] = hq;
  outSizes[dims.seq] = sq;
  outSizes[dims.feature] = b.getIndexAttr(op.getValueHeadSize());

  AffineExpr d0, d1, d2, d3, d4;
  bindDims(ctx, d0, d1, d2, d3, d4);
  // Query head h reads key/value head h / g.
  AffineExpr kvHead = d1.floorDiv(group);
  // Maps over (b, h, i, j): scores are [B, Hq, Sq, Sk], rows [B, Hq, Sq].
  AffineMap score4 = AffineMap::get(4, 0, {d0, d1, d2, d3}, ctx);
  AffineMap row4 = AffineMap::get(4, 0, {d0, d1, d2}, ctx);
  auto par = IteratorType::parallel, red = IteratorType::reduction;
  SmallVector<IteratorType> rowReduction{par, par, par, red};
  SmallVector<IteratorType> elementwise{par, par, par, par};

  auto generic = [&](ValueRange inputs, Value init, ArrayRef<AffineMap> maps,
                     ArrayRef<IteratorType> iterators,
                     function_ref<Value(OpBuilder &, Location, ValueRange)>
                         body) -> Value {
    return linalg::GenericOp::create(
               b, loc, init.getType(), inputs, ValueRange{init}, maps,
               iterators,
               [&](OpBuilder &nb, Location l, ValueRange args) {
                 linalg::YieldOp::create(nb, l, ValueRange{body(nb, l, args)});
               })
        .getResult(0);
  };
  Value zero = constF32(0.0);
  Value negInf = constF32(-std::numeric_limits<float>::infinity());
  auto isNegInf = [&](OpBuilder &nb, Location l, Value x) -> Value {
    return arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, x,
                                 arith::ConstantOp::create(
                                     nb, l, cast<TypedAttr>(negInfAttr())));
  };

  // S[b,h,i,j] = sum_d Q[b,h,i,d] * K[b,h/g,j,d] over loops (b,h,i,j,d).
  Value scores = generic(
      {q, k}, filled(scoreSizes, f32, zero),
      {layoutMap(5, d0, d1, d2, d4), layoutMap(5, d0, kvHead, d3, d4),
       AffineMap::get(5, 0, {d0, d1, d2, d3}, ctx)},
      {par, par, par, par, red}, [&](OpBuilder &nb, Location l, ValueRange a) {
        Value prod = arith::MulFOp::create(nb, l, toF32(nb, l, a[0]),
                                           toF32(nb, l, a[1]));
        return arith::AddFOp::create(nb, l, a[2], prod).getResult();
      });

  // S'[b,h,i,j]: scale, then the mask and score regions.
  scores = generic({scores}, filled(scoreSizes, f32, nullptr),
                   {score4, score4}, elementwise,
                   [&](OpBuilder &nb, Location l, ValueRange a) {
                     return maskedScore(nb, l, a[0]);
                   });

  // M[b,h,i] = max_j S'[b,h,i,j].
  Value rowMax = generic({scores}, filled(rowSizes, f32, negInf),
                         {score4, row4}, rowReduction,
                         [&](OpBuilder &nb, Location l, ValueRange a) {
                           return arith::MaximumFOp::create(nb, l, a[0], a[1])
                               .getResult();
                         });

  // P[b,h,i,j] = exp(S' - M), and 0 on fully masked rows (M = -inf), where
  // S' - M would be NaN.
  Value probs = generic(
      {scores, rowMax}, filled(scoreSizes, f32, nullptr), {score4, row4, score4},
      elementwise, [&](OpBuilder &nb, Location l, ValueRange a) {
        Value e = math::ExpOp::create(nb, l,
                                      arith::SubFOp::create(nb, l, a[0], a[1]));
        Value z = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0.0f));
        return arith::SelectOp::create(nb, l, isNegInf(nb, l, a[1]), z, e)
            .getResult();
      });

  // L[b,h,i] = sum_j P[b,h,i,j].
  Value rowSum = generic({probs}, filled(rowSizes, f32, zero), {score4, row4},
                         rowReduction,
                         [&](OpBuilder &nb, Location l, ValueRange a) {
                           return arith::AddFOp::create(nb, l, a[0], a[1])
                               .getResult();
                         });

  // A[b,h,i,e] = sum_j P[b,h,i,j] * V[b,h/g,j,e] over loops (b,h,i,j,e).
  Value acc = generic(
      {probs, v}, filled(outSizes, f32, zero),
      {AffineMap::get(5, 0, {d0, d1, d2, d3}, ctx),
       layoutMap(5, d0, kvHead, d3, d4), layoutMap(5, d0, d1, d2, d4)},
      {par, par, par, red, par}, [&](OpBuilder &nb, Location l, ValueRange a) {
        Value prod = arith::MulFOp::create(nb, l, a[0], toF32(nb, l, a[1]));
        return arith::AddFOp::create(nb, l, a[2], prod).getResult();
      });

  // O = A / L, and 0 where L = 0 (fully masked rows), in Q's element type.
  Type elementType = getElementTypeOrSelf(op.getOutput().getType());
  AffineMap out4 = layoutMap(4, d0, d1, d2, d3);
  Value output = generic(
      {acc, rowSum}, filled(outSizes, elementType, nullptr),
      {out4, row4, out4}, elementwise,
      [&](OpBuilder &nb, Location l, ValueRange a) {
        Value z = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0.0f));
        Value empty =
            arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, a[1], z);
        Value o = arith::SelectOp::create(
            nb, l, empty, z, arith::DivFOp::create(nb, l, a[0], a[1]));
        if (elementType != o.getType())
          o = arith::TruncFOp::create(nb, l, elementType, o);
        return o;
      });
  SmallVector<Value> results{output};
  if (!op.getLse())
    return results;

  // lse = M + log(L), and -inf on fully masked rows.
  AffineMap row3 = AffineMap::getMultiDimIdentityMap(3, ctx);
  results.push_back(generic(
      {rowMax, rowSum}, filled(rowSizes, f32, nullptr), {row3, row3, row3},
      {par, par, par}, [&](OpBuilder &nb, Location l, ValueRange a) {
        Value lse = arith::AddFOp::create(nb, l, a[0],
                                          math::LogOp::create(nb, l, a[1]));
        Value ninf = arith::ConstantOp::create(nb, l, cast<TypedAttr>(negInfAttr()));
        return arith::SelectOp::create(nb, l, isNegInf(nb, l, a[0]), ninf, lse)
            .getResult();
      }));
  return results;
}

LogicalResult attune::attn::lowerToReference(RewriterBase &rewriter,
                                             AttentionOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  ReferenceBuilder builder(rewriter, op);
  SmallVector<Value> results = builder.build();
  rewriter.replaceOp(op, results);
  return success();
}

namespace {
struct AttnLowerToReference
    : attune::attn::impl::AttnLowerToReferenceBase<AttnLowerToReference> {
  using Base::Base;
  void runOnOperation() override {
    Operation *root = getOperation();
    if (failed(lowerAll(root, lowerToReference)) ||
        failed(lowerAll(root, lowerRope)) ||
        failed(lowerAll(root, lowerMerge)) ||
        failed(lowerAll(root, lowerLshBuckets)) ||
        failed(lowerAll(root, lowerNearestCentroid)) ||
        failed(lowerAll(root, lowerTopkBlocks)) ||
        failed(lowerAll(root, lowerLinearAttention)) ||
        failed(lowerAll(root, lowerSortIds)) ||
        failed(lowerAll(root, lowerPermute)) ||
        failed(lowerAll(root, lowerGatherPages)) ||
        failed(lowerAll(root, lowerAppendPages)) ||
        failed(lowerAll(root, lowerUnpack)) ||
        failed(lowerAll(root, lowerPack)))
      signalPassFailure();
  }
};
} // namespace
