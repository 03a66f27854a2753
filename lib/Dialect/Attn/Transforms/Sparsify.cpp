//===- Sparsify.cpp - attn-sparsify: the tile classifier from the mask -*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Builds the `tiles` region of attn.attention from emitMaskTileClass: the mask
// analysis of lib/Analysis instantiated on run-time values. Tensor captures
// read at indices that vary over a box get a bounded min/max scan, which is
// what turns a document-id mask into a block map.
//
//===----------------------------------------------------------------------===//

#include "attune/Analysis/MaskAnalysis.h"
#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <functional>
#include <limits>

namespace attune::attn {
#define GEN_PASS_DEF_ATTNSPARSIFY
#include "attune/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attune::attn

using namespace mlir;
using namespace attune::attn;

/// At most this many elements of one capture per box: a few hundred loads
/// against the ~Tq * Tk * (D + Dv) multiply-adds of a tile.
static constexpr int64_t kMaxScan = 1024;

/// An integer, index or i1 element widened to i64 (i1 as 0 or 1).
static Value toI64(OpBuilder &b, Location loc, Value x) {
  Type i64 = b.getI64Type();
  if (x.getType().isIndex())
    return arith::IndexCastOp::create(b, loc, i64, x);
  if (x.getType().isInteger(1))
    return arith::ExtUIOp::create(b, loc, i64, x);
  if (x.getType().getIntOrFloatBitWidth() < 64)
    return arith::ExtSIOp::create(b, loc, i64, x);
  return x;
}

/// Emits the i64 min and max of `tensor` over the box `indices` (inclusive
/// i64 bounds per dimension) when the box lies inside the tensor and has at
/// most kMaxScan elements, else the full i64 range (unknown).
static std::optional<ValueInterval>
emitScanRange(OpBuilder &b, Location loc, Value tensor,
              ArrayRef<ValueInterval> indices) {
  auto type = dyn_cast<RankedTensorType>(tensor.getType());
  if (!type || !type.getElementType().isIntOrIndex() ||
      type.getRank() != static_cast<int64_t>(indices.size()))
    return std::nullopt;
  Type i64 = b.getI64Type();
  Type index = b.getIndexType();
  auto c64 = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(b, loc, i64, v);
  };
  auto cmp = [&](arith::CmpIPredicate pred, Value x, Value y) -> Value {
    return arith::CmpIOp::create(b, loc, pred, x, y);
  };
  using P = arith::CmpIPredicate;
  Value ok = arith::ConstantIntOp::create(b, loc, 1, 1);
  Value count = c64(1);
  for (auto [dim, interval] : llvm::enumerate(indices)) {
    Value size = arith::IndexCastOp::create(
        b, loc, i64, tensor::DimOp::create(b, loc, tensor, dim));
    Value extent = arith::AddIOp::create(
        b, loc, arith::SubIOp::create(b, loc, interval.hi, interval.lo),
        c64(1));
    for (Value cond : {cmp(P::sge, interval.lo, c64(0)),
                       cmp(P::sle, interval.lo, interval.hi),
                       cmp(P::slt, interval.hi, size),
                       cmp(P::sle, extent, c64(kMaxScan))})
      ok = arith::AndIOp::create(b, loc, ok, cond);
    // Clamp so that the product cannot overflow before `ok` rejects it.
    count = arith::MulIOp::create(
        b, loc, count,
        arith::MinSIOp::create(b, loc,
                               arith::MaxSIOp::create(b, loc, extent, c64(0)),
                               c64(kMaxScan + 1)));
  }
  ok = arith::AndIOp::create(b, loc, ok, cmp(P::sle, count, c64(kMaxScan)));
  Value fullLo = c64(std::numeric_limits<int64_t>::min());
  Value fullHi = c64(std::numeric_limits<int64_t>::max());
  auto ifOp = scf::IfOp::create(
      b, loc, ok,
      [&](OpBuilder &, Location) {
        SmallVector<Value> ivs;
        // One loop per dimension, carrying (min, max).
        std::function<std::pair<Value, Value>(unsigned, Value, Value)> nest =
            [&](unsigned dim, Value lo, Value hi) -> std::pair<Value, Value> {
          if (dim == indices.size()) {
            Value x =
                toI64(b, loc, tensor::ExtractOp::create(b, loc, tensor, ivs));
            return {arith::MinSIOp::create(b, loc, lo, x),
                    arith::MaxSIOp::create(b, loc, hi, x)};
          }
          Value from =
              arith::IndexCastOp::create(b, loc, index, indices[dim].lo);
          Value to = arith::IndexCastOp::create(
              b, loc, index,
              arith::AddIOp::create(b, loc, indices[dim].hi, c64(1)));
          Value one = arith::ConstantIndexOp::create(b, loc, 1);
          auto loop = scf::ForOp::create(
              b, loc, from, to, one, ValueRange{lo, hi},
              [&](OpBuilder &, Location, Value iv, ValueRange acc) {
                ivs.push_back(iv);
                auto [l, h] = nest(dim + 1, acc[0], acc[1]);
                ivs.pop_back();
                scf::YieldOp::create(b, loc, ValueRange{l, h});
              });
          return {loop.getResult(0), loop.getResult(1)};
        };
        auto [lo, hi] = nest(0, fullHi, fullLo);
        scf::YieldOp::create(b, loc, ValueRange{lo, hi});
      },
      [&](OpBuilder &, Location) {
        scf::YieldOp::create(b, loc, ValueRange{fullLo, fullHi});
      });
  return ValueInterval{ifOp.getResult(0), ifOp.getResult(1)};
}

/// Element `at` of the integer `tensor` (i64 indices) as an i64.
static Value readI64(OpBuilder &b, Location loc, Value tensor,
                     ArrayRef<Value> at) {
  SmallVector<Value> indices;
  for (Value v : at)
    indices.push_back(arith::IndexCastOp::create(b, loc, b.getIndexType(), v));
  return toI64(b, loc, tensor::ExtractOp::create(b, loc, tensor, indices));
}

/// The min and max of a capture of attn.sort_ids over a box with one index
/// in every leading dimension, from the box's first and last elements: the
/// sorted ids (`ids` null) do not decrease along a row, and the order
/// increases along a run of equal sorted ids (`ids`, the sort's other
/// result: a stable sort keeps positions of one id in order). Elsewhere, a
/// box of several ids for the order, or one outside the tensor, it scans.
/// O(1) reads per box instead of O(box) is what keeps the classification of
/// every tile pair of a long clustered attention cheap.
static std::optional<ValueInterval>
emitSortedRange(OpBuilder &b, Location loc, Value tensor, Value ids,
                ArrayRef<ValueInterval> indices) {
  auto type = dyn_cast<RankedTensorType>(tensor.getType());
  if (!type || type.getRank() != static_cast<int64_t>(indices.size()) ||
      indices.empty())
    return emitScanRange(b, loc, tensor, indices);
  Type i64 = b.getI64Type();
  auto c64 = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(b, loc, i64, v);
  };
  using P = arith::CmpIPredicate;
  auto cmp = [&](P pred, Value x, Value y) -> Value {
    return arith::CmpIOp::create(b, loc, pred, x, y);
  };
  Value ok = arith::ConstantIntOp::create(b, loc, 1, 1);
  for (auto [dim, interval] : llvm::enumerate(indices)) {
    Value size = arith::IndexCastOp::create(
        b, loc, i64, tensor::DimOp::create(b, loc, tensor, dim));
    bool last = dim + 1 == indices.size();
    for (Value cond : {cmp(P::sge, interval.lo, c64(0)),
                       cmp(last ? P::sle : P::eq, interval.lo, interval.hi),
                       cmp(P::slt, interval.hi, size)})
      ok = arith::AndIOp::create(b, loc, ok, cond);
  }
  SmallVector<Value> first, lastAt;
  for (const ValueInterval &interval : indices) {
    first.push_back(interval.lo);
    lastAt.push_back(interval.lo);
  }
  lastAt.back() = indices.back().hi;
  auto scan = [&] {
    std::optional<ValueInterval> r = emitScanRange(b, loc, tensor, indices);
    scf::YieldOp::create(b, loc, ValueRange{r->lo, r->hi});
  };
  auto ends = [&] {
    scf::YieldOp::create(b, loc,
                         ValueRange{readI64(b, loc, tensor, first),
                                    readI64(b, loc, tensor, lastAt)});
  };
  auto ifOp = scf::IfOp::create(
      b, loc, ok,
      [&](OpBuilder &, Location) {
        if (!ids) {
          ends();
          return;
        }
        Value one = cmp(P::eq, readI64(b, loc, ids, first),
                        readI64(b, loc, ids, lastAt));
        auto inner = scf::IfOp::create(
            b, loc, one, [&](OpBuilder &, Location) { ends(); },
            [&](OpBuilder &, Location) { scan(); });
        scf::YieldOp::create(b, loc, inner.getResults());
      },
      [&](OpBuilder &, Location) { scan(); });
  return ValueInterval{ifOp.getResult(0), ifOp.getResult(1)};
}

/// Fills the (empty) tiles region of `op` with its mask's classifier.
static void buildClassifier(AttentionOp op) {
  MLIRContext *ctx = op.getContext();
  Location loc = op.getLoc();
  OpBuilder b(ctx);
  Block *block = b.createBlock(&op.getTiles());
  Type index = IndexType::get(ctx);
  SmallVector<Value> box;
  for (unsigned k = 0; k < AttentionOp::kNumTileIndexArgs; ++k)
    box.push_back(block->addArgument(index, loc));
  SmallVector<Value> captures;
  for (Value capture : op.getCaptures())
    captures.push_back(block->addArgument(capture.getType(), loc));

  // Box corners in the (b, h, i, j) order emitMaskTileClass takes.
  EmittedTileClass cls = emitMaskTileClass(
      b, loc, op, ValueRange{box[0], box[1], box[2], box[4]},
      ValueRange{box[0], box[1], box[3], box[5]}, captures,
      [&](OpBuilder &builder, Location l, unsigned capture,
          ArrayRef<ValueInterval> indices) {
        // A capture of attn.sort_ids (attn-cluster's sorted ids and order)
        // has its range at the box's ends; the order needs the sorted ids
        // captured too.
        Value outer = op.getCaptures()[capture];
        if (auto sort = outer.getDefiningOp<SortIdsOp>()) {
          if (outer == sort.getSorted())
            return emitSortedRange(builder, l, captures[capture], Value(),
                                   indices);
          for (auto [k, other] : llvm::enumerate(op.getCaptures()))
            if (other == sort.getSorted())
              return emitSortedRange(builder, l, captures[capture], captures[k],
                                     indices);
        }
        return emitScanRange(builder, l, captures[capture], indices);
      });
  auto i8 = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(b, loc, b.getI8Type(), v);
  };
  Value result = arith::SelectOp::create(
      b, loc, cls.empty, i8(AttentionOp::kTileEmpty),
      arith::SelectOp::create(b, loc, cls.full, i8(AttentionOp::kTileFull),
                              i8(AttentionOp::kTilePartial)));
  YieldOp::create(b, loc, result);
}

namespace {
struct AttnSparsify : attune::attn::impl::AttnSparsifyBase<AttnSparsify> {
  using Base::Base;
  void runOnOperation() override {
    // The classifier is emitted for generality (every index a runtime
    // value); fold what the op's constants decide so that it reads well and
    // costs little.
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    for (Dialect *dialect : ctx->getLoadedDialects())
      dialect->getCanonicalizationPatterns(patterns);
    for (RegisteredOperationName name : ctx->getRegisteredOperations())
      name.getCanonicalizationPatterns(patterns, ctx);
    FrozenRewritePatternSet frozen(std::move(patterns));
    WalkResult result = getOperation()->walk([&](AttentionOp op) {
      if (!op.getMaskBlock() || op.getTilesBlock())
        return WalkResult::advance();
      buildClassifier(op);
      if (failed(applyPatternsGreedily(op.getTiles(), frozen)))
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
