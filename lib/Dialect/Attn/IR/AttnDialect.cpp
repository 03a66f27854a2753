//===- AttnDialect.cpp - Attn dialect ---------------------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/IR/AttnDialect.h"
#include "attune/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace attune::attn;

#include "attune/Dialect/Attn/IR/AttnDialect.cpp.inc"
#include "attune/Dialect/Attn/IR/AttnEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "attune/Dialect/Attn/IR/AttnAttrs.cpp.inc"

void AttnDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "attune/Dialect/Attn/IR/AttnAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "attune/Dialect/Attn/IR/AttnOps.cpp.inc"
      >();
}

/// Function arguments of a spec may say how a driver makes data for them:
/// `attn.dims` names the size of each dimension of a tensor argument (B, Sq,
/// Sk, or the static size), `attn.range` gives [lo, hi) of its values.
LogicalResult AttnDialect::verifyRegionArgAttribute(Operation *op,
                                                    unsigned regionIndex,
                                                    unsigned argIndex,
                                                    NamedAttribute attr) {
  StringRef name = attr.getName().strref();
  Type argType;
  if (op->getNumRegions() > regionIndex &&
      !op->getRegion(regionIndex).empty() &&
      op->getRegion(regionIndex).getNumArguments() > argIndex)
    argType = op->getRegion(regionIndex).getArgument(argIndex).getType();
  auto fail = [&]() {
    return op->emitError() << "'" << name << "' on argument #" << argIndex
                           << ": ";
  };
  if (name == "attn.dims") {
    auto dims = dyn_cast<ArrayAttr>(attr.getValue());
    // A tensor in a spec; a memref once lowered.
    auto tensor = dyn_cast_or_null<ShapedType>(argType);
    if (!dims || !tensor || !tensor.hasRank())
      return fail() << "expected an array on a ranked tensor argument";
    if (dims.size() != size_t(tensor.getRank()))
      return fail() << "expected " << tensor.getRank() << " entries, got "
                    << dims.size();
    for (auto [d, entry] : llvm::enumerate(dims)) {
      if (auto symbol = dyn_cast<StringAttr>(entry)) {
        if (!llvm::is_contained({"B", "Sq", "Sk"}, symbol.getValue()))
          return fail() << "expected size B, Sq or Sk, got '"
                        << symbol.getValue() << "'";
        if (!tensor.isDynamicDim(d))
          return fail() << "dimension " << d << " is static ("
                        << tensor.getDimSize(d) << "), not '"
                        << symbol.getValue() << "'";
        continue;
      }
      auto size = dyn_cast<IntegerAttr>(entry);
      if (!size || tensor.isDynamicDim(d) ||
          size.getInt() != tensor.getDimSize(d))
        return fail() << "entry " << d
                      << " must name a dynamic size or equal the static one";
    }
    return success();
  }
  if (name == "attn.range") {
    auto range = dyn_cast<ArrayAttr>(attr.getValue());
    if (!range || range.size() != 2)
      return fail() << "expected [lo, hi]";
    double bounds[2];
    for (auto [k, entry] : llvm::enumerate(range)) {
      if (auto i = dyn_cast<IntegerAttr>(entry))
        bounds[k] = i.getInt();
      else if (auto f = dyn_cast<FloatAttr>(entry))
        bounds[k] = f.getValueAsDouble();
      else
        return fail() << "expected numbers, got " << entry;
    }
    if (!(bounds[0] < bounds[1]))
      return fail() << "expected lo < hi";
    return success();
  }
  return op->emitError() << "unknown argument attribute '" << name
                         << "' (expected attn.dims or attn.range)";
}
