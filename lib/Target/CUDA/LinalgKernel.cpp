//===- LinalgKernel.cpp - A linalg op of a program as a kernel --*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The linalg steps of a CUDA program (Program.cpp): a linalg.generic on
// tensors becomes one kernel in which each thread computes one point of the
// op's parallel iteration space, looping over its reduction dimensions in
// order, with consecutive threads on consecutive elements of the first
// output (coalesced stores). The tensors it reads are views (reshapes,
// slices) of the program's buffers; a read is an index computation back to
// the buffer, so no view is materialised. Sizes come from the symbols the
// runtime binds (i64 parameters), as ProgramSizes expresses them.
//
// This is upstream's linalg-to-parallel-loops mapping done by hand: the
// upstream path (scf.parallel, gpu-map-parallel-loops, gpu.launch) computes
// the grid in host code, and an artifact has none: its grids are
// expressions of the manifest's symbols (docs/CUDATarget.md, "Programs").
// The steps it serves are small next to the attentions (projections over
// the sequence, pooling, merges, transposes); a tensor-core GEMM for the
// large contractions is future work.
//
//===----------------------------------------------------------------------===//

#include "StepKernel.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/RegionUtils.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace attune;
using namespace attune::cuda;
namespace json = llvm::json;

FailureOr<SmallVector<json::Value>>
attune::cuda::loopExtents(linalg::GenericOp op, ProgramSizes &sizes) {
  // The size of every loop, from an operand dimension it indexes directly.
  unsigned loops = op.getNumLoops();
  SmallVector<std::optional<std::pair<Value, int64_t>>> bound(loops);
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<RankedTensorType>(operand.get().getType()))
      continue;
    AffineMap map = op.getMatchingIndexingMap(&operand);
    for (auto [r, expr] : llvm::enumerate(map.getResults()))
      if (auto d = dyn_cast<AffineDimExpr>(expr); d && !bound[d.getPosition()])
        bound[d.getPosition()] = {operand.get(), static_cast<int64_t>(r)};
  }
  SmallVector<json::Value> extent;
  for (unsigned l = 0; l < loops; ++l) {
    if (!bound[l])
      return op.emitError("CUDA target: loop ")
                 << l
                 << " of this linalg op indexes no operand dimension "
                    "directly, so its size is unknown",
             failure();
    FailureOr<json::Value> n = sizes.dim(bound[l]->first, bound[l]->second);
    if (failed(n))
      return failure();
    extent.push_back(sizes.name(*n));
  }
  return extent;
}

Operation *attune::cuda::splitCombiner(linalg::GenericOp op) {
  if (op.getNumDpsInits() != 1 || op.getNumReductionLoops() == 0)
    return nullptr;
  SmallVector<Operation *> combiners;
  if (!matchReduction(op.getRegionOutputArgs(), 0, combiners) ||
      combiners.size() != 1)
    return nullptr;
  Operation *combiner = combiners.front();
  // The lanes' partial results meet through shfl.sync, which moves 32-bit
  // values: f16, bf16 and 64-bit folds stay serial.
  Type type = combiner->getResult(0).getType();
  if (!type.isF32() && !type.isSignlessInteger(32))
    return nullptr;
  // Partial results start from the neutral element and are folded with
  // the combiner itself: it must be one of the commutative, associative
  // arith ops arith::getNeutralElement knows (addf, mulf, maxnumf, ...).
  if (combiner->getNumOperands() != 2 || combiner->getNumResults() != 1 ||
      !arith::getNeutralElement(combiner) ||
      !combiner->hasTrait<OpTrait::IsCommutative>())
    return nullptr;
  return combiner;
}

/// `combiner` (splitCombiner's) applied to `x` and `y` with `b`.
static Value combine(OpBuilder &b, Location loc, Operation *combiner, Value x,
                     Value y) {
  OperationState state(loc, combiner->getName());
  state.addOperands({x, y});
  state.addTypes(combiner->getResultTypes());
  state.addAttributes(combiner->getAttrs());
  return b.create(state)->getResult(0);
}

FailureOr<LinalgKernel>
attune::cuda::emitLinalgKernel(OpBuilder &b, linalg::GenericOp op,
                               StringRef name, ProgramSizes &sizes,
                               const BufferNamer &bufferOf, bool warp) {
  Location loc = op.getLoc();
  Operation *combiner = warp ? splitCombiner(op) : nullptr;
  assert((!warp || combiner) && "a warp per point needs a split combiner");
  int64_t lanes = warp ? kWarpLanes : 1;
  LinalgKernel result;
  StepKernelBuilder kb(b, loc, name, attn::KernelRole::linalg, sizes, bufferOf,
                       result);

  FailureOr<SmallVector<json::Value>> extents = loopExtents(op, sizes);
  if (failed(extents))
    return failure();
  SmallVector<json::Value> &extent = *extents;
  unsigned loops = op.getNumLoops();

  // Parallel loops in the first output's order (coalesced stores), those
  // it does not index first.
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<unsigned> parallel, reduction;
  AffineMap firstOut = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  SmallVector<unsigned> outOrder;
  for (AffineExpr expr : firstOut.getResults())
    if (auto d = dyn_cast<AffineDimExpr>(expr))
      outOrder.push_back(d.getPosition());
  for (unsigned l = 0; l < loops; ++l) {
    if (iterators[l] == utils::IteratorType::reduction)
      reduction.push_back(l);
    else if (!llvm::is_contained(outOrder, l))
      parallel.push_back(l);
  }
  for (unsigned l : outOrder)
    if (iterators[l] == utils::IteratorType::parallel &&
        !llvm::is_contained(parallel, l))
      parallel.push_back(l);
  json::Value count = 1;
  for (unsigned l : parallel)
    count = ProgramSizes::combine("mul", std::move(count), extent[l]);

  kb.setPoints(
      sizes.name(ProgramSizes::combine("mul", sizes.name(count), lanes)));

  OpBuilder &in = kb.body();
  // Every operand dimension a loop indexes directly has the loop's size
  // (linalg's rule): checked where the sizes are not the same expression,
  // as a device-side assertion, rather than reading or writing past one.
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<RankedTensorType>(operand.get().getType()))
      continue;
    AffineMap map = op.getMatchingIndexingMap(&operand);
    for (auto [r, expr] : llvm::enumerate(map.getResults())) {
      auto d = dyn_cast<AffineDimExpr>(expr);
      if (!d)
        continue;
      FailureOr<json::Value> n = sizes.dim(operand.get(), r);
      if (failed(n))
        return failure();
      json::Value named = sizes.name(*n);
      const json::Value &loop = extent[d.getPosition()];
      if (ProgramSizes::key(named) == ProgramSizes::key(loop))
        continue;
      Value same =
          arith::CmpIOp::create(in, loc, arith::CmpIPredicate::eq,
                                kb.materialize(named), kb.materialize(loop));
      cf::AssertOp::create(
          in, loc, same,
          llvm::formatv("linalg step: dimension {0} of operand {1} is not "
                        "the size of loop {2}",
                        r, operand.getOperandNumber(), d.getPosition())
              .str());
    }
  }
  SmallVector<Value> ivs(loops);
  // With a warp per point, lane l of the warp takes the first reduction
  // loop's iterations l, l + 32, ...
  Value point = kb.point(), lane;
  if (warp) {
    Value n = arith::ConstantIndexOp::create(in, loc, lanes);
    lane = arith::RemUIOp::create(in, loc, point, n);
    point = arith::DivUIOp::create(in, loc, point, n);
  }
  {
    Value rest = point;
    for (unsigned l : llvm::reverse(parallel)) {
      Value n = kb.materialize(extent[l]);
      ivs[l] = arith::RemUIOp::create(in, loc, rest, n);
      rest = arith::DivUIOp::create(in, loc, rest, n);
    }
  }
  auto indicesOf = [&](OpBuilder &at, AffineMap map) {
    SmallVector<Value> dims(ivs.begin(), ivs.end());
    SmallVector<Value> indices;
    for (AffineExpr expr : map.getResults())
      indices.push_back(affine::expandAffineExpr(at, loc, expr, dims, {}));
    return indices;
  };

  // Values the region uses from above: constants, sizes, scalar arguments,
  // and tensors it reads with tensor.extract (a load of the buffer at the
  // extract's indices, like an input's).
  SetVector<Value> above;
  getUsedValuesDefinedAbove(op.getRegion(), above);
  IRMapping outer;
  for (Value value : above) {
    if (isa<RankedTensorType>(value.getType()) &&
        llvm::all_of(value.getUses(), [&](OpOperand &use) {
          auto extract = dyn_cast<tensor::ExtractOp>(use.getOwner());
          return !op->isProperAncestor(use.getOwner()) ||
                 (extract && use.getOperandNumber() == 0);
        }))
      continue;
    FailureOr<Value> inside = kb.scalar(value);
    if (failed(inside))
      return op.emitError("CUDA target: the region of a linalg step may use "
                          "from outside it only constants, integer sizes of "
                          "the arguments and scalar arguments"),
             failure();
    outer.map(value, *inside);
  }

  // The outputs' initial values.
  Block *region = op.getBlock();
  SmallVector<Value> inits;
  for (OpOperand &init : op.getDpsInitsMutable()) {
    FailureOr<Value> value = kb.initialValue(op, init, [&] {
      return indicesOf(in, op.getMatchingIndexingMap(&init));
    });
    if (failed(value))
      return failure();
    inits.push_back(*value);
  }

  // The region at the innermost reduction point.
  auto compute = [&](OpBuilder &at,
                     ValueRange current) -> FailureOr<SmallVector<Value>> {
    IRMapping map = outer;
    for (OpOperand *input : op.getDpsInputOperands()) {
      BlockArgument arg = op.getMatchingBlockArgument(input);
      if (arg.use_empty())
        continue;
      Value value;
      if (isa<RankedTensorType>(input->get().getType())) {
        FailureOr<Value> loaded = kb.load(
            at, input->get(), indicesOf(at, op.getMatchingIndexingMap(input)));
        if (failed(loaded))
          return failure();
        value = *loaded;
      } else if (FailureOr<Value> inside = kb.scalar(input->get());
                 succeeded(inside)) {
        value = *inside;
      } else {
        return op.emitError("CUDA target: a scalar input of a linalg step "
                            "must be a constant, an integer size of the "
                            "arguments or a scalar argument"),
               failure();
      }
      map.map(arg, value);
    }
    for (auto [k, init] : llvm::enumerate(op.getDpsInitsMutable()))
      map.map(op.getMatchingBlockArgument(&init), current[k]);
    for (Operation &inner : region->without_terminator()) {
      if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
        map.map(index.getResult(), ivs[index.getDim()]);
        continue;
      }
      if (auto extract = dyn_cast<tensor::ExtractOp>(inner);
          extract && !op.getRegion().isAncestor(
                         extract.getTensor().getParentRegion())) {
        SmallVector<Value> indices;
        for (Value i : extract.getIndices())
          indices.push_back(map.lookupOrDefault(i));
        FailureOr<Value> loaded = kb.load(at, extract.getTensor(), indices);
        if (failed(loaded))
          return failure();
        map.map(extract.getResult(), *loaded);
        continue;
      }
      at.clone(inner, map);
    }
    SmallVector<Value> yielded;
    for (Value value : region->getTerminator()->getOperands())
      yielded.push_back(map.lookupOrDefault(value));
    return yielded;
  };

  // Reduction loops, outermost first, carrying the outputs.
  std::function<FailureOr<SmallVector<Value>>(OpBuilder &, unsigned,
                                              ValueRange)>
      loopsFrom = [&](OpBuilder &at, unsigned k,
                      ValueRange current) -> FailureOr<SmallVector<Value>> {
    if (k == reduction.size())
      return compute(at, current);
    unsigned l = reduction[k];
    Value lower = arith::ConstantIndexOp::create(at, loc, 0);
    Value step = arith::ConstantIndexOp::create(at, loc, 1);
    if (warp && k == 0) {
      lower = lane;
      step = arith::ConstantIndexOp::create(at, loc, lanes);
    }
    bool failedInside = false;
    auto loop = scf::ForOp::create(
        at, loc, lower, kb.materialize(extent[l]), step, current,
        [&](OpBuilder &nested, Location, Value iv, ValueRange carried) {
          ivs[l] = iv;
          FailureOr<SmallVector<Value>> next =
              loopsFrom(nested, k + 1, carried);
          if (failed(next)) {
            failedInside = true;
            scf::YieldOp::create(nested, loc, carried);
            return;
          }
          scf::YieldOp::create(nested, loc, *next);
        });
    if (failedInside)
      return failure();
    return SmallVector<Value>(loop.getResults());
  };
  if (!warp) {
    FailureOr<SmallVector<Value>> outputs = loopsFrom(in, 0, inits);
    if (failed(outputs))
      return failure();
    for (auto [k, init] : llvm::enumerate(op.getDpsInitsMutable())) {
      FailureOr<Value> memref = kb.buffer(op->getResult(k));
      if (failed(memref))
        return failure();
      memref::StoreOp::create(in, loc, (*outputs)[k], *memref,
                              indicesOf(in, op.getMatchingIndexingMap(&init)));
    }
    return result;
  }

  // A warp per point: each lane folds its share of the reduction from the
  // combiner's neutral element, the lanes' partials are folded by a
  // butterfly of shuffles, and lane 0 folds the total into the initial
  // value and stores it. The summation order differs from the serial
  // one's, as any parallel reduction's does.
  Value neutral =
      arith::ConstantOp::create(in, loc, *arith::getNeutralElement(combiner));
  FailureOr<SmallVector<Value>> partial = loopsFrom(in, 0, ValueRange{neutral});
  if (failed(partial))
    return failure();
  Value total = (*partial)[0];
  for (int64_t offset = lanes / 2; offset > 0; offset /= 2) {
    Value other = gpu::ShuffleOp::create(in, loc, total, offset, lanes,
                                         gpu::ShuffleMode::XOR)
                      .getShuffleResult();
    total = combine(in, loc, combiner, total, other);
  }
  Value first =
      arith::CmpIOp::create(in, loc, arith::CmpIPredicate::eq, lane,
                            arith::ConstantIndexOp::create(in, loc, 0));
  FailureOr<Value> memref = kb.buffer(op->getResult(0));
  if (failed(memref))
    return failure();
  OpOperand &init = op.getDpsInitsMutable()[0];
  scf::IfOp::create(in, loc, first, [&](OpBuilder &, Location) {
    memref::StoreOp::create(
        in, loc, combine(in, loc, combiner, inits[0], total), *memref,
        indicesOf(in, op.getMatchingIndexingMap(&init)));
    scf::YieldOp::create(in, loc);
  });
  return result;
}
