//===- MergeOp.cpp - attn.merge ---------------------------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The op that combines partial attention results (docs/Merge.md): its
// assembly format, a list of (O_i, lse_i) pairs, and its verifier.
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/IR/AttnOps.h"

using namespace mlir;
using namespace attune::attn;

//   attn.merge (%o1, %lse1), (%o2, %lse2) attr-dict : type(O), type(lse)
ParseResult MergeOp::parse(OpAsmParser &parser, OperationState &result) {
  SmallVector<OpAsmParser::UnresolvedOperand> outputs, lses;
  auto parsePair = [&]() -> ParseResult {
    OpAsmParser::UnresolvedOperand o, l;
    if (parser.parseLParen() || parser.parseOperand(o) ||
        parser.parseComma() || parser.parseOperand(l) || parser.parseRParen())
      return failure();
    outputs.push_back(o);
    lses.push_back(l);
    return success();
  };
  Type outputType, lseType;
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseCommaSeparatedList(parsePair) ||
      parser.parseOptionalAttrDict(result.attributes) ||
      parser.parseColon() || parser.parseType(outputType) ||
      parser.parseComma() || parser.parseType(lseType))
    return failure();
  SmallVector<Type> outputTypes(outputs.size(), outputType),
      lseTypes(lses.size(), lseType);
  if (parser.resolveOperands(outputs, outputTypes, loc, result.operands) ||
      parser.resolveOperands(lses, lseTypes, loc, result.operands))
    return failure();
  result.addTypes({outputType, lseType});
  return success();
}

void MergeOp::print(OpAsmPrinter &p) {
  p << ' ';
  llvm::interleaveComma(llvm::zip(getOutputs(), getLses()), p, [&](auto pair) {
    p << '(' << std::get<0>(pair) << ", " << std::get<1>(pair) << ')';
  });
  SmallVector<StringRef> elided;
  if (getLayout() == Layout::bhsd)
    elided.push_back(getLayoutAttrName());
  p.printOptionalAttrDict((*this)->getAttrs(), elided);
  p << " : " << getOutput().getType() << ", " << getLse().getType();
}

LogicalResult MergeOp::verify() {
  if (!getLayoutAttr())
    return emitOpError("expected a 'layout' attribute of type #attn.layout");
  if (getOutputs().empty())
    return emitOpError("expected at least one (O, lse) pair");
  Type outputType = getOutput().getType(), lseType = getLse().getType();
  for (auto [k, o] : llvm::enumerate(getOutputs()))
    if (o.getType() != outputType)
      return emitOpError("expected partial output #")
             << k << " to have the result type " << outputType << ", got "
             << o.getType();
  for (auto [k, l] : llvm::enumerate(getLses()))
    if (l.getType() != lseType)
      return emitOpError("expected partial lse #")
             << k << " to have the result type " << lseType << ", got "
             << l.getType();
  auto o = cast<RankedTensorType>(outputType);
  auto l = cast<RankedTensorType>(lseType);
  if (o.getRank() != 4)
    return emitOpError("expected O to have rank 4, got ") << outputType;
  Type element = o.getElementType();
  if (!element.isF32() && !element.isF16() && !element.isBF16())
    return emitOpError("expected O's element type to be f32, f16 or bf16, "
                       "got ")
           << element;
  if (l.getRank() != 3 || !l.getElementType().isF32())
    return emitOpError("expected lse to be an f32 tensor [B, H, S], got ")
           << lseType;
  LayoutDims d = getLayoutDims();
  auto agree = [](int64_t a, int64_t b) {
    return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
  };
  if (!agree(o.getDimSize(d.batch), l.getDimSize(0)) ||
      !agree(o.getDimSize(d.head), l.getDimSize(1)) ||
      !agree(o.getDimSize(d.seq), l.getDimSize(2)))
    return emitOpError("expected lse [B, H, S] to match O's B, H and S, got ")
           << lseType << " for " << outputType;
  return success();
}
