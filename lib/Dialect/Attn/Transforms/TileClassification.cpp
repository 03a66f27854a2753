//===- TileClassification.cpp - Which kv tiles a q tile visits -*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/Transforms/TileClassification.h"

#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/Dialect/Attn/Utils/RegionLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;
using namespace attune::attn;

/// The predicate `p'` with `x p y == y p' x`.
static arith::CmpIPredicate swapOperands(arith::CmpIPredicate pred) {
  using P = arith::CmpIPredicate;
  switch (pred) {
  case P::ult:
    return P::ugt;
  case P::ugt:
    return P::ult;
  case P::ule:
    return P::uge;
  case P::uge:
    return P::ule;
  case P::slt:
    return P::sgt;
  case P::sgt:
    return P::slt;
  case P::sle:
    return P::sge;
  case P::sge:
    return P::sle;
  default:
    return pred;
  }
}

/// If the mask is `j <= i + offset` for a constant offset of 0 or -1 (the
/// causal family, written with any of the equivalent predicates), returns
/// the offset.
static std::optional<int64_t> matchCausal(AttentionOp op) {
  Block *mask = op.getMaskBlock();
  if (!mask)
    return std::nullopt;
  auto cmp = AttentionOp::getYieldedValue(mask).getDefiningOp<arith::CmpIOp>();
  if (!cmp || cmp->getBlock() != mask)
    return std::nullopt;
  Value i = AttentionOp::getIndexArg(mask, RegionDim::I),
        j = AttentionOp::getIndexArg(mask, RegionDim::J);
  using P = arith::CmpIPredicate;
  P pred = cmp.getPredicate();
  Value lhs = cmp.getLhs(), rhs = cmp.getRhs();
  // Normalise to `j <pred> i`.
  if (lhs == i && rhs == j)
    pred = swapOperands(pred);
  else if (!(lhs == j && rhs == i))
    return std::nullopt;
  // Indices are non-negative, so signed and unsigned orders agree.
  switch (pred) {
  case P::ule:
  case P::sle:
    return 0;
  case P::ult:
  case P::slt:
    return -1;
  default:
    return std::nullopt;
  }
}

KeyTileRanges attune::attn::emitKeyTileRanges(OpBuilder &b, Location loc,
                                              AttentionOp op, Value rowBegin,
                                              Value rows, Value seqK,
                                              int64_t tileK) {
  auto cst = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Value zero = cst(0), tk = cst(tileK);
  // ceil(Sk / Tk) tiles in all.
  Value numTiles = arith::CeilDivUIOp::create(b, loc, seqK, tk);
  KeyTileRanges ranges{zero, numTiles, zero, zero};

  if (!op.getMaskBlock()) {
    ranges.fullEnd = numTiles;
    return ranges;
  }
  std::optional<int64_t> offset = matchCausal(op);
  if (!offset)
    return ranges;

  // Keys j <= i + offset. The last row of the tile, i1 = rowBegin + rows - 1,
  // sees keys up to i1 + offset: visit tiles up to and including the one
  // holding that key. A tile is full if its last key is <= rowBegin + offset.
  // (offset + 1 >= 0, so the index arithmetic stays non-negative.)
  Value lastKeyPlusOne =
      arith::AddIOp::create(b, loc, rowBegin,
                            arith::AddIOp::create(b, loc, rows, cst(*offset)));
  Value end = arith::CeilDivUIOp::create(b, loc, lastKeyPlusOne, tk);
  ranges.end = arith::MinUIOp::create(b, loc, end, numTiles);
  Value fullEnd = arith::DivUIOp::create(
      b, loc, arith::AddIOp::create(b, loc, rowBegin, cst(*offset + 1)), tk);
  ranges.fullEnd = arith::MinUIOp::create(b, loc, fullEnd, ranges.end);
  return ranges;
}

TileClassValues attune::attn::emitTileClass(OpBuilder &b, Location loc,
                                            AttentionOp op, ValueRange box,
                                            ValueRange captures) {
  auto i1 = [&](bool v) -> Value {
    return arith::ConstantIntOp::create(b, loc, v ? 1 : 0, 1);
  };
  Block *tiles = op.getTilesBlock();
  if (!tiles) {
    bool full = !op.getMaskBlock();
    return {i1(false), i1(full)};
  }
  IRMapping mapping;
  mapping.map(AttentionOp::getTileBoxArgs(tiles), box);
  mapping.map(AttentionOp::getCaptureArgs(tiles), captures);
  // Captures that are buffers already (CUDA kernels) are read as such.
  SmallVector<Value> buffers(captures);
  Value cls = inlineRegion(b, tiles, mapping, buffers);
  auto i8 = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(b, loc, b.getI8Type(), v);
  };
  return {arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, cls,
                                i8(AttentionOp::kTileEmpty)),
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, cls,
                                i8(AttentionOp::kTileFull))};
}
