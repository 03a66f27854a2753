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

#include "Program.h"

#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/RegionUtils.h"

using namespace mlir;
using namespace attune;
using namespace attune::cuda;
namespace json = llvm::json;

namespace {
/// Builds one kernel: its parameters as they are needed (a memref per
/// buffer read or written, an i64 per symbol), expressions at its entry.
class KernelBuilder {
public:
  KernelBuilder(gpu::GPUFuncOp kernel, scf::IfOp guard, ProgramSizes &sizes,
                const BufferNamer &bufferOf, json::Array &params)
      : kernel(kernel), prelude(guard), sizes(sizes), bufferOf(bufferOf),
        params(params) {}

  /// The kernel parameter of the buffer `root` (a program argument or a
  /// step's result), added on first use.
  FailureOr<Value> buffer(Value root) {
    auto it = buffers.find(root);
    if (it != buffers.end())
      return it->second;
    FailureOr<std::string> name = bufferOf(root);
    if (failed(name))
      return failure();
    auto tensor = cast<RankedTensorType>(root.getType());
    Value arg = addParameter(
        MemRefType::get(tensor.getShape(), tensor.getElementType()));
    params.push_back(json::Object{{"tensor", *name}});
    return buffers[root] = arg;
  }

  /// `expr` (ProgramSizes) as an index value at the kernel's entry.
  Value materialize(const json::Value &expr) {
    Location loc = kernel.getLoc();
    if (std::optional<int64_t> c = expr.getAsInteger())
      return arith::ConstantIndexOp::create(prelude, loc, *c);
    std::string key = ProgramSizes::key(expr);
    if (Value known = values.lookup(key))
      return known;
    Value result;
    if (std::optional<StringRef> symbol = expr.getAsString()) {
      Value arg = addParameter(prelude.getI64Type());
      params.push_back(
          json::Object{{"scalar", "i64"}, {"symbol", symbol->str()}});
      result =
          arith::IndexCastOp::create(prelude, loc, prelude.getIndexType(), arg);
    } else {
      const json::Object &object = *expr.getAsObject();
      StringRef op = object.begin()->first;
      const json::Array &operands = *object.begin()->second.getAsArray();
      Value lhs = materialize(operands[0]);
      Value rhs = materialize(operands[1]);
      if (op == "add")
        result = arith::AddIOp::create(prelude, loc, lhs, rhs);
      else if (op == "sub")
        result = arith::SubIOp::create(prelude, loc, lhs, rhs);
      else if (op == "mul")
        result = arith::MulIOp::create(prelude, loc, lhs, rhs);
      else if (op == "floordiv")
        result = arith::DivUIOp::create(prelude, loc, lhs, rhs);
      else if (op == "ceildiv")
        result = arith::CeilDivUIOp::create(prelude, loc, lhs, rhs);
      else if (op == "max")
        result = arith::MaxUIOp::create(prelude, loc, lhs, rhs);
      else
        result = arith::MinUIOp::create(prelude, loc, lhs, rhs);
    }
    return values[key] = result;
  }

  /// Dimension `d` of `tensor`, at the kernel's entry.
  FailureOr<Value> size(Value tensor, int64_t d) {
    FailureOr<json::Value> expr = sizes.dim(tensor, d);
    if (failed(expr))
      return failure();
    return materialize(sizes.name(*expr));
  }

  FailureOr<Value> mixed(OpFoldResult value) {
    if (std::optional<int64_t> c = getConstantIntValue(value))
      return materialize(json::Value(*c));
    FailureOr<json::Value> expr = sizes.index(cast<Value>(value));
    if (failed(expr))
      return failure();
    return materialize(sizes.name(*expr));
  }

  /// Loads element `at` of `tensor` with `b`: the index is carried back
  /// through the views (collapse_shape, expand_shape, extract_slice) to the
  /// buffer they view.
  FailureOr<Value> load(OpBuilder &b, Value tensor, SmallVector<Value> at) {
    Location loc = kernel.getLoc();
    while (true) {
      Operation *op = tensor.getDefiningOp();
      if (auto collapse = dyn_cast_or_null<tensor::CollapseShapeOp>(op)) {
        // Each collapsed index spreads over its group, last dim fastest.
        SmallVector<Value> source(collapse.getSrcType().getRank());
        for (auto [g, group] :
             llvm::enumerate(collapse.getReassociationIndices())) {
          Value rest = at[g];
          for (int64_t k = group.size() - 1; k > 0; --k) {
            FailureOr<Value> n = size(collapse.getSrc(), group[k]);
            if (failed(n))
              return failure();
            source[group[k]] = arith::RemUIOp::create(b, loc, rest, *n);
            rest = arith::DivUIOp::create(b, loc, rest, *n);
          }
          source[group[0]] = rest;
        }
        tensor = collapse.getSrc();
        at = std::move(source);
        continue;
      }
      if (auto expand = dyn_cast_or_null<tensor::ExpandShapeOp>(op)) {
        SmallVector<Value> source;
        for (const ReassociationIndices &group :
             expand.getReassociationIndices()) {
          Value linear = at[group[0]];
          for (int64_t k : ArrayRef<int64_t>(group).drop_front()) {
            FailureOr<Value> n = size(expand.getResult(), k);
            if (failed(n))
              return failure();
            linear = arith::AddIOp::create(
                b, loc, arith::MulIOp::create(b, loc, linear, *n), at[k]);
          }
          source.push_back(linear);
        }
        tensor = expand.getSrc();
        at = std::move(source);
        continue;
      }
      if (auto slice = dyn_cast_or_null<tensor::ExtractSliceOp>(op)) {
        llvm::SmallBitVector dropped = slice.getDroppedDims();
        SmallVector<Value> source;
        unsigned next = 0;
        for (auto [i, offset, stride] : llvm::enumerate(
                 slice.getMixedOffsets(), slice.getMixedStrides())) {
          FailureOr<Value> o = mixed(offset), s = mixed(stride);
          if (failed(o) || failed(s))
            return failure();
          if (dropped.test(i)) {
            source.push_back(*o);
            continue;
          }
          Value step = arith::MulIOp::create(b, loc, at[next++], *s);
          source.push_back(arith::AddIOp::create(b, loc, *o, step));
        }
        tensor = slice.getSource();
        at = std::move(source);
        continue;
      }
      FailureOr<Value> memref = buffer(tensor);
      if (failed(memref))
        return failure();
      return memref::LoadOp::create(b, loc, *memref, at).getResult();
    }
  }

private:
  Value addParameter(Type type) {
    unsigned index = kernel.getNumArguments();
    (void)kernel.insertArgument(index, type, DictionaryAttr(), kernel.getLoc());
    return kernel.getArgument(index);
  }

  gpu::GPUFuncOp kernel;
  OpBuilder prelude;
  ProgramSizes &sizes;
  const BufferNamer &bufferOf;
  json::Array &params;
  DenseMap<Value, Value> buffers;
  llvm::StringMap<Value> values;
};
} // namespace

/// The value `value` of a region or an init has in the kernel when it is
/// a constant (cloned with `b`), else null.
static Value cloneConstant(OpBuilder &b, Value value) {
  Operation *def = value.getDefiningOp();
  if (!def || !matchPattern(value, m_Constant()))
    return Value();
  return b.clone(*def)->getResult(cast<OpResult>(value).getResultNumber());
}

FailureOr<LinalgKernel>
attune::cuda::emitLinalgKernel(OpBuilder &b, linalg::GenericOp op,
                               StringRef name, ProgramSizes &sizes,
                               const BufferNamer &bufferOf) {
  MLIRContext *ctx = b.getContext();
  Location loc = op.getLoc();
  LinalgKernel result;
  result.name = name.str();

  auto kernel = gpu::GPUFuncOp::create(b, loc, name, b.getFunctionType({}, {}));
  kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), UnitAttr::get(ctx));
  kernel.setKnownBlockSizeAttr(
      b.getDenseI32ArrayAttr({static_cast<int32_t>(kLinalgThreads), 1, 1}));
  kernel->setAttr(attn::KernelAttr::getAttrName(),
                  attn::KernelAttr::get(ctx, attn::KernelRole::linalg,
                                        kLinalgThreads, 0, 0, 0, 0, 1, 0, "", 0,
                                        0));
  Block &entry = kernel.getBody().front();
  OpBuilder body = OpBuilder::atBlockBegin(&entry);
  // Everything the guard's body needs is computed before it (the builder
  // puts sizes and parameters there).
  Value trueValue = arith::ConstantIntOp::create(body, loc, 1, 1);
  auto guard = scf::IfOp::create(body, loc, trueValue, /*withElse=*/false);
  gpu::ReturnOp::create(body, loc);
  KernelBuilder kb(kernel, guard, sizes, bufferOf, result.params);

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
  result.count = sizes.name(count);

  // t = the thread's point; the guard is t < count.
  OpBuilder pre(guard);
  Value tid = gpu::ThreadIdOp::create(pre, loc, gpu::Dimension::x);
  Value block = gpu::BlockIdOp::create(pre, loc, gpu::Dimension::x);
  Value threads = arith::ConstantIndexOp::create(pre, loc, kLinalgThreads);
  Value t = arith::AddIOp::create(
      pre, loc, arith::MulIOp::create(pre, loc, block, threads), tid);
  Value total = kb.materialize(result.count);
  guard.getConditionMutable().assign(
      arith::CmpIOp::create(pre, loc, arith::CmpIPredicate::ult, t, total));
  trueValue.getDefiningOp()->erase();

  OpBuilder in = guard.getThenBodyBuilder();
  SmallVector<Value> ivs(loops);
  {
    Value rest = t;
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

  // Values the region uses from above: constants only.
  SetVector<Value> above;
  getUsedValuesDefinedAbove(op.getRegion(), above);
  IRMapping outer;
  for (Value value : above) {
    Value clone = cloneConstant(pre, value);
    if (!clone)
      return op.emitError("CUDA target: the region of a linalg step may use "
                          "only constants from outside it"),
             failure();
    outer.map(value, clone);
  }

  // The outputs' initial values.
  Block *region = op.getBlock();
  SmallVector<Value> inits;
  for (OpOperand &init : op.getDpsInitsMutable()) {
    BlockArgument arg = op.getMatchingBlockArgument(&init);
    Type element = arg.getType();
    Value source = init.get();
    if (arg.use_empty() || source.getDefiningOp<tensor::EmptyOp>()) {
      // Unread, or undefined (an empty tensor): zero.
      inits.push_back(arith::ConstantOp::create(pre, loc, element,
                                                pre.getZeroAttr(element)));
      continue;
    }
    if (auto fill = source.getDefiningOp<linalg::FillOp>()) {
      Value value = cloneConstant(pre, fill.value());
      if (!value)
        return fill.emitError("CUDA target: a linalg.fill that initialises a "
                              "linalg step must fill a constant"),
               failure();
      inits.push_back(value);
      continue;
    }
    FailureOr<Value> loaded =
        kb.load(in, source, indicesOf(in, op.getMatchingIndexingMap(&init)));
    if (failed(loaded))
      return failure();
    inits.push_back(*loaded);
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
      } else if (!(value = cloneConstant(at, input->get()))) {
        return op.emitError("CUDA target: a scalar input of a linalg step "
                            "must be a constant"),
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
    Value zero = arith::ConstantIndexOp::create(at, loc, 0);
    Value one = arith::ConstantIndexOp::create(at, loc, 1);
    bool failedInside = false;
    auto loop = scf::ForOp::create(
        at, loc, zero, kb.materialize(extent[l]), one, current,
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
