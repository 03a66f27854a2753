//===- HashOps.cpp - Bucket ids and their order -----------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The verifiers of the ops that compute bucket ids from queries or keys,
// angular LSH (Reformer) and nearest-centroid routing (Routing
// Transformer), each from a 4-D input in the attention's layout and a
// static parameter tensor whose heads are the input's or one shared by all,
// and of attn.sort_ids, the stable order of positions by id, and
// attn.permute, rows in that order and back (docs/Hashing.md).
//
//===----------------------------------------------------------------------===//

#include "VerifierUtils.h"

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include <limits>

using namespace mlir;
using namespace attune::attn;
using namespace attune::attn::detail;

/// Checks what both ops ask of their input `x`, their parameters (rank
/// `paramRank`, heads at `paramHead`, features at `paramFeature`) and
/// their i32 result, whose dimensions past `resultFirst` are the input's
/// B, H and S. `what` names the parameters in messages.
static LogicalResult verifyHashOp(Operation *op, Value input, Value params,
                                  Value result, LayoutDims dims,
                                  int64_t paramRank, unsigned paramHead,
                                  unsigned paramFeature, unsigned resultFirst,
                                  StringRef what) {
  auto fail = [&]() { return op->emitOpError(); };
  auto type = cast<RankedTensorType>(input.getType());
  if (type.getRank() != 4)
    return fail() << "expected the input to have rank 4 ([B, H, S, D] or "
                     "[B, S, H, D]), got rank "
                  << type.getRank();
  auto isFloat = [](Type t) { return t.isF32() || t.isF16() || t.isBF16(); };
  if (type.getEncoding() || !isFloat(type.getElementType()))
    return fail() << "expected the input to hold f32, f16 or bf16 with no "
                     "encoding, got "
                  << type;
  for (int64_t size : type.getShape())
    if (!ShapedType::isDynamic(size) &&
        size > std::numeric_limits<int32_t>::max())
      return fail() << "expected every dimension to be below 2^31, got "
                    << size;
  int64_t headSize = type.getDimSize(dims.feature);
  if (ShapedType::isDynamic(headSize) || headSize == 0)
    return fail() << "expected a static, nonzero head size (dimension "
                  << dims.feature << ")";

  auto paramType = cast<RankedTensorType>(params.getType());
  if (paramType.getRank() != paramRank || !paramType.hasStaticShape() ||
      paramType.getEncoding() || !isFloat(paramType.getElementType()))
    return fail() << "expected " << what << " to be a static rank-" << paramRank
                  << " tensor of f32, f16 or bf16, got " << paramType;
  for (int64_t size : paramType.getShape())
    if (size == 0 || size > (int64_t(1) << 30))
      return fail() << "expected every dimension of " << what
                    << " to be in [1, 2^30], got " << paramType;
  if (paramType.getDimSize(paramFeature) != headSize)
    return fail() << "expected " << what << " to have D = " << headSize
                  << " features (dimension " << paramFeature << "), got "
                  << paramType;
  int64_t heads = type.getDimSize(dims.head);
  int64_t paramHeads = paramType.getDimSize(paramHead);
  if (paramHeads != 1 && !ShapedType::isDynamic(heads) && paramHeads != heads)
    return fail() << "expected " << what << " to have 1 or H = " << heads
                  << " heads (dimension " << paramHead << "), got "
                  << paramType;

  auto resultType = cast<RankedTensorType>(result.getType());
  SmallVector<int64_t> expected(resultFirst, 0);
  for (unsigned k = 0; k < resultFirst; ++k)
    expected[k] = paramType.getDimSize(0);
  expected.append({type.getDimSize(dims.batch), type.getDimSize(dims.head),
                   type.getDimSize(dims.seq)});
  if (!resultType.getElementType().isSignlessInteger(32) || resultType.getEncoding() ||
      resultType.getShape() != ArrayRef<int64_t>(expected))
    return fail() << "expected the result to be "
                  << RankedTensorType::get(
                         expected, IntegerType::get(op->getContext(), 32))
                  << ", got " << resultType;
  return success();
}

LogicalResult LshBucketsOp::verify() {
  if (!getLayoutAttr())
    return emitOpError("expected a 'layout' attribute of type #attn.layout");
  return verifyHashOp(*this, getInput(), getRotations(), getResult(),
                      getLayoutDims(), /*paramRank=*/4, /*paramHead=*/1,
                      /*paramFeature=*/2, /*resultFirst=*/1,
                      "'rotations' [rounds, H, D, n / 2]");
}

LogicalResult NearestCentroidOp::verify() {
  if (!getLayoutAttr())
    return emitOpError("expected a 'layout' attribute of type #attn.layout");
  return verifyHashOp(*this, getInput(), getCentroids(), getResult(),
                      getLayoutDims(), /*paramRank=*/3, /*paramHead=*/0,
                      /*paramFeature=*/2, /*resultFirst=*/0,
                      "'centroids' [H, k, D]");
}

LogicalResult SortIdsOp::verify() {
  auto type = cast<RankedTensorType>(getIds().getType());
  if (type.getRank() < 1 || !type.getElementType().isSignlessInteger(32) ||
      type.getEncoding())
    return emitOpError("expected ids of i32 with at least one dimension and "
                       "no encoding, got ")
           << type;
  if (failed(verifySizesBelow2To31(*this, type)))
    return failure();
  int64_t n = getNumIds();
  if (n < 1 || n > (int64_t(1) << 24))
    return emitOpError("expected 'num_ids' in [1, 2^24], got ") << n;
  return success();
}

LogicalResult PermuteOp::verify() {
  if (!getLayoutAttr())
    return emitOpError("expected a 'layout' attribute of type #attn.layout");
  auto type = cast<RankedTensorType>(getInput().getType());
  if ((type.getRank() != 4 && type.getRank() != 3) || type.getEncoding())
    return emitOpError("expected the input to be [B, H, S, D] (or [B, S, H, "
                       "D] with layout bshd) or [B, H, S], got ")
           << type;
  if (type.getRank() == 3 && getLayout() != Layout::bhsd)
    return emitOpError("expected no layout for a [B, H, S] input");
  if (failed(verifySizesBelow2To31(*this, type)))
    return failure();
  auto orderType = cast<RankedTensorType>(getOrder().getType());
  LayoutDims dims = getLayoutDims();
  SmallVector<int64_t> expected{type.getDimSize(dims.batch),
                                type.getDimSize(dims.head),
                                type.getDimSize(dims.seq)};
  bool agree = orderType.getRank() == 3 &&
               orderType.getElementType().isSignlessInteger(32) &&
               !orderType.getEncoding();
  for (int64_t k = 0; agree && k < 3; ++k) {
    int64_t a = orderType.getDimSize(k), b = expected[k];
    agree = ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
  }
  if (!agree)
    return emitOpError("expected 'order' to be i32 [B, H, S] = ")
           << RankedTensorType::get(expected,
                                    IntegerType::get(getContext(), 32))
           << ", got " << orderType;
  return success();
}
