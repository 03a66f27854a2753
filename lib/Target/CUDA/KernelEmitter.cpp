//===- KernelEmitter.cpp - The emitter's building blocks --------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// What every kernel step uses: index and float constants and arithmetic,
// global pointers, inline PTX, the hardware's exp2/log2 and quad shuffles.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

using namespace mlir;
using namespace attune;
using namespace attune::attn;
using namespace attune::cuda;

Value attune::cuda::emitExp2(OpBuilder &b, Location loc, Value x) {
  return LLVM::CallIntrinsicOp::create(
             b, loc, b.getF32Type(),
             b.getStringAttr("llvm.nvvm.ex2.approx.ftz.f"), ValueRange{x})
      .getResult(0);
}

Value attune::cuda::emitLog2(OpBuilder &b, Location loc, Value x) {
  return LLVM::CallIntrinsicOp::create(
             b, loc, b.getF32Type(),
             b.getStringAttr("llvm.nvvm.lg2.approx.ftz.f"), ValueRange{x})
      .getResult(0);
}

void attune::cuda::allowContraction(Operation *op) {
  auto fastMath = dyn_cast<arith::ArithFastMathInterface>(op);
  if (!fastMath)
    return;
  arith::FastMathFlags flags = arith::FastMathFlags::contract;
  if (arith::FastMathFlagsAttr old = fastMath.getFastMathFlagsAttr())
    flags = flags | old.getValue();
  op->setAttr(fastMath.getFastMathAttrName(),
              arith::FastMathFlagsAttr::get(op->getContext(), flags));
}

KernelEmitter::KernelEmitter(OpBuilder &b, AttentionOp op,
                             const KernelPlan &plan)
    : KernelPlan(plan), b(b), op(op), loc(op.getLoc()),
      dims(op.getLayoutDims()) {
  elementType = cast<ShapedType>(op.getQuery().getType()).getElementType();
  outputType = cast<ShapedType>(op.getOutput().getType()).getElementType();
  // f32 Q/K/V: the tiles hold bf16 planes.
  if (planes > 1)
    elementType = BFloat16Type::get(b.getContext());
}

Value KernelEmitter::idx(int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}
Value KernelEmitter::i32(int64_t v) {
  return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v);
}
Value KernelEmitter::f32(double v) {
  return arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                        APFloat(static_cast<float>(v)));
}
Value KernelEmitter::add(Value x, Value y) {
  return arith::AddIOp::create(b, loc, x, y);
}
Value KernelEmitter::mul(Value x, Value y) {
  return arith::MulIOp::create(b, loc, x, y);
}
Value KernelEmitter::divu(Value x, int64_t y) {
  return arith::DivUIOp::create(b, loc, x, idx(y));
}
Value KernelEmitter::remu(Value x, int64_t y) {
  return arith::RemUIOp::create(b, loc, x, idx(y));
}
Value KernelEmitter::ult(Value x, Value y) {
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
}
Value KernelEmitter::select(Value c, Value x, Value y) {
  return arith::SelectOp::create(b, loc, c, x, y);
}
Value KernelEmitter::fmax(Value x, Value y) {
  return arith::MaximumFOp::create(b, loc, x, y);
}
Value KernelEmitter::fmul(Value x, Value y) {
  return arith::MulFOp::create(b, loc, x, y);
}
Value KernelEmitter::fadd(Value x, Value y) {
  return arith::AddFOp::create(b, loc, x, y);
}
Value KernelEmitter::fsub(Value x, Value y) {
  return arith::SubFOp::create(b, loc, x, y);
}

Value KernelEmitter::globalPointer(Value memref) {
  Value address =
      memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
  Value asInt = arith::IndexCastOp::create(b, loc, b.getI64Type(), address);
  return LLVM::IntToPtrOp::create(
      b, loc, LLVM::LLVMPointerType::get(b.getContext(), 1), asInt);
}

Value KernelEmitter::gep(Value base, Value offset, Type element) {
  Value offset64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), offset);
  return LLVM::GEPOp::create(b, loc, base.getType(), element, base,
                             ValueRange{offset64});
}

SmallVector<Value> KernelEmitter::inlinePTX(StringRef text,
                                            StringRef constraints,
                                            ValueRange operands,
                                            TypeRange results) {
  MLIRContext *ctx = b.getContext();
  Type resultType;
  if (results.size() == 1)
    resultType = results[0];
  else if (results.size() > 1)
    resultType =
        LLVM::LLVMStructType::getLiteral(ctx, SmallVector<Type>(results));
  else
    resultType = LLVM::LLVMVoidType::get(ctx);
  auto asmOp = LLVM::InlineAsmOp::create(
      b, loc, resultType, operands, b.getStringAttr(text),
      b.getStringAttr(constraints), /*has_side_effects=*/UnitAttr::get(ctx),
      UnitAttr(),
      LLVM::TailCallKindAttr::get(ctx, LLVM::tailcallkind::TailCallKind::None),
      LLVM::AsmDialectAttr(), ArrayAttr());
  SmallVector<Value> values;
  if (results.size() == 1)
    values.push_back(asmOp.getResult(0));
  else
    for (int64_t k = 0, e = results.size(); k < e; ++k)
      values.push_back(
          LLVM::ExtractValueOp::create(b, loc, asmOp.getResult(0), k));
  return values;
}

SmallVector<Value> KernelEmitter::tiedPTX(StringRef text, ValueRange values) {
  std::string constraints;
  for (Value value : values)
    constraints += value.getType().isF32() ? "=f," : "=r,";
  for (int64_t k = 0, e = values.size(); k < e; ++k)
    constraints += std::to_string(k) + (k + 1 < e ? "," : "");
  return inlinePTX(text, constraints, values, values.getTypes());
}

Value KernelEmitter::shuffleXor(Value x, int64_t offset) {
  return NVVM::ShflOp::create(b, loc, b.getF32Type(), i32(-1), x, i32(offset),
                              i32(31), NVVM::ShflKind::bfly, UnitAttr())
      .getResult();
}
