//===- HashOps.cpp - The oracle's bucket-id ops -----------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// attn.lsh_buckets and attn.nearest_centroid in the oracle, written from
// their definitions in docs/Hashing.md with plain loops: f64 sums in order
// of the features, and the lowest index among the largest scores (NaN
// ignored, 0 when none is above -inf). For bf16 and f16 inputs these sums
// are exact, so the targets' ids (the same f64 sums) agree bit for bit.
// attn.sort_ids is std::stable_sort of each row's positions by id;
// attn.permute a gather (or, inverse, a scatter) of rows, its order
// checked.
//
//===----------------------------------------------------------------------===//

#include "OracleInternal.h"

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/Diagnostics.h"

#include <algorithm>
#include <limits>

using namespace mlir;
using namespace attune;
using namespace attune::oracle;
using namespace attune::oracle::detail;

namespace {
/// The argmax of docs/Hashing.md, fed one candidate at a time.
struct Argmax {
  double best = -std::numeric_limits<double>::infinity();
  int64_t id = 0;
  void offer(double value, int64_t index) {
    if (value > best || (value == best && index < id)) {
      best = value;
      id = index;
    }
  }
};
} // namespace

/// The parameters' head for input head `h`: `h`, or 0 when shared; an
/// error when they have neither 1 nor H heads.
static FailureOr<int64_t> paramHeads(Operation *op, const Array &params,
                                     unsigned headDim, int64_t heads) {
  int64_t n = params.shape[headDim];
  if (n != 1 && n != heads)
    return emitError(op->getLoc()) << "oracle: the parameters have " << n
                                   << " heads, the input " << heads;
  return n;
}

static LogicalResult evaluateLsh(attn::LshBucketsOp op, Environment &env) {
  const Array *x = env.lookupArray(op.getInput());
  const Array *rot = env.lookupArray(op.getRotations());
  if (!x || !rot)
    return emitError(op.getLoc()) << "oracle: no value for an operand";
  attn::LayoutDims dims = op.getLayoutDims();
  int64_t batch = x->shape[dims.batch], heads = x->shape[dims.head],
          seq = x->shape[dims.seq], features = x->shape[dims.feature];
  FailureOr<int64_t> rotHeads = paramHeads(op, *rot, 1, heads);
  if (failed(rotHeads))
    return failure();
  int64_t rounds = rot->shape[0], half = rot->shape[3];
  Array ids{{rounds, batch, heads, seq},
            std::vector<double>(rounds * batch * heads * seq, 0.0)};
  auto rotation = [&](int64_t r, int64_t h, int64_t d, int64_t c) {
    int64_t hr = *rotHeads == 1 ? 0 : h;
    return rot->data[((r * *rotHeads + hr) * features + d) * half + c];
  };
  for (int64_t r = 0; r < rounds; ++r)
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t s = 0; s < seq; ++s) {
          Argmax best;
          for (int64_t c = 0; c < half; ++c) {
            double y = 0.0;
            for (int64_t d = 0; d < features; ++d)
              y += x->data[layoutOffset(x->shape, dims, b, h, s, d)] *
                   rotation(r, h, d, c);
            best.offer(y, c);
            best.offer(-y, c + half);
          }
          ids.data[((r * batch + b) * heads + h) * seq + s] = double(best.id);
        }
  env.bindArray(op.getResult(), std::move(ids));
  return success();
}

static LogicalResult evaluateCentroid(attn::NearestCentroidOp op,
                                      Environment &env) {
  const Array *x = env.lookupArray(op.getInput());
  const Array *mu = env.lookupArray(op.getCentroids());
  if (!x || !mu)
    return emitError(op.getLoc()) << "oracle: no value for an operand";
  attn::LayoutDims dims = op.getLayoutDims();
  int64_t batch = x->shape[dims.batch], heads = x->shape[dims.head],
          seq = x->shape[dims.seq], features = x->shape[dims.feature];
  FailureOr<int64_t> muHeads = paramHeads(op, *mu, 0, heads);
  if (failed(muHeads))
    return failure();
  int64_t k = mu->shape[1];
  auto centroid = [&](int64_t h, int64_t c, int64_t d) {
    return mu->data[((*muHeads == 1 ? 0 : h) * k + c) * features + d];
  };
  Array ids{{batch, heads, seq}, std::vector<double>(batch * heads * seq, 0.0)};
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t s = 0; s < seq; ++s) {
        Argmax best;
        for (int64_t c = 0; c < k; ++c) {
          // argmin |x - mu|^2 = argmax x.mu - |mu|^2 / 2.
          double dot = 0.0, norm = 0.0;
          for (int64_t d = 0; d < features; ++d) {
            dot += x->data[layoutOffset(x->shape, dims, b, h, s, d)] *
                   centroid(h, c, d);
            norm += centroid(h, c, d) * centroid(h, c, d);
          }
          best.offer(dot - 0.5 * norm, c);
        }
        ids.data[(b * heads + h) * seq + s] = double(best.id);
      }
  env.bindArray(op.getResult(), std::move(ids));
  return success();
}

static LogicalResult evaluateSort(attn::SortIdsOp op, Environment &env) {
  const Array *ids = env.lookupArray(op.getIds());
  if (!ids)
    return emitError(op.getLoc()) << "oracle: no value for the ids";
  int64_t length = ids->shape.back();
  int64_t rows = length ? ids->numElements() / length : 0;
  int64_t numIds = op.getNumIds();
  Array order{ids->shape, std::vector<double>(ids->data.size(), 0.0)};
  Array sorted = order;
  for (int64_t row = 0; row < rows; ++row) {
    const double *in = ids->data.data() + row * length;
    std::vector<int64_t> positions(length);
    for (int64_t s = 0; s < length; ++s) {
      if (in[s] < 0 || in[s] >= double(numIds))
        return emitError(op.getLoc())
               << "oracle: id " << int64_t(in[s]) << " at position " << s
               << " of row " << row << " is outside [0, " << numIds << ")";
      positions[s] = s;
    }
    std::stable_sort(positions.begin(), positions.end(),
                     [&](int64_t a, int64_t b) { return in[a] < in[b]; });
    for (int64_t t = 0; t < length; ++t) {
      order.data[row * length + t] = double(positions[t]);
      sorted.data[row * length + t] = in[positions[t]];
    }
  }
  env.bindArray(op.getOrder(), std::move(order));
  env.bindArray(op.getSorted(), std::move(sorted));
  return success();
}

static LogicalResult evaluatePermute(attn::PermuteOp op, Environment &env) {
  const Array *x = env.lookupArray(op.getInput());
  const Array *order = env.lookupArray(op.getOrder());
  if (!x || !order)
    return emitError(op.getLoc()) << "oracle: no value for an operand";
  attn::LayoutDims dims = op.getLayoutDims();
  bool rows3 = x->shape.size() == 3;
  int64_t batch = x->shape[dims.batch], heads = x->shape[dims.head],
          seq = x->shape[dims.seq],
          features = rows3 ? 1 : x->shape[dims.feature];
  if (order->shape != std::vector<int64_t>{batch, heads, seq})
    return emitError(op.getLoc())
           << "oracle: order has shape " << formatShape(order->shape)
           << ", the input's [B, H, S] is "
           << formatShape(std::vector<int64_t>{batch, heads, seq});
  auto offset = [&](int64_t b, int64_t h, int64_t s, int64_t f) {
    return rows3 ? (b * heads + h) * seq + s
                 : layoutOffset(x->shape, dims, b, h, s, f);
  };
  Array y = *x;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h) {
      const double *row = order->data.data() + (b * heads + h) * seq;
      std::vector<bool> seen(seq, false);
      for (int64_t t = 0; t < seq; ++t) {
        double o = row[t];
        if (o < 0 || o >= double(seq))
          return emitError(op.getLoc())
                 << "oracle: order[" << b << ", " << h << ", " << t
                 << "] = " << int64_t(o) << " is outside [0, " << seq << ")";
        int64_t s = int64_t(o);
        if (op.getInverse() && seen[s])
          return emitError(op.getLoc())
                 << "oracle: row [" << b << ", " << h
                 << "] of order is not a permutation: " << s << " repeats at "
                 << t;
        seen[s] = true;
        for (int64_t f = 0; f < features; ++f) {
          if (op.getInverse())
            y.data[offset(b, h, s, f)] = x->data[offset(b, h, t, f)];
          else
            y.data[offset(b, h, t, f)] = x->data[offset(b, h, s, f)];
        }
      }
    }
  env.bindArray(op.getResult(), std::move(y));
  return success();
}

std::optional<LogicalResult> oracle::detail::evaluateHashOp(Operation *op,
                                                            Environment &env) {
  if (auto lsh = dyn_cast<attn::LshBucketsOp>(op))
    return evaluateLsh(lsh, env);
  if (auto centroid = dyn_cast<attn::NearestCentroidOp>(op))
    return evaluateCentroid(centroid, env);
  if (auto sort = dyn_cast<attn::SortIdsOp>(op))
    return evaluateSort(sort, env);
  if (auto permute = dyn_cast<attn::PermuteOp>(op))
    return evaluatePermute(permute, env);
  return std::nullopt;
}
