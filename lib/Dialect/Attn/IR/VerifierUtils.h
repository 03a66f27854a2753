//===- VerifierUtils.h - Checks the attn verifiers share --------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The operand checks several attn ops' verifiers make with the same words,
// so that their diagnostics (and tests) stay alike.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_LIB_DIALECT_ATTN_IR_VERIFIERUTILS_H
#define ATTUNE_LIB_DIALECT_ATTN_IR_VERIFIERUTILS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"

#include <limits>

namespace attune::attn::detail {

/// `a` and `b` may be equal: one is dynamic, or both are the same size.
inline bool mayAgree(int64_t a, int64_t b) {
  return mlir::ShapedType::isDynamic(a) || mlir::ShapedType::isDynamic(b) ||
         a == b;
}

/// Every static size of `type` is below 2^31 (the index arithmetic of the
/// lowerings is 32-bit safe).
inline mlir::LogicalResult verifySizesBelow2To31(mlir::Operation *op,
                                                 mlir::RankedTensorType type) {
  for (int64_t size : type.getShape())
    if (!mlir::ShapedType::isDynamic(size) &&
        size > std::numeric_limits<int32_t>::max())
      return op->emitOpError("expected every dimension to be below 2^31, got ")
             << size;
  return mlir::success();
}

/// Operand `name` is a 4-D tensor of f32, f16 or bf16 with no encoding and
/// sizes below 2^31.
inline mlir::LogicalResult verifyFloat4D(mlir::Operation *op,
                                         mlir::RankedTensorType type,
                                         llvm::StringRef name) {
  if (type.getRank() != 4)
    return op->emitOpError("expected '")
           << name << "' to have rank 4 ([B, H, S, D] or [B, S, H, D]), got "
           << type;
  mlir::Type element = type.getElementType();
  if (type.getEncoding() ||
      !(element.isF32() || element.isF16() || element.isBF16()))
    return op->emitOpError("expected '")
           << name << "' to hold f32, f16 or bf16 with no encoding, got "
           << type;
  return verifySizesBelow2To31(op, type);
}

} // namespace attune::attn::detail

#endif // ATTUNE_LIB_DIALECT_ATTN_IR_VERIFIERUTILS_H
