//===- VarlenOps.cpp - attn.unpack, attn.pack -------------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The varlen (packed batch) ops: sequences packed back to back as
// [T, H, D] with cu_seqlens offsets, read as one padded batch row per
// sequence and written back (docs/Varlen.md). Both share the checks of the
// packed tensor, the padded tensor and the offsets.
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include <limits>

using namespace mlir;
using namespace attune::attn;

/// Whether two sizes can be equal (one of them dynamic, or the same).
static bool agree(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// The checks both ops share: `packed` [T, H, D] and `padded` [B, H, S, D]
/// (in `dims`) of one f32, f16 or bf16 element type with the same static
/// H and D, and `offsets` [B + 1] of signless integers or indices.
static LogicalResult verifyVarlen(Operation *op, RankedTensorType packed,
                                  RankedTensorType padded, LayoutDims dims,
                                  RankedTensorType offsets) {
  if (packed.getRank() != 3)
    return op->emitOpError("expected the packed tensor to be [T, H, D], got ")
           << packed;
  if (padded.getRank() != 4)
    return op->emitOpError("expected the padded tensor to have rank 4, got ")
           << padded;
  for (RankedTensorType type : {packed, padded}) {
    if (type.getEncoding())
      return op->emitOpError("expected no tensor encoding, got ") << type;
    for (int64_t size : type.getShape())
      if (!ShapedType::isDynamic(size) &&
          size > std::numeric_limits<int32_t>::max())
        return op->emitOpError("expected every dimension to be below 2^31, "
                               "got ")
               << type;
  }
  Type element = packed.getElementType();
  if (!element.isF32() && !element.isF16() && !element.isBF16())
    return op->emitOpError("expected f32, f16 or bf16 elements, got ")
           << packed;
  if (padded.getElementType() != element)
    return op->emitOpError("expected the packed and padded tensors to have "
                           "one element type, got ")
           << packed << " and " << padded;
  if (packed.isDynamicDim(1) || packed.isDynamicDim(2))
    return op->emitOpError("expected the packed tensor's heads and head size "
                           "to be static, got ")
           << packed;
  if (!agree(padded.getDimSize(dims.head), packed.getDimSize(1)) ||
      !agree(padded.getDimSize(dims.feature), packed.getDimSize(2)))
    return op->emitOpError("expected the packed and padded tensors to have "
                           "the same heads and head size, got ")
           << packed << " and " << padded;
  if (offsets.getRank() != 1 ||
      !offsets.getElementType().isSignlessIntOrIndex())
    return op->emitOpError("expected 'cu_seqlens' to be a 1-D tensor of "
                           "signless integers or indices ([B + 1]), got ")
           << offsets;
  int64_t entries = offsets.getDimSize(0);
  if (entries == 0)
    return op->emitOpError("expected 'cu_seqlens' to have B + 1 >= 1 "
                           "entries, got ")
           << offsets;
  int64_t batch = padded.getDimSize(dims.batch);
  if (!ShapedType::isDynamic(entries) && !agree(batch, entries - 1))
    return op->emitOpError("expected the padded tensor's batch size to be "
                           "size(cu_seqlens) - 1 = ")
           << entries - 1 << ", got " << padded;
  return success();
}

LogicalResult UnpackOp::verify() {
  if (!getLayoutAttr())
    return emitOpError("expected a 'layout' attribute of type #attn.layout");
  RankedTensorType result = getResult().getType();
  if (failed(verifyVarlen(*this, getPacked().getType(), result,
                          getLayoutDims(), getCuSeqlens().getType())))
    return failure();
  bool dynamic = result.isDynamicDim(getLayoutDims().seq);
  if (dynamic && !getMaxLen())
    return emitOpError("expected 'max_len' for a dynamic sequence size, got ")
           << result;
  if (!dynamic && getMaxLen())
    return emitOpError("expected no 'max_len' with a static sequence size, "
                       "got ")
           << result;
  return success();
}

LogicalResult PackOp::verify() {
  if (!getLayoutAttr())
    return emitOpError("expected a 'layout' attribute of type #attn.layout");
  RankedTensorType result = getResult().getType();
  if (failed(verifyVarlen(*this, result, getInput().getType(),
                          getLayoutDims(), getCuSeqlens().getType())))
    return failure();
  bool dynamic = result.isDynamicDim(0);
  if (dynamic && !getTotal())
    return emitOpError("expected 'total' for a dynamic number of rows, got ")
           << result;
  if (!dynamic && getTotal())
    return emitOpError("expected no 'total' with a static number of rows, "
                       "got ")
           << result;
  return success();
}
