//===- LowerPages.cpp - Paged KV cache ops to linalg and loops --*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The materialised forms of the paged KV cache ops (docs/PagedKV.md):
// attn.gather_pages as one linalg.generic that reads each element through
// the block table, attn.append_pages as a loop over the new rows that
// inserts each into its page and flags the place written. Both first check, at run time, the lengths
// and every page id that will be read or written, so that a bad table is a
// clear error instead of an out-of-bounds access. The targets fuse a gather
// that feeds attention into the kernel's loads and use this for the rest.
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
#define GEN_PASS_DEF_ATTNLOWERPAGES
#include "attune/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attune::attn

using namespace mlir;
using namespace attune::attn;

namespace {
/// What both ops read: the cache, its table and lengths.
struct PagedOperands {
  Operation *op;
  Value cache, table, lengths;
  LayoutDims cacheDims;
  int64_t pageSize;
};
} // namespace

/// Checks at run time that the table, the lengths and the appended `rows`
/// ([B, H, S, D] in `dims`; null for a gather) agree, that every length
/// plus `extra` is in [0, M * P], and that each page holding rows
/// [first(b), first(b) + count(b)) of sequence b is in the cache, where
/// first = 0, count = length for a gather (`extra` null) and first =
/// length, count = `extra` for an append.
static void emitPagedChecks(OpBuilder &b, Location loc,
                            const PagedOperands &paged, Value rows,
                            LayoutDims dims, Value extra) {
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  auto dim = [&](Value x, unsigned d) -> Value {
    return tensor::DimOp::create(b, loc, x, d);
  };
  std::string prefix = (paged.op->getName().getStringRef() + ": ").str();
  Value batch = dim(paged.table, 0);
  emitSizeCheck(b, paged.op, paged.lengths, 0, paged.table, 0,
                "block_table and seq_lens batch sizes");
  if (rows) {
    emitSizeCheck(b, paged.op, rows, dims.batch, paged.table, 0,
                  "block_table and rows batch sizes");
    auto cacheType = cast<RankedTensorType>(paged.cache.getType());
    emitSizeCheck(b, paged.op, rows, dims.head,
                  b.getIndexAttr(cacheType.getDimSize(paged.cacheDims.head)),
                  "rows and cache head counts");
  }
  // Ops are created one per statement: the order of function arguments'
  // evaluation is unspecified, and the IR must not depend on the compiler.
  Value zero = idx(0), one = idx(1), pageSize = idx(paged.pageSize);
  Value capacity =
      arith::MulIOp::create(b, loc, dim(paged.table, 1), pageSize);
  Value numPages = dim(paged.cache, paged.cacheDims.batch);
  auto loop = scf::ForOp::create(b, loc, zero, batch, one);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value seq = loop.getInductionVar();
  Value length = extractIndex(b, loc, paged.lengths, seq);
  Value end = extra ? arith::AddIOp::create(b, loc, length, extra) : length;
  auto sle = [&](Value x, Value y) -> Value {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, x, y);
  };
  Value notNegative = sle(zero, length);
  Value fits = sle(end, capacity);
  cf::AssertOp::create(
      b, loc, arith::AndIOp::create(b, loc, notNegative, fits),
      prefix + (extra ? "a length plus the new rows exceeds the block "
                        "table's pages x page size, or is negative"
                      : "a length is negative or exceeds the block table's "
                        "pages x page size"));
  Value first = extra ? length : zero;
  Value firstPage = arith::DivUIOp::create(b, loc, first, pageSize);
  Value endPage = arith::CeilDivUIOp::create(b, loc, end, pageSize);
  auto pages = scf::ForOp::create(b, loc, firstPage, endPage, one);
  b.setInsertionPointToStart(pages.getBody());
  Value page = extractIndex(b, loc, paged.table,
                            ValueRange{seq, pages.getInductionVar()});
  Value above = sle(zero, page);
  Value below =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, page, numPages);
  cf::AssertOp::create(b, loc, arith::AndIOp::create(b, loc, above, below),
                       prefix + "a page id in block_table is outside the cache");
}

void attune::attn::emitGatherPagesChecks(OpBuilder &b, GatherPagesOp op) {
  PagedOperands paged{op,
                      op.getCache(),
                      op.getBlockTable(),
                      op.getSeqLens(),
                      op.getCacheDims(),
                      op.getPageSize()};
  Location loc = op.getLoc();
  emitPagedChecks(b, loc, paged, /*rows=*/Value(), op.getLayoutDims(),
                  /*extra=*/Value());
  // The result's static sizes against the table's dynamic ones.
  RankedTensorType result = op.getResult().getType();
  LayoutDims dims = op.getLayoutDims();
  auto tableType = cast<RankedTensorType>(op.getBlockTable().getType());
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  // (Never through the result's own sizes: the checks precede the op.)
  if (!result.isDynamicDim(dims.batch))
    emitSizeCheck(b, op, op.getBlockTable(), 0,
                  b.getIndexAttr(result.getDimSize(dims.batch)),
                  "block_table and result batch sizes");
  if (!result.isDynamicDim(dims.seq) && tableType.isDynamicDim(1)) {
    Value pages = tensor::DimOp::create(b, loc, op.getBlockTable(), 1);
    Value rows = arith::MulIOp::create(b, loc, pages, idx(op.getPageSize()));
    Value want = idx(result.getDimSize(dims.seq));
    Value same =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, rows, want);
    cf::AssertOp::create(b, loc, same,
                         "attn.gather_pages: the block table's pages x page "
                         "size do not match the result's rows");
  }
}

LogicalResult attune::attn::lowerGatherPages(RewriterBase &rewriter,
                                             GatherPagesOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  emitGatherPagesChecks(rewriter, op);
  Location loc = op.getLoc();
  RankedTensorType type = op.getResult().getType();
  LayoutDims dims = op.getLayoutDims(), cacheDims = op.getCacheDims();
  SmallVector<Value> dynamicSizes;
  for (int64_t d = 0; d < 4; ++d) {
    if (!type.isDynamicDim(d))
      continue;
    if (d == dims.batch)
      dynamicSizes.push_back(
          tensor::DimOp::create(rewriter, loc, op.getBlockTable(), 0));
    else { // The sequence: pages x page size.
      Value pages =
          tensor::DimOp::create(rewriter, loc, op.getBlockTable(), 1);
      Value size =
          arith::ConstantIndexOp::create(rewriter, loc, op.getPageSize());
      dynamicSizes.push_back(arith::MulIOp::create(rewriter, loc, pages, size));
    }
  }
  Value init = tensor::EmptyOp::create(rewriter, loc, type, dynamicSizes);
  int64_t pageSize = op.getPageSize();
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{type}, ValueRange{}, ValueRange{init},
      ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(4)},
      SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
      [&](OpBuilder &b, Location l, ValueRange) {
        SmallVector<Value> at;
        for (int64_t d = 0; d < 4; ++d)
          at.push_back(linalg::IndexOp::create(b, l, d));
        Value batch = at[dims.batch], row = at[dims.seq];
        Value p = arith::ConstantIndexOp::create(b, l, pageSize);
        Value inside = arith::CmpIOp::create(
            b, l, arith::CmpIPredicate::slt, row,
            extractIndex(b, l, op.getSeqLens(), batch));
        // Rows past the length are 0 and read no page.
        auto element = scf::IfOp::create(
            b, l, inside,
            [&](OpBuilder &, Location) {
              Value page = extractIndex(
                  b, l, op.getBlockTable(),
                  ValueRange{batch, arith::DivUIOp::create(b, l, row, p)});
              SmallVector<Value> from(4);
              from[cacheDims.batch] = page;
              from[cacheDims.seq] = arith::RemUIOp::create(b, l, row, p);
              from[cacheDims.head] = at[dims.head];
              from[cacheDims.feature] = at[dims.feature];
              scf::YieldOp::create(
                  b, l,
                  tensor::ExtractOp::create(b, l, op.getCache(), from)
                      .getResult());
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

LogicalResult attune::attn::lowerAppendPages(RewriterBase &rewriter,
                                             AppendPagesOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  OpBuilder &b = rewriter;
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  LayoutDims dims = op.getLayoutDims(), cacheDims = op.getCacheDims();
  Value rows = op.getRows();
  Value count = tensor::DimOp::create(b, loc, rows, dims.seq);
  PagedOperands paged{op,
                      op.getCache(),
                      op.getBlockTable(),
                      op.getSeqLens(),
                      op.getCacheDims(),
                      op.getPageSize()};
  emitPagedChecks(b, loc, paged, rows, dims, count);
  RankedTensorType cacheType = op.getCache().getType();
  int64_t heads = cacheType.getDimSize(cacheDims.head);
  int64_t features = cacheType.getDimSize(cacheDims.feature);
  // One [H, D] row at a time: H comes before D in every layout, so the
  // rank-reduced slices of the rows and of the cache have the same shape.
  auto rowType = RankedTensorType::get({heads, features},
                                       cacheType.getElementType());
  auto slice = [&](LayoutDims d, Value batch, Value row) {
    SmallVector<OpFoldResult> offsets(4), sizes(4);
    offsets[d.batch] = batch;
    offsets[d.seq] = row;
    offsets[d.head] = b.getIndexAttr(0);
    offsets[d.feature] = b.getIndexAttr(0);
    sizes[d.batch] = sizes[d.seq] = b.getIndexAttr(1);
    sizes[d.head] = b.getIndexAttr(heads);
    sizes[d.feature] = b.getIndexAttr(features);
    return std::make_pair(offsets, sizes);
  };
  SmallVector<OpFoldResult> ones(4, b.getIndexAttr(1));
  Value batchSize = tensor::DimOp::create(b, loc, op.getBlockTable(), 0);
  // One flag per (page, row) written, so that two rows written to one place
  // (pages shared between sequences, or listed twice) are an error rather
  // than an order-dependent result.
  Value numPages = tensor::DimOp::create(b, loc, op.getCache(),
                                         cacheDims.batch);
  Type i8 = b.getI8Type();
  Value zeroFlag = arith::ConstantOp::create(b, loc, b.getIntegerAttr(i8, 0));
  Value flags = tensor::EmptyOp::create(
      b, loc,
      ArrayRef<OpFoldResult>{numPages, b.getIndexAttr(op.getPageSize())}, i8);
  Value written =
      linalg::FillOp::create(b, loc, zeroFlag, flags).getResult(0);
  Value zero = idx(0), one = idx(1);
  auto sequences = scf::ForOp::create(
      b, loc, zero, batchSize, one, ValueRange{op.getCache(), written},
      [&](OpBuilder &, Location, Value seq, ValueRange outer) {
        Value length = extractIndex(b, loc, op.getSeqLens(), seq);
        auto rowLoop = scf::ForOp::create(
            b, loc, zero, count, one, outer,
            [&](OpBuilder &, Location, Value r, ValueRange inner) {
              Value position = arith::AddIOp::create(b, loc, length, r);
              Value p = idx(op.getPageSize());
              Value page = extractIndex(
                  b, loc, op.getBlockTable(),
                  ValueRange{seq, arith::DivUIOp::create(b, loc, position, p)});
              Value slot = arith::RemUIOp::create(b, loc, position, p);
              Value flag = tensor::ExtractOp::create(
                  b, loc, inner[1], ValueRange{page, slot});
              cf::AssertOp::create(
                  b, loc,
                  arith::CmpIOp::create(
                      b, loc, arith::CmpIPredicate::eq, flag,
                      arith::ConstantOp::create(b, loc,
                                                b.getIntegerAttr(i8, 0))),
                  "attn.append_pages: two rows are written to the same row "
                  "of a page");
              Value marked = tensor::InsertOp::create(
                  b, loc,
                  arith::ConstantOp::create(b, loc, b.getIntegerAttr(i8, 1)),
                  inner[1], ValueRange{page, slot});
              auto [srcOffsets, srcSizes] = slice(dims, seq, r);
              Value row = tensor::ExtractSliceOp::create(
                  b, loc, rowType, rows, srcOffsets, srcSizes, ones);
              auto [dstOffsets, dstSizes] = slice(cacheDims, page, slot);
              Value updated = tensor::InsertSliceOp::create(
                  b, loc, row, inner[0], dstOffsets, dstSizes, ones);
              scf::YieldOp::create(b, loc, ValueRange{updated, marked});
            });
        scf::YieldOp::create(b, loc, rowLoop.getResults());
      });
  rewriter.replaceOp(op, sequences.getResult(0));
  return success();
}

namespace {
struct AttnLowerPages
    : attune::attn::impl::AttnLowerPagesBase<AttnLowerPages> {
  using Base::Base;
  void runOnOperation() override {
    // Each is replaced where it is; the order does not matter.
    Operation *root = getOperation();
    if (failed(lowerAll(root, lowerGatherPages)) ||
        failed(lowerAll(root, lowerAppendPages)))
      signalPassFailure();
  }
};
} // namespace
