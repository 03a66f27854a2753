//===- ContractionKernel.cpp - Tiled contractions of a program --*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// A linalg step that is a contraction over one long loop (Linformer's
// projections E . K over the sequence) as a tiled kernel: each CTA stages
// a 32 (m) x 32 (k) tile of A and a 32 (k) x 64 (n) tile of B in shared
// memory and accumulates its 32 x 64 tile of C in registers, 8 values a
// thread, over one chunk of k (split-K, so that a few output tiles still
// fill the GPU); a second kernel adds the chunks' partial sums in order
// (deterministic) into C's initial value. A and B are read once per tile
// of the other operand instead of once per output element.
//
// The batch, m and n loops may each be several loops (flattened, the last
// fastest); the indices of a tile element are carried back through the
// operands' indexing maps (projected permutations) and their views.
// f32 on CUDA cores: the f32 programs keep f32 accuracy (a tensor-core
// GEMM would need split bf16 or TF32 operands, as the attention's f32 path
// does).
//
//===----------------------------------------------------------------------===//

#include "StepKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace attune;
using namespace attune::cuda;
namespace json = llvm::json;

/// The C tile of a CTA (TM x TN), the k values staged per step (TK), and
/// the C values of a thread (TM / 16 rows x TN / 16 columns).
static constexpr int64_t TM = 32, TN = 64, TK = 32;

std::optional<Contraction>
attune::cuda::matchContraction(linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !linalg::isaContractionOpInterface(op))
    return std::nullopt;
  for (Value operand : op->getOperands()) {
    auto type = dyn_cast<RankedTensorType>(operand.getType());
    if (!type || !type.getElementType().isF32())
      return std::nullopt;
  }
  for (AffineMap map : op.getIndexingMapsArray())
    if (!map.isProjectedPermutation())
      return std::nullopt;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->k.size() != 1 || dims->m.empty() || dims->n.empty())
    return std::nullopt;
  Contraction c{dims->batch, dims->m, dims->n, dims->k[0], nullptr, nullptr};
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    (map.isFunctionOfDim(c.m[0]) ? c.lhs : c.rhs) = input;
  }
  if (!c.lhs || !c.rhs)
    return std::nullopt;
  return c;
}

/// The product of the extents of `loops` (1 for none), named.
static json::Value extentOf(ArrayRef<unsigned> loops,
                            ArrayRef<json::Value> extents,
                            ProgramSizes &sizes) {
  json::Value product = 1;
  for (unsigned l : loops)
    product = ProgramSizes::combine("mul", std::move(product), extents[l]);
  return sizes.name(product);
}

FailureOr<json::Array> attune::cuda::contractionPartialShape(
    linalg::GenericOp op, const Contraction &c, ProgramSizes &sizes) {
  FailureOr<SmallVector<json::Value>> extents = loopExtents(op, sizes);
  if (failed(extents))
    return failure();
  json::Value chunks = sizes.name(
      ProgramSizes::combine("ceildiv", (*extents)[c.k], kContractionChunk));
  return json::Array{chunks, extentOf(c.batch, *extents, sizes),
                     extentOf(c.m, *extents, sizes),
                     extentOf(c.n, *extents, sizes)};
}

namespace {
/// Index arithmetic of one kernel of a contraction.
struct Indexer {
  OpBuilder &b;
  Location loc;
  linalg::GenericOp op;
  SmallVector<Value> extent; // per loop, at the kernel's entry

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value divu(Value x, Value y) { return arith::DivUIOp::create(b, loc, x, y); }
  Value remu(Value x, Value y) { return arith::RemUIOp::create(b, loc, x, y); }
  Value ult(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
  }

  /// Sets `ivs` of `loops` from `linear` (the last loop fastest).
  void decompose(Value linear, ArrayRef<unsigned> loops,
                 SmallVectorImpl<Value> &ivs) {
    for (unsigned l : llvm::reverse(loops)) {
      ivs[l] = remu(linear, extent[l]);
      linear = divu(linear, extent[l]);
    }
  }
  /// The indices of `operand` at `ivs` (its map is a projected permutation).
  SmallVector<Value> indices(OpOperand &operand, ArrayRef<Value> ivs) {
    SmallVector<Value> at;
    for (AffineExpr expr : op.getMatchingIndexingMap(&operand).getResults())
      at.push_back(ivs[cast<AffineDimExpr>(expr).getPosition()]);
    return at;
  }
  /// Whether `operand`'s innermost index is loop `l` (its fastest varying).
  bool innermost(OpOperand &operand, unsigned l) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    return map.getNumResults() > 0 &&
           cast<AffineDimExpr>(map.getResults().back()).getPosition() == l;
  }
};
} // namespace

FailureOr<SmallVector<LinalgKernel>> attune::cuda::emitContractionKernels(
    OpBuilder &b, linalg::GenericOp op, const Contraction &c, StringRef name,
    StringRef partial, ProgramSizes &sizes, const BufferNamer &bufferOf) {
  Location loc = op.getLoc();
  FailureOr<SmallVector<json::Value>> extents = loopExtents(op, sizes);
  FailureOr<json::Array> partialShape = contractionPartialShape(op, c, sizes);
  if (failed(extents) || failed(partialShape))
    return failure();
  json::Value chunks = (*partialShape)[0], batches = (*partialShape)[1];
  json::Value rows = (*partialShape)[2], cols = (*partialShape)[3];
  Type f32 = b.getF32Type();
  auto partialType =
      MemRefType::get(SmallVector<int64_t>(4, ShapedType::kDynamic), f32);
  unsigned loops = op.getNumLoops();
  SmallVector<LinalgKernel> kernels(2);

  // The tiles: grid (tiles of C, chunks of k, batches), 256 threads.
  {
    StepKernelBuilder kb(b, loc, name, attn::KernelRole::linalg, sizes,
                         bufferOf, kernels[0]);
    json::Value tilesM = sizes.name(ProgramSizes::combine("ceildiv", rows, TM));
    json::Value tilesN = sizes.name(ProgramSizes::combine("ceildiv", cols, TN));
    json::Value tiles =
        sizes.name(ProgramSizes::combine("mul", tilesM, tilesN));
    // Every thread of a CTA works: the guard only bounds block.x.
    kb.setPoints(sizes.name(ProgramSizes::combine("mul", tiles, kStepThreads)));
    kernels[0].grid = json::Array{
        json::Array{json::Object{{"ceildiv", json::Array{rows, TM}}},
                    json::Object{{"ceildiv", json::Array{cols, TN}}}},
        json::Array{chunks}, json::Array{batches}};
    Indexer x{kb.body(), loc, op, {}};
    for (unsigned l = 0; l < loops; ++l)
      x.extent.push_back(kb.materialize((*extents)[l]));
    Value sharedA = kb.workgroupBuffer(MemRefType::get({TK * TM}, f32));
    Value sharedB = kb.workgroupBuffer(MemRefType::get({TK * TN}, f32));
    Value out = kb.namedBuffer(partial, partialType);
    OpBuilder &in = kb.body();
    Value M = kb.materialize(rows), N = kb.materialize(cols);
    Value K = x.extent[c.k];
    Value tid = gpu::ThreadIdOp::create(in, loc, gpu::Dimension::x);
    Value tile = gpu::BlockIdOp::create(in, loc, gpu::Dimension::x);
    Value chunk = gpu::BlockIdOp::create(in, loc, gpu::Dimension::y);
    Value batch = gpu::BlockIdOp::create(in, loc, gpu::Dimension::z);
    Value tilesAlongN = arith::CeilDivUIOp::create(in, loc, N, x.idx(TN));
    Value m0 = x.mul(x.divu(tile, tilesAlongN), x.idx(TM));
    Value n0 = x.mul(x.remu(tile, tilesAlongN), x.idx(TN));
    Value kBegin = x.mul(chunk, x.idx(kContractionChunk));
    Value kEnd = arith::MinUIOp::create(
        in, loc, K, x.add(kBegin, x.idx(kContractionChunk)));
    SmallVector<Value> ivs(loops);
    x.decompose(batch, c.batch, ivs);
    // This thread's C values: rows tm + 16 i, columns 4 tn + j.
    Value tm = x.divu(tid, x.idx(16)), tn = x.remu(tid, x.idx(16));
    constexpr int64_t rowsPerThread = TM / 16, colsPerThread = TN / 16;
    Value zero = arith::ConstantOp::create(in, loc, in.getF32FloatAttr(0));
    SmallVector<Value> init(rowsPerThread * colsPerThread, zero);

    // Stages A's or B's element e of the tile at k0 into `shared`:
    // A [TK][TM], B [TK][TN], k-major; past the bounds, zero.
    auto stage = [&](OpBuilder &at, OpOperand &operand, Value k0,
                     ArrayRef<unsigned> outer, Value first, Value limit,
                     int64_t width, Value shared) -> LogicalResult {
      Indexer y{at, loc, op, x.extent};
      bool kFastest = y.innermost(operand, c.k);
      for (int64_t i = 0; i < TK * width / kStepThreads; ++i) {
        Value e = y.add(tid, y.idx(i * kStepThreads));
        Value kk = kFastest ? y.remu(e, y.idx(TK)) : y.divu(e, y.idx(width));
        Value oo = kFastest ? y.divu(e, y.idx(TK)) : y.remu(e, y.idx(width));
        Value kIndex = y.add(k0, kk), oIndex = y.add(first, oo);
        Value inside = arith::AndIOp::create(at, loc, y.ult(kIndex, kEnd),
                                             y.ult(oIndex, limit));
        bool failedLoad = false;
        auto value = scf::IfOp::create(
            at, loc, inside,
            [&](OpBuilder &, Location) {
              SmallVector<Value> point(ivs);
              point[c.k] = kIndex;
              y.decompose(oIndex, outer, point);
              FailureOr<Value> loaded =
                  kb.load(at, operand.get(), y.indices(operand, point));
              if (failed(loaded)) {
                failedLoad = true;
                scf::YieldOp::create(at, loc, ValueRange{zero});
                return;
              }
              scf::YieldOp::create(at, loc, *loaded);
            },
            [&](OpBuilder &, Location) {
              scf::YieldOp::create(at, loc, ValueRange{zero});
            });
        if (failedLoad)
          return failure();
        memref::StoreOp::create(at, loc, value.getResult(0), shared,
                                ValueRange{y.add(y.mul(kk, y.idx(width)), oo)});
      }
      return success();
    };
    bool failedInside = false;
    auto kLoop = scf::ForOp::create(
        in, loc, kBegin, kEnd, x.idx(TK), init,
        [&](OpBuilder &at, Location, Value k0, ValueRange acc) {
          if (failed(stage(at, *c.lhs, k0, c.m, m0, M, TM, sharedA)) ||
              failed(stage(at, *c.rhs, k0, c.n, n0, N, TN, sharedB)))
            failedInside = true;
          gpu::BarrierOp::create(at, loc);
          Indexer y{at, loc, op, x.extent};
          auto step = scf::ForOp::create(
              at, loc, y.idx(0), y.idx(TK), y.idx(1), acc,
              [&](OpBuilder &inner, Location, Value kk, ValueRange sums) {
                Indexer z{inner, loc, op, x.extent};
                SmallVector<Value> a, bv, next;
                for (int64_t i = 0; i < rowsPerThread; ++i)
                  a.push_back(memref::LoadOp::create(
                      inner, loc, sharedA,
                      ValueRange{z.add(z.mul(kk, z.idx(TM)),
                                       z.add(tm, z.idx(16 * i)))}));
                for (int64_t j = 0; j < colsPerThread; ++j)
                  bv.push_back(memref::LoadOp::create(
                      inner, loc, sharedB,
                      ValueRange{z.add(
                          z.mul(kk, z.idx(TN)),
                          z.add(z.mul(tn, z.idx(colsPerThread)), z.idx(j)))}));
                for (int64_t i = 0; i < rowsPerThread; ++i)
                  for (int64_t j = 0; j < colsPerThread; ++j)
                    next.push_back(arith::AddFOp::create(
                        inner, loc, sums[i * colsPerThread + j],
                        arith::MulFOp::create(inner, loc, a[i], bv[j])));
                scf::YieldOp::create(inner, loc, next);
              });
          // Every thread is done with the tiles before the next stage.
          gpu::BarrierOp::create(at, loc);
          scf::YieldOp::create(at, loc, step.getResults());
        });
    if (failedInside)
      return failure();
    for (int64_t i = 0; i < rowsPerThread; ++i)
      for (int64_t j = 0; j < colsPerThread; ++j) {
        Value m = x.add(m0, x.add(tm, x.idx(16 * i)));
        Value n = x.add(n0, x.add(x.mul(tn, x.idx(colsPerThread)), x.idx(j)));
        Value inside = arith::AndIOp::create(in, loc, x.ult(m, M), x.ult(n, N));
        scf::IfOp::create(in, loc, inside, [&](OpBuilder &, Location) {
          memref::StoreOp::create(in, loc,
                                  kLoop.getResult(i * colsPerThread + j), out,
                                  ValueRange{chunk, batch, m, n});
          scf::YieldOp::create(in, loc);
        });
      }
  }

  // The sum: one thread per element of C, the chunks in order, then C's
  // initial value.
  StepKernelBuilder kb(b, loc, (name + "_sum").str(), attn::KernelRole::linalg,
                       sizes, bufferOf, kernels[1]);
  kb.setPoints(sizes.name(ProgramSizes::combine(
      "mul", batches, sizes.name(ProgramSizes::combine("mul", rows, cols)))));
  Indexer x{kb.body(), loc, op, {}};
  for (unsigned l = 0; l < loops; ++l)
    x.extent.push_back(kb.materialize((*extents)[l]));
  Value out = kb.namedBuffer(partial, partialType);
  Value M = kb.materialize(rows), N = kb.materialize(cols);
  Value numChunks = kb.materialize(chunks);
  OpBuilder &in = kb.body();
  Value point = kb.point();
  Value n = x.remu(point, N);
  Value m = x.remu(x.divu(point, N), M);
  Value batch = x.divu(point, x.mul(M, N));
  auto sum = scf::ForOp::create(
      in, loc, x.idx(0), numChunks, x.idx(1),
      ValueRange{arith::ConstantOp::create(in, loc, in.getF32FloatAttr(0))},
      [&](OpBuilder &at, Location, Value chunk, ValueRange acc) {
        Value part = memref::LoadOp::create(at, loc, out,
                                            ValueRange{chunk, batch, m, n});
        scf::YieldOp::create(
            at, loc, ValueRange{arith::AddFOp::create(at, loc, acc[0], part)});
      });
  SmallVector<Value> ivs(loops);
  x.decompose(batch, c.batch, ivs);
  x.decompose(m, c.m, ivs);
  x.decompose(n, c.n, ivs);
  OpOperand &init = op.getDpsInitsMutable()[0];
  SmallVector<Value> at = x.indices(init, ivs);
  FailureOr<Value> start = kb.initialValue(op, init, [&] { return at; });
  if (failed(start))
    return failure();
  FailureOr<Value> result = kb.buffer(op->getResult(0));
  if (failed(result))
    return failure();
  memref::StoreOp::create(
      in, loc, arith::AddFOp::create(in, loc, *start, sum.getResult(0)),
      *result, at);
  return kernels;
}
