//===- LowerHashing.cpp - Bucket-id ops to linalg ---------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// attn.lsh_buckets and attn.nearest_centroid as linalg (docs/Hashing.md):
// a contraction of the input with the parameters into f64 scores, then an
// argmax over the scores' last dimension (two outputs, the best value and
// its index: the form IREE recognises as an argmax). The argmax's
// comparison (larger, or equal with a lower index; NaN never wins) does not
// depend on the order the candidates are visited in, so a target may split
// that reduction; the sums over features are in order of d. Both targets
// and attn-lower-to-reference use this form; it materialises the scores
// ([rounds, B, H, S, n / 2] f64), which a fused hashing kernel would not.
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/Dialect/Attn/Transforms/Passes.h"
#include "attune/Dialect/Attn/Transforms/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"

#include <limits>

namespace attune::attn {
#define GEN_PASS_DEF_ATTNLOWERHASHING
#include "attune/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attune::attn

using namespace mlir;
using namespace attune::attn;

/// The scores `sum_d x[b,h,s,d] * p[...]` as f64 [lead..., B, H, S, C]
/// over loops (lead..., b, h, s, d, c): `lead` leading loops (the LSH
/// rounds), the features a reduction before the C candidates, which stay
/// innermost for the CPU's vectoriser. `paramMap` gives the parameters'
/// indices from the loops.
static Value contract(OpBuilder &b, Location loc, Value input, Value params,
                      LayoutDims dims, unsigned lead, AffineMap paramMap,
                      ArrayRef<OpFoldResult> leadSizes, int64_t candidates) {
  MLIRContext *ctx = b.getContext();
  unsigned loops = lead + 5;
  auto dim = [&](unsigned l) { return getAffineDimExpr(l, ctx); };
  SmallVector<AffineExpr> xExprs(4);
  xExprs[dims.batch] = dim(lead);
  xExprs[dims.head] = dim(lead + 1);
  xExprs[dims.seq] = dim(lead + 2);
  xExprs[dims.feature] = dim(lead + 3);
  SmallVector<AffineExpr> outExprs;
  for (unsigned l = 0; l < lead + 3; ++l)
    outExprs.push_back(dim(l));
  outExprs.push_back(dim(lead + 4));

  SmallVector<OpFoldResult> sizes(leadSizes);
  for (unsigned d : {dims.batch, dims.head, dims.seq})
    sizes.push_back(tensor::getMixedSize(b, loc, input, d));
  sizes.push_back(b.getIndexAttr(candidates));
  Value init = filledTensor(b, loc, sizes, b.getF64FloatAttr(0.0));

  SmallVector<utils::IteratorType> iterators(loops,
                                             utils::IteratorType::parallel);
  iterators[lead + 3] = utils::IteratorType::reduction;
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{input, params},
      ValueRange{init},
      ArrayRef<AffineMap>{AffineMap::get(loops, 0, xExprs, ctx), paramMap,
                          AffineMap::get(loops, 0, outExprs, ctx)},
      iterators, [&](OpBuilder &nb, Location l, ValueRange args) {
        Value product = arith::MulFOp::create(nb, l, extendToF64(nb, l, args[0]),
                                              extendToF64(nb, l, args[1]));
        linalg::YieldOp::create(
            nb, l, arith::AddFOp::create(nb, l, args[2], product).getResult());
      });
  return generic.getResult(0);
}

/// The argmax of `candidates(c)` over the last dimension C of `scores`
/// ([outer..., C] f64) as i32 [outer...]. `candidates` returns, at loop
/// index c, the (value, index) pairs that position c contributes; `extra`
/// are further inputs the body reads (with their maps).
static Value
argmax(OpBuilder &b, Location loc, Value scores, ValueRange extra,
       ArrayRef<AffineMap> extraMaps,
       function_ref<SmallVector<std::pair<Value, Value>>(
           OpBuilder &, Location, Value score, ValueRange extra, Value c)>
           candidates) {
  MLIRContext *ctx = b.getContext();
  auto type = cast<RankedTensorType>(scores.getType());
  unsigned loops = type.getRank();
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, scores);
  sizes.pop_back();
  Value best =
      filledTensor(b, loc, sizes,
             b.getF64FloatAttr(-std::numeric_limits<double>::infinity()));
  Value ids = filledTensor(b, loc, sizes, b.getI32IntegerAttr(0));
  AffineMap outMap =
      AffineMap::getMultiDimIdentityMap(loops, ctx).dropResult(loops - 1);
  SmallVector<AffineMap> maps{AffineMap::getMultiDimIdentityMap(loops, ctx)};
  maps.append(extraMaps.begin(), extraMaps.end());
  maps.append({outMap, outMap});
  SmallVector<Value> inputs{scores};
  inputs.append(extra.begin(), extra.end());
  SmallVector<utils::IteratorType> iterators(loops,
                                             utils::IteratorType::parallel);
  iterators.back() = utils::IteratorType::reduction;
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{best.getType(), ids.getType()}, inputs,
      ValueRange{best, ids}, maps, iterators,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value c = linalg::IndexOp::create(nb, l, loops - 1);
        Value bestValue = args[args.size() - 2], bestId = args.back();
        for (auto [value, id] :
             candidates(nb, l, args[0], args.slice(1, extra.size()), c)) {
          // Larger, or as large with a lower index; NaN compares false.
          Value larger = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT,
                                               value, bestValue);
          Value equal = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ,
                                              value, bestValue);
          Value lower = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt,
                                              id, bestId);
          Value take = arith::OrIOp::create(
              nb, l, larger, arith::AndIOp::create(nb, l, equal, lower));
          bestValue = arith::SelectOp::create(nb, l, take, value, bestValue);
          bestId = arith::SelectOp::create(nb, l, take, id, bestId);
        }
        linalg::YieldOp::create(nb, l, ValueRange{bestValue, bestId});
      });
  return generic.getResult(1);
}

/// `c` (index) + `offset` as i32.
static Value asId(OpBuilder &b, Location loc, Value c, int64_t offset) {
  Value id = arith::IndexCastOp::create(b, loc, b.getI32Type(), c);
  if (offset)
    id = arith::AddIOp::create(
        b, loc, id,
        arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(offset)));
  return id;
}

/// Checks at run time that the parameters' heads (dimension `paramHead`)
/// are the input's where the verifier could not (a dynamic H).
static void emitHeadCheck(OpBuilder &b, Operation *op, Value input,
                          LayoutDims dims, Value params, unsigned paramHead) {
  auto paramType = cast<RankedTensorType>(params.getType());
  if (paramType.getDimSize(paramHead) != 1)
    emitSizeCheck(b, op, params, paramHead, input, dims.head,
                  "parameter and input head counts");
}

LogicalResult attune::attn::lowerLshBuckets(RewriterBase &rewriter,
                                            LshBucketsOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  LayoutDims dims = op.getLayoutDims();
  Value rotations = op.getRotations();
  auto rotType = cast<RankedTensorType>(rotations.getType());
  emitHeadCheck(rewriter, op, op.getInput(), dims, rotations, 1);
  // Loops (r, b, h, s, d, c); rotations[r, h or 0, d, c].
  auto dim = [&](unsigned l) { return getAffineDimExpr(l, ctx); };
  AffineExpr head =
      rotType.getDimSize(1) == 1 ? getAffineConstantExpr(0, ctx) : dim(2);
  AffineMap rotMap = AffineMap::get(6, 0, {dim(0), head, dim(4), dim(5)}, ctx);
  int64_t half = rotType.getDimSize(3);
  Value scores =
      contract(rewriter, loc, op.getInput(), rotations, dims, /*lead=*/1,
               rotMap, {rewriter.getIndexAttr(rotType.getDimSize(0))}, half);
  Value ids =
      argmax(rewriter, loc, scores, {}, {},
             [&](OpBuilder &b, Location l, Value score, ValueRange, Value c) {
               Value negated = arith::NegFOp::create(b, l, score);
               return SmallVector<std::pair<Value, Value>>{
                   {score, asId(b, l, c, 0)}, {negated, asId(b, l, c, half)}};
             });
  rewriter.replaceOp(op, ids);
  return success();
}

LogicalResult attune::attn::lowerNearestCentroid(RewriterBase &rewriter,
                                                 NearestCentroidOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  LayoutDims dims = op.getLayoutDims();
  Value centroids = op.getCentroids();
  auto cType = cast<RankedTensorType>(centroids.getType());
  emitHeadCheck(rewriter, op, op.getInput(), dims, centroids, 0);
  auto dim = [&](unsigned l) { return getAffineDimExpr(l, ctx); };
  bool shared = cType.getDimSize(0) == 1;
  // Loops (b, h, s, d, c); centroids[h or 0, c, d].
  AffineExpr head = shared ? getAffineConstantExpr(0, ctx) : dim(1);
  AffineMap cMap = AffineMap::get(5, 0, {head, dim(4), dim(3)}, ctx);
  int64_t heads = cType.getDimSize(0), k = cType.getDimSize(1);
  Value dots = contract(rewriter, loc, op.getInput(), centroids, dims,
                        /*lead=*/0, cMap, {}, k);

  // Half the squared norm of every centroid: loops (h, c, d).
  Value norms = filledTensor(rewriter, loc,
                       {rewriter.getIndexAttr(heads), rewriter.getIndexAttr(k)},
                       rewriter.getF64FloatAttr(0.0));
  norms = linalg::GenericOp::create(
              rewriter, loc, TypeRange{norms.getType()}, ValueRange{centroids},
              ValueRange{norms},
              ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(3, ctx),
                                  AffineMap::get(3, 0, {dim(0), dim(1)}, ctx)},
              ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                            utils::IteratorType::parallel,
                                            utils::IteratorType::reduction},
              [&](OpBuilder &b, Location l, ValueRange args) {
                Value m = extendToF64(b, l, args[0]);
                Value sq = arith::MulFOp::create(b, l, m, m);
                linalg::YieldOp::create(
                    b, l, arith::AddFOp::create(b, l, args[1], sq).getResult());
              })
              .getResult(0);

  // Scores [B, H, S, k]: loops (b, h, s, c) read norms[h or 0, c].
  AffineMap normMap = AffineMap::get(
      4, 0, {shared ? getAffineConstantExpr(0, ctx) : dim(1), dim(3)}, ctx);
  Value ids = argmax(
      rewriter, loc, dots, {norms}, {normMap},
      [&](OpBuilder &b, Location l, Value dot, ValueRange extra, Value c) {
        Value halfNorm = arith::MulFOp::create(
            b, l, extra[0],
            arith::ConstantOp::create(b, l, b.getF64FloatAttr(0.5)));
        Value value = arith::SubFOp::create(b, l, dot, halfNorm);
        return SmallVector<std::pair<Value, Value>>{{value, asId(b, l, c, 0)}};
      });
  rewriter.replaceOp(op, ids);
  return success();
}

LogicalResult attune::attn::lowerSortIds(RewriterBase &rewriter, SortIdsOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  Value ids = op.getIds();
  auto type = cast<RankedTensorType>(ids.getType());
  int64_t rank = type.getRank(), numIds = op.getNumIds();
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, ids);
  Type i32 = rewriter.getI32Type();
  auto index = [&](OpBuilder &b, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Value zero = index(rewriter, 0), one = index(rewriter, 1);
  Value length = getValueOrCreateConstantIndexOp(rewriter, loc, sizes.back());
  Value orderInit = tensor::EmptyOp::create(rewriter, loc, sizes, i32);
  Value sortedInit = tensor::EmptyOp::create(rewriter, loc, sizes, i32);
  Value countsInit = filledTensor(rewriter, loc, {rewriter.getIndexAttr(numIds + 1)},
                            rewriter.getIndexAttr(0));

  // One row (leading indices `lead`): a counting sort, stable because the
  // positions are placed in increasing order.
  auto sortRow = [&](OpBuilder &b, ValueRange lead, Value order,
                     Value sorted) -> SmallVector<Value> {
    auto at = [&](Value s) {
      SmallVector<Value> indices(lead);
      indices.push_back(s);
      return indices;
    };
    auto idAt = [&](OpBuilder &nb, Value s) {
      return arith::IndexCastOp::create(
          nb, loc, nb.getIndexType(),
          tensor::ExtractOp::create(nb, loc, ids, at(s)));
    };
    // counts[id + 1] = how many positions hold id, checked in range.
    Value counts =
        scf::ForOp::create(
            b, loc, zero, length, one, ValueRange{countsInit},
            [&](OpBuilder &nb, Location, Value s, ValueRange carried) {
              Value id = idAt(nb, s);
              Value inRange = arith::CmpIOp::create(
                  nb, loc, arith::CmpIPredicate::ult, id, index(nb, numIds));
              cf::AssertOp::create(nb, loc, inRange,
                                   (op->getName().getStringRef() +
                                    ": an id is outside [0, num_ids)")
                                       .str());
              Value slot = arith::AddIOp::create(nb, loc, id, index(nb, 1));
              Value c = tensor::ExtractOp::create(nb, loc, carried[0], slot);
              Value next = arith::AddIOp::create(nb, loc, c, index(nb, 1));
              scf::YieldOp::create(
                  nb, loc,
                  tensor::InsertOp::create(nb, loc, next, carried[0], slot)
                      .getResult());
            })
            .getResult(0);
    // counts[k] = how many positions hold an id below k.
    counts =
        scf::ForOp::create(
            b, loc, one, index(b, numIds + 1), one, ValueRange{counts},
            [&](OpBuilder &nb, Location, Value k, ValueRange carried) {
              Value prev = arith::SubIOp::create(nb, loc, k, index(nb, 1));
              Value sum = arith::AddIOp::create(
                  nb, loc, tensor::ExtractOp::create(nb, loc, carried[0], k),
                  tensor::ExtractOp::create(nb, loc, carried[0], prev));
              scf::YieldOp::create(
                  nb, loc,
                  tensor::InsertOp::create(nb, loc, sum, carried[0], k)
                      .getResult());
            })
            .getResult(0);
    // Each position, in order, to the next place of its id.
    auto place = scf::ForOp::create(
        b, loc, zero, length, one, ValueRange{counts, order, sorted},
        [&](OpBuilder &nb, Location, Value s, ValueRange carried) {
          Value id = idAt(nb, s);
          Value pos = tensor::ExtractOp::create(nb, loc, carried[0], id);
          Value next = arith::AddIOp::create(nb, loc, pos, index(nb, 1));
          Value c = tensor::InsertOp::create(nb, loc, next, carried[0], id);
          Value o = tensor::InsertOp::create(
              nb, loc, arith::IndexCastOp::create(nb, loc, i32, s), carried[1],
              at(pos));
          Value so = tensor::InsertOp::create(
              nb, loc, arith::IndexCastOp::create(nb, loc, i32, id), carried[2],
              at(pos));
          scf::YieldOp::create(nb, loc, ValueRange{c, o, so});
        });
    return {place.getResult(1), place.getResult(2)};
  };

  // The rows: one loop per leading dimension.
  std::function<SmallVector<Value>(OpBuilder &, int64_t, SmallVector<Value>,
                                   Value, Value)>
      rows = [&](OpBuilder &b, int64_t d, SmallVector<Value> lead, Value order,
                 Value sorted) -> SmallVector<Value> {
    if (d == rank - 1)
      return sortRow(b, lead, order, sorted);
    Value extent = getValueOrCreateConstantIndexOp(b, loc, sizes[d]);
    auto loop = scf::ForOp::create(
        b, loc, zero, extent, one, ValueRange{order, sorted},
        [&](OpBuilder &nb, Location, Value iv, ValueRange carried) {
          SmallVector<Value> inner(lead);
          inner.push_back(iv);
          scf::YieldOp::create(nb, loc,
                               rows(nb, d + 1, inner, carried[0], carried[1]));
        });
    return {loop.getResult(0), loop.getResult(1)};
  };
  SmallVector<Value> results = rows(rewriter, 0, {}, orderInit, sortedInit);
  rewriter.replaceOp(op, results);
  return success();
}

LogicalResult attune::attn::lowerPermute(RewriterBase &rewriter, PermuteOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  Value input = op.getInput(), order = op.getOrder();
  auto type = cast<RankedTensorType>(input.getType());
  LayoutDims dims = op.getLayoutDims();
  int64_t rank = type.getRank();
  auto index = [&](OpBuilder &b, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Value zero = index(rewriter, 0), one = index(rewriter, 1);
  emitPermuteShapeChecks(rewriter, op, input, dims);
  SmallVector<OpFoldResult> rows = tensor::getMixedSizes(rewriter, loc, order);
  Value length = getValueOrCreateConstantIndexOp(rewriter, loc, rows[2]);
  std::string name = op->getName().getStringRef().str();

  // The row each output row reads: `order` itself (every entry checked in
  // [0, S)), or with `inverse` its inverse, built by a scatter that checks
  // that each row of `order` is a permutation.
  Value source = order;
  if (op.getInverse())
    source = filledTensor(rewriter, loc, rows, rewriter.getI32IntegerAttr(-1));
  Value lenI32 =
      arith::IndexCastOp::create(rewriter, loc, rewriter.getI32Type(), length);
  SmallVector<Value> extents;
  for (OpFoldResult size : rows)
    extents.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, size));
  std::function<Value(OpBuilder &, unsigned, SmallVector<Value>, Value)> nest =
      [&](OpBuilder &b, unsigned d, SmallVector<Value> at,
          Value carried) -> Value {
    if (d == 3) {
      Value o = tensor::ExtractOp::create(b, loc, order, at);
      Value nonNegative = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::sge, o,
          arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0)));
      Value below =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, o, lenI32);
      cf::AssertOp::create(b, loc,
                           arith::AndIOp::create(b, loc, nonNegative, below),
                           name + ": an entry of order is outside [0, S)");
      if (!op.getInverse())
        return carried;
      SmallVector<Value> to{
          at[0], at[1],
          arith::IndexCastOp::create(b, loc, b.getIndexType(), o)};
      Value seen = tensor::ExtractOp::create(b, loc, carried, to);
      cf::AssertOp::create(
          b, loc,
          arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::eq, seen,
              arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(-1))),
          name + ": a row of order is not a permutation (an entry repeats)");
      Value t = arith::IndexCastOp::create(b, loc, b.getI32Type(), at[2]);
      return tensor::InsertOp::create(b, loc, t, carried, to);
    }
    auto loop = scf::ForOp::create(
        b, loc, zero, extents[d], one, ValueRange{carried},
        [&](OpBuilder &nb, Location, Value iv, ValueRange inner) {
          SmallVector<Value> next(at);
          next.push_back(iv);
          scf::YieldOp::create(nb, loc, nest(nb, d + 1, next, inner[0]));
        });
    return loop.getResult(0);
  };
  source = nest(rewriter, 0, {}, source);

  // The gather: y at loop indices reads x at the source row (clamped, so
  // the read stays in bounds whatever the checks above reported).
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, input);
  Value init =
      tensor::EmptyOp::create(rewriter, loc, sizes, type.getElementType());
  AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
  Value last = arith::SubIOp::create(rewriter, loc, length, one);
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{type}, ValueRange{}, ValueRange{init},
      ArrayRef<AffineMap>{identity},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &b, Location l, ValueRange) {
        SmallVector<Value> loops;
        for (int64_t d = 0; d < rank; ++d)
          loops.push_back(linalg::IndexOp::create(b, l, d));
        Value row = tensor::ExtractOp::create(
            b, l, source,
            ValueRange{loops[dims.batch], loops[dims.head], loops[dims.seq]});
        row = arith::IndexCastOp::create(b, l, b.getIndexType(), row);
        row = arith::MaxSIOp::create(b, l, row, index(b, 0));
        row = arith::MinSIOp::create(b, l, row, last);
        SmallVector<Value> at(loops);
        at[dims.seq] = row;
        linalg::YieldOp::create(
            b, l, tensor::ExtractOp::create(b, l, input, at).getResult());
      });
  rewriter.replaceOp(op, generic.getResults());
  return success();
}

namespace {
struct AttnLowerHashing
    : attune::attn::impl::AttnLowerHashingBase<AttnLowerHashing> {
  using Base::Base;
  void runOnOperation() override {
    if (failed(lowerAll(getOperation(), lowerLshBuckets)) ||
        failed(lowerAll(getOperation(), lowerNearestCentroid)) ||
        failed(lowerAll(getOperation(), lowerSortIds)) ||
        failed(lowerAll(getOperation(), lowerPermute)))
      signalPassFailure();
  }
};
} // namespace
