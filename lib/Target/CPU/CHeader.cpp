//===- CHeader.cpp - The C header of an attunec CPU object ------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// attunec --target=cpu writes, next to the object, a C header declaring its
// entry points (`_mlir_ciface_<name>`, memref descriptors as structs) and,
// per entry point, a checker of the `attn.range` contract of its integer
// arguments, which the entry points themselves do not check.
//
//===----------------------------------------------------------------------===//

#include "attune/Target/CPU/CPUPipeline.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"

using namespace mlir;
using namespace attune;

/// The C type of a scalar element.
static FailureOr<std::string> cTypeOf(Type type) {
  if (type.isF32())
    return std::string("float");
  if (type.isF64())
    return std::string("double");
  if (type.isF16() || type.isBF16())
    return std::string("uint16_t");
  if (type.isIndex())
    return std::string("int64_t");
  if (type.isInteger(1))
    return std::string("bool");
  if (auto integer = dyn_cast<IntegerType>(type))
    if (llvm::is_contained({8u, 16u, 32u, 64u}, integer.getWidth()))
      return (integer.isUnsigned() ? "uint" : "int") +
             std::to_string(integer.getWidth()) + "_t";
  return failure();
}

/// The suffix naming an element type in descriptor struct names.
static std::string typeSuffix(Type type) {
  std::string str;
  llvm::raw_string_ostream os(str);
  os << type;
  return str;
}

/// A bound of `attn.range` as a C literal (the verifier of the attribute
/// guarantees numbers).
static std::string boundLiteral(Attribute bound) {
  if (auto integer = dyn_cast<IntegerAttr>(bound))
    return std::to_string(integer.getInt());
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::format("%.17g", cast<FloatAttr>(bound).getValueAsDouble());
  return text;
}

/// Writes `attune_check_<name>`, which checks the `attn.range` contract of
/// `func`'s integer arguments (named `params`, their C declarations) as
/// attune-run does: every value v must satisfy lo <= v < hi, compared as
/// doubles. It returns -1, or the index of the first argument with a value
/// outside its range.
static void emitRangeChecker(func::FuncOp func, ArrayRef<std::string> params,
                             llvm::raw_ostream &os) {
  os << "/// The `attn.range` contract of `@" << func.getSymName()
     << "`'s integer arguments, which\n/// _mlir_ciface_" << func.getSymName()
     << " does not check (values outside are undefined behaviour\n/// "
        "there): -1 when every value is in range, else the index of the "
        "first\n/// argument holding a value outside its range.\n";
  os << "static inline int attune_check_" << func.getSymName() << "(";
  llvm::interleaveComma(params, os);
  os << ") {\n";
  for (auto [idx, type] : llvm::enumerate(func.getArgumentTypes())) {
    std::string name = "arg" + std::to_string(idx);
    auto range = func.getArgAttrOfType<ArrayAttr>(idx, "attn.range");
    Type element = getElementTypeOrSelf(type);
    if (!range || range.size() != 2 || !element.isIntOrIndex()) {
      os << "  (void)" << name << ";\n";
      continue;
    }
    std::string test = "if (!(x >= " + boundLiteral(range[0]) + " && x < " +
                       boundLiteral(range[1]) + ")) return " +
                       std::to_string(idx) + ";";
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor) {
      os << "  { double x = (double)" << name << "; " << test << " }\n";
      continue;
    }
    // Every element, through the descriptor's offset and strides.
    int64_t rank = tensor.getRank();
    os << "  {\n    int64_t total = 1;\n";
    for (int64_t d = 0; d < rank; ++d)
      os << "    total *= " << name << "->sizes[" << d << "];\n";
    os << "    for (int64_t n = 0; n < total; ++n) {\n";
    os << "      int64_t rest = n, at = " << name << "->offset;\n";
    for (int64_t d = rank - 1; d >= 0; --d)
      os << "      at += rest % " << name << "->sizes[" << d << "] * " << name
         << "->strides[" << d << "]; rest /= " << name << "->sizes[" << d
         << "];\n";
    os << "      double x = (double)" << name << "->aligned[at];\n";
    os << "      " << test << "\n    }\n  }\n";
  }
  os << "  return -1;\n}\n\n";
}

LogicalResult attune::cpu::emitCHeader(ModuleOp specModule,
                                       StringRef guardName,
                                       llvm::raw_ostream &os) {
  std::string structs, prototypes;
  llvm::raw_string_ostream structOs(structs), protoOs(prototypes);
  llvm::StringSet<> declared;

  // A parameter for `type`: a pointer to a memref descriptor for tensors, the
  // C scalar type otherwise.
  auto parameter = [&](Type type, Location loc) -> FailureOr<std::string> {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor) {
      FailureOr<std::string> scalar = cTypeOf(type);
      if (failed(scalar))
        return emitError(loc, "no C type for argument type ") << type;
      return *scalar + " ";
    }
    FailureOr<std::string> element = cTypeOf(tensor.getElementType());
    if (failed(element))
      return emitError(loc, "no C type for element type ")
             << tensor.getElementType();
    std::string name = "attune_memref" + std::to_string(tensor.getRank()) +
                       "_" + typeSuffix(tensor.getElementType());
    if (declared.insert(name).second) {
      structOs << "/// A rank-" << tensor.getRank() << " "
               << tensor.getElementType()
               << " buffer: element (i0, i1, ...) is at aligned[offset + "
                  "i0*strides[0] + ...].\n";
      structOs << "typedef struct {\n  " << *element << " *allocated;\n  "
               << *element << " *aligned;\n  int64_t offset;\n";
      if (tensor.getRank() > 0)
        structOs << "  int64_t sizes[" << tensor.getRank()
                 << "];\n  int64_t strides[" << tensor.getRank() << "];\n";
      structOs << "} " << name << ";\n\n";
    }
    return name + " *";
  };

  for (auto func : specModule.getOps<func::FuncOp>()) {
    if (func.isPrivate() || func.isExternal())
      continue;
    FunctionType type = func.getFunctionType();
    SmallVector<std::string> params;
    for (auto [idx, argType] : llvm::enumerate(type.getInputs())) {
      FailureOr<std::string> param = parameter(argType, func.getLoc());
      if (failed(param))
        return failure();
      params.push_back(*param + "arg" + std::to_string(idx));
    }
    for (auto [idx, resultType] : llvm::enumerate(type.getResults())) {
      if (!isa<RankedTensorType>(resultType))
        return emitError(func.getLoc(), "expected tensor results, got ")
               << resultType;
      FailureOr<std::string> param = parameter(resultType, func.getLoc());
      if (failed(param))
        return failure();
      params.push_back(*param + "result" + std::to_string(idx));
    }
    protoOs << "/// Spec `@" << func.getSymName() << "`: " << type
            << ". Results are written to the caller-allocated result "
               "buffers.\n";
    protoOs << "void _mlir_ciface_" << func.getSymName() << "(";
    llvm::interleaveComma(params, protoOs);
    protoOs << ");\n\n";
    emitRangeChecker(func,
                     ArrayRef<std::string>(params).take_front(
                         type.getNumInputs()),
                     protoOs);
  }

  os << "/* Generated by attunec. Entry points of the compiled attention "
        "specs.\n   Link the object with the OpenMP runtime (libomp), which "
        "runs its parallel\n   loops; OMP_NUM_THREADS sets the thread count. "
        "*/\n";
  os << "#ifndef " << guardName << "\n#define " << guardName << "\n\n";
  os << "#include <stdbool.h>\n#include <stdint.h>\n\n";
  os << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  os << structs << prototypes;
  os << "#ifdef __cplusplus\n}\n#endif\n\n#endif /* " << guardName
     << " */\n";
  return success();
}
