//===- SharedStaging.cpp - Global to shared memory --------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// How the kernels stage Q, K and V in shared memory: cp.async copies of
// 16-byte chunks (rows past the sequence zero-filled through the copy's
// source size), tiles whose rows' chunks are XOR-swizzled by row % 8 (the
// 8 rows one ldmatrix phase reads then hit 8 different bank groups; with
// wgmma, the 128-byte swizzle of its descriptors), and the ldmatrix reads of
// mma.sync fragments from them.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace attune;
using namespace attune::attn;
using namespace attune::cuda;

/// Emits `body`, one pass of a copy loop, as is where every thread of the
/// pass has work (`inRange` null), else under `scf.if inRange`: the chunks
/// of a partial last pass past its tile would write the shared memory after
/// it (the packed-heads Q copy at D % 16 = 8 raced this way with the copy of
/// the first K tile there).
static void emitPass(OpBuilder &b, Location loc, Value inRange,
                     function_ref<void()> body) {
  if (!inRange)
    return body();
  scf::IfOp::create(b, loc, inRange, [&](OpBuilder &, Location) {
    body();
    scf::YieldOp::create(b, loc);
  });
}

Value KernelEmitter::sharedAddress(Value byteOffset, Value row, Value col,
                                   int64_t cols, int64_t blockRows) {
  Value element;
  if (blockRows && cols > 64) {
    Value chunk =
        arith::XOrIOp::create(b, loc, divu(remu(col, 64), 8), remu(row, 8));
    element = add(mul(divu(col, 64), idx(blockRows * 64)),
                  add(mul(row, idx(64)), mul(chunk, idx(8))));
  } else {
    Value chunk = arith::XOrIOp::create(b, loc, divu(col, 8), remu(row, 8));
    element = add(mul(row, idx(cols)), mul(chunk, idx(8)));
  }
  Value bytes = add(byteOffset, mul(element, idx(kElementBytes)));
  return gep(smem, bytes, b.getI8Type());
}

SmallVector<Value, 4>
KernelEmitter::fragmentOffsets(Value rowLane, Value colLane, int64_t cols) {
  Value t = arith::XOrIOp::create(b, loc, divu(colLane, 8), remu(rowLane, 8));
  Value rowBytes = mul(rowLane, idx(cols * kElementBytes));
  SmallVector<Value, 4> offsets;
  for (int64_t k = 0; k < 4; ++k) {
    Value bytes = add(
        rowBytes, mul(arith::XOrIOp::create(b, loc, idx(2 * k), t), idx(16)));
    offsets.push_back(arith::AddIOp::create(
        b, loc, sharedBase,
        arith::IndexCastOp::create(b, loc, b.getI32Type(), bytes)));
  }
  return offsets;
}

SmallVector<Value, 4>
KernelEmitter::loadFragment(ArrayRef<Value> offsets, Value dynamicOffset,
                            int64_t staticOffset, int64_t rowConst,
                            int64_t colConst, int64_t cols, bool transpose) {
  assert(rowConst % 8 == 0 && colConst % 16 == 0);
  Type i32Type = b.getI32Type();
  Value base = offsets[(colConst / 16) % 4];
  if (dynamicOffset)
    base = arith::AddIOp::create(
        b, loc, base,
        arith::IndexCastOp::create(b, loc, i32Type, dynamicOffset));
  int64_t immediate =
      staticOffset + rowConst * cols * kElementBytes + (colConst / 64) * 128;
  // Side effects: it reads shared memory that cp.async and barriers order.
  std::string text = llvm::formatv(
      "ldmatrix.sync.aligned.m8n8.x4{0}.shared.b16 {{$0, $1, $2, $3}, "
      "[$4+{1}];",
      transpose ? ".trans" : "", immediate);
  SmallVector<Type, 4> types(4, i32Type);
  return SmallVector<Value, 4>(
      inlinePTX(text, "=r,=r,=r,=r,r", ValueRange{base}, types));
}

void KernelEmitter::copyTileAsync(const OperandRows &source, Value rowBegin,
                                  Value byteOffset, int64_t rows, int64_t cols,
                                  int64_t sharedCols, bool blocked) {
  int64_t blockRows = blocked ? rows : 0;
  int64_t chunksPerRow = cols / 8;
  int64_t chunks = rows * chunksPerRow;
  Type element = source.element;
  Value rowLimit = source.count;
  bool segmented = !source.segments.empty();
  if ((!source.start || segmented) && threads % chunksPerRow == 0) {
    // Each pass of the CTA copies rowsPerPass whole rows; a thread's chunks
    // lie in one column, rowsPerPass rows apart. Its source pointer is
    // advanced pass by pass from the tile's base, so the only per-thread
    // values live across the k-loop are its column and first row (with
    // offsets per pass from the thread's base LLVM hoisted one 64-bit
    // product per chunk out of the loop). Segmented rows (a concatenation)
    // keep one such pointer per segment, each as if its segment's rows went
    // on across the whole tile, and each pass picks the pointer of the
    // segment holding its row.
    int64_t rowsPerPass = threads / chunksPerRow;
    SmallVector<OperandRows::Segment, 2> segments(source.segments);
    if (!segmented)
      segments.push_back({Value(), source.base, source.rowStride});
    Value threadRow = divu(tid, chunksPerRow);
    Value col = mul(remu(tid, chunksPerRow), idx(8));
    // Per segment: its pointer at the tile's first row, and this thread's.
    SmallVector<Value, 2> firstRows, srcs, passStrides;
    for (const OperandRows::Segment &segment : segments) {
      Value tileRow =
          segment.first ? arith::SubIOp::create(b, loc, rowBegin, segment.first)
                        : rowBegin;
      Value tileBase =
          gep(segment.base, mul(tileRow, segment.rowStride), element);
      firstRows.push_back(gep(tileBase, col, element));
      srcs.push_back(
          gep(firstRows.back(), mul(threadRow, segment.rowStride), element));
      passStrides.push_back(mul(idx(rowsPerPass), segment.rowStride));
    }
    // The segment holding row `r` of the tensor picks among `values`.
    auto pick = [&](Value r, ArrayRef<Value> values) {
      Value picked = values[0];
      for (size_t i = 1; i < segments.size(); ++i) {
        Value inSegment = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::uge, r, segments[i].first);
        picked = select(inSegment, values[i], picked);
      }
      return picked;
    };
    // The tile's first row exists (the k-loop visits tiles below count).
    Value firstRow = pick(rowBegin, firstRows);
    for (int64_t pass = 0; pass * rowsPerPass < rows; ++pass) {
      if (pass > 0)
        for (auto [src, passStride] : llvm::zip(srcs, passStrides))
          src = gep(src, passStride, element);
      Value row = add(threadRow, idx(pass * rowsPerPass));
      auto body = [&]() {
        Value sourceRow = add(rowBegin, row);
        Value valid = ult(sourceRow, rowLimit);
        Value src = pick(sourceRow, srcs);
        // Zero-filled rows read nothing; point them at the tile's first row.
        copyChunkAsync(
            sharedAddress(byteOffset, row, col, sharedCols, blockRows),
            select(valid, src, firstRow), select(valid, i32(16), i32(0)));
      };
      bool full = (pass + 1) * rowsPerPass <= rows;
      emitPass(b, loc, full ? Value() : ult(row, idx(rows)), body);
    }
    return;
  }
  if (source.pages && threads % chunksPerRow == 0 &&
      rows % (threads / chunksPerRow) == 0 &&
      source.pages->size % (threads / chunksPerRow) == 0)
    return copyPagedTileAsync(source, rowBegin, byteOffset, rows, cols,
                              sharedCols, blockRows);
  // One address per chunk: rows anywhere (OperandRows::start), or evenly
  // spaced rows whose chunks do not divide among the threads.
  for (int64_t first = 0; first < chunks; first += threads) {
    Value chunkId = add(tid, idx(first));
    auto body = [&]() {
      Value row = divu(chunkId, chunksPerRow);
      Value col = mul(remu(chunkId, chunksPerRow), idx(8));
      Value srcRow = add(rowBegin, row);
      Value valid = ult(srcRow, rowLimit);
      // Zero-filled rows read nothing, but name a row inside the tensor:
      // start() clamps rows itself; evenly spaced rows point them at the
      // tile's first row.
      Value readRow = source.start ? srcRow : select(valid, srcRow, rowBegin);
      Value src = rowAddress(source, rowStart(source, readRow), col);
      Value dst = sharedAddress(byteOffset, row, col, sharedCols, blockRows);
      Value srcBytes = select(valid, i32(16), i32(0));
      copyChunkAsync(dst, src, srcBytes);
    };
    bool full = first + threads <= chunks;
    emitPass(b, loc, full ? Value() : ult(chunkId, idx(chunks)), body);
  }
}

void KernelEmitter::copyPagedTileAsync(const OperandRows &source,
                                       Value rowBegin, Value byteOffset,
                                       int64_t rows, int64_t cols,
                                       int64_t sharedCols, int64_t blockRows) {
  // As the evenly spaced copy: each pass copies rowsPerPass whole rows, a
  // thread's chunks in one column (no partial last pass: rowsPerPass
  // divides the tile). rowsPerPass divides the page size and the tile's
  // first row (a multiple of the tile size), so every pass lies on one page: the threads of a pass read
  // the same table entry (a broadcast), once per page of the tile where the
  // tile and page sizes say which passes share a page.
  const OperandRows::Pages &pages = *source.pages;
  int64_t chunksPerRow = cols / 8;
  int64_t rowsPerPass = threads / chunksPerRow;
  assert(rows % rowsPerPass == 0 && pages.size % rowsPerPass == 0);
  Value threadRow = divu(tid, chunksPerRow);
  Value col = mul(remu(tid, chunksPerRow), idx(8));
  Value threadOffset = add(mul(threadRow, pages.slotStride), col);
  // The page of the pass starting at tile row `passRow`, and its first row's
  // slot: one page per tile when pages hold whole tiles, pages at constant
  // offsets when tiles hold whole pages, else computed per pass.
  bool onePage = pages.size % rows == 0, wholePages = rows % pages.size == 0;
  Value tilePage = divu(rowBegin, pages.size);
  Value tileSlot = remu(rowBegin, pages.size);
  llvm::DenseMap<int64_t, RowStart> pageStarts;
  auto passPage = [&](int64_t passRow) -> std::pair<RowStart, Value> {
    if (onePage || wholePages) {
      int64_t page = onePage ? 0 : passRow / pages.size;
      auto [it, inserted] = pageStarts.try_emplace(page);
      if (inserted)
        it->second = pages.pageStart(add(tilePage, idx(page)));
      Value slot = onePage ? add(tileSlot, idx(passRow))
                           : idx(passRow % pages.size);
      return {it->second, slot};
    }
    Value row = add(rowBegin, idx(passRow));
    return {pages.pageStart(divu(row, pages.size)), remu(row, pages.size)};
  };
  for (int64_t passRow = 0; passRow < rows; passRow += rowsPerPass) {
    auto [page, slot] = passPage(passRow);
    Value row = add(threadRow, idx(passRow));
    Value valid = ult(add(rowBegin, row), source.count);
    Value offset =
        add(page.offset, add(mul(slot, pages.slotStride), threadOffset));
    // Zero-filled rows read nothing; point them at the page's first row.
    Value readOffset = select(valid, offset, page.offset);
    copyChunkAsync(sharedAddress(byteOffset, row, col, sharedCols, blockRows),
                   rowAddress(source, RowStart{page.base, readOffset}),
                   select(valid, i32(16), i32(0)));
  }
}

void KernelEmitter::copyChunkAsync(Value dst, Value src, Value srcBytes) {
  NVVM::CpAsyncOp::create(b, loc, dst, src, 16, NVVM::LoadCacheModifierKind::CG,
                          srcBytes);
}

void KernelEmitter::zeroFeaturePadding() {
  if (headDim % 16 == 0)
    return;
  // One 16-byte chunk per row of Q (each plane) and of every K buffer.
  SmallVector<std::pair<int64_t, int64_t>> tiles; // (byte offset, rows)
  for (int64_t p = 0; p < planes; ++p)
    tiles.push_back({p * qPlane, tileQ});
  for (int64_t buffer = 0; buffer < stages; ++buffer)
    for (int64_t p = 0; p < planes; ++p)
      tiles.push_back({keyOffset(buffer) + p * kPlane, tileK});
  Value zero = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(VectorType::get({4}, b.getI32Type()),
                             b.getI32IntegerAttr(0).getValue()));
  for (auto [byteOffset, rows] : tiles)
    for (int64_t first = 0; first < rows; first += threads) {
      Value row = add(tid, idx(first));
      auto store = [&]() {
        LLVM::StoreOp::create(b, loc, zero,
                              sharedAddress(idx(byteOffset), row, idx(headDim),
                                            qkCols, useWgmma ? rows : 0),
                              /*alignment=*/16);
      };
      bool full = first + threads <= rows;
      emitPass(b, loc, full ? Value() : ult(row, idx(rows)), store);
    }
}
void KernelEmitter::loadKeyValue(Value kt, Value buffer) {
  Value colBegin = mul(kt, idx(tileK));
  Value kOffset = keyBuffer(buffer);
  Value vOffset = valueBuffer(buffer);
  copyTileAsync(keyRows[0], colBegin, kOffset, tileK, headDim, qkCols,
                useWgmma);
  copyTileAsync(valueRows[0], colBegin, vOffset, tileK, valueDim, vCols,
                useWgmma);
  for (int64_t p = 1; p < planes; ++p) {
    copyTileAsync(keyRows[p], colBegin, add(kOffset, idx(p * kPlane)), tileK,
                  headDim, qkCols);
    copyTileAsync(valueRows[p], colBegin, add(vOffset, idx(p * vPlane)),
                  tileK, valueDim, vCols);
  }
}
