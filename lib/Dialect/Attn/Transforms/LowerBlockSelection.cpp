//===- LowerBlockSelection.cpp - attn.topk_blocks to linalg -----*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The block-selection gate (docs/BlockSelection.md) as linalg.generic ops
// only, so that both targets run it as they run any linalg op:
//
//   1. the f64 block sums of Q ([B, H, nQb, D]) and K (transposed, [B, Hk,
//      D, nKb], the blocks innermost for the CPU's vectoriser), a reduction
//      over a block's rows in order, a row past the end adding zero;
//   2. with learned projections, the sums projected (f64, in order of d);
//      the f64 dot products of the sums over their features in order, then
//      one division by the blocks' row counts: the scores [B, H, nQb, nKb];
//   3. top_k passes, each an argmax over kb of the candidates after the
//      previous pass's pick in the order (larger score, then lower kb):
//      pass p leaves the p-th best candidate, or index -1 when none is left;
//   4. the i8 map: forced blocks, and candidates at or before the last pick.
//
// The argmax folds are order-independent (a larger score, or an equal one
// with a lower kb, wins), so a target may split them.
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/Dialect/Attn/Transforms/Passes.h"
#include "attune/Dialect/Attn/Transforms/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <limits>

namespace attune::attn {
#define GEN_PASS_DEF_ATTNLOWERBLOCKSELECTION
#include "attune/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attune::attn

using namespace mlir;
using namespace attune::attn;

namespace {
/// The index arithmetic every step's body shares, built at one point.
struct BlockGeometry {
  OpBuilder &b;
  Location loc;
  TopkBlocksOp op;
  Value sq, sk; // the sequence lengths (index)

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value min(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  Value both(Value x, Value y) { return arith::AndIOp::create(b, loc, x, y); }
  Value either(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }

  /// The rows of block `blk` of a sequence of `length` in blocks of
  /// `block`: min(block, length - blk * block), as f64.
  Value rowsOf(Value blk, Value length, int64_t block) {
    Value n = min(index(block), sub(length, mul(blk, index(block))));
    Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), n);
    return arith::SIToFPOp::create(b, loc, b.getF64Type(), i64);
  }

  /// (eligible, forced) of the pair (qb, kb).
  std::pair<Value, Value> classify(Value qb, Value kb) {
    int64_t bq = op.getBlockQ(), bk = op.getBlockK();
    // last = min(Sq, (qb + 1) * bq) - 1 + Sk - Sq, the last key the block
    // may see when causal.
    Value end = min(sq, mul(add(qb, index(1)), index(bq)));
    Value last = sub(add(end, sk), add(sq, index(1)));
    Value eligible = arith::ConstantIntOp::create(b, loc, 1, 1);
    if (op.getCausal())
      eligible = cmp(arith::CmpIPredicate::sle, mul(kb, index(bk)), last);
    Value sink = cmp(arith::CmpIPredicate::slt, kb, index(op.getSink()));
    Value diag = arith::FloorDivSIOp::create(b, loc, last, index(bk));
    Value local = both(
        both(cmp(arith::CmpIPredicate::sge, last, index(0)),
             cmp(arith::CmpIPredicate::sle, kb, diag)),
        cmp(arith::CmpIPredicate::sgt, kb, sub(diag, index(op.getLocal()))));
    return {eligible, both(eligible, either(sink, local))};
  }

  /// Whether a pair of classification `cls` (classify's) and `score` is a
  /// candidate: eligible, not forced, not NaN.
  Value candidate(std::pair<Value, Value> cls, Value score) {
    auto [eligible, forced] = cls;
    Value notForced = arith::XOrIOp::create(
        b, loc, forced, arith::ConstantIntOp::create(b, loc, 1, 1));
    Value ordered =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ORD, score, score);
    return both(both(eligible, notForced), ordered);
  }

  /// Whether (score, kb) comes strictly after the pick (value, id) in the
  /// selection order: a lower score, or an equal one with a higher kb.
  /// False when id < 0 (no pick), and for a NaN score.
  Value after(Value score, Value kb, Value value, Value id) {
    Value kb32 = arith::IndexCastOp::create(b, loc, b.getI32Type(), kb);
    Value lower =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, score, value);
    Value equal =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, score, value);
    Value later = cmp(arith::CmpIPredicate::sgt, kb32, id);
    Value picked = cmp(arith::CmpIPredicate::sge, id,
                       arith::ConstantIntOp::create(b, loc, 0, 32));
    return both(picked, either(lower, both(equal, later)));
  }
};
} // namespace

/// ceil(length / block), a constant where the length is.
static OpFoldResult blockCount(OpBuilder &b, Location loc, OpFoldResult length,
                               int64_t block) {
  if (std::optional<int64_t> n = getConstantIntValue(length))
    return b.getIndexAttr((*n + block - 1) / block);
  return arith::CeilDivUIOp::create(
             b, loc, cast<Value>(length),
             arith::ConstantIndexOp::create(b, loc, block))
      .getResult();
}

/// The block sums of `x` (f64): [B, Hx, nBlocks, D] with the feature last,
/// or [B, Hx, D, nBlocks] when `transposed`; `length` is x's sequence
/// length. Loops (b, h, blk, t, d), the rows t of a block a reduction in
/// order before the features.
static Value blockSums(OpBuilder &b, Location loc, Value x, LayoutDims dims,
                       Value length, int64_t block, OpFoldResult blocks,
                       bool transposed) {
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned l) { return getAffineDimExpr(l, ctx); };
  SmallVector<OpFoldResult> sizes{
      tensor::getMixedSize(b, loc, x, dims.batch),
      tensor::getMixedSize(b, loc, x, dims.head), blocks,
      tensor::getMixedSize(b, loc, x, dims.feature)};
  SmallVector<AffineExpr> out{d(0), d(1), d(2), d(4)};
  if (transposed) {
    std::swap(sizes[2], sizes[3]);
    std::swap(out[2], out[3]);
  }
  Value init = filledTensor(b, loc, sizes, b.getF64FloatAttr(0.0));
  // The pooling window: its only use is to give loop t its extent (as the
  // window operand of linalg.pooling_* does).
  Value window =
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{block}, b.getF64Type());
  SmallVector<utils::IteratorType> iterators(5, utils::IteratorType::parallel);
  iterators[3] = utils::IteratorType::reduction;
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{window}, ValueRange{init},
      ArrayRef<AffineMap>{AffineMap::get(5, 0, {d(3)}, ctx),
                          AffineMap::get(5, 0, out, ctx)},
      iterators, [&](OpBuilder &nb, Location l, ValueRange args) {
        SmallVector<Value> loops;
        for (unsigned k = 0; k < 5; ++k)
          loops.push_back(linalg::IndexOp::create(nb, l, k));
        Value row = arith::AddIOp::create(
            nb, l,
            arith::MulIOp::create(nb, l, loops[2],
                                  arith::ConstantIndexOp::create(nb, l, block)),
            loops[3]);
        // A row past the end reads row 0 (there is one: the block exists)
        // and adds zero; no size - 1, which a CUDA program would have to
        // name as a symbol that is negative for an empty sequence.
        Value inside = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ult,
                                             row, length);
        SmallVector<Value> at(4);
        at[dims.batch] = loops[0];
        at[dims.head] = loops[1];
        at[dims.seq] = arith::SelectOp::create(
            nb, l, inside, row, arith::ConstantIndexOp::create(nb, l, 0));
        at[dims.feature] = loops[4];
        Value value =
            extendToF64(nb, l, tensor::ExtractOp::create(nb, l, x, at));
        Value zero = arith::ConstantOp::create(nb, l, nb.getF64FloatAttr(0.0));
        value = arith::SelectOp::create(nb, l, inside, value, zero);
        linalg::YieldOp::create(
            nb, l, arith::AddFOp::create(nb, l, args[1], value).getResult());
      });
  return generic.getResult(0);
}

/// The block sums projected by `w` ([D, P], f64 in order of d): [B, H,
/// nBlocks, P] from [B, H, nBlocks, D], or with `transposed` [B, H, P,
/// nBlocks] from [B, H, D, nBlocks]. Loops (b, h, blk or p, d, p or blk),
/// the features a reduction before the innermost output dimension.
static Value project(OpBuilder &b, Location loc, Value sums, Value w,
                     bool transposed) {
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned l) { return getAffineDimExpr(l, ctx); };
  int64_t p = cast<RankedTensorType>(w.getType()).getDimSize(1);
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, sums);
  sizes[transposed ? 2 : 3] = b.getIndexAttr(p);
  Value init = filledTensor(b, loc, sizes, b.getF64FloatAttr(0.0));
  // (d0, d1, d2, d3, d4) = (b, h, outer, d, inner).
  AffineMap sumsMap = AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx);
  AffineMap wMap = AffineMap::get(5, 0, {d(3), d(4)}, ctx);
  if (transposed) {
    sumsMap = AffineMap::get(5, 0, {d(0), d(1), d(3), d(4)}, ctx);
    wMap = AffineMap::get(5, 0, {d(3), d(2)}, ctx);
  }
  SmallVector<utils::IteratorType> iterators(5, utils::IteratorType::parallel);
  iterators[3] = utils::IteratorType::reduction;
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ValueRange{sums, w},
             ValueRange{init},
             ArrayRef<AffineMap>{
                 sumsMap, wMap,
                 AffineMap::get(5, 0, {d(0), d(1), d(2), d(4)}, ctx)},
             iterators,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value product = arith::MulFOp::create(
                   nb, l, args[0], extendToF64(nb, l, args[1]));
               linalg::YieldOp::create(
                   nb, l,
                   arith::AddFOp::create(nb, l, args[2], product).getResult());
             })
      .getResult(0);
}

/// Checks at run time what the verifier could not: one batch size (the
/// head counts are static).
static void emitTopkShapeChecks(OpBuilder &b, TopkBlocksOp op,
                                LayoutDims dims) {
  emitSizeCheck(b, op, op.getQ(), dims.batch, op.getK(), dims.batch,
                "query and key batch sizes");
}

/// The scores [B, H, nQb, nKb] (f64) of `op`: the block sums (projected
/// when the op has projections), their dot products in order of the
/// features, divided by the blocks' row counts.
static Value emitScores(OpBuilder &b, TopkBlocksOp op, LayoutDims dims,
                        Value sq, Value sk, ArrayRef<OpFoldResult> scoreSizes) {
  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned l) { return getAffineDimExpr(l, ctx); };
  Value q = op.getQ(), k = op.getK();
  Value qSums = blockSums(b, loc, q, dims, sq, op.getBlockQ(), scoreSizes[2],
                          /*transposed=*/false);
  Value kSums = blockSums(b, loc, k, dims, sk, op.getBlockK(), scoreSizes[3],
                          /*transposed=*/true);
  if (op.getQProj()) {
    qSums = project(b, loc, qSums, op.getQProj(), /*transposed=*/false);
    kSums = project(b, loc, kSums, op.getKProj(), /*transposed=*/true);
  }

  // Query head h reads key head h floordiv (H / Hk); the verifier asks
  // for static head counts.
  int64_t heads = cast<RankedTensorType>(q.getType()).getDimSize(dims.head);
  int64_t kvHeads = cast<RankedTensorType>(k.getType()).getDimSize(dims.head);
  AffineExpr kvHead = d(1);
  if (heads != kvHeads)
    kvHead = d(1).floorDiv(heads / kvHeads);

  // The scores: loops (b, h, qb, d, kb), the features a reduction before
  // the key blocks (innermost, contiguous in the transposed sums).
  Value dotInit = filledTensor(b, loc, scoreSizes, b.getF64FloatAttr(0.0));
  SmallVector<utils::IteratorType> dotIterators(5,
                                                utils::IteratorType::parallel);
  dotIterators[3] = utils::IteratorType::reduction;
  Value dots = linalg::GenericOp::create(
                   b, loc, TypeRange{dotInit.getType()},
                   ValueRange{qSums, kSums}, ValueRange{dotInit},
                   ArrayRef<AffineMap>{
                       AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx),
                       AffineMap::get(5, 0, {d(0), kvHead, d(3), d(4)}, ctx),
                       AffineMap::get(5, 0, {d(0), d(1), d(2), d(4)}, ctx)},
                   dotIterators,
                   [&](OpBuilder &nb, Location l, ValueRange args) {
                     Value product =
                         arith::MulFOp::create(nb, l, args[0], args[1]);
                     linalg::YieldOp::create(
                         nb, l,
                         arith::AddFOp::create(nb, l, args[2], product)
                             .getResult());
                   })
                   .getResult(0);
  AffineMap identity = AffineMap::getMultiDimIdentityMap(4, ctx);
  SmallVector<utils::IteratorType> elementwise(4,
                                               utils::IteratorType::parallel);
  Value scoreInit = tensor::EmptyOp::create(b, loc, scoreSizes, b.getF64Type());
  Value scores =
      linalg::GenericOp::create(
          b, loc, TypeRange{scoreInit.getType()}, ValueRange{dots},
          ValueRange{scoreInit}, ArrayRef<AffineMap>{identity, identity},
          elementwise,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            BlockGeometry g{nb, l, op, sq, sk};
            Value qb = linalg::IndexOp::create(nb, l, 2);
            Value kb = linalg::IndexOp::create(nb, l, 3);
            Value count =
                arith::MulFOp::create(nb, l, g.rowsOf(qb, sq, op.getBlockQ()),
                                      g.rowsOf(kb, sk, op.getBlockK()));
            linalg::YieldOp::create(
                nb, l,
                arith::DivFOp::create(nb, l, args[0], count).getResult());
          })
          .getResult(0);
  return scores;
}

LogicalResult attune::attn::lowerTopkBlocks(RewriterBase &rewriter,
                                            TopkBlocksOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  MLIRContext *ctx = rewriter.getContext();
  LayoutDims dims = op.getLayoutDims();
  emitTopkShapeChecks(rewriter, op, dims);
  Value q = op.getQ(), k = op.getK();
  OpFoldResult sqSize = tensor::getMixedSize(rewriter, loc, q, dims.seq);
  OpFoldResult skSize = tensor::getMixedSize(rewriter, loc, k, dims.seq);
  Value sq = getValueOrCreateConstantIndexOp(rewriter, loc, sqSize);
  Value sk = getValueOrCreateConstantIndexOp(rewriter, loc, skSize);
  auto d = [&](unsigned l) { return getAffineDimExpr(l, ctx); };
  AffineMap identity = AffineMap::getMultiDimIdentityMap(4, ctx);
  AffineMap rowMap = AffineMap::get(4, 0, {d(0), d(1), d(2)}, ctx);
  SmallVector<utils::IteratorType> elementwise(4,
                                               utils::IteratorType::parallel);
  SmallVector<OpFoldResult> scoreSizes{
      tensor::getMixedSize(rewriter, loc, q, dims.batch),
      tensor::getMixedSize(rewriter, loc, q, dims.head),
      blockCount(rewriter, loc, sqSize, op.getBlockQ()),
      blockCount(rewriter, loc, skSize, op.getBlockK())};
  // No scores without a selection (top_k = 0: the forced blocks only).
  Value scores;
  if (op.getTopK() > 0)
    scores = emitScores(rewriter, op, dims, sq, sk, scoreSizes);

  // The passes: the p-th best candidate of every query block.
  SmallVector<OpFoldResult> rowSizes(scoreSizes.begin(),
                                     scoreSizes.begin() + 3);
  Value pickValue, pickId;
  SmallVector<utils::IteratorType> passIterators(4,
                                                 utils::IteratorType::parallel);
  passIterators[3] = utils::IteratorType::reduction;
  for (int64_t p = 0, n = op.getTopK(); p < n; ++p) {
    Value bestInit = filledTensor(
        rewriter, loc, rowSizes,
        rewriter.getF64FloatAttr(-std::numeric_limits<double>::infinity()));
    Value idInit =
        filledTensor(rewriter, loc, rowSizes, rewriter.getI32IntegerAttr(-1));
    SmallVector<Value> inputs{scores};
    SmallVector<AffineMap> maps{identity};
    if (pickValue) {
      inputs.append({pickValue, pickId});
      maps.append({rowMap, rowMap});
    }
    maps.append({rowMap, rowMap});
    bool first = !pickValue;
    auto pass = linalg::GenericOp::create(
        rewriter, loc, TypeRange{bestInit.getType(), idInit.getType()}, inputs,
        ValueRange{bestInit, idInit}, maps, passIterators,
        [&](OpBuilder &nb, Location l, ValueRange args) {
          BlockGeometry g{nb, l, op, sq, sk};
          Value qb = linalg::IndexOp::create(nb, l, 2);
          Value kb = linalg::IndexOp::create(nb, l, 3);
          Value score = args[0];
          Value valid = g.candidate(g.classify(qb, kb), score);
          if (!first)
            valid = g.both(valid, g.after(score, kb, args[1], args[2]));
          Value best = args[args.size() - 2], bestId = args.back();
          // Taken when valid and before the best so far (or the first).
          Value kb32 = arith::IndexCastOp::create(nb, l, nb.getI32Type(), kb);
          Value none = g.cmp(arith::CmpIPredicate::slt, bestId,
                             arith::ConstantIntOp::create(nb, l, 0, 32));
          Value larger = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT,
                                               score, best);
          Value equal = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ,
                                              score, best);
          Value lowerId = g.cmp(arith::CmpIPredicate::slt, kb32, bestId);
          Value take = g.both(
              valid, g.either(none, g.either(larger, g.both(equal, lowerId))));
          linalg::YieldOp::create(
              nb, l,
              ValueRange{arith::SelectOp::create(nb, l, take, score, best),
                         arith::SelectOp::create(nb, l, take, kb32, bestId)});
        });
    pickValue = pass.getResult(0);
    pickId = pass.getResult(1);
  }

  // The map.
  auto resultType = cast<RankedTensorType>(op.getResult().getType());
  Value mapInit = tensor::EmptyOp::create(rewriter, loc, scoreSizes,
                                          resultType.getElementType());
  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
  if (pickValue) {
    inputs.append({scores, pickValue, pickId});
    maps.append({identity, rowMap, rowMap});
  }
  maps.push_back(identity);
  bool selects = static_cast<bool>(pickValue);
  Value map = linalg::GenericOp::create(
                  rewriter, loc, TypeRange{mapInit.getType()}, inputs,
                  ValueRange{mapInit}, maps, elementwise,
                  [&](OpBuilder &nb, Location l, ValueRange args) {
                    BlockGeometry g{nb, l, op, sq, sk};
                    Value qb = linalg::IndexOp::create(nb, l, 2);
                    Value kb = linalg::IndexOp::create(nb, l, 3);
                    std::pair<Value, Value> cls = g.classify(qb, kb);
                    Value keep = cls.second;
                    if (selects) {
                      // A candidate not after the last pick: every candidate
                      // when the passes ran out of them (fewer than top_k; no
                      // pick).
                      Value chosen = arith::XOrIOp::create(
                          nb, l, g.after(args[0], kb, args[1], args[2]),
                          arith::ConstantIntOp::create(nb, l, 1, 1));
                      keep = g.either(
                          keep, g.both(g.candidate(cls, args[0]), chosen));
                    }
                    linalg::YieldOp::create(
                        nb, l,
                        arith::ExtUIOp::create(nb, l, nb.getI8Type(), keep)
                            .getResult());
                  })
                  .getResult(0);
  rewriter.replaceOp(op, map);
  return success();
}

namespace {
struct AttnLowerBlockSelection
    : attune::attn::impl::AttnLowerBlockSelectionBase<AttnLowerBlockSelection> {
  using Base::Base;
  void runOnOperation() override {
    if (failed(lowerAll(getOperation(), lowerTopkBlocks)))
      signalPassFailure();
  }
};
} // namespace
