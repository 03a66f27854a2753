//===- OperandRows.cpp - How the CPU kernel reaches its operands -*- C++ -*-=//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "OperandRows.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace attune;
using namespace attune::cpu;

Value attune::cpu::readOnlyBuffer(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
  if (!strides.empty())
    strides.back() = 1;
  auto layout =
      StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic, strides);
  auto memrefType =
      MemRefType::get(type.getShape(), type.getElementType(), layout);
  auto toBuffer =
      bufferization::ToBufferOp::create(b, loc, memrefType, tensor);
  toBuffer.setReadOnly(true);
  return toBuffer;
}

Value attune::cpu::loadIndex(OpBuilder &b, Location loc, Value buffer,
                             ValueRange at) {
  Value v = memref::LoadOp::create(b, loc, buffer, at);
  if (!v.getType().isIndex())
    v = arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  return v;
}

OperandRows::OperandRows(OpBuilder &b, Location loc, Value buffer,
                         attn::LayoutDims dims, Value rowCount, int64_t lanes)
    : b(b), loc(loc), buffer(buffer), count(rowCount), batchDim(dims.batch),
      headDim(dims.head), seqDim(dims.seq), featureDim(dims.feature),
      lanes(lanes),
      element(cast<MemRefType>(buffer.getType()).getElementType()) {}

OperandRows::OperandRows(OpBuilder &b, Location loc, Value buffer,
                         Value rowCount, int64_t lanes)
    : b(b), loc(loc), buffer(buffer), count(rowCount), batchDim(0),
      headDim(1), seqDim(2), lanes(lanes),
      element(cast<MemRefType>(buffer.getType()).getElementType()) {}

SmallVector<Value, 4> OperandRows::indices(Value batch, Value head, Value row,
                                           Value feature) const {
  if (packedOffsets) {
    // A packed output ([T, H, D]): the row's place in its sequence's rows.
    Value first = loadIndex(b, loc, packedOffsets, batch);
    Value packedRow = arith::AddIOp::create(b, loc, first, row);
    return {packedRow, head, feature};
  }
  if (rowOrder)
    row = loadIndex(b, loc, rowOrder, ValueRange{batch, head, row});
  SmallVector<Value, 4> result(featureDim ? 4 : 3);
  result[batchDim] = batch;
  result[headDim] = head;
  result[seqDim] = row;
  if (featureDim)
    result[*featureDim] = feature;
  return result;
}

/// `count` (0: all) of `lanes` consecutive elements of `buffer` from `at` as
/// a vector<lanes x f32>; lanes past `count` are 0 and not read.
static Value loadVectorFrom(OpBuilder &b, Location loc, Value buffer,
                            ValueRange at, int64_t lanes, int64_t count) {
  Type element = cast<MemRefType>(buffer.getType()).getElementType();
  auto type = VectorType::get({lanes}, element);
  Value v;
  if (count == 0 || count == lanes) {
    v = vector::LoadOp::create(b, loc, type, buffer, at);
  } else {
    Value zero = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, b.getZeroAttr(element)));
    Value mask = vector::ConstantMaskOp::create(
        b, loc, VectorType::get({lanes}, b.getI1Type()),
        ArrayRef<int64_t>{count});
    v = vector::MaskedLoadOp::create(b, loc, type, buffer, at, mask, zero);
  }
  if (!element.isF32())
    v = arith::ExtFOp::create(b, loc, VectorType::get({lanes}, b.getF32Type()),
                              v);
  return v;
}

Value OperandRows::loadVector(Value batch, Value head, Value row,
                              Value feature, int64_t count) const {
  if (isStaged())
    return loadVectorFrom(
        b, loc, stagedTile,
        ValueRange{arith::SubIOp::create(b, loc, row, stagedBegin), feature},
        lanes, count);
  return loadVectorFrom(b, loc, buffer, indices(batch, head, row, feature),
                        lanes, count);
}

Value OperandRows::loadScalar(Value batch, Value head, Value row,
                              Value feature) const {
  if (isStaged())
    return memref::LoadOp::create(
        b, loc, stagedTile,
        ValueRange{arith::SubIOp::create(b, loc, row, stagedBegin), feature});
  Value x = memref::LoadOp::create(b, loc, buffer,
                                   indices(batch, head, row, feature));
  if (!element.isF32())
    x = arith::ExtFOp::create(b, loc, b.getF32Type(), x);
  return x;
}

void OperandRows::storeVector(Value value, Value batch, Value head, Value row,
                              Value feature) const {
  if (!element.isF32())
    value = arith::TruncFOp::create(
        b, loc, VectorType::get({lanes}, element), value);
  vector::StoreOp::create(b, loc, value, buffer,
                          indices(batch, head, row, feature));
}

void OperandRows::storeScalar(Value value, Value batch, Value head, Value row,
                              Value feature) const {
  if (!element.isF32())
    value = arith::TruncFOp::create(b, loc, element, value);
  memref::StoreOp::create(b, loc, value, buffer,
                          indices(batch, head, row, feature));
}
