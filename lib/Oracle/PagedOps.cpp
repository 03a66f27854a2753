//===- PagedOps.cpp - The oracle's paged KV cache ops -----------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// attn.gather_pages and attn.append_pages in the oracle, written from their
// definitions in docs/PagedKV.md with plain loops over the cache's pages.
// Every error the definitions name (a length out of range, a page id out of
// range where rows are read or written, two rows written to one place) is
// reported at the op with the offending indices.
//
//===----------------------------------------------------------------------===//

#include "OracleInternal.h"

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/Diagnostics.h"

#include <array>

using namespace mlir;
using namespace attune;
using namespace attune::oracle;
using namespace attune::oracle::detail;

namespace {

/// A 4-D array read or written by (batch, head, row, feature) in a layout.
struct Rows {
  Array *array;
  attn::LayoutDims dims;

  int64_t size(unsigned dim) const { return array->shape[dim]; }
  double &at(int64_t batch, int64_t head, int64_t row, int64_t feature) {
    std::array<int64_t, 4> index{};
    index[dims.batch] = batch;
    index[dims.head] = head;
    index[dims.seq] = row;
    index[dims.feature] = feature;
    const std::vector<int64_t> &shape = array->shape;
    return array->data[((index[0] * shape[1] + index[1]) * shape[2] +
                        index[2]) *
                           shape[3] +
                       index[3]];
  }
};

/// The operands both ops share, checked against each other and `rows`.
struct Paged {
  Rows cache;
  const Array *table, *lengths;
  int64_t numPages, pageSize, heads, features, batch, maxPages;

  /// Page `p` of sequence `b` from the table.
  int64_t page(int64_t b, int64_t p) const {
    return int64_t(table->data[b * maxPages + p]);
  }
};

} // namespace

/// Reads the cache, table and lengths of `op` and checks their sizes
/// against `rows` ([B, H, S, D] in `dims`); fails with a diagnostic.
static FailureOr<Paged> getPaged(Operation *op, Environment &env, Value cache,
                                 attn::LayoutDims cacheDims, Value table,
                                 Value lengths, const Array &rows,
                                 attn::LayoutDims dims) {
  const Array *cacheArray = env.lookupArray(cache);
  const Array *tableArray = env.lookupArray(table);
  const Array *lengthsArray = env.lookupArray(lengths);
  if (!cacheArray || !tableArray || !lengthsArray)
    return emitError(op->getLoc()) << "oracle: no value for an operand";
  Paged paged{{const_cast<Array *>(cacheArray), cacheDims},
              tableArray,
              lengthsArray,
              cacheArray->shape[cacheDims.batch],
              cacheArray->shape[cacheDims.seq],
              cacheArray->shape[cacheDims.head],
              cacheArray->shape[cacheDims.feature],
              tableArray->shape[0],
              tableArray->shape[1]};
  if (lengthsArray->shape[0] != paged.batch ||
      rows.shape[dims.batch] != paged.batch ||
      rows.shape[dims.head] != paged.heads ||
      rows.shape[dims.feature] != paged.features)
    return emitError(op->getLoc())
           << "oracle: block_table " << formatShape(tableArray->shape)
           << ", seq_lens " << formatShape(lengthsArray->shape) << " and rows "
           << formatShape(rows.shape) << " do not match the cache "
           << formatShape(cacheArray->shape);
  return paged;
}

/// The length of sequence `b`, checked to be in [0, capacity].
static FailureOr<int64_t> getLength(Operation *op, const Paged &paged,
                                    int64_t b, int64_t capacity) {
  double length = paged.lengths->data[b];
  if (!(length >= 0 && length <= double(capacity)))
    return emitError(op->getLoc())
           << "oracle: seq_lens[" << b << "] = " << int64_t(length)
           << " is outside [0, " << capacity << "]";
  return int64_t(length);
}

/// The page holding row `j` of sequence `b`, checked to be in the cache.
static FailureOr<int64_t> getPage(Operation *op, const Paged &paged,
                                  int64_t b, int64_t j) {
  int64_t p = j / paged.pageSize, page = paged.page(b, p);
  if (page < 0 || page >= paged.numPages)
    return emitError(op->getLoc())
           << "oracle: block_table[" << b << ", " << p << "] = " << page
           << " is outside the cache's " << paged.numPages
           << " pages (it holds row " << j << " of sequence " << b << ")";
  return page;
}

static LogicalResult evaluateGather(attn::GatherPagesOp op, Environment &env) {
  attn::LayoutDims dims = op.getLayoutDims();
  const Array *cache = env.lookupArray(op.getCache());
  const Array *table = env.lookupArray(op.getBlockTable());
  if (!cache || !table)
    return emitError(op.getLoc()) << "oracle: no value for an operand";
  attn::LayoutDims cacheDims = op.getCacheDims();
  int64_t capacity = table->shape[1] * cache->shape[cacheDims.seq];
  std::vector<int64_t> shape(4);
  shape[dims.batch] = table->shape[0];
  shape[dims.head] = cache->shape[cacheDims.head];
  shape[dims.seq] = capacity;
  shape[dims.feature] = cache->shape[cacheDims.feature];
  Array result{shape, {}};
  FailureOr<Paged> paged =
      getPaged(op, env, op.getCache(), cacheDims, op.getBlockTable(),
               op.getSeqLens(), result, dims);
  if (failed(paged))
    return failure();
  if (!shapeFitsType(result.shape, op.getResult().getType()))
    return emitError(op.getLoc())
           << "oracle: the gathered shape " << formatShape(result.shape)
           << " does not fit the result type " << op.getResult().getType();
  result.data.assign(result.numElements(), 0.0);
  Rows out{&result, dims};
  for (int64_t b = 0; b < paged->batch; ++b) {
    FailureOr<int64_t> length = getLength(op, *paged, b, capacity);
    if (failed(length))
      return failure();
    for (int64_t j = 0; j < *length; ++j) {
      FailureOr<int64_t> page = getPage(op, *paged, b, j);
      if (failed(page))
        return failure();
      for (int64_t h = 0; h < paged->heads; ++h)
        for (int64_t f = 0; f < paged->features; ++f)
          out.at(b, h, j, f) =
              paged->cache.at(*page, h, j % paged->pageSize, f);
    }
  }
  env.bindArray(op.getResult(), std::move(result));
  return success();
}

static LogicalResult evaluateAppend(attn::AppendPagesOp op, Environment &env) {
  const Array *rows = env.lookupArray(op.getRows());
  if (!rows)
    return emitError(op.getLoc()) << "oracle: no value for the rows";
  attn::LayoutDims dims = op.getLayoutDims();
  FailureOr<Paged> paged =
      getPaged(op, env, op.getCache(), op.getCacheDims(), op.getBlockTable(),
               op.getSeqLens(), *rows, dims);
  if (failed(paged))
    return failure();
  Array result = *paged->cache.array;
  Rows out{&result, op.getCacheDims()};
  Rows in{const_cast<Array *>(rows), dims};
  int64_t count = rows->shape[dims.seq];
  int64_t capacity = paged->maxPages * paged->pageSize;
  // Which (page, row) a row was written to, and by which (b, r).
  std::vector<std::pair<int64_t, int64_t>> writer(
      paged->numPages * paged->pageSize, {-1, -1});
  for (int64_t b = 0; b < paged->batch; ++b) {
    FailureOr<int64_t> length = getLength(op, *paged, b, capacity);
    if (failed(length))
      return failure();
    if (*length + count > capacity)
      return emitError(op.getLoc())
             << "oracle: seq_lens[" << b << "] = " << *length << " plus "
             << count << " new rows exceeds the table's " << capacity
             << " rows";
    for (int64_t r = 0; r < count; ++r) {
      int64_t j = *length + r;
      FailureOr<int64_t> page = getPage(op, *paged, b, j);
      if (failed(page))
        return failure();
      int64_t slot = j % paged->pageSize;
      std::pair<int64_t, int64_t> &first =
          writer[*page * paged->pageSize + slot];
      if (first.first >= 0)
        return emitError(op.getLoc())
               << "oracle: row " << r << " of sequence " << b << " and row "
               << first.second << " of sequence " << first.first
               << " are both written to row " << slot << " of page " << *page;
      first = {b, r};
      for (int64_t h = 0; h < paged->heads; ++h)
        for (int64_t f = 0; f < paged->features; ++f)
          out.at(*page, h, slot, f) = in.at(b, h, r, f);
    }
  }
  env.bindArray(op.getResult(), std::move(result));
  return success();
}

std::optional<LogicalResult>
oracle::detail::evaluatePagedOp(Operation *op, Environment &env) {
  if (auto gather = dyn_cast<attn::GatherPagesOp>(op))
    return evaluateGather(gather, env);
  if (auto append = dyn_cast<attn::AppendPagesOp>(op))
    return evaluateAppend(append, env);
  return std::nullopt;
}
