//===- LowerVarlen.cpp - Varlen ops to linalg and loops ---------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The materialised forms of the varlen ops (docs/Varlen.md): attn.unpack
// as one linalg.generic that reads each element of the padded batch from
// its packed row (0 past the sequence's length), attn.pack as a zero fill
// and a loop over the sequences' rows that inserts each [H, D] row at its
// packed position. Both first check the offsets at run time, so that bad
// offsets are a clear error instead of an out-of-bounds access. The
// targets fuse an unpack that feeds attention into the kernel's loads and
// use this for the rest.
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
#include "mlir/IR/PatternMatch.h"

namespace attune::attn {
#define GEN_PASS_DEF_ATTNLOWERVARLEN
#include "attune/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attune::attn

using namespace mlir;
using namespace attune::attn;

void attune::attn::emitVarlenChecks(OpBuilder &b, Operation *op,
                                    Value offsets, Value total, Value seq) {
  Location loc = op->getLoc();
  std::string prefix = (op->getName().getStringRef() + ": ").str();
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  auto sle = [&](Value x, Value y) -> Value {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, x, y);
  };
  // Ops are created one per statement: the order of function arguments'
  // evaluation is unspecified, and the IR must not depend on the compiler.
  Value zero = idx(0), one = idx(1);
  Value entries = tensor::DimOp::create(b, loc, offsets, 0);
  cf::AssertOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, entries, one),
      prefix + "cu_seqlens is empty");
  Value last = arith::SubIOp::create(b, loc, entries, one);
  Value start = extractIndex(b, loc, offsets, zero);
  Value stop = extractIndex(b, loc, offsets, last);
  Value fromZero = sle(zero, start);
  Value withinTotal = sle(stop, total);
  cf::AssertOp::create(
      b, loc, arith::AndIOp::create(b, loc, fromZero, withinTotal),
      prefix + "cu_seqlens starts below 0 or ends past the packed rows");
  auto loop = scf::ForOp::create(b, loc, zero, last, one);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value seqIndex = loop.getInductionVar();
  Value first = extractIndex(b, loc, offsets, seqIndex);
  Value next = arith::AddIOp::create(b, loc, seqIndex, one);
  Value end = extractIndex(b, loc, offsets, next);
  Value length = arith::SubIOp::create(b, loc, end, first);
  Value notNegative = sle(zero, length);
  Value fits = sle(length, seq);
  cf::AssertOp::create(
      b, loc, arith::AndIOp::create(b, loc, notNegative, fits),
      prefix + "cu_seqlens decreases, or a sequence is longer than the "
               "padded length");
}

void attune::attn::emitUnpackChecks(OpBuilder &b, UnpackOp op) {
  Location loc = op.getLoc();
  Value total = tensor::DimOp::create(b, loc, op.getPacked(), 0);
  emitVarlenChecks(b, op, op.getCuSeqlens(), total, getUnpackedLength(b, op));
  RankedTensorType result = op.getResult().getType();
  LayoutDims dims = op.getLayoutDims();
  // (Never through the result's own sizes: the checks precede the op.)
  if (!result.isDynamicDim(dims.batch)) {
    Value entries = tensor::DimOp::create(b, loc, op.getCuSeqlens(), 0);
    Value same = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq, entries,
        arith::ConstantIndexOp::create(b, loc,
                                       result.getDimSize(dims.batch) + 1));
    cf::AssertOp::create(b, loc, same,
                         "attn.unpack: cu_seqlens does not have B + 1 "
                         "entries for the result's batch size");
  }
}

void attune::attn::emitPackChecks(OpBuilder &b, PackOp op, Value total,
                                  Value seq, Value batch) {
  emitVarlenChecks(b, op, op.getCuSeqlens(), total, seq);
  Value one = arith::ConstantIndexOp::create(b, op.getLoc(), 1);
  Value entries = arith::AddIOp::create(b, op.getLoc(), batch, one);
  emitSizeCheck(b, op, op.getCuSeqlens(), 0, OpFoldResult(entries),
                "cu_seqlens entries and the batch size + 1");
}

Value attune::attn::getPackedRows(OpBuilder &b, PackOp op) {
  RankedTensorType type = op.getResult().getType();
  if (type.isDynamicDim(0))
    return op.getTotal();
  return arith::ConstantIndexOp::create(b, op.getLoc(), type.getDimSize(0));
}

Value attune::attn::getUnpackedLength(OpBuilder &b, UnpackOp op) {
  int64_t seq = op.getResult().getType().getDimSize(op.getLayoutDims().seq);
  if (ShapedType::isDynamic(seq))
    return op.getMaxLen();
  return arith::ConstantIndexOp::create(b, op.getLoc(), seq);
}

LogicalResult attune::attn::lowerUnpack(RewriterBase &rewriter, UnpackOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  emitUnpackChecks(rewriter, op);
  Location loc = op.getLoc();
  RankedTensorType type = op.getResult().getType();
  LayoutDims dims = op.getLayoutDims();
  SmallVector<Value> dynamicSizes;
  for (int64_t d = 0; d < 4; ++d) {
    if (!type.isDynamicDim(d))
      continue;
    if (d == dims.batch) {
      Value entries =
          tensor::DimOp::create(rewriter, loc, op.getCuSeqlens(), 0);
      Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
      dynamicSizes.push_back(
          arith::SubIOp::create(rewriter, loc, entries, one));
    } else // The sequence.
      dynamicSizes.push_back(op.getMaxLen());
  }
  Value init = tensor::EmptyOp::create(rewriter, loc, type, dynamicSizes);
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{type}, ValueRange{}, ValueRange{init},
      ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(4)},
      SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
      [&](OpBuilder &b, Location l, ValueRange) {
        SmallVector<Value> at;
        for (int64_t d = 0; d < 4; ++d)
          at.push_back(linalg::IndexOp::create(b, l, d));
        Value batch = at[dims.batch], row = at[dims.seq];
        Value first = extractIndex(b, l, op.getCuSeqlens(), batch);
        Value end = extractIndex(
            b, l, op.getCuSeqlens(),
            ValueRange{arith::AddIOp::create(
                           b, l, batch, arith::ConstantIndexOp::create(b, l, 1))
                           .getResult()});
        Value inside = arith::CmpIOp::create(
            b, l, arith::CmpIPredicate::slt, row,
            arith::SubIOp::create(b, l, end, first));
        // Rows past the length are 0 and read nothing.
        auto element = scf::IfOp::create(
            b, l, inside,
            [&](OpBuilder &, Location) {
              Value x = tensor::ExtractOp::create(
                  b, l, op.getPacked(),
                  ValueRange{arith::AddIOp::create(b, l, first, row),
                             at[dims.head], at[dims.feature]});
              scf::YieldOp::create(b, l, x);
            },
            [&](OpBuilder &, Location) {
              scf::YieldOp::create(
                  b, l,
                  arith::ConstantOp::create(
                      b, l, b.getZeroAttr(type.getElementType()))
                      .getResult());
            });
        linalg::YieldOp::create(b, l, element.getResult(0));
      });
  rewriter.replaceOp(op, generic.getResults());
  return success();
}

LogicalResult attune::attn::lowerPack(RewriterBase &rewriter, PackOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  OpBuilder &b = rewriter;
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  LayoutDims dims = op.getLayoutDims();
  Value input = op.getInput();
  RankedTensorType type = op.getResult().getType();
  Value total = getPackedRows(b, op);
  Value seqLength = tensor::DimOp::create(b, loc, input, dims.seq);
  Value batchSize = tensor::DimOp::create(b, loc, input, dims.batch);
  emitPackChecks(b, op, total, seqLength, batchSize);
  Value one = idx(1), zeroIndex = idx(0);
  int64_t heads = type.getDimSize(1), features = type.getDimSize(2);
  auto rowType = RankedTensorType::get({heads, features},
                                       type.getElementType());
  SmallVector<Value> dynamicSizes;
  if (type.isDynamicDim(0))
    dynamicSizes.push_back(total);
  Value zero = arith::ConstantOp::create(
      b, loc, b.getZeroAttr(type.getElementType()));
  Value empty = tensor::EmptyOp::create(b, loc, type, dynamicSizes);
  Value init = linalg::FillOp::create(b, loc, zero, empty).getResult(0);
  SmallVector<OpFoldResult> ones(4, b.getIndexAttr(1));
  auto sequences = scf::ForOp::create(
      b, loc, zeroIndex, batchSize, one, ValueRange{init},
      [&](OpBuilder &, Location, Value seq, ValueRange outer) {
        Value first = extractIndex(b, loc, op.getCuSeqlens(), seq);
        Value next = arith::AddIOp::create(b, loc, seq, one);
        Value end = extractIndex(b, loc, op.getCuSeqlens(), next);
        Value length = arith::SubIOp::create(b, loc, end, first);
        auto rows = scf::ForOp::create(
            b, loc, zeroIndex, length, one, outer,
            [&](OpBuilder &, Location, Value r, ValueRange inner) {
              SmallVector<OpFoldResult> offsets(4), sizes(4);
              offsets[dims.batch] = seq;
              offsets[dims.seq] = r;
              offsets[dims.head] = offsets[dims.feature] = b.getIndexAttr(0);
              sizes[dims.batch] = sizes[dims.seq] = b.getIndexAttr(1);
              sizes[dims.head] = b.getIndexAttr(heads);
              sizes[dims.feature] = b.getIndexAttr(features);
              Value row = tensor::ExtractSliceOp::create(
                  b, loc, rowType, input, offsets, sizes, ones);
              Value updated = tensor::InsertSliceOp::create(
                  b, loc, row, inner.front(),
                  ArrayRef<OpFoldResult>{
                      arith::AddIOp::create(b, loc, first, r).getResult(),
                      b.getIndexAttr(0), b.getIndexAttr(0)},
                  ArrayRef<OpFoldResult>{b.getIndexAttr(1),
                                         b.getIndexAttr(heads),
                                         b.getIndexAttr(features)},
                  ArrayRef<OpFoldResult>(ones).take_front(3));
              scf::YieldOp::create(b, loc, updated);
            });
        scf::YieldOp::create(b, loc, rows.getResults());
      });
  rewriter.replaceOp(op, sequences.getResults());
  return success();
}

namespace {
struct AttnLowerVarlen
    : attune::attn::impl::AttnLowerVarlenBase<AttnLowerVarlen> {
  using Base::Base;
  void runOnOperation() override {
    Operation *root = getOperation();
    if (failed(lowerAll(root, lowerUnpack)) ||
        failed(lowerAll(root, lowerPack)))
      signalPassFailure();
  }
};
} // namespace
