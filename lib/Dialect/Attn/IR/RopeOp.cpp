//===- RopeOp.cpp - attn.rope -----------------------------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The rotary position embedding op: its verifier and the pairing of
// features that the oracle, the reference lowering and both targets share
// (docs/Rope.md).
//
//===----------------------------------------------------------------------===//

#include "VerifierUtils.h"

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include <cmath>

using namespace mlir;
using namespace attune::attn;
using namespace attune::attn::detail;

int64_t RopeOp::getHeadSize() {
  return getInput().getType().getDimSize(getLayoutDims().feature);
}

int64_t RopeOp::getNumRotated() {
  std::optional<uint64_t> rotary = getRotaryDim();
  return rotary ? int64_t(*rotary) : getHeadSize();
}

double RopeOp::getInverseFrequency(int64_t k) {
  return std::pow(getBase().convertToDouble(),
                  -2.0 * double(k) / double(getNumRotated()));
}

std::pair<int64_t, bool> RopeOp::getPartner(int64_t f) {
  int64_t half = getNumRotated() / 2;
  if (getStyle() == RopeStyle::interleaved)
    return {f ^ 1, f % 2 == 0};
  return f < half ? std::make_pair(f + half, true)
                  : std::make_pair(f - half, false);
}

int64_t RopeOp::getFrequencyIndex(int64_t f) {
  int64_t half = getNumRotated() / 2;
  return getStyle() == RopeStyle::interleaved ? f / 2 : f % half;
}

LogicalResult RopeOp::verify() {
  // A mistyped inherent attribute given in the discardable dictionary leaves
  // the property null (see AttentionOp::verify).
  if (!getLayoutAttr() || !getStyleAttr() || !getBaseAttr() ||
      !getScalingAttr())
    return emitOpError("expected 'layout', 'style', 'base' and 'scaling' "
                       "attributes of their documented types");

  auto type = cast<RankedTensorType>(getInput().getType());
  if (type.getRank() != 4)
    return emitOpError("expected the input to have rank 4 ([B, H, S, D] or "
                       "[B, S, H, D]), got rank ")
           << type.getRank();
  if (type.getEncoding())
    return emitOpError("expected the input to have no tensor encoding, got ")
           << type;
  Type element = type.getElementType();
  if (!element.isF32() && !element.isF16() && !element.isBF16())
    return emitOpError("expected the input element type to be f32, f16 or "
                       "bf16, got ")
           << element;
  if (failed(verifySizesBelow2To31(*this, type)))
    return failure();
  LayoutDims dims = getLayoutDims();
  int64_t headSize = type.getDimSize(dims.feature);
  if (ShapedType::isDynamic(headSize))
    return emitOpError("expected a static head size (dimension ")
           << dims.feature << ")";

  int64_t rotary = headSize;
  if (std::optional<uint64_t> r = getRotaryDim()) {
    rotary = int64_t(*r);
    if (rotary < 2 || rotary > headSize || rotary % 2 != 0)
      return emitOpError("expected 'rotary_dim' to be even and in [2, D = ")
             << headSize << "], got " << rotary;
  } else if (headSize % 2 != 0) {
    return emitOpError("expected an even head size D to rotate, got ")
           << headSize << "; give an even 'rotary_dim' below it";
  }

  double base = getBase().convertToDouble();
  if (!std::isfinite(base) || base <= 0.0 || base == 1.0)
    return emitOpError("expected 'base' to be positive, finite and not 1, "
                       "got ")
           << base;
  double scaling = getScaling().convertToDouble();
  if (!std::isfinite(scaling) || scaling <= 0.0)
    return emitOpError("expected 'scaling' to be positive and finite, got ")
           << scaling;

  if (getPositions() && getOffset())
    return emitOpError("expected either 'positions' or 'offset', not both");
  if (Value positions = getPositions()) {
    auto posType = cast<RankedTensorType>(positions.getType());
    if (!posType.getElementType().isSignlessIntOrIndex())
      return emitOpError("expected 'positions' to hold signless integers or "
                         "indices, got ")
             << posType;
    int64_t seq = type.getDimSize(dims.seq), batch = type.getDimSize(dims.batch);
    auto agree = [](int64_t a, int64_t b) {
      return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
    };
    if (posType.getRank() == 1) {
      if (!agree(posType.getDimSize(0), seq))
        return emitOpError("expected 'positions' [S] to have S = ")
               << seq << " entries, got " << posType;
    } else if (posType.getRank() == 2) {
      if (!agree(posType.getDimSize(0), batch) ||
          !agree(posType.getDimSize(1), seq))
        return emitOpError("expected 'positions' [B, S] to match the input's "
                           "B and S, got ")
               << posType << " for " << type;
    } else {
      return emitOpError("expected 'positions' to be [S] or [B, S], got ")
             << posType;
    }
  }
  if (Value scales = getFreqScales()) {
    auto scaleType = cast<RankedTensorType>(scales.getType());
    if (scaleType.getRank() != 1 || !scaleType.getElementType().isF32() ||
        (!scaleType.isDynamicDim(0) && scaleType.getDimSize(0) != rotary / 2))
      return emitOpError("expected 'freq_scales' to be tensor<")
             << rotary / 2 << "xf32> (one per frequency, R / 2), got "
             << scaleType;
  }
  return success();
}
