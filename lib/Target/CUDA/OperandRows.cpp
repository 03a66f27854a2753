//===- OperandRows.cpp - Where a kernel's operand rows live -----*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The sources of the rows of Q, K, V, O and lse (OperandRows.h): dense
// strided tensors in either layout, the packed query heads of split-KV
// decode, K and V read from the parts of a concatenation, K and V read
// from the pages of a paged KV cache, and the rows of one sequence of a
// packed varlen batch, read and written (OperandSources.h).
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"
#include "OperandSources.h"

using namespace mlir;
using namespace attune;
using namespace attune::attn;
using namespace attune::cuda;

void KernelEmitter::emitOperandRows(IRMapping &args, ValueRange outputs) {
  std::string reason;
  std::optional<OperandSources> sources = getOperandSources(op, reason);
  assert(sources && "the conversion checked the operands' sources");
  // f32 inputs: kPlanes bf16 planes per source (setPlanes), in the order of
  // the sources; else the sources themselves.
  bool usePlanes = planes > 1;
  auto memrefOf = [&](unsigned source, int64_t plane) -> Value {
    if (usePlanes)
      return planeInputs[source * planes + plane];
    if (source < rotatedInputs.size() && rotatedInputs[source])
      return rotatedInputs[source];
    return args.lookup(sources->all[source].argument);
  };
  // Plane `plane` of the parts of operand `operand` (one unless concat).
  auto partsOf = [&](unsigned operand, int64_t plane) {
    SmallVector<Value, 2> parts;
    for (unsigned s = sources->first[operand]; s < sources->first[operand + 1];
         ++s)
      parts.push_back(memrefOf(s, plane));
    return parts;
  };
  query = memrefOf(0, 0);
  Value output = outputs.empty() ? Value() : outputs[0];
  // A varlen operand's padded sequence length: the unpack's static size or
  // its max_len (computed in the kernel like the function's other sizes).
  auto paddedLength = [&](const OperandSource &source) -> Value {
    attn::UnpackOp unpack = source.unpack;
    int64_t size = unpack.getType().getDimSize(dims.seq);
    if (!ShapedType::isDynamic(size))
      return idx(size);
    return args.lookup(unpack.getMaxLen());
  };
  const OperandSource &querySource = sources->of(0).front();
  seqQ = querySource.unpack
             ? paddedLength(querySource)
             : Value(memref::DimOp::create(b, loc, query, dims.seq));
  seqK = Value();
  const OperandSource &keySource = sources->of(1).front();
  const OperandSource &valueSource = sources->of(2).front();
  if (keySource.unpack)
    seqK = paddedLength(keySource);
  // Rows of operand `source` of a varlen batch.
  auto unpackedRows = [&](const OperandSource &source, Value memref, Value h) {
    attn::UnpackOp unpack = source.unpack;
    return varlenRows(args.lookup(unpack.getCuSeqlens()), memref, h,
                      paddedLength(source), "attn.unpack");
  };
  attn::GatherPagesOp keyPages = keySource.pages;
  if (keyPages) {
    // M pages of P rows per sequence (the gather's result).
    Value table = args.lookup(keyPages.getBlockTable());
    seqK = mul(memref::DimOp::create(b, loc, table, 1),
               idx(keyPages.getPageSize()));
  }
  for (Value part :
       keyPages || keySource.unpack ? SmallVector<Value, 2>() : partsOf(1, 0)) {
    Value length = memref::DimOp::create(b, loc, part, dims.seq);
    seqK = seqK ? add(seqK, length) : length;
  }

  // Packed heads: Q's rows are built by the prologue, at its copy
  // (queryPlaneRows), where their index arithmetic has always been emitted;
  // earlier, it reorders the PTX and, through the register counts, can
  // change the tile search's choice.
  for (int64_t p = 0; p < planes; ++p) {
    if (!packedHeads)
      queryRows.push_back(querySource.unpack
                              ? unpackedRows(querySource, memrefOf(0, p), head)
                              : stridedRows(memrefOf(0, p), dims, head, seqQ));
    if (keyPages) {
      // Caches are 16-bit (OperandSources.cpp): one plane.
      keyRows.push_back(pagedRows(keyPages, partsOf(1, p)[0], kvHead, args));
      valueRows.push_back(pagedRows(sources->of(2).front().pages,
                                    partsOf(2, p)[0], kvHead, args));
      continue;
    }
    // Varlen batches are 16-bit (OperandSources.cpp): one plane.
    keyRows.push_back(keySource.unpack
                          ? unpackedRows(keySource, partsOf(1, p)[0], kvHead)
                          : concatRows(partsOf(1, p), kvHead, seqK));
    valueRows.push_back(
        valueSource.unpack ? unpackedRows(valueSource, partsOf(2, p)[0], kvHead)
                           : concatRows(partsOf(2, p), kvHead, seqK));
  }
  if (!output)
    return;
  FailureOr<attn::PackOp> pack = getFusedPack(op, reason);
  assert(succeeded(pack) && "the conversion checked the pack");
  if (!*pack) {
    outputRows = stridedRows(output, dims, head, seqQ);
    return;
  }
  // O's rows go to their places in the packed output.
  packedOutput = output;
  packOffsets = args.lookup(pack->getCuSeqlens());
  outputRows = varlenRows(packOffsets, output, head, seqQ, "attn.pack");
}

OperandRows KernelEmitter::concatRows(ArrayRef<Value> parts, Value h,
                                      Value count) {
  if (parts.size() == 1)
    return stridedRows(parts[0], dims, h, count);
  // Each part's evenly spaced rows, from the first row of the concatenation
  // it holds.
  OperandRows rows;
  rows.count = count;
  Value first = idx(0);
  for (Value part : parts) {
    Value length = memref::DimOp::create(b, loc, part, dims.seq);
    OperandRows partRows = stridedRows(part, dims, h, length);
    rows.element = partRows.element;
    rows.segments.push_back({first, partRows.base, partRows.rowStride});
    first = add(first, length);
  }
  // Row r of the part whose first row is the last at or before r; rows at
  // or past `count` (zero-filled) are clamped to the last row, or to row 0
  // of the first part when there is none (the address is not read).
  rows.start = [this, segments = rows.segments, count](Value row) {
    Value r = clampRow(row, count);
    RowStart start{segments[0].base, mul(r, segments[0].rowStride)};
    for (const OperandRows::Segment &segment :
         ArrayRef(segments).drop_front()) {
      Value inPart = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, r,
                                           segment.first);
      Value partRow = arith::SubIOp::create(b, loc, r, segment.first);
      Value offset = mul(partRow, segment.rowStride);
      start.base = select(inPart, segment.base, start.base);
      start.offset = select(inPart, offset, start.offset);
    }
    return start;
  };
  return rows;
}

/// `value` (any signless integer or index) as an index, sign-extended.
static Value asIndex(OpBuilder &b, Location loc, Value value) {
  if (value.getType().isIndex())
    return value;
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), value);
}

OperandRows KernelEmitter::pagedRows(attn::GatherPagesOp pages, Value cache,
                                     Value h, IRMapping &args) {
  Value table = args.lookup(pages.getBlockTable());
  Value lengths = args.lookup(pages.getSeqLens());
  int64_t pageSize = pages.getPageSize();
  attn::LayoutDims at = pages.getCacheDims();
  OperandRows rows;
  rows.element = cast<MemRefType>(cache.getType()).getElementType();
  // The sequence's length, checked against the table's M P rows (the
  // gather's contract, docs/PagedKV.md): a negative one would read as a
  // huge unsigned row count.
  Value length =
      asIndex(b, loc, memref::LoadOp::create(b, loc, lengths, batch));
  Value capacity = mul(memref::DimOp::create(b, loc, table, 1), idx(pageSize));
  Value lengthValid = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ule, length, capacity);
  cf::AssertOp::create(b, loc, lengthValid,
                       "attn.gather_pages: a sequence length is outside [0, "
                       "pages in its block table x page size]");
  rows.count = length;
  auto meta = memref::ExtractStridedMetadataOp::create(b, loc, cache);
  ValueRange strides = meta.getStrides();
  Value pageCount = memref::DimOp::create(b, loc, cache, at.batch);
  Value base = gep(globalPointer(cache), meta.getOffset(), rows.element);
  Value headOffset = mul(h, strides[at.head]);
  Value pageStride = strides[at.batch], slotStride = strides[at.seq];
  // Row 0 of page `page` (index) of the table's row of this batch. Entries
  // of pages wholly past the length are not checked (they may be padding
  // such as -1). The last key tile may reach past the M pages when the tile
  // size does not divide M P: its page index is clamped to the table (the
  // rows there are zero-filled, their address not read).
  Value lastPage = arith::SubIOp::create(
      b, loc, memref::DimOp::create(b, loc, table, 1), idx(1));
  auto pageStart = [this, table, length, pageCount, base, headOffset,
                    pageStride, pageSize, lastPage](Value page) {
    Value tablePage = arith::MinUIOp::create(b, loc, page, lastPage);
    Value entry =
        memref::LoadOp::create(b, loc, table, ValueRange{batch, tablePage});
    Value id = asIndex(b, loc, entry);
    Value inCache = ult(id, pageCount);
    Value firstRow = mul(page, idx(pageSize));
    Value pastLength = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::uge, firstRow, length);
    Value valid = arith::OrIOp::create(b, loc, inCache, pastLength);
    cf::AssertOp::create(b, loc, valid,
                         "attn.gather_pages: a block table entry of a row "
                         "below the sequence's length is not a page of the "
                         "cache");
    Value safeId = select(inCache, id, idx(0));
    return RowStart{base, add(mul(safeId, pageStride), headOffset)};
  };
  rows.pages = OperandRows::Pages{pageSize, slotStride, pageStart};
  // Rows at or past the length (zero-filled, their address not read) are
  // clamped to the last row below it, or to row 0 when there is none.
  rows.start = [this, length, pageStart, slotStride, pageSize](Value row) {
    Value r = clampRow(row, length);
    RowStart start = pageStart(divu(r, pageSize));
    start.offset = add(start.offset, mul(remu(r, pageSize), slotStride));
    return start;
  };
  return rows;
}

OperandRows KernelEmitter::varlenRows(Value offsets, Value packed, Value h,
                                      Value padded, StringRef opName) {
  // One op per statement: argument order differs between compilers.
  Value first = asIndex(b, loc, memref::LoadOp::create(b, loc, offsets, batch));
  Value nextBatch = add(batch, idx(1));
  Value next =
      asIndex(b, loc, memref::LoadOp::create(b, loc, offsets, nextBatch));
  Value total = memref::DimOp::create(b, loc, packed, 0);
  Value length = arith::SubIOp::create(b, loc, next, first);
  auto sle = [&](Value x, Value y) -> Value {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, x, y);
  };
  // 0 <= first <= next <= T and next - first <= padded (docs/Varlen.md).
  Value valid = sle(idx(0), first);
  valid = arith::AndIOp::create(b, loc, valid, sle(first, next));
  valid = arith::AndIOp::create(b, loc, valid, sle(next, total));
  valid = arith::AndIOp::create(b, loc, valid, sle(length, padded));
  cf::AssertOp::create(
      b, loc, valid,
      (opName + ": cu_seqlens is negative, decreases or reaches past the "
                "packed rows, or a sequence is longer than the padded length")
          .str());
  OperandRows rows;
  rows.count = select(valid, length, idx(0));
  rows.element = cast<MemRefType>(packed.getType()).getElementType();
  auto meta = memref::ExtractStridedMetadataOp::create(b, loc, packed);
  ValueRange strides = meta.getStrides();
  rows.rowStride = strides[0];
  Value safeFirst = select(valid, first, idx(0));
  Value offset = add(meta.getOffset(),
                     add(mul(safeFirst, strides[0]), mul(h, strides[1])));
  rows.base = gep(globalPointer(packed), offset, rows.element);
  return rows;
}

void KernelEmitter::zeroUncoveredRows() {
  // 8 elements per store (Dv is a multiple of 8: unsupportedReason), 16 or
  // 32 bytes.
  int64_t chunks = valueDim / 8;
  auto meta = memref::ExtractStridedMetadataOp::create(b, loc, packedOutput);
  ValueRange strides = meta.getStrides();
  Value base = gep(globalPointer(packedOutput),
                   add(meta.getOffset(), mul(head, strides[1])), outputType);
  Value total = memref::DimOp::create(b, loc, packedOutput, 0);
  // B = the offsets' size - 1 sequences; the last is B - 1.
  Value numBatches = arith::SubIOp::create(
      b, loc, memref::DimOp::create(b, loc, packOffsets, 0), idx(1));
  Value lastBatch = arith::SubIOp::create(b, loc, numBatches, idx(1));
  Value zero = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(VectorType::get({8}, outputType),
                             b.getZeroAttr(outputType)));
  // The CTAs of one (batch, head) share the rows, a tile each in turn.
  Value sweep =
      mul(gpu::GridDimOp::create(b, loc, gpu::Dimension::x), idx(tileQ));
  auto zeroRows = [&](Value isOwner, Value begin, Value end) {
    scf::IfOp::create(b, loc, isOwner, [&](OpBuilder &, Location) {
      // Offsets outside [0, T] fail the assertion of varlenRows; clamped
      // here all the same.
      Value lo = arith::MinSIOp::create(
          b, loc, arith::MaxSIOp::create(b, loc, begin, idx(0)), total);
      Value hi = arith::MinSIOp::create(
          b, loc, arith::MaxSIOp::create(b, loc, end, idx(0)), total);
      Value start = add(lo, rowBegin);
      scf::ForOp::create(
          b, loc, start, hi, sweep, ValueRange{},
          [&](OpBuilder &, Location, Value tileRow, ValueRange) {
            scf::ForOp::create(
                b, loc, tid, idx(tileQ * chunks), idx(threads), ValueRange{},
                [&](OpBuilder &, Location, Value e, ValueRange) {
                  Value row = add(tileRow, divu(e, chunks));
                  scf::IfOp::create(
                      b, loc, ult(row, hi), [&](OpBuilder &, Location) {
                        Value col = mul(remu(e, chunks), idx(8));
                        Value at = add(mul(row, strides[0]), col);
                        LLVM::StoreOp::create(b, loc, zero,
                                              gep(base, at, outputType),
                                              /*alignment=*/16);
                        scf::YieldOp::create(b, loc);
                      });
                  scf::YieldOp::create(b, loc);
                });
            scf::YieldOp::create(b, loc);
          });
      scf::YieldOp::create(b, loc);
    });
  };
  Value firstRow = asIndex(
      b, loc, memref::LoadOp::create(b, loc, packOffsets, ValueRange{idx(0)}));
  Value endRow = asIndex(
      b, loc, memref::LoadOp::create(b, loc, packOffsets, numBatches));
  zeroRows(
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, batch, idx(0)),
      idx(0), firstRow);
  zeroRows(
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, batch, lastBatch),
      endRow, total);
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

Value KernelEmitter::clampRow(Value row, Value count) {
  // One op per statement: argument order differs between compilers.
  Value one = idx(1), zero = idx(0);
  Value countLess1 = arith::SubIOp::create(b, loc, count, one);
  Value last = arith::MaxSIOp::create(b, loc, countLess1, zero);
  return arith::MinUIOp::create(b, loc, row, last);
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
