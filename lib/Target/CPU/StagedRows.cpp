//===- StagedRows.cpp - Producers applied as rows are staged ----*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The staged rows of OperandRows (OperandRows.h): an operand whose rows
// come from several tensors (tensor.concat along the sequence: a memory
// before the segment), from the pages of a KV cache (attn.gather_pages) or
// from packed sequences (attn.unpack), or that attn.rope rotates, is copied
// tile by tile into a per-thread f32 tile as the kernel reaches it, each
// row from its source and rotated on the way, so that no concatenated,
// gathered, padded or rotated tensor ever exists (docs/OperandLoads.md,
// docs/Rope.md, docs/PagedKV.md, docs/Varlen.md). The rope's angle
// p * theta_k is computed in f64 and reduced to [-pi, pi] there, so that
// large positions keep f32 accuracy; sin and cos are then f32 vector
// polynomials (math.sin / math.cos, expanded by the conversion).
//
//===----------------------------------------------------------------------===//

#include "OperandRows.h"

#include "attune/Dialect/Attn/Transforms/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Dominance.h"

#include <cmath>

using namespace mlir;
using namespace attune;
using namespace attune::cpu;

/// Entries of the angle table: one per frequency for the half pairing, one
/// per rotated feature (each frequency twice) for interleaved pairs, so that
/// a vector of features loads its angles contiguously.
static int64_t thetaEntries(attn::RopeOp rope) {
  int64_t rotary = rope.getNumRotated();
  return rope.getStyle() == attn::RopeStyle::interleaved ? rotary
                                                          : rotary / 2;
}

Value attune::cpu::getOperand(attn::AttentionOp op, Operand which) {
  switch (which) {
  case Operand::Query:
    return op.getQuery();
  case Operand::Key:
    return op.getKey();
  case Operand::Value:
    return op.getValue();
  }
  llvm_unreachable("unknown operand");
}

attn::RopeOp attune::cpu::fusedRope(attn::AttentionOp op, Operand which) {
  if (which == Operand::Value)
    return {};
  auto rope = getOperand(op, which).getDefiningOp<attn::RopeOp>();
  if (!rope || rope.getLayout() != op.getLayout())
    return {};
  return rope;
}

/// Operand `which` of `op`, or the input of its fused rope: where a
/// producer of the rows (concat, pages, unpack) is found.
static Value rowsSource(attn::AttentionOp op, Operand which) {
  if (attn::RopeOp rope = fusedRope(op, which))
    return rope.getInput();
  return getOperand(op, which);
}

tensor::ConcatOp attune::cpu::fusedConcat(attn::AttentionOp op,
                                          Operand which) {
  if (which == Operand::Query)
    return {};
  auto concat = rowsSource(op, which).getDefiningOp<tensor::ConcatOp>();
  if (!concat || concat.getDim() != op.getLayoutDims().seq)
    return {};
  return concat;
}

attn::GatherPagesOp attune::cpu::fusedPages(attn::AttentionOp op,
                                            Operand which) {
  if (which == Operand::Query)
    return {};
  auto gather = rowsSource(op, which).getDefiningOp<attn::GatherPagesOp>();
  if (!gather || gather.getLayout() != op.getLayout())
    return {};
  return gather;
}

attn::UnpackOp attune::cpu::fusedUnpack(attn::AttentionOp op,
                                        Operand which) {
  auto unpack = rowsSource(op, which).getDefiningOp<attn::UnpackOp>();
  if (!unpack || unpack.getLayout() != op.getLayout())
    return {};
  return unpack;
}

attn::PackOp attune::cpu::fusedPack(attn::AttentionOp op) {
  Value output = op.getOutput();
  if (!output.hasOneUse() || (op.getLse() && !op.getLse().use_empty()))
    return {};
  auto pack = dyn_cast<attn::PackOp>(*output.getUsers().begin());
  if (!pack || pack.getLayout() != op.getLayout())
    return {};
  // The kernel reads the pack's offsets and row count where the attention
  // is: they must be defined there.
  DominanceInfo dominance;
  for (Value operand : {Value(pack.getCuSeqlens()), Value(pack.getTotal())})
    if (operand && !dominance.properlyDominates(operand, op))
      return {};
  return pack;
}

attn::PermuteOp attune::cpu::fusedPermute(attn::AttentionOp op, Operand which) {
  auto permute = getOperand(op, which).getDefiningOp<attn::PermuteOp>();
  if (!permute || permute.getInverse() ||
      permute.getLayout() != op.getLayout() ||
      !attn::isSortOrder(permute.getOrder()))
    return {};
  return permute;
}

std::pair<attn::PermuteOp, attn::PermuteOp>
attune::cpu::fusedUnpermute(attn::AttentionOp op) {
  auto inverseOf = [&](Value result) -> attn::PermuteOp {
    if (!result.hasOneUse())
      return {};
    auto permute = dyn_cast<attn::PermuteOp>(*result.getUsers().begin());
    if (!permute || !permute.getInverse() || permute.getInput() != result ||
        !attn::isSortOrder(permute.getOrder()))
      return {};
    return permute;
  };
  attn::PermuteOp output = inverseOf(op.getOutput());
  if (!output || output.getLayout() != op.getLayout())
    return {};
  Value lse = op.getLse();
  if (!lse || lse.use_empty())
    return {output, {}};
  attn::PermuteOp lsePermute = inverseOf(lse);
  if (!lsePermute || lsePermute.getOrder() != output.getOrder())
    return {};
  return {output, lsePermute};
}

double OperandRows::stagingBytes(attn::AttentionOp op, Operand which,
                                 int64_t rows) {
  attn::RopeOp rope = fusedRope(op, which);
  if (!rope && !fusedConcat(op, which) && !fusedPages(op, which) &&
      !fusedUnpack(op, which))
    return 0;
  int64_t features = cast<RankedTensorType>(getOperand(op, which).getType())
                         .getDimSize(op.getLayoutDims().feature);
  double bytes = 4.0 * double(rows) * double(features);
  if (rope)
    bytes += 8.0 * double(thetaEntries(rope));
  // The angle tables: cos and sin per row and entry, and of one position.
  if (rope && !rope.getPositions())
    bytes += 8.0 * double(rows + 1) * double(thetaEntries(rope));
  return bytes;
}

void OperandRows::setSources(ArrayRef<Value> buffers,
                             ArrayRef<Value> firstRows) {
  sourceBuffers.assign(buffers.begin(), buffers.end());
  sourceStarts.assign(firstRows.begin(), firstRows.end());
}

void OperandRows::setPages(Value table, Value lengths,
                           attn::LayoutDims dims, int64_t size) {
  pageTable = table;
  pageLengths = lengths;
  cacheDims = dims;
  pageSize = size;
}

void OperandRows::setPacked(Value offsets) { packedOffsets = offsets; }

void OperandRows::setRotary(attn::RopeOp op, Value positionsBuffer,
                            Value offsetValue, Value scalesBuffer) {
  rope = op;
  positions = positionsBuffer;
  offset = offsetValue;
  scales = scalesBuffer;
}

/// An index constant.
static Value index(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// `for (iv = lb; iv < ub; iv += step) body(iv)`.
static void forLoop(OpBuilder &b, Location loc, Value lb, Value ub,
                    int64_t step, function_ref<void(Value)> body) {
  auto loop = scf::ForOp::create(b, loc, lb, ub, index(b, loc, step));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  body(loop.getInductionVar());
}

/// Calls `chunk(start, count)` over [begin, end) in whole vectors of `lanes`
/// (a loop) and a last partial one of the remaining `(end - begin) mod
/// lanes` elements; begin and end are static.
static void forChunks(OpBuilder &b, Location loc, int64_t begin, int64_t end,
                      int64_t lanes,
                      function_ref<void(Value, int64_t)> chunk) {
  int64_t tail = (end - begin) % lanes;
  if (end - begin >= lanes)
    forLoop(b, loc, index(b, loc, begin), index(b, loc, end - tail), lanes,
            [&](Value f) { chunk(f, lanes); });
  if (tail)
    chunk(index(b, loc, end - tail), tail);
}

/// `count` elements of `buffer` at `at` as a vector of `type`'s shape (the
/// rest 0), in the buffer's element type.
static Value loadChunk(OpBuilder &b, Location loc, Value buffer, ValueRange at,
                       int64_t lanes, int64_t count) {
  Type element = cast<MemRefType>(buffer.getType()).getElementType();
  auto type = VectorType::get({lanes}, element);
  if (count == lanes)
    return vector::LoadOp::create(b, loc, type, buffer, at);
  Value mask = vector::ConstantMaskOp::create(
      b, loc, VectorType::get({lanes}, b.getI1Type()),
      ArrayRef<int64_t>{count});
  Value zero = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getZeroAttr(element)));
  return vector::MaskedLoadOp::create(b, loc, type, buffer, at, mask, zero);
}

/// Stores the first `count` lanes of `value` into `buffer` at `at`.
static void storeChunk(OpBuilder &b, Location loc, Value value, Value buffer,
                       ValueRange at, int64_t lanes, int64_t count) {
  if (count == lanes) {
    vector::StoreOp::create(b, loc, value, buffer, at);
    return;
  }
  Value mask = vector::ConstantMaskOp::create(
      b, loc, VectorType::get({lanes}, b.getI1Type()),
      ArrayRef<int64_t>{count});
  vector::MaskedStoreOp::create(b, loc, buffer, at, mask, value);
}

/// Widens a vector to f32.
static Value toF32(OpBuilder &b, Location loc, Value v, int64_t lanes) {
  auto f32 = VectorType::get({lanes}, b.getF32Type());
  return v.getType() == f32 ? v : arith::ExtFOp::create(b, loc, f32, v);
}

void OperandRows::prepareStaging(
    const std::function<Value(ArrayRef<int64_t>, Type)> &scratch,
    int64_t rows) {
  if (!isStaged())
    return;
  // The innermost dimension: also that of a packed [T, H, D] buffer.
  auto type = cast<MemRefType>(buffer.getType());
  int64_t features = type.getDimSize(type.getRank() - 1);
  stagedRows = rows;
  stagedTile = scratch({rows, features}, b.getF32Type());
  if (!rope)
    return;
  // theta_k = scale_k base^(-2k / R), once per thread: R / 2 exponentials.
  int64_t entries = thetaEntries(rope);
  bool interleaved = rope.getStyle() == attn::RopeStyle::interleaved;
  thetaTable = scratch({entries}, b.getF64Type());
  double logStep = -2.0 * std::log(rope.getBase().convertToDouble()) /
                   double(rope.getNumRotated());
  forLoop(b, loc, index(b, loc, 0), index(b, loc, entries), 1, [&](Value e) {
    Value k = interleaved
                  ? arith::DivUIOp::create(b, loc, e, index(b, loc, 2))
                  : e;
    Value kf = arith::SIToFPOp::create(
        b, loc, b.getF64Type(),
        arith::IndexCastOp::create(b, loc, b.getI64Type(), k));
    Value theta = math::ExpOp::create(
        b, loc,
        arith::MulFOp::create(
            b, loc, kf,
            arith::ConstantOp::create(b, loc, b.getF64FloatAttr(logStep))));
    if (scales)
      theta = arith::MulFOp::create(
          b, loc, theta,
          arith::ExtFOp::create(
              b, loc, b.getF64Type(),
              memref::LoadOp::create(b, loc, scales, ValueRange{k})
                  .getResult()));
    memref::StoreOp::create(b, loc, theta, thetaTable, ValueRange{e});
  });
  if (!usesAngleTables())
    return;
  // cos and sin of r * theta / scaling for the rows r of a tile, once per
  // thread: a tile's worth of range reductions and polynomials.
  auto f32 = b.getF32Type();
  stepCos = scratch({rows, entries}, f32);
  stepSin = scratch({rows, entries}, f32);
  baseCos = scratch({entries}, f32);
  baseSin = scratch({entries}, f32);
  forLoop(b, loc, index(b, loc, 0), index(b, loc, rows), 1, [&](Value r) {
    Value scaled = scaledPosition(arith::SIToFPOp::create(
        b, loc, b.getF64Type(),
        arith::IndexCastOp::create(b, loc, b.getI64Type(), r)));
    forChunks(b, loc, 0, entries, lanes, [&](Value e, int64_t count) {
      auto [c, s] = cosSin(scaled, e, count);
      storeChunk(b, loc, c, stepCos, ValueRange{r, e}, lanes, count);
      storeChunk(b, loc, s, stepSin, ValueRange{r, e}, lanes, count);
    });
  });
}

Value OperandRows::positionOf(Value batch, Value row) const {
  Value position;
  if (positions) {
    SmallVector<Value, 2> at;
    if (cast<MemRefType>(positions.getType()).getRank() == 2)
      at.push_back(batch);
    at.push_back(row);
    position = memref::LoadOp::create(b, loc, positions, at);
  } else if (offset) {
    Value start = offset.getType().isIndex()
                      ? offset
                      : arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                                   offset);
    position = arith::AddIOp::create(b, loc, start, row);
  } else {
    position = row;
  }
  if (position.getType().isIndex())
    position = arith::IndexCastOp::create(b, loc, b.getI64Type(), position);
  return arith::SIToFPOp::create(b, loc, b.getF64Type(), position);
}

void OperandRows::stage(Value batch, Value head, Value rowBegin) {
  stagedBegin = rowBegin;
  if (usesAngleTables()) {
    // cos and sin at the tile's first position, for rotateFeatures.
    Value scaled = scaledPosition(positionOf(batch, rowBegin));
    forChunks(b, loc, 0, thetaEntries(rope), lanes,
              [&](Value e, int64_t count) {
                auto [c, s] = cosSin(scaled, e, count);
                storeChunk(b, loc, c, baseCos, ValueRange{e}, lanes, count);
                storeChunk(b, loc, s, baseSin, ValueRange{e}, lanes, count);
              });
  }
  Value last = arith::SubIOp::create(b, loc, count, index(b, loc, 1));
  forLoop(b, loc, index(b, loc, 0), index(b, loc, stagedRows), 1,
          [&](Value r) {
            Value row = arith::MinUIOp::create(
                b, loc, arith::AddIOp::create(b, loc, rowBegin, r), last);
            // The rope's position is the row's, not its source row's.
            Value position = rope && !usesAngleTables()
                                 ? positionOf(batch, row)
                                 : Value();
            if (pageTable || packedOffsets) {
              stageIndirectRow(batch, head, row, position, r);
              return;
            }
            // Rows [start_i, start_i+1) come from source i.
            std::function<void(unsigned)> fromSource = [&](unsigned i) {
              Value first = sourceStarts.empty() ? Value() : sourceStarts[i];
              Value source =
                  first ? arith::SubIOp::create(b, loc, row, first) : row;
              Value from = sourceBuffers.empty() ? buffer : sourceBuffers[i];
              auto at = [&](Value f) {
                return indices(batch, head, source, f);
              };
              if (i + 1 >= std::max<size_t>(sourceBuffers.size(), 1)) {
                stageRow(from, at, position, r);
                return;
              }
              Value here = arith::CmpIOp::create(
                  b, loc, arith::CmpIPredicate::ult, row, sourceStarts[i + 1]);
              scf::IfOp::create(
                  b, loc, here,
                  [&](OpBuilder &, Location) {
                    stageRow(from, at, position, r);
                    scf::YieldOp::create(b, loc);
                  },
                  [&](OpBuilder &, Location) {
                    fromSource(i + 1);
                    scf::YieldOp::create(b, loc);
                  });
            };
            fromSource(0);
          });
}

void OperandRows::stageIndirectRow(Value batch, Value head, Value row,
                                   Value position, Value r) const {
  // A paged sequence's length, or a packed one's first row and length.
  Value length, first;
  if (pageTable) {
    length = loadIndex(b, loc, pageLengths, batch);
  } else {
    first = loadIndex(b, loc, packedOffsets, batch);
    length = arith::SubIOp::create(
        b, loc,
        loadIndex(b, loc, packedOffsets,
                  arith::AddIOp::create(b, loc, batch, index(b, loc, 1))
                      .getResult()),
        first);
  }
  Value inside =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, row, length);
  Value size = pageTable ? index(b, loc, pageSize) : Value();
  scf::IfOp::create(
      b, loc, inside,
      [&](OpBuilder &, Location) {
        if (packedOffsets) {
          Value source = arith::AddIOp::create(b, loc, first, row);
          stageRow(
              buffer,
              [&](Value f) {
                return SmallVector<Value, 4>{source, head, f};
              },
              position, r);
          scf::YieldOp::create(b, loc);
          return;
        }
        Value page = loadIndex(
            b, loc, pageTable,
            ValueRange{batch, arith::DivUIOp::create(b, loc, row, size)});
        Value slot = arith::RemUIOp::create(b, loc, row, size);
        stageRow(
            buffer,
            [&](Value f) {
              SmallVector<Value, 4> at(4);
              at[cacheDims.batch] = page;
              at[cacheDims.head] = head;
              at[cacheDims.seq] = slot;
              at[cacheDims.feature] = f;
              return at;
            },
            position, r);
        scf::YieldOp::create(b, loc);
      },
      [&](OpBuilder &, Location) {
        // Rows past the length are 0 (docs/PagedKV.md, docs/Varlen.md).
        int64_t features =
            cast<MemRefType>(stagedTile.getType()).getDimSize(1);
        Value zero = arith::ConstantOp::create(
            b, loc,
            DenseElementsAttr::get(VectorType::get({lanes}, b.getF32Type()),
                                   0.0f));
        forChunks(b, loc, 0, features, lanes, [&](Value f, int64_t count) {
          storeChunk(b, loc, zero, stagedTile, ValueRange{r, f}, lanes,
                     count);
        });
        scf::YieldOp::create(b, loc);
      });
}

void OperandRows::stageRow(
    Value from, function_ref<SmallVector<Value, 4>(Value)> at, Value position,
    Value r) const {
  int64_t features = cast<MemRefType>(stagedTile.getType()).getDimSize(1);
  auto load = [&](Value f, int64_t count) {
    return toF32(b, loc, loadChunk(b, loc, from, at(f), lanes, count), lanes);
  };
  auto store = [&](Value v, Value f, int64_t count) {
    storeChunk(b, loc, v, stagedTile, ValueRange{r, f}, lanes, count);
  };
  int64_t rotary = rope ? rotateFeatures(load, store, position, r) : 0;
  // Features past R (all of them without a rope) are copied.
  forChunks(b, loc, rotary, features, lanes, [&](Value f, int64_t count) {
    store(load(f, count), f, count);
  });
}

Value OperandRows::scaledPosition(Value position) const {
  attn::RopeOp rope = this->rope; // Accessors are not const.
  return arith::DivFOp::create(
      b, loc, position,
      arith::ConstantOp::create(
          b, loc, b.getF64FloatAttr(rope.getScaling().convertToDouble())));
}

std::pair<Value, Value> OperandRows::cosSin(Value scaled, Value e,
                                            int64_t count) const {
  auto f64Vec = VectorType::get({lanes}, b.getF64Type());
  auto f32Vec = VectorType::get({lanes}, b.getF32Type());
  auto f64Splat = [&](double v) {
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(f64Vec, v));
  };
  Value scaledVec = vector::BroadcastOp::create(b, loc, f64Vec, scaled);
  Value theta = loadChunk(b, loc, thetaTable, ValueRange{e}, lanes, count);
  Value angle = arith::MulFOp::create(b, loc, scaledVec, theta);
  Value turns = math::RoundEvenOp::create(
      b, loc,
      arith::MulFOp::create(b, loc, angle, f64Splat(1.0 / (2.0 * M_PI))));
  // 2 pi as the nearest double plus its rounding error: two fused
  // multiply-adds leave an error far below f32's resolution of the reduced
  // angle for any position below 2^31.
  constexpr double kTwoPiHi = 6.28318530717958623200;
  constexpr double kTwoPiLo = 2.44929359829470635445e-16;
  Value negTurns = arith::NegFOp::create(b, loc, turns);
  Value reduced =
      math::FmaOp::create(b, loc, negTurns, f64Splat(kTwoPiHi), angle);
  reduced = math::FmaOp::create(b, loc, negTurns, f64Splat(kTwoPiLo), reduced);
  Value narrow = arith::TruncFOp::create(b, loc, f32Vec, reduced);
  Value c = math::CosOp::create(b, loc, narrow);
  Value s = math::SinOp::create(b, loc, narrow);
  return {c, s};
}

int64_t OperandRows::rotateFeatures(
    function_ref<Value(Value, int64_t)> load,
    function_ref<void(Value, Value, int64_t)> store, Value position,
    Value r) const {
  attn::RopeOp rope = this->rope; // Accessors are not const.
  int64_t rotary = rope.getNumRotated();
  auto f32Vec = VectorType::get({lanes}, b.getF32Type());
  Value scaled = usesAngleTables() ? Value() : scaledPosition(position);
  // cos and sin of entries [e, e + count) at this row's position: with the
  // angle tables, cos(a + b) = cos a cos b - sin a sin b and sin(a + b) =
  // sin a cos b + cos a sin b for a the tile's first angle and b = r theta.
  auto rowCosSin = [&](Value e, int64_t count) -> std::pair<Value, Value> {
    if (!usesAngleTables())
      return cosSin(scaled, e, count);
    Value ca = loadChunk(b, loc, baseCos, ValueRange{e}, lanes, count);
    Value sa = loadChunk(b, loc, baseSin, ValueRange{e}, lanes, count);
    Value cb = loadChunk(b, loc, stepCos, ValueRange{r, e}, lanes, count);
    Value sb = loadChunk(b, loc, stepSin, ValueRange{r, e}, lanes, count);
    Value sasb = arith::MulFOp::create(b, loc, sa, sb);
    Value negSasb = arith::NegFOp::create(b, loc, sasb);
    Value c = math::FmaOp::create(b, loc, ca, cb, negSasb);
    Value casb = arith::MulFOp::create(b, loc, ca, sb);
    Value s = math::FmaOp::create(b, loc, sa, cb, casb);
    return {c, s};
  };
  if (rope.getStyle() == attn::RopeStyle::interleaved) {
    // Features (2k, 2k + 1) are neighbours within a vector: the partner is a
    // pair swap, and the table holds each angle twice.
    SmallVector<int64_t> swap;
    SmallVector<float> sign;
    for (int64_t l = 0; l < lanes; ++l) {
      swap.push_back(l ^ 1);
      sign.push_back(l % 2 == 0 ? -1.0f : 1.0f);
    }
    Value signs = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(f32Vec, ArrayRef<float>(sign)));
    forChunks(b, loc, 0, rotary, lanes, [&](Value f, int64_t count) {
      Value x = load(f, count);
      Value partner = vector::ShuffleOp::create(b, loc, x, x, swap);
      auto [c, s] = rowCosSin(f, count);
      Value ps = arith::MulFOp::create(
          b, loc, arith::MulFOp::create(b, loc, partner, signs), s);
      store(math::FmaOp::create(b, loc, x, c, ps), f, count);
    });
  } else {
    // Features (k, k + R/2): two vectors of the same frequencies.
    int64_t half = rotary / 2;
    forChunks(b, loc, 0, half, lanes, [&](Value k, int64_t count) {
      Value k2 = arith::AddIOp::create(b, loc, k, index(b, loc, half));
      Value x1 = load(k, count), x2 = load(k2, count);
      auto [c, s] = rowCosSin(k, count);
      Value y1 = arith::SubFOp::create(b, loc,
                                       arith::MulFOp::create(b, loc, x1, c),
                                       arith::MulFOp::create(b, loc, x2, s));
      Value y2 = math::FmaOp::create(b, loc, x1, s,
                                     arith::MulFOp::create(b, loc, x2, c));
      store(y1, k, count);
      store(y2, k2, count);
    });
  }
  return rotary;
}
