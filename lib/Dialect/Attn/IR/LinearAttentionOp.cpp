//===- LinearAttentionOp.cpp - attn.linear_attention ------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The verifier of kernelised attention (docs/LinearAttention.md): Q, K and V
// in one layout and element type, static heads and head sizes, the FAVOR+
// features exactly when the feature map is favor, and the result's shape.
//
//===----------------------------------------------------------------------===//

#include "VerifierUtils.h"

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include <cmath>

using namespace mlir;
using namespace attune::attn;
using namespace attune::attn::detail;

double LinearAttentionOp::getFavorScale() {
  if (FloatAttr scale = getScaleAttr())
    return scale.getValueAsDouble();
  auto qType = cast<RankedTensorType>(getQ().getType());
  return 1.0 / std::sqrt(double(qType.getDimSize(getLayoutDims().feature)));
}

int64_t LinearAttentionOp::getFeatureCount() {
  if (Value w = getFeatures())
    return cast<RankedTensorType>(w.getType()).getDimSize(1);
  return cast<RankedTensorType>(getQ().getType())
      .getDimSize(getLayoutDims().feature);
}

LogicalResult LinearAttentionOp::verify() {
  if (!getLayoutAttr())
    return emitOpError("expected a 'layout' attribute of type #attn.layout");
  if (!getFeatureMapAttr())
    return emitOpError(
        "expected a 'feature_map' attribute of type #attn.feature_map");
  auto qType = cast<RankedTensorType>(getQ().getType());
  auto kType = cast<RankedTensorType>(getK().getType());
  auto vType = cast<RankedTensorType>(getV().getType());
  auto resultType = cast<RankedTensorType>(getResult().getType());
  auto isFloat = [](Type t) { return t.isF32() || t.isF16() || t.isBF16(); };
  for (auto [type, name] : {std::make_pair(qType, "q"),
                            {kType, "k"},
                            {vType, "v"},
                            {resultType, "result"}})
    if (failed(verifyFloat4D(*this, type, name)))
      return failure();
  Type element = qType.getElementType();
  if (kType.getElementType() != element || vType.getElementType() != element ||
      resultType.getElementType() != element)
    return emitOpError("expected 'q', 'k', 'v' and the result of one element "
                       "type, got ")
           << qType << ", " << kType << ", " << vType << " and " << resultType;
  LayoutDims dims = getLayoutDims();
  int64_t headSize = qType.getDimSize(dims.feature);
  if (ShapedType::isDynamic(headSize) || headSize == 0 ||
      kType.getDimSize(dims.feature) != headSize)
    return emitOpError("expected 'q' and 'k' to have one static, nonzero "
                       "head size D (dimension ")
           << dims.feature << "), got " << qType << " and " << kType;
  int64_t valueSize = vType.getDimSize(dims.feature);
  if (ShapedType::isDynamic(valueSize) || valueSize == 0)
    return emitOpError("expected 'v' to have a static, nonzero head size Dv "
                       "(dimension ")
           << dims.feature << "), got " << vType;
  int64_t heads = qType.getDimSize(dims.head),
          kvHeads = kType.getDimSize(dims.head);
  // Static heads: the lowering groups query head h with key head
  // h / (H / Hk).
  if (ShapedType::isDynamic(heads) || ShapedType::isDynamic(kvHeads) ||
      vType.getDimSize(dims.head) != kvHeads)
    return emitOpError("expected static head counts, one for 'k' and 'v', "
                       "got ")
           << qType << ", " << kType << " and " << vType;
  if (heads == 0 || kvHeads == 0 || heads % kvHeads != 0)
    return emitOpError("expected the query heads (")
           << heads << ") to be a nonzero multiple of the key heads ("
           << kvHeads << ")";
  if (!mayAgree(qType.getDimSize(dims.batch), kType.getDimSize(dims.batch)) ||
      !mayAgree(kType.getDimSize(dims.batch), vType.getDimSize(dims.batch)) ||
      !mayAgree(qType.getDimSize(dims.batch), vType.getDimSize(dims.batch)))
    return emitOpError("expected 'q', 'k' and 'v' to have one batch size, "
                       "got ")
           << qType << ", " << kType << " and " << vType;
  if (!mayAgree(kType.getDimSize(dims.seq), vType.getDimSize(dims.seq)))
    return emitOpError("expected 'k' and 'v' to have one sequence length, "
                       "got ")
           << kType << " and " << vType;

  bool favor = getFeatureMap() == FeatureMap::favor;
  if (favor != bool(getFeatures()))
    return emitOpError(favor ? "expected 'features(%w : [D, r])' with the "
                               "favor feature map"
                             : "expected no 'features' with the elu feature "
                               "map (they are FAVOR+'s)");
  if (getScaleAttr() && !favor)
    return emitOpError("expected no 'scale' with the elu feature map (it is "
                       "FAVOR+'s)");
  if (favor) {
    auto w = cast<RankedTensorType>(getFeatures().getType());
    if (w.getRank() != 2 || !w.hasStaticShape() || w.getEncoding() ||
        !isFloat(w.getElementType()) || w.getDimSize(0) != headSize ||
        w.getDimSize(1) < 1 || w.getDimSize(1) > 4096)
      return emitOpError("expected the features to be a static [D = ")
             << headSize
             << ", r] tensor of f32, f16 or bf16 with r in [1, 4096], got "
             << w;
    if (FloatAttr scale = getScaleAttr();
        scale && !(std::isfinite(scale.getValueAsDouble()) &&
                   scale.getValueAsDouble() > 0))
      return emitOpError("expected a finite, positive 'scale', got ")
             << scale.getValueAsDouble();
  }
  // A static size of 0 would make the lowering's slices invalid IR
  // (tensor.extract_slice rejects any offset into a static 0); a dynamic
  // size may be 0 at run time.
  for (RankedTensorType type : {qType, kType, vType})
    if (llvm::is_contained(type.getShape(), 0))
      return emitOpError("expected no static size of 0 (a dynamic size may "
                         "be 0 at run time), got ")
             << type;
  int64_t chunk = getChunkAttr().getInt();
  if (chunk < 1 || chunk > 4096)
    return emitOpError("expected 'chunk' in [1, 4096], got ") << chunk;

  SmallVector<int64_t> expected(4);
  expected[dims.batch] = qType.getDimSize(dims.batch);
  expected[dims.head] = heads;
  expected[dims.seq] = qType.getDimSize(dims.seq);
  expected[dims.feature] = valueSize;
  // Exactly q's sizes (static where q's are): the lowering builds the
  // result from them.
  for (int64_t d = 0; d < 4; ++d)
    if (resultType.getDimSize(d) != expected[d])
      return emitOpError("expected the result to be ")
             << RankedTensorType::get(expected, element)
             << " ([B, H, Sq, Dv] in the layout), got " << resultType;
  return success();
}
