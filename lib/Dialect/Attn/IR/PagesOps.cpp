//===- PagesOps.cpp - attn.gather_pages, attn.append_pages ------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The paged KV cache ops: a cache of pages read as one sequence per batch
// through a block table, and new rows written into it (docs/PagedKV.md).
// Both share the checks of the cache, the table and the lengths.
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include <limits>

using namespace mlir;
using namespace attune::attn;

/// Whether two sizes can be equal (one of them dynamic, or the same).
static bool agree(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// Checks `tensor` is a 4-D f32, f16 or bf16 tensor without encoding with
/// dimensions below 2^31; `what` names it in the diagnostics.
static LogicalResult verifyRows(Operation *op, RankedTensorType type,
                                StringRef what) {
  if (type.getRank() != 4)
    return op->emitOpError("expected ")
           << what << " to have rank 4, got " << type;
  if (type.getEncoding())
    return op->emitOpError("expected ")
           << what << " to have no tensor encoding, got " << type;
  Type element = type.getElementType();
  if (!element.isF32() && !element.isF16() && !element.isBF16())
    return op->emitOpError("expected ")
           << what << " to hold f32, f16 or bf16, got " << type;
  for (int64_t size : type.getShape())
    if (!ShapedType::isDynamic(size) &&
        size > std::numeric_limits<int32_t>::max())
      return op->emitOpError("expected every dimension of ")
             << what << " to be below 2^31, got " << type;
  return success();
}

/// The checks both ops share: the cache (its page size static and positive,
/// heads and head size static), the block table [B, M] and the lengths [B]
/// (signless integers or indices), and `rows` ([B, H, S, D] in `dims`: the
/// gathered result or the appended rows) against them.
static LogicalResult verifyPaged(Operation *op, RankedTensorType cache,
                                 LayoutDims cacheDims,
                                 RankedTensorType table,
                                 RankedTensorType lengths,
                                 RankedTensorType rows, LayoutDims dims,
                                 StringRef rowsName) {
  if (failed(verifyRows(op, cache, "the cache")) ||
      failed(verifyRows(op, rows, rowsName)))
    return failure();
  int64_t pageSize = cache.getDimSize(cacheDims.seq);
  if (ShapedType::isDynamic(pageSize) || pageSize < 1)
    return op->emitOpError("expected a static page size (dimension ")
           << cacheDims.seq << " of the cache) of at least 1, got " << cache;
  if (cache.isDynamicDim(cacheDims.head) ||
      cache.isDynamicDim(cacheDims.feature))
    return op->emitOpError("expected the cache's heads and head size "
                           "(dimensions ")
           << cacheDims.head << " and " << cacheDims.feature
           << ") to be static, got " << cache;
  if (rows.getElementType() != cache.getElementType())
    return op->emitOpError("expected ")
           << rowsName << " to hold the cache's element type "
           << cache.getElementType() << ", got " << rows;
  if (!agree(rows.getDimSize(dims.head), cache.getDimSize(cacheDims.head)) ||
      !agree(rows.getDimSize(dims.feature),
             cache.getDimSize(cacheDims.feature)))
    return op->emitOpError("expected ")
           << rowsName << " to have the cache's heads and head size, got "
           << rows << " for " << cache;
  if (table.getRank() != 2 || !table.getElementType().isSignlessIntOrIndex())
    return op->emitOpError("expected 'block_table' to be a 2-D tensor of "
                           "signless integers or indices ([B, pages]), got ")
           << table;
  if (lengths.getRank() != 1 ||
      !lengths.getElementType().isSignlessIntOrIndex())
    return op->emitOpError("expected 'seq_lens' to be a 1-D tensor of "
                           "signless integers or indices ([B]), got ")
           << lengths;
  if (!agree(table.getDimSize(0), lengths.getDimSize(0)) ||
      !agree(table.getDimSize(0), rows.getDimSize(dims.batch)))
    return op->emitOpError("expected 'block_table', 'seq_lens' and ")
           << rowsName << " to have the same batch size, got " << table
           << ", " << lengths << " and " << rows;
  return success();
}

LogicalResult GatherPagesOp::verify() {
  // A mistyped inherent attribute given in the discardable dictionary leaves
  // the property null (see AttentionOp::verify).
  if (!getLayoutAttr() || !getCacheLayoutAttr())
    return emitOpError("expected 'layout' and 'cache_layout' attributes of "
                       "type #attn.layout");
  RankedTensorType result = getResult().getType();
  if (failed(verifyPaged(*this, getCache().getType(), getCacheDims(),
                         getBlockTable().getType(), getSeqLens().getType(),
                         result, getLayoutDims(), "the result")))
    return failure();
  int64_t pages = getBlockTable().getType().getDimSize(1);
  int64_t seq = result.getDimSize(getLayoutDims().seq);
  if (!ShapedType::isDynamic(pages) && !agree(seq, pages * getPageSize()))
    return emitOpError("expected the result to have pages x page size = ")
           << pages << " x " << getPageSize() << " = " << pages * getPageSize()
           << " rows, got " << result;
  return success();
}

LogicalResult AppendPagesOp::verify() {
  if (!getLayoutAttr() || !getCacheLayoutAttr())
    return emitOpError("expected 'layout' and 'cache_layout' attributes of "
                       "type #attn.layout");
  return verifyPaged(*this, getCache().getType(), getCacheDims(),
                     getBlockTable().getType(), getSeqLens().getType(),
                     getRows().getType(), getLayoutDims(), "'rows'");
}
