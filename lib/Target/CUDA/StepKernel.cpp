//===- StepKernel.cpp - Kernels of non-attention steps ----------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The skeleton and parameters of a step kernel (StepKernel.h). Sizes are
// computed once at the kernel's entry from the i64 symbol parameters; a
// read through views is an index computation back to the viewed buffer,
// so no view is materialised.
//
//===----------------------------------------------------------------------===//

#include "StepKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace attune;
using namespace attune::cuda;
namespace json = llvm::json;

/// `value` cloned with `b` when it is a constant, else null.
static Value cloneConstant(OpBuilder &b, Value value) {
  Operation *def = value.getDefiningOp();
  if (!def || !matchPattern(value, m_Constant()))
    return Value();
  return b.clone(*def)->getResult(cast<OpResult>(value).getResultNumber());
}

StepKernelBuilder::StepKernelBuilder(OpBuilder &b, Location loc, StringRef name,
                                     attn::KernelRole role, ProgramSizes &sizes,
                                     const BufferNamer &bufferOf,
                                     LinalgKernel &result)
    : prelude(b.getContext()), in(b.getContext()), sizes(sizes),
      bufferOf(bufferOf), result(result) {
  MLIRContext *ctx = b.getContext();
  result.name = name.str();
  kernel = gpu::GPUFuncOp::create(b, loc, name, b.getFunctionType({}, {}));
  kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), UnitAttr::get(ctx));
  kernel.setKnownBlockSizeAttr(
      b.getDenseI32ArrayAttr({static_cast<int32_t>(kStepThreads), 1, 1}));
  kernel->setAttr(attn::KernelAttr::getAttrName(),
                  attn::KernelAttr::get(ctx, role, kStepThreads, 0, 0, 0, 0, 1,
                                        0, "", 0, 0));
  Block &entry = kernel.getBody().front();
  OpBuilder body = OpBuilder::atBlockBegin(&entry);
  // Everything the guard's body needs is computed before it (sizes and
  // parameters are added there as they are needed).
  Value trueValue = arith::ConstantIntOp::create(body, loc, 1, 1);
  guard = scf::IfOp::create(body, loc, trueValue, /*withElse=*/false);
  gpu::ReturnOp::create(body, loc);
  prelude.setInsertionPoint(guard);
  Value tid = gpu::ThreadIdOp::create(prelude, loc, gpu::Dimension::x);
  Value block = gpu::BlockIdOp::create(prelude, loc, gpu::Dimension::x);
  Value threads = arith::ConstantIndexOp::create(prelude, loc, kStepThreads);
  pointValue = arith::AddIOp::create(
      prelude, loc, arith::MulIOp::create(prelude, loc, block, threads), tid);
  in = guard.getThenBodyBuilder();
}

void StepKernelBuilder::setPoints(const json::Value &count) {
  Location loc = kernel.getLoc();
  result.count = count;
  Value total = materialize(count);
  Value old = guard.getCondition();
  guard.getConditionMutable().assign(arith::CmpIOp::create(
      prelude, loc, arith::CmpIPredicate::ult, pointValue, total));
  if (old.use_empty())
    old.getDefiningOp()->erase();
}

Value StepKernelBuilder::workgroupBuffer(MemRefType type) {
  auto shared = MemRefType::get(
      type.getShape(), type.getElementType(), MemRefLayoutAttrInterface(),
      gpu::AddressSpaceAttr::get(kernel.getContext(),
                                 gpu::AddressSpace::Workgroup));
  return kernel.addWorkgroupAttribution(shared, kernel.getLoc());
}

Value StepKernelBuilder::addParameter(Type type) {
  unsigned index = kernel.getNumArguments();
  (void)kernel.insertArgument(index, type, DictionaryAttr(), kernel.getLoc());
  return kernel.getArgument(index);
}

FailureOr<Value> StepKernelBuilder::buffer(Value root) {
  auto it = buffers.find(root);
  if (it != buffers.end())
    return it->second;
  FailureOr<std::string> name = bufferOf(root);
  if (failed(name))
    return failure();
  auto tensor = cast<RankedTensorType>(root.getType());
  Value arg =
      addParameter(MemRefType::get(tensor.getShape(), tensor.getElementType()));
  result.params.push_back(json::Object{{"tensor", *name}});
  return buffers[root] = arg;
}

Value StepKernelBuilder::namedBuffer(StringRef name, MemRefType type) {
  Value arg = addParameter(type);
  result.params.push_back(json::Object{{"tensor", name.str()}});
  return arg;
}

Value StepKernelBuilder::materialize(const json::Value &expr) {
  Location loc = kernel.getLoc();
  if (std::optional<int64_t> c = expr.getAsInteger())
    return arith::ConstantIndexOp::create(prelude, loc, *c);
  std::string key = ProgramSizes::key(expr);
  if (Value known = values.lookup(key))
    return known;
  Value value;
  if (std::optional<StringRef> symbol = expr.getAsString()) {
    Value arg = addParameter(prelude.getI64Type());
    result.params.push_back(
        json::Object{{"scalar", "i64"}, {"symbol", symbol->str()}});
    value =
        arith::IndexCastOp::create(prelude, loc, prelude.getIndexType(), arg);
  } else {
    const json::Object &object = *expr.getAsObject();
    StringRef op = object.begin()->first;
    const json::Array &operands = *object.begin()->second.getAsArray();
    Value lhs = materialize(operands[0]);
    Value rhs = materialize(operands[1]);
    if (op == "add")
      value = arith::AddIOp::create(prelude, loc, lhs, rhs);
    else if (op == "sub")
      value = arith::SubIOp::create(prelude, loc, lhs, rhs);
    else if (op == "mul")
      value = arith::MulIOp::create(prelude, loc, lhs, rhs);
    else if (op == "floordiv")
      value = arith::DivUIOp::create(prelude, loc, lhs, rhs);
    else if (op == "ceildiv")
      value = arith::CeilDivUIOp::create(prelude, loc, lhs, rhs);
    else if (op == "max")
      value = arith::MaxUIOp::create(prelude, loc, lhs, rhs);
    else
      value = arith::MinUIOp::create(prelude, loc, lhs, rhs);
  }
  return values[key] = value;
}

FailureOr<Value> StepKernelBuilder::size(Value tensor, int64_t d) {
  FailureOr<json::Value> expr = sizes.dim(tensor, d);
  if (failed(expr))
    return failure();
  return materialize(sizes.name(*expr));
}

FailureOr<Value> StepKernelBuilder::mixed(OpFoldResult value) {
  if (std::optional<int64_t> c = getConstantIntValue(value))
    return materialize(json::Value(*c));
  FailureOr<json::Value> expr = sizes.index(cast<Value>(value));
  if (failed(expr))
    return failure();
  return materialize(sizes.name(*expr));
}

FailureOr<Value> StepKernelBuilder::scalar(Value value) {
  Location loc = kernel.getLoc();
  Type type = value.getType();
  if (Value constant = cloneConstant(prelude, value))
    return constant;
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    if (!isa<FunctionOpInterface>(arg.getOwner()->getParentOp()))
      return failure();
    Value param = addParameter(type);
    result.params.push_back(json::Object{
        {"scalar_arg", sizes.argumentName(arg.getArgNumber()).str()}});
    return param;
  }
  if (!type.isIndex() && !type.isSignlessInteger())
    return failure();
  // An integer of the function computed from the sizes (tensor.dim, casts,
  // + - * ...): the same expression of the symbols.
  FailureOr<json::Value> expr = sizes.index(value);
  if (failed(expr))
    return failure();
  Value index = materialize(sizes.name(*expr));
  if (type.isIndex())
    return index;
  return arith::IndexCastOp::create(prelude, loc, type, index).getResult();
}

FailureOr<Value>
StepKernelBuilder::initialValue(linalg::GenericOp op, OpOperand &init,
                                function_ref<SmallVector<Value>()> indices) {
  Location loc = op.getLoc();
  BlockArgument arg = op.getMatchingBlockArgument(&init);
  Type element = arg.getType();
  Value source = init.get();
  if (arg.use_empty() || source.getDefiningOp<tensor::EmptyOp>())
    // Unread, or undefined (an empty tensor): zero.
    return arith::ConstantOp::create(in, loc, element, in.getZeroAttr(element))
        .getResult();
  if (auto fill = source.getDefiningOp<linalg::FillOp>()) {
    if (Value constant = cloneConstant(in, fill.value()))
      return constant;
    return fill.emitError("CUDA target: a linalg.fill that initialises a "
                          "linalg step must fill a constant"),
           failure();
  }
  return load(in, source, indices());
}

FailureOr<Value> StepKernelBuilder::load(OpBuilder &b, Value tensor,
                                         SmallVector<Value> at) {
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
      for (auto [i, offset, stride] :
           llvm::enumerate(slice.getMixedOffsets(), slice.getMixedStrides())) {
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
