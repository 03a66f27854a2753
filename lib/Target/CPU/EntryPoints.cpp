//===- EntryPoints.cpp - C calling convention for entry points --*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "attune/Target/CPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

namespace attune::cpu {
#define GEN_PASS_DEF_ATTNCPUENTRYPOINTS
#include "attune/Target/CPU/Passes.h.inc"
} // namespace attune::cpu

using namespace mlir;

/// Turns the memref results of `func` into trailing out-parameters.
static LogicalResult convertResults(func::FuncOp func) {
  FunctionType type = func.getFunctionType();
  if (type.getNumResults() == 0)
    return success();
  for (Type result : type.getResults()) {
    auto memref = dyn_cast<MemRefType>(result);
    if (!memref || !memref.getLayout().isIdentity())
      return func.emitError("expected identity-layout memref results, got ")
             << result;
  }
  SmallVector<Type> inputs(type.getInputs());
  llvm::append_range(inputs, type.getResults());
  func.setType(FunctionType::get(func.getContext(), inputs, {}));
  Block &entry = func.getBody().front();
  auto sizeMessage = [&](size_t result, size_t dim) {
    return "attune: result buffer " + std::to_string(result) + " of @" +
           func.getSymName().str() + " has the wrong size in dimension " +
           std::to_string(dim);
  };
  SmallVector<Value> outs;
  for (Type result : type.getResults())
    outs.push_back(entry.addArgument(result, func.getLoc()));

  WalkResult walk = func.walk([&](func::ReturnOp ret) {
    OpBuilder b(ret);
    Location loc = ret.getLoc();
    for (auto [idx, value, out] : llvm::enumerate(ret.getOperands(), outs)) {
      // A result allocated in the function and returned once is computed
      // directly in the caller's buffer, after checking its sizes.
      auto alloc = value.getDefiningOp<memref::AllocOp>();
      if (alloc && alloc.getType() == value.getType() &&
          llvm::count(ret.getOperands(), value) == 1) {
        OpBuilder ab(alloc);
        for (auto [dim, size] : llvm::enumerate(
                 alloc.getType().getShape())) {
          if (!ShapedType::isDynamic(size))
            continue;
          Value want = alloc.getMixedSizes()[dim].dyn_cast<Value>();
          Value have = memref::DimOp::create(ab, loc, out, dim);
          Value same = arith::CmpIOp::create(ab, loc, arith::CmpIPredicate::eq,
                                             want, have);
          cf::AssertOp::create(ab, loc, same, sizeMessage(idx, dim));
        }
        alloc.replaceAllUsesWith(out);
        alloc.erase();
        continue;
      }
      auto memref = cast<MemRefType>(value.getType());
      for (int64_t dim = 0; dim < memref.getRank(); ++dim) {
        if (!memref.isDynamicDim(dim))
          continue;
        Value want = memref::DimOp::create(b, loc, value, dim);
        Value have = memref::DimOp::create(b, loc, out, dim);
        Value same = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                           want, have);
        cf::AssertOp::create(b, loc, same, sizeMessage(idx, dim));
      }
      memref::CopyOp::create(b, loc, value, out);
    }
    func::ReturnOp::create(b, loc);
    ret.erase();
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

namespace {
struct AttnCPUEntryPoints
    : attune::cpu::impl::AttnCPUEntryPointsBase<AttnCPUEntryPoints> {
  using Base::Base;
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isPrivate() || func.isExternal())
        continue;
      if (failed(convertResults(func)))
        return signalPassFailure();
      // `attn.*` argument attributes describe inputs to drivers such as
      // attune-run; they mean nothing to LLVM.
      for (unsigned idx = 0, e = func.getNumArguments(); idx < e; ++idx) {
        SmallVector<StringAttr> names;
        if (DictionaryAttr attrs = func.getArgAttrDict(idx))
          for (NamedAttribute attr : attrs)
            if (attr.getName().strref().starts_with("attn."))
              names.push_back(attr.getName());
        for (StringAttr name : names)
          func.removeArgAttr(idx, name);
      }
      func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                    UnitAttr::get(&getContext()));
    }
  }
};
} // namespace
