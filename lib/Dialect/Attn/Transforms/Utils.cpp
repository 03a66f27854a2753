//===- Utils.cpp - Helpers shared by attn lowerings -------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/Transforms/Utils.h"

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace attune::attn;

/// Asserts `size == expected` unless both are constants (a static size is a
/// constant: no tensor.dim is emitted for it).
static void assertSizesEqual(OpBuilder &b, Operation *op, OpFoldResult size,
                             OpFoldResult expected, StringRef what) {
  if (getConstantIntValue(size) && getConstantIntValue(expected))
    return; // The verifier compared them.
  Location loc = op->getLoc();
  Value lhs = getValueOrCreateConstantIndexOp(b, loc, size);
  Value rhs = getValueOrCreateConstantIndexOp(b, loc, expected);
  Value same =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lhs, rhs);
  cf::AssertOp::create(
      b, loc, same,
      (op->getName().getStringRef() + ": " + what + " do not match").str());
}

void attune::attn::emitSizeCheck(OpBuilder &b, Operation *op, Value x,
                                 unsigned xDim, Value y, unsigned yDim,
                                 StringRef what) {
  OpFoldResult size = tensor::getMixedSize(b, op->getLoc(), x, xDim);
  OpFoldResult expected = tensor::getMixedSize(b, op->getLoc(), y, yDim);
  assertSizesEqual(b, op, size, expected, what);
}

void attune::attn::emitSizeCheck(OpBuilder &b, Operation *op, Value x,
                                 unsigned xDim, OpFoldResult expected,
                                 StringRef what) {
  OpFoldResult size = tensor::getMixedSize(b, op->getLoc(), x, xDim);
  assertSizesEqual(b, op, size, expected, what);
}

Value attune::attn::extractIndex(OpBuilder &b, Location loc, Value tensor,
                                 ValueRange at) {
  Value v = tensor::ExtractOp::create(b, loc, tensor, at);
  if (!v.getType().isIndex())
    v = arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  return v;
}

Value attune::attn::extendToF64(OpBuilder &b, Location loc, Value x) {
  if (!x.getType().isF32())
    x = arith::ExtFOp::create(b, loc, b.getF32Type(), x);
  return arith::ExtFOp::create(b, loc, b.getF64Type(), x);
}

Value attune::attn::filledTensor(OpBuilder &b, Location loc,
                                 ArrayRef<OpFoldResult> sizes,
                                 TypedAttr value) {
  Value empty = tensor::EmptyOp::create(b, loc, sizes, value.getType());
  Value scalar = arith::ConstantOp::create(b, loc, value);
  return linalg::FillOp::create(b, loc, scalar, empty).getResult(0);
}

void attune::attn::emitPermuteShapeChecks(OpBuilder &b, PermuteOp op,
                                          Value input, const LayoutDims &dims) {
  Value order = op.getOrder();
  emitSizeCheck(b, op, order, 0, input, dims.batch,
                "order and input batch sizes");
  emitSizeCheck(b, op, order, 1, input, dims.head,
                "order and input head counts");
  emitSizeCheck(b, op, order, 2, input, dims.seq,
                "order and input sequence lengths");
}

bool attune::attn::isSortOrder(Value order) {
  if (auto slice = order.getDefiningOp<tensor::ExtractSliceOp>()) {
    unsigned last = slice.getSourceType().getRank() - 1;
    OpFoldResult size = slice.getMixedSizes()[last];
    int64_t full = slice.getSourceType().getDimSize(last);
    auto dim = isa<Value>(size)
                   ? cast<Value>(size).getDefiningOp<tensor::DimOp>()
                   : tensor::DimOp();
    bool wholeRows = slice.hasUnitStride() && slice.getType().getRank() == 3 &&
                     isZeroInteger(slice.getMixedOffsets()[last]) &&
                     (ShapedType::isDynamic(full)
                          ? dim && dim.getSource() == slice.getSource() &&
                                dim.getConstantIndex() == int64_t(last)
                          : isConstantIntValue(size, full));
    if (!wholeRows)
      return false;
    order = slice.getSource();
  }
  auto sort = order.getDefiningOp<SortIdsOp>();
  return sort && sort.getOrder() == order;
}

void attune::attn::emitShapeChecks(OpBuilder &b, AttentionOp op) {
  LayoutDims d = op.getLayoutDims();
  Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
  emitSizeCheck(b, op, q, d.batch, k, d.batch, "query and key batch sizes");
  emitSizeCheck(b, op, q, d.batch, v, d.batch, "query and value batch sizes");
  emitSizeCheck(b, op, k, d.seq, v, d.seq, "key and value sequence lengths");
}

void attune::attn::emitRopeShapeChecks(OpBuilder &b, RopeOp op) {
  LayoutDims d = op.getLayoutDims();
  Value input = op.getInput();
  if (Value positions = op.getPositions()) {
    unsigned rank = cast<RankedTensorType>(positions.getType()).getRank();
    if (rank == 2)
      emitSizeCheck(b, op, positions, 0, input, d.batch,
                    "positions and input batch sizes");
    emitSizeCheck(b, op, positions, rank - 1, input, d.seq,
                  "positions and input sequence lengths");
  }
  if (Value scales = op.getFreqScales())
    emitSizeCheck(b, op, scales, 0, b.getIndexAttr(op.getNumRotated() / 2),
                  "freq_scales and rotary_dim / 2");
}

void attune::attn::emitMergeShapeChecks(OpBuilder &b, MergeOp op) {
  ValueRange outputs = op.getOutputs(), lses = op.getLses();
  for (size_t k = 1; k < outputs.size(); ++k) {
    for (unsigned d = 0; d < 4; ++d)
      emitSizeCheck(b, op, outputs[k], d, outputs[0], d,
                    "the sizes of the partial outputs");
    for (unsigned d = 0; d < 3; ++d)
      emitSizeCheck(b, op, lses[k], d, lses[0], d,
                    "the sizes of the partial lse");
  }
  LayoutDims dims = op.getLayoutDims();
  unsigned rowDims[] = {dims.batch, dims.head, dims.seq};
  for (auto [l, o] : llvm::enumerate(rowDims))
    emitSizeCheck(b, op, lses[0], l, outputs[0], o, "the sizes of lse and O");
}
