//===- RopeKernel.cpp - attn.rope as a kernel of its own --------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Operands of the attention that attn.rope rotates (docs/Rope.md). Q, in
// 16 bits and rotating by whole 16-byte chunks, is rotated as it is loaded:
// each attention CTA rotates its Q tile in shared memory once, after the
// tile's cp.async copies land (KernelEmitter::rotateQueryTile). Any other
// rotated operand is written rotated to a workspace of the input's shape by
// a kernel of its own, launched before the attention kernels, which read the
// workspace as a dense operand (f32 inputs: the plane kernels split the
// workspace): rotating K in shared memory per key tile would cost every CTA
// a sine and cosine per pair of the whole K (docs/CUDATarget.md,
// "attn.rope"). One CTA of the rope kernel rotates kPlaneRows rows of one
// (batch, head), a 16-byte chunk (or, for other shapes and f32, one
// element) per thread and step.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"
#include "OperandSources.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

using namespace mlir;
using namespace attune;
using namespace attune::attn;
using namespace attune::cuda;

/// Elements of a 16-byte chunk of a 16-bit tensor.
static constexpr int64_t kChunk = 8;

LLVM::GlobalOp attune::cuda::createRopeThetaTable(OpBuilder &b, Location loc,
                                                  attn::RopeOp rope,
                                                  StringRef name) {
  // base^(-2k / R) in double precision, computed here once.
  int64_t half = rope.getNumRotated() / 2;
  SmallVector<double> theta;
  for (int64_t k = 0; k < half; ++k)
    theta.push_back(rope.getInverseFrequency(k));
  auto type = RankedTensorType::get({half}, b.getF64Type());
  return LLVM::GlobalOp::create(
      b, loc, LLVM::LLVMArrayType::get(b.getF64Type(), half),
      /*isConstant=*/true, LLVM::Linkage::Internal, name,
      DenseElementsAttr::get(type, ArrayRef<double>(theta)),
      /*alignment=*/8, /*addrSpace=*/1);
}

/// `value` (any signless integer or index) as an i64, sign-extended.
static Value asI64(OpBuilder &b, Location loc, Value value) {
  Type i64 = b.getI64Type();
  if (value.getType().isIndex())
    return arith::IndexCastOp::create(b, loc, i64, value);
  if (value.getType().getIntOrFloatBitWidth() < 64)
    return arith::ExtSIOp::create(b, loc, i64, value);
  return value;
}

/// An NVVM approximate intrinsic of one f32 operand (sin, cos).
static Value approx(OpBuilder &b, Location loc, StringRef name, Value x) {
  return LLVM::CallIntrinsicOp::create(b, loc, b.getF32Type(),
                                       b.getStringAttr(name), ValueRange{x})
      .getResult(0);
}

Value attune::cuda::emitScaledPosition(OpBuilder &b, Location loc,
                                       attn::RopeOp rope, Value position) {
  Type f64 = b.getF64Type();
  Value p = arith::SIToFPOp::create(b, loc, f64, position);
  Value scaling = arith::ConstantOp::create(
      b, loc, b.getF64FloatAttr(rope.getScaling().convertToDouble()));
  return arith::DivFOp::create(b, loc, p, scaling);
}

std::pair<Value, Value> attune::cuda::emitRopeSinCos(
    OpBuilder &b, Location loc, attn::RopeOp rope, Value k, Value scaled,
    function_ref<Value(Value)> loadScale, Value thetas) {
  Type f32 = b.getF32Type(), f64 = b.getF64Type();
  // a = (p / scaling) theta_k in f64, reduced to [-pi, pi] there
  // (exact to f32 rounding for positions in the millions), then
  // the hardware's sine and cosine (absolute error 2^-20.9 on
  // [-pi, pi], below the 16-bit result's rounding).
  Value k64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), k);
  Value entry = LLVM::GEPOp::create(b, loc, thetas.getType(), f64, thetas,
                                    ValueRange{k64});
  Value theta = LLVM::LoadOp::create(b, loc, f64, entry);
  if (loadScale) {
    Value scale = loadScale(k);
    theta = arith::MulFOp::create(b, loc, theta,
                                  arith::ExtFOp::create(b, loc, f64, scale));
  }
  Value angle = arith::MulFOp::create(b, loc, scaled, theta);
  Value turns = arith::MulFOp::create(
      b, loc, angle,
      arith::ConstantOp::create(b, loc, b.getF64FloatAttr(0.5 / M_PI)));
  // round(turns), away from zero at halves: truncation of
  // turns +- 0.5.
  Value nonNegative = arith::CmpFOp::create(
      b, loc, arith::CmpFPredicate::OGE, turns,
      arith::ConstantOp::create(b, loc, b.getF64FloatAttr(0.0)));
  Value halfTurn = arith::SelectOp::create(
      b, loc, nonNegative,
      arith::ConstantOp::create(b, loc, b.getF64FloatAttr(0.5)),
      arith::ConstantOp::create(b, loc, b.getF64FloatAttr(-0.5)));
  Value whole = arith::SIToFPOp::create(
      b, loc, f64,
      arith::FPToSIOp::create(b, loc, b.getI64Type(),
                              arith::AddFOp::create(b, loc, turns, halfTurn)));
  Value reduced = arith::SubFOp::create(
      b, loc, angle,
      arith::MulFOp::create(
          b, loc, whole,
          arith::ConstantOp::create(b, loc, b.getF64FloatAttr(2 * M_PI))));
  Value r = arith::TruncFOp::create(b, loc, f32, reduced);
  return {approx(b, loc, "llvm.nvvm.sin.approx.f", r),
          approx(b, loc, "llvm.nvvm.cos.approx.f", r)};
}

Value attune::cuda::emitRotatedFeature(OpBuilder &b, Location loc,
                                       attn::RopeOp rope, Value f, Value x,
                                       function_ref<Value(Value)> load,
                                       Value position,
                                       function_ref<Value(Value)> loadScale,
                                       Value thetas) {
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  auto cmp = [&](arith::CmpIPredicate predicate, Value x, Value y) -> Value {
    return arith::CmpIOp::create(b, loc, predicate, x, y);
  };
  int64_t rotated = rope.getNumRotated(), half = rotated / 2;
  bool interleaved = rope.getStyle() == RopeStyle::interleaved;
  Type f32 = b.getF32Type();
  Value isRotated = cmp(arith::CmpIPredicate::ult, f, idx(rotated));
  auto y = scf::IfOp::create(b, loc, TypeRange{f32}, isRotated,
                             /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(y.thenBlock());
    // The pair and frequency of feature f (RopeOp::getPartner).
    Value isFirst, k, partner;
    if (interleaved) {
      isFirst = cmp(arith::CmpIPredicate::eq,
                    arith::RemUIOp::create(b, loc, f, idx(2)), idx(0));
      k = arith::DivUIOp::create(b, loc, f, idx(2));
      Value up = arith::AddIOp::create(b, loc, f, idx(1));
      Value down = arith::SubIOp::create(b, loc, f, idx(1));
      partner = arith::SelectOp::create(b, loc, isFirst, up, down);
    } else {
      isFirst = cmp(arith::CmpIPredicate::ult, f, idx(half));
      Value up = arith::AddIOp::create(b, loc, f, idx(half));
      Value down = arith::SubIOp::create(b, loc, f, idx(half));
      k = arith::SelectOp::create(b, loc, isFirst, f, down);
      partner = arith::SelectOp::create(b, loc, isFirst, up, down);
    }
    Value other = load(partner);
    auto [sin, cos] = emitRopeSinCos(b, loc, rope, k,
                                     emitScaledPosition(b, loc, rope, position),
                                     loadScale, thetas);
    // first: x cos - other sin; second: x cos + other sin.
    Value signedSin = arith::SelectOp::create(
        b, loc, isFirst, arith::NegFOp::create(b, loc, sin), sin);
    Value value =
        arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, x, cos),
                              arith::MulFOp::create(b, loc, other, signedSin));
    scf::YieldOp::create(b, loc, value);
    b.setInsertionPointToStart(y.elseBlock());
    scf::YieldOp::create(b, loc, x);
  }
  return y.getResult(0);
}

void attune::cuda::emitRotatedChunks(
    OpBuilder &b, Location loc, attn::RopeOp rope, Value f, Value scaled,
    function_ref<Value(Value)> loadChunk,
    function_ref<void(Value, Value)> storeChunk,
    function_ref<Value(Value)> loadScale, Value thetas) {
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Type f32 = b.getF32Type();
  Value chunk = loadChunk(f);
  auto chunkType = cast<VectorType>(chunk.getType());
  Type element = chunkType.getElementType();
  auto lane = [&](Value chunk, int64_t j) -> Value {
    Value x = vector::ExtractOp::create(b, loc, chunk, j).getResult();
    return arith::ExtFOp::create(b, loc, f32, x);
  };
  auto narrow = [&](Value x) -> Value {
    return arith::TruncFOp::create(b, loc, element, x);
  };
  // (x, y) -> (x cos - y sin, y cos + x sin), pair k.
  auto rotate = [&](Value x, Value y, Value k) {
    auto [sin, cos] =
        emitRopeSinCos(b, loc, rope, k, scaled, loadScale, thetas);
    Value first =
        arith::SubFOp::create(b, loc, arith::MulFOp::create(b, loc, x, cos),
                              arith::MulFOp::create(b, loc, y, sin));
    Value second =
        arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, y, cos),
                              arith::MulFOp::create(b, loc, x, sin));
    return std::make_pair(narrow(first), narrow(second));
  };
  if (rope.getStyle() == RopeStyle::interleaved) {
    Value pair0 = arith::DivUIOp::create(b, loc, f, idx(2));
    SmallVector<Value> out(kChunk);
    for (int64_t j = 0; j < kChunk / 2; ++j) {
      auto [x, y] = rotate(lane(chunk, 2 * j), lane(chunk, 2 * j + 1),
                           arith::AddIOp::create(b, loc, pair0, idx(j)));
      out[2 * j] = x;
      out[2 * j + 1] = y;
    }
    storeChunk(vector::FromElementsOp::create(b, loc, chunkType, out), f);
    return;
  }
  Value partner =
      arith::AddIOp::create(b, loc, f, idx(rope.getNumRotated() / 2));
  Value high = loadChunk(partner);
  SmallVector<Value> outLow(kChunk), outHigh(kChunk);
  for (int64_t j = 0; j < kChunk; ++j) {
    auto [x, y] = rotate(lane(chunk, j), lane(high, j),
                         arith::AddIOp::create(b, loc, f, idx(j)));
    outLow[j] = x;
    outHigh[j] = y;
  }
  storeChunk(vector::FromElementsOp::create(b, loc, chunkType, outLow), f);
  storeChunk(vector::FromElementsOp::create(b, loc, chunkType, outHigh),
             partner);
}

bool attune::cuda::ropeFitsChunks(attn::RopeOp rope, Type element) {
  int64_t rotated = rope.getNumRotated();
  bool interleaved = rope.getStyle() == RopeStyle::interleaved;
  return !element.isF32() && rope.getHeadSize() % kChunk == 0 &&
         (interleaved ? rotated : rotated / 2) % kChunk == 0;
}

/// Device-side assertions of the sizes of `rope`'s `positions` and `scales`
/// (kernel values, may be null) that the verifier could not compare
/// (dynamic), as the CPU target's run-time checks do: the launch reports
/// them, instead of a read past the positions or the scales. `seq` and
/// `batch` are the input's sizes.
static void emitRopeSizeChecks(OpBuilder &b, Location loc, attn::RopeOp rope,
                               Value positions, Value scales, Value seq,
                               Value batch) {
  auto check = [&](Value actual, Value expected, StringRef what) {
    cf::AssertOp::create(b, loc,
                         arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                               actual, expected),
                         ("attn.rope: " + what).str());
  };
  if (positions) {
    int64_t rank = cast<MemRefType>(positions.getType()).getRank();
    check(memref::DimOp::create(b, loc, positions, rank - 1), seq,
          "the positions' last size is not the input's sequence length");
    if (rank == 2)
      check(memref::DimOp::create(b, loc, positions, 0), batch,
            "the positions' first size is not the input's batch size");
  }
  if (scales)
    check(memref::DimOp::create(b, loc, scales, 0),
          arith::ConstantIndexOp::create(b, loc, rope.getNumRotated() / 2),
          "freq_scales does not hold rotary_dim / 2 values");
}

/// The position (i64) of row `row` of batch `batch`: positions[batch, row]
/// or positions[row] (`positions` a kernel value, may be null), else
/// offset + row (`offset` may be null).
static Value emitRopePosition(OpBuilder &b, Location loc, Value positions,
                              Value offset, Value batch, Value row) {
  if (positions) {
    SmallVector<Value, 2> index;
    if (cast<MemRefType>(positions.getType()).getRank() == 2)
      index.push_back(batch);
    index.push_back(row);
    return asI64(b, loc, memref::LoadOp::create(b, loc, positions, index));
  }
  Value position = asI64(b, loc, row);
  if (offset)
    position = arith::AddIOp::create(b, loc, position, asI64(b, loc, offset));
  return position;
}

void attune::cuda::emitRopeKernel(OpBuilder &b, Location loc, attn::RopeOp rope,
                                  Value input, Value output,
                                  const IRMapping &args, LLVM::GlobalOp table) {
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  LayoutDims dims = rope.getLayoutDims();
  int64_t features = rope.getHeadSize();
  int64_t half = rope.getNumRotated() / 2;
  Type f32 = b.getF32Type();
  Type element = cast<MemRefType>(input.getType()).getElementType();
  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value rowBlock = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  SmallVector<Value> at(4);
  at[dims.head] = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  at[dims.batch] = gpu::BlockIdOp::create(b, loc, gpu::Dimension::z);
  Value seq = memref::DimOp::create(b, loc, input, dims.seq);
  Value first = arith::MulIOp::create(b, loc, rowBlock, idx(kPlaneRows));
  Value positions =
      rope.getPositions() ? args.lookup(rope.getPositions()) : Value();
  Value offset = rope.getOffset() ? args.lookup(rope.getOffset()) : Value();
  Value scales =
      rope.getFreqScales() ? args.lookup(rope.getFreqScales()) : Value();
  Value thetas = LLVM::AddressOfOp::create(b, loc, table);
  auto cmp = [&](arith::CmpIPredicate predicate, Value x, Value y) -> Value {
    return arith::CmpIOp::create(b, loc, predicate, x, y);
  };
  emitRopeSizeChecks(b, loc, rope, positions, scales, seq,
                     memref::DimOp::create(b, loc, input, dims.batch));
  auto load = [&](Value feature) -> Value {
    SmallVector<Value> index(at);
    index[dims.feature] = feature;
    Value x = memref::LoadOp::create(b, loc, input, index);
    return element.isF32() ? x : arith::ExtFOp::create(b, loc, f32, x);
  };

  auto positionOf = [&](Value row) -> Value {
    return emitRopePosition(b, loc, positions, offset, at[dims.batch], row);
  };
  auto loadScale = [&](Value k) -> Value {
    return memref::LoadOp::create(b, loc, scales, k);
  };
  function_ref<Value(Value)> scaleFn =
      scales ? function_ref<Value(Value)>(loadScale) : nullptr;

  // 16-byte chunks: a thread rotates 8 pairs of a row (half pairing: the
  // chunks at f and f + R / 2; interleaved: 4 pairs of one chunk) or copies
  // a chunk past rotary_dim, one angle reduction per pair and one
  // position per chunk. Needs 16-bit elements and whole chunks.
  int64_t rotated = rope.getNumRotated();
  bool interleaved = rope.getStyle() == RopeStyle::interleaved;
  if (ropeFitsChunks(rope, element)) {
    int64_t rotatedChunks = (interleaved ? rotated : half) / kChunk;
    int64_t chunksPerRow = rotatedChunks + (features - rotated) / kChunk;
    auto chunkType = VectorType::get({kChunk}, element);
    auto loadChunk = [&](Value f) -> Value {
      SmallVector<Value> index(at);
      index[dims.feature] = f;
      return vector::LoadOp::create(b, loc, chunkType, input, index,
                                    /*nontemporal=*/false, llvm::Align(16));
    };
    auto storeChunk = [&](Value chunk, Value f) {
      SmallVector<Value> index(at);
      index[dims.feature] = f;
      vector::StoreOp::create(b, loc, chunk, output, index,
                              /*nontemporal=*/false, llvm::Align(16));
    };
    scf::ForOp::create(
        b, loc, tid, idx(kPlaneRows * chunksPerRow), idx(kPlaneThreads),
        ValueRange{}, [&](OpBuilder &, Location, Value e, ValueRange) {
          Value row = arith::AddIOp::create(
              b, loc, first,
              arith::DivUIOp::create(b, loc, e, idx(chunksPerRow)));
          Value c = arith::RemUIOp::create(b, loc, e, idx(chunksPerRow));
          at[dims.seq] = row;
          Value inside = cmp(arith::CmpIPredicate::ult, row, seq);
          scf::IfOp::create(b, loc, inside, [&](OpBuilder &, Location) {
            Value isRotated =
                cmp(arith::CmpIPredicate::ult, c, idx(rotatedChunks));
            auto rotateChunk = [&]() {
              emitRotatedChunks(
                  b, loc, rope, arith::MulIOp::create(b, loc, c, idx(kChunk)),
                  emitScaledPosition(b, loc, rope, positionOf(row)), loadChunk,
                  storeChunk, scaleFn, thetas);
            };
            auto copyChunk = [&]() {
              // Past rotary_dim: copied.
              Value f = arith::AddIOp::create(
                  b, loc, idx(rotated),
                  arith::MulIOp::create(
                      b, loc,
                      arith::SubIOp::create(b, loc, c, idx(rotatedChunks)),
                      idx(kChunk)));
              storeChunk(loadChunk(f), f);
            };
            if (rotated == features) {
              rotateChunk();
            } else {
              auto withYield = [&](function_ref<void()> body) {
                return [&b, &loc, body](OpBuilder &, Location) {
                  body();
                  scf::YieldOp::create(b, loc);
                };
              };
              scf::IfOp::create(b, loc, isRotated, withYield(rotateChunk),
                                withYield(copyChunk));
            }
            scf::YieldOp::create(b, loc);
          });
          scf::YieldOp::create(b, loc);
        });
    return;
  }

  scf::ForOp::create(
      b, loc, tid, idx(kPlaneRows * features), idx(kPlaneThreads), ValueRange{},
      [&](OpBuilder &, Location, Value e, ValueRange) {
        // Consecutive threads take consecutive features: coalesced.
        Value row = arith::AddIOp::create(
            b, loc, first, arith::DivUIOp::create(b, loc, e, idx(features)));
        Value f = arith::RemUIOp::create(b, loc, e, idx(features));
        at[dims.seq] = row;
        at[dims.feature] = f;
        Value inside = cmp(arith::CmpIPredicate::ult, row, seq);
        scf::IfOp::create(b, loc, inside, [&](OpBuilder &, Location) {
          Value x = load(f);
          Value rotated = emitRotatedFeature(b, loc, rope, f, x, load,
                                             positionOf(row), scaleFn, thetas);
          Value result = rotated;
          if (!element.isF32())
            result = arith::TruncFOp::create(b, loc, element, result);
          memref::StoreOp::create(b, loc, result, output, at);
          scf::YieldOp::create(b, loc);
        });
        scf::YieldOp::create(b, loc);
      });
}

void KernelEmitter::rotateQueryTile() {
  attn::RopeOp rope = queryRope;
  int64_t rotated = rope.getNumRotated();
  bool interleaved = rope.getStyle() == RopeStyle::interleaved;
  int64_t chunksPerRow = (interleaved ? rotated : rotated / 2) / kChunk;
  Value positions =
      rope.getPositions() ? operands->lookup(rope.getPositions()) : Value();
  Value offset =
      rope.getOffset() ? operands->lookup(rope.getOffset()) : Value();
  Value scales =
      rope.getFreqScales() ? operands->lookup(rope.getFreqScales()) : Value();
  Value thetas = LLVM::AddressOfOp::create(b, loc, queryRopeTable);
  // The rope's layout is the attention's (OperandSource::ropeOnLoad).
  emitRopeSizeChecks(b, loc, rope, positions, scales,
                     memref::DimOp::create(b, loc, query, dims.seq),
                     memref::DimOp::create(b, loc, query, dims.batch));
  auto loadScale = [&](Value k) -> Value {
    return memref::LoadOp::create(b, loc, scales, k);
  };
  function_ref<Value(Value)> scaleFn =
      scales ? function_ref<Value(Value)>(loadScale) : nullptr;
  // The rows that hold queries; the others are zero-filled and stay so.
  Value rowCount = packedHeads ? validRows() : queryRows[0].count;
  auto chunkType = VectorType::get({kChunk}, elementType);
  scf::ForOp::create(
      b, loc, tid, idx(tileQ * chunksPerRow), idx(threads), ValueRange{},
      [&](OpBuilder &, Location, Value e, ValueRange) {
        Value row = divu(e, chunksPerRow);
        Value tileRow = add(rowBegin, row);
        scf::IfOp::create(
            b, loc, ult(tileRow, rowCount), [&](OpBuilder &, Location) {
              Value position =
                  emitRopePosition(b, loc, positions, offset, batch,
                                   rowPosition(tileRow).second);
              auto address = [&](Value f) {
                return sharedAddress(idx(0), row, f, qkCols,
                                     useWgmma ? tileQ : 0);
              };
              auto loadChunk = [&](Value f) -> Value {
                return LLVM::LoadOp::create(b, loc, chunkType, address(f),
                                            /*alignment=*/16);
              };
              auto storeChunk = [&](Value chunk, Value f) {
                LLVM::StoreOp::create(b, loc, chunk, address(f),
                                      /*alignment=*/16);
              };
              emitRotatedChunks(b, loc, rope,
                                mul(remu(e, chunksPerRow), idx(kChunk)),
                                emitScaledPosition(b, loc, rope, position),
                                loadChunk, storeChunk, scaleFn, thetas);
              scf::YieldOp::create(b, loc);
            });
        scf::YieldOp::create(b, loc);
      });
}
