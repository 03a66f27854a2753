//===- TopkBlocksOp.cpp - attn.topk_blocks ----------------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The verifier of the block-selection gate of Native Sparse Attention and
// MoBA: queries and keys in one layout, the query heads a multiple of the
// key heads, and the i8 block map's shape (docs/BlockSelection.md).
//
//===----------------------------------------------------------------------===//

#include "VerifierUtils.h"

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include <limits>

using namespace mlir;
using namespace attune::attn;
using namespace attune::attn::detail;

/// ceil(size / block), dynamic when `size` is.
static int64_t blocksOf(int64_t size, int64_t block) {
  return ShapedType::isDynamic(size) ? size : (size + block - 1) / block;
}

LogicalResult TopkBlocksOp::verify() {
  if (!getLayoutAttr())
    return emitOpError("expected a 'layout' attribute of type #attn.layout");
  auto qType = cast<RankedTensorType>(getQ().getType());
  auto kType = cast<RankedTensorType>(getK().getType());
  auto isFloat = [](Type t) { return t.isF32() || t.isF16() || t.isBF16(); };
  for (auto [type, name] : {std::make_pair(qType, "q"), {kType, "k"}})
    if (failed(verifyFloat4D(*this, type, name)))
      return failure();
  if (qType.getElementType() != kType.getElementType())
    return emitOpError("expected 'q' and 'k' of one element type, got ")
           << qType.getElementType() << " and " << kType.getElementType();
  LayoutDims dims = getLayoutDims();
  int64_t headSize = qType.getDimSize(dims.feature);
  if (ShapedType::isDynamic(headSize) || headSize == 0 ||
      kType.getDimSize(dims.feature) != headSize)
    return emitOpError("expected 'q' and 'k' to have one static, nonzero "
                       "head size D (dimension ")
           << dims.feature << "), got " << qType << " and " << kType;
  if (!mayAgree(qType.getDimSize(dims.batch), kType.getDimSize(dims.batch)))
    return emitOpError("expected 'q' and 'k' to have one batch size, got ")
           << qType << " and " << kType;
  int64_t heads = qType.getDimSize(dims.head),
          kvHeads = kType.getDimSize(dims.head);
  // Static heads: the lowering maps query head h to key head h / (H / Hk).
  if (ShapedType::isDynamic(heads) || ShapedType::isDynamic(kvHeads))
    return emitOpError("expected static head counts, got ")
           << qType << " and " << kType;
  if (kvHeads == 0 || heads % kvHeads != 0)
    return emitOpError("expected the query heads (")
           << heads << ") to be a multiple of the key heads (" << kvHeads
           << ")";
  // The learned projections: both or neither (the assembly has both),
  // [D, P] with one P.
  if (bool(getQProj()) != bool(getKProj()))
    return emitOpError("expected both projections or neither");
  if (getQProj()) {
    auto wq = cast<RankedTensorType>(getQProj().getType());
    auto wk = cast<RankedTensorType>(getKProj().getType());
    for (RankedTensorType w : {wq, wk})
      if (w.getRank() != 2 || !w.hasStaticShape() || w.getEncoding() ||
          !isFloat(w.getElementType()) || w.getDimSize(0) != headSize ||
          w.getDimSize(1) < 1 || w.getDimSize(1) > (int64_t(1) << 16))
        return emitOpError("expected the projections to be static [D = ")
               << headSize
               << ", P] tensors of f32, f16 or bf16 with P in "
                  "[1, 2^16], got "
               << w;
    if (wq.getDimSize(1) != wk.getDimSize(1))
      return emitOpError("expected the projections to have one P, got ")
             << wq << " and " << wk;
  }
  // Sizes that keep every block index and product of counts in i32/i64.
  constexpr int64_t kMaxBlock = int64_t(1) << 24;
  // The attributes as signed values (their getters are unsigned).
  for (auto [value, name] :
       {std::make_pair(getBlockQAttr().getInt(), "block_q"),
        {getBlockKAttr().getInt(), "block_k"}})
    if (value < 1 || value > kMaxBlock)
      return emitOpError("expected '")
             << name << "' in [1, 2^24], got " << value;
  for (auto [value, name] : {std::make_pair(getTopKAttr().getInt(), "top_k"),
                             {getLocalAttr().getInt(), "local"},
                             {getSinkAttr().getInt(), "sink"}})
    if (value < 0 || value > std::numeric_limits<int32_t>::max())
      return emitOpError("expected '")
             << name << "' in [0, 2^31), got " << value;
  // The lowering unrolls one pass per selected block: 256 passes compile
  // in about 20 s on the CPU, and a gate that keeps more would want a
  // selection kernel of its own (docs/BlockSelection.md, "Cost").
  if (getTopK() > 256)
    return emitOpError("expected 'top_k' of at most 256 (one selection "
                       "pass each), got ")
           << getTopK();

  auto resultType = cast<RankedTensorType>(getResult().getType());
  SmallVector<int64_t> expected{
      qType.getDimSize(dims.batch), heads,
      blocksOf(qType.getDimSize(dims.seq), getBlockQ()),
      blocksOf(kType.getDimSize(dims.seq), getBlockK())};
  bool agree = resultType.getRank() == 4 &&
               resultType.getElementType().isSignlessInteger(8) &&
               !resultType.getEncoding();
  for (int64_t d = 0; agree && d < 4; ++d)
    agree = resultType.getDimSize(d) == expected[d];
  if (!agree)
    return emitOpError("expected the result to be [B, H, ceil(Sq / block_q), "
                       "ceil(Sk / block_k)] = ")
           << RankedTensorType::get(expected, IntegerType::get(getContext(), 8))
           << ", got " << resultType;
  return success();
}
