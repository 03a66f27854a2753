//===- VarlenOps.cpp - The oracle's varlen (packed batch) ops ---*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// attn.unpack and attn.pack in the oracle, written from their definitions
// in docs/Varlen.md with plain loops over the sequences. Every error the
// definitions name (offsets that decrease, start below 0 or end past the
// packed rows, a sequence longer than the padded one) is reported at the op
// with the offending index.
//
//===----------------------------------------------------------------------===//

#include "OracleInternal.h"

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/Diagnostics.h"

using namespace mlir;
using namespace attune;
using namespace attune::oracle;
using namespace attune::oracle::detail;

/// Element (b, h, r, f) of the 4-D `padded` laid out as `dims`.
static double &paddedAt(Array &padded, attn::LayoutDims dims, int64_t b,
                        int64_t h, int64_t r, int64_t f) {
  return padded.data[layoutOffset(padded.shape, dims, b, h, r, f)];
}

/// Checks the offsets against `total` packed rows and the padded length
/// `seq`: non-decreasing, from at least 0, to at most `total`, no
/// sequence longer than `seq`.
static LogicalResult checkOffsets(Operation *op, const Array &offsets,
                                  int64_t total, int64_t seq) {
  const std::vector<double> &cu = offsets.data;
  SmallVector<int64_t> values(cu.begin(), cu.end());
  if (cu.empty() || cu.front() < 0 || cu.back() > double(total))
    return emitError(op->getLoc())
           << "oracle: cu_seqlens must run from at least 0 to at most the "
           << total << " packed rows, got " << formatList(values);
  for (size_t b = 0; b + 1 < cu.size(); ++b) {
    if (cu[b + 1] < cu[b])
      return emitError(op->getLoc()) << "oracle: cu_seqlens decreases at "
                                     << b + 1 << ": " << formatList(values);
    if (cu[b + 1] - cu[b] > double(seq))
      return emitError(op->getLoc()) << "oracle: sequence " << b << " has "
                                     << int64_t(cu[b + 1] - cu[b])
                                     << " rows, more than the padded " << seq;
  }
  return success();
}

/// The static size `size`, else the scalar `value`.
static int64_t sizeOr(int64_t size, Value value, Environment &env) {
  if (!ShapedType::isDynamic(size))
    return size;
  return env.lookupScalar(value)->i;
}

static LogicalResult evaluateUnpack(attn::UnpackOp op, Environment &env) {
  const Array *packed = env.lookupArray(op.getPacked());
  const Array *offsets = env.lookupArray(op.getCuSeqlens());
  if (!packed || !offsets)
    return emitError(op.getLoc()) << "oracle: no value for an operand";
  attn::LayoutDims dims = op.getLayoutDims();
  int64_t batch = offsets->numElements() - 1;
  int64_t seq = sizeOr(op.getResult().getType().getDimSize(dims.seq),
                       op.getMaxLen(), env);
  if (failed(checkOffsets(op, *offsets, packed->shape[0], seq)))
    return failure();
  int64_t heads = packed->shape[1], features = packed->shape[2];
  std::vector<int64_t> shape(4);
  shape[dims.batch] = batch;
  shape[dims.head] = heads;
  shape[dims.seq] = seq;
  shape[dims.feature] = features;
  if (!shapeFitsType(shape, op.getResult().getType()))
    return emitError(op.getLoc())
           << "oracle: the unpacked shape " << formatShape(shape)
           << " does not fit the result type " << op.getResult().getType();
  Array result{shape, std::vector<double>(batch * heads * seq * features)};
  for (int64_t b = 0; b < batch; ++b) {
    int64_t first = int64_t(offsets->data[b]);
    int64_t length = int64_t(offsets->data[b + 1]) - first;
    for (int64_t r = 0; r < length; ++r)
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t f = 0; f < features; ++f)
          paddedAt(result, dims, b, h, r, f) =
              packed->data[((first + r) * heads + h) * features + f];
  }
  env.bindArray(op.getResult(), std::move(result));
  return success();
}

static LogicalResult evaluatePack(attn::PackOp op, Environment &env) {
  const Array *input = env.lookupArray(op.getInput());
  const Array *offsets = env.lookupArray(op.getCuSeqlens());
  if (!input || !offsets)
    return emitError(op.getLoc()) << "oracle: no value for an operand";
  attn::LayoutDims dims = op.getLayoutDims();
  int64_t batch = input->shape[dims.batch];
  if (offsets->numElements() != batch + 1)
    return emitError(op.getLoc())
           << "oracle: cu_seqlens has " << offsets->numElements()
           << " entries for a batch of " << batch;
  int64_t total =
      sizeOr(op.getResult().getType().getDimSize(0), op.getTotal(), env);
  if (failed(checkOffsets(op, *offsets, total, input->shape[dims.seq])))
    return failure();
  int64_t heads = input->shape[dims.head],
          features = input->shape[dims.feature];
  Array result{{total, heads, features},
               std::vector<double>(total * heads * features, 0.0)};
  Array &padded = const_cast<Array &>(*input);
  for (int64_t b = 0; b < batch; ++b) {
    int64_t first = int64_t(offsets->data[b]);
    int64_t length = int64_t(offsets->data[b + 1]) - first;
    for (int64_t r = 0; r < length; ++r)
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t f = 0; f < features; ++f)
          result.data[((first + r) * heads + h) * features + f] =
              paddedAt(padded, dims, b, h, r, f);
  }
  env.bindArray(op.getResult(), std::move(result));
  return success();
}

std::optional<LogicalResult>
oracle::detail::evaluateVarlenOp(Operation *op, Environment &env) {
  if (auto unpack = dyn_cast<attn::UnpackOp>(op))
    return evaluateUnpack(unpack, env);
  if (auto pack = dyn_cast<attn::PackOp>(op))
    return evaluatePack(pack, env);
  return std::nullopt;
}
