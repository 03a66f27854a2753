//===- OperandRows.cpp - Where a kernel's operand rows live -----*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The sources of the rows of Q, K, V, O and lse (OperandRows.h): dense
// strided tensors in either layout, and the packed query heads of split-KV
// decode.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

using namespace mlir;
using namespace attune;
using namespace attune::attn;
using namespace attune::cuda;

void KernelEmitter::emitOperandRows(IRMapping &args, ValueRange outputs) {
  // f32 inputs: the first planes stand for Q, K, V (same shapes, bf16).
  bool usePlanes = planes > 1;
  query = usePlanes ? planeInputs[0] : args.lookup(op.getQuery());
  Value key = usePlanes ? planeInputs[planes] : args.lookup(op.getKey());
  Value value =
      usePlanes ? planeInputs[2 * planes] : args.lookup(op.getValue());
  Value output = outputs.empty() ? Value() : outputs[0];
  seqQ = memref::DimOp::create(b, loc, query, dims.seq);
  seqK = memref::DimOp::create(b, loc, key, dims.seq);

  // Packed heads: Q's rows are built by the prologue, at its copy
  // (queryPlaneRows), where their index arithmetic has always been emitted;
  // earlier, it reorders the PTX and, through the register counts, can
  // change the tile search's choice.
  auto queryPlane = [&](Value memref) {
    if (!packedHeads)
      queryRows.push_back(stridedRows(memref, dims, head, seqQ));
  };
  queryPlane(query);
  keyRows.push_back(stridedRows(key, dims, kvHead, seqK));
  valueRows.push_back(stridedRows(value, dims, kvHead, seqK));
  for (int64_t p = 1; p < planes; ++p) {
    queryPlane(planeInputs[p]);
    keyRows.push_back(stridedRows(planeInputs[planes + p], dims, kvHead, seqK));
    valueRows.push_back(
        stridedRows(planeInputs[2 * planes + p], dims, kvHead, seqK));
  }
  if (output)
    outputRows = stridedRows(output, dims, head, seqQ);
}

OperandRows KernelEmitter::queryPlaneRows(int64_t plane) {
  return packedHeads ? packedQueryRows(plane ? planeInputs[plane] : query)
                     : queryRows[plane];
}

OperandRows KernelEmitter::stridedRows(Value memref, LayoutDims at, Value h,
                                       Value count) {
  auto meta = memref::ExtractStridedMetadataOp::create(b, loc, memref);
  ValueRange strides = meta.getStrides();
  OperandRows rows;
  rows.count = count;
  rows.element = cast<MemRefType>(memref.getType()).getElementType();
  rows.rowStride = strides[at.seq];
  Value offset = add(meta.getOffset(), add(mul(batch, strides[at.batch]),
                                           mul(h, strides[at.head])));
  rows.base = gep(globalPointer(memref), offset, rows.element);
  return rows;
}

OperandRows KernelEmitter::packedQueryRows(Value memref) {
  auto meta = memref::ExtractStridedMetadataOp::create(b, loc, memref);
  ValueRange strides = meta.getStrides();
  OperandRows rows;
  rows.element = cast<MemRefType>(memref.getType()).getElementType();
  Value base = gep(globalPointer(memref),
                   add(meta.getOffset(), mul(batch, strides[dims.batch])),
                   rows.element);
  rows.count = validRows();
  Value headStride = strides[dims.head], seqStride = strides[dims.seq];
  // rowPosition clamps the row into the group's rows.
  rows.start = [this, base, headStride, seqStride](Value row) {
    auto [rowHead, position] = rowPosition(row);
    return RowStart{
        base, add(mul(rowHead, headStride), mul(position, seqStride))};
  };
  return rows;
}

RowStart KernelEmitter::rowStart(const OperandRows &rows, Value row) {
  if (rows.start)
    return rows.start(row);
  return {rows.base, mul(row, rows.rowStride)};
}

Value KernelEmitter::rowAddress(const OperandRows &rows, RowStart start,
                                Value col) {
  return gep(start.base, col ? add(start.offset, col) : start.offset,
             rows.element);
}
