//===- ShapeInference.cpp - Concrete shapes of a spec function --*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// attune-run allocates the results of a function before running it, so it
// needs their concrete shapes at the sizes it was asked for. This file
// propagates shapes from the arguments through the body with one rule per
// op (documented at `inferShapes` in Oracle.h). To support a new op whose
// result is not shaped like its operand 0, add a case to `inferOp` (and to
// `getSameShapeOperand` if its result has an operand's shape).
//
//===----------------------------------------------------------------------===//

#include "attune/Oracle/Oracle.h"

#include "OracleInternal.h"

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

#include <string>

using namespace mlir;
using namespace attune;
using namespace attune::oracle;
using attune::oracle::detail::formatShape;
using attune::oracle::detail::shapeFitsType;

namespace {

/// Shapes and known integer scalars of the body so far.
class ShapeState {
public:
  ShapeMap shapes;
  DenseMap<Value, int64_t> integers;

  /// The shape of tensor `value`, or a diagnostic at `op`.
  FailureOr<ArrayRef<int64_t>> shapeOf(Operation *op, Value value) {
    auto it = shapes.find(value);
    if (it == shapes.end())
      return mlir::emitError(op->getLoc())
             << "cannot tell the shape of an operand of '" << op->getName()
             << "'";
    return ArrayRef<int64_t>(it->second);
  }

  /// The value of integer `size`, or a diagnostic at `op`.
  FailureOr<int64_t> integerOf(Operation *op, OpFoldResult size) {
    if (auto attr = dyn_cast<Attribute>(size))
      return cast<IntegerAttr>(attr).getInt();
    auto it = integers.find(cast<Value>(size));
    if (it == integers.end())
      return mlir::emitError(op->getLoc())
             << "cannot tell a size of '" << op->getName()
             << "' before running: it must fold from constants and "
                "tensor.dim, not depend on argument values or tensor "
                "contents";
    return it->second;
  }

  FailureOr<SmallVector<int64_t>> integersOf(Operation *op,
                                             ArrayRef<OpFoldResult> sizes) {
    SmallVector<int64_t> values;
    for (OpFoldResult size : sizes) {
      FailureOr<int64_t> v = integerOf(op, size);
      if (failed(v))
        return failure();
      values.push_back(*v);
    }
    return values;
  }
};

} // namespace

/// Folds the integer scalar results of `op` whose operands are known.
static void foldIntegers(Operation *op, ShapeState &state) {
  if (op->getNumResults() == 0 ||
      !llvm::all_of(op->getResultTypes(),
                    [](Type t) { return t.isIntOrIndex(); }))
    return;
  if (auto dim = dyn_cast<tensor::DimOp>(op)) {
    auto shape = state.shapes.find(dim.getSource());
    auto index = state.integers.find(dim.getIndex());
    if (shape != state.shapes.end() && index != state.integers.end() &&
        index->second >= 0 &&
        index->second < static_cast<int64_t>(shape->second.size()))
      state.integers[dim.getResult()] = shape->second[index->second];
    return;
  }
  if (op->getNumRegions() != 0)
    return;
  SmallVector<Attribute> operands;
  for (Value operand : op->getOperands()) {
    auto it = state.integers.find(operand);
    if (it == state.integers.end() || !operand.getType().isIntOrIndex())
      return;
    operands.push_back(IntegerAttr::get(operand.getType(), it->second));
  }
  SmallVector<OpFoldResult> results;
  if (failed(op->fold(operands, results)) ||
      results.size() != op->getNumResults())
    return;
  for (auto [result, folded] : llvm::zip(op->getResults(), results))
    if (auto attr =
            dyn_cast_if_present<IntegerAttr>(dyn_cast<Attribute>(folded)))
      state.integers[result] = attr.getValue().getSExtValue();
}

/// The shapes of the results of `op` by its op-specific rule; nullopt when
/// no specific rule applies.
static std::optional<FailureOr<SmallVector<SmallVector<int64_t>>>>
inferByRule(Operation *op, ShapeState &state) {
  using Shapes = SmallVector<SmallVector<int64_t>>;
  using Result = FailureOr<Shapes>;
  auto single = [](ArrayRef<int64_t> shape) {
    return Result(Shapes{SmallVector<int64_t>(shape)});
  };

  if (auto attention = dyn_cast<attn::AttentionOp>(op)) {
    auto q = state.shapeOf(op, attention.getQuery());
    auto v = state.shapeOf(op, attention.getValue());
    if (failed(q) || failed(v))
      return Result(failure());
    attn::LayoutDims d = attention.getLayoutDims();
    SmallVector<int64_t> out(4, 0);
    out[d.batch] = (*q)[d.batch];
    out[d.head] = (*q)[d.head];
    out[d.seq] = (*q)[d.seq];
    out[d.feature] = (*v)[d.feature];
    Shapes shapes{out};
    if (attention.getLse())
      shapes.push_back({(*q)[d.batch], (*q)[d.head], (*q)[d.seq]});
    return Result(shapes);
  }
  if (auto merge = dyn_cast<attn::MergeOp>(op)) {
    // Every partial has the shape of the first; compiled code would read
    // out of bounds otherwise.
    Shapes shapes;
    for (ValueRange partials : {ValueRange(merge.getOutputs()),
                                ValueRange(merge.getLses())}) {
      auto first = state.shapeOf(op, partials.front());
      if (failed(first))
        return Result(failure());
      for (auto [k, partial] : llvm::enumerate(partials)) {
        auto shape = state.shapeOf(op, partial);
        if (failed(shape))
          return Result(failure());
        if (*shape != *first)
          return Result(mlir::emitError(op->getLoc())
                        << "attn.merge: partial #" << k << " has shape "
                        << formatShape(*shape) << ", partial #0 "
                        << formatShape(*first));
      }
      shapes.push_back(SmallVector<int64_t>(*first));
    }
    return Result(shapes);
  }
  if (auto sort = dyn_cast<attn::SortIdsOp>(op)) {
    // Both results have the ids' shape.
    auto ids = state.shapeOf(op, sort.getIds());
    if (failed(ids))
      return Result(failure());
    return Result(
        Shapes{SmallVector<int64_t>(*ids), SmallVector<int64_t>(*ids)});
  }
  if (isa<attn::LshBucketsOp, attn::NearestCentroidOp>(op)) {
    // [rounds, B, H, S] or [B, H, S] from the input's B, H and S.
    auto input = state.shapeOf(op, op->getOperand(0));
    if (failed(input))
      return Result(failure());
    attn::LayoutDims d;
    SmallVector<int64_t> out;
    if (auto lsh = dyn_cast<attn::LshBucketsOp>(op)) {
      d = lsh.getLayoutDims();
      out.push_back(lsh.getRotations().getType().getDimSize(0));
    } else {
      d = cast<attn::NearestCentroidOp>(op).getLayoutDims();
    }
    out.append({(*input)[d.batch], (*input)[d.head], (*input)[d.seq]});
    return single(out);
  }
  if (auto topk = dyn_cast<attn::TopkBlocksOp>(op)) {
    // [B, H, ceil(Sq / block_q), ceil(Sk / block_k)].
    auto q = state.shapeOf(op, topk.getQ());
    auto k = state.shapeOf(op, topk.getK());
    if (failed(q) || failed(k))
      return Result(failure());
    attn::LayoutDims d = topk.getLayoutDims();
    int64_t bq = topk.getBlockQ(), bk = topk.getBlockK();
    return single({(*q)[d.batch], (*q)[d.head], ((*q)[d.seq] + bq - 1) / bq,
                   ((*k)[d.seq] + bk - 1) / bk});
  }
  if (auto linear = dyn_cast<attn::LinearAttentionOp>(op)) {
    // q's shape with v's head size Dv.
    auto q = state.shapeOf(op, linear.getQ());
    auto v = state.shapeOf(op, linear.getV());
    if (failed(q) || failed(v))
      return Result(failure());
    unsigned feature = linear.getLayoutDims().feature;
    SmallVector<int64_t> out(*q);
    out[feature] = (*v)[feature];
    return single(out);
  }
  if (auto unpack = dyn_cast<attn::UnpackOp>(op)) {
    // [B, H, S, D]: B from the offsets, S static or max_len.
    auto packed = state.shapeOf(op, unpack.getPacked());
    auto offsets = state.shapeOf(op, unpack.getCuSeqlens());
    if (failed(packed) || failed(offsets))
      return Result(failure());
    attn::LayoutDims d = unpack.getLayoutDims();
    int64_t seq = unpack.getResult().getType().getDimSize(d.seq);
    if (ShapedType::isDynamic(seq)) {
      FailureOr<int64_t> maxLen = state.integerOf(op, unpack.getMaxLen());
      if (failed(maxLen))
        return Result(failure());
      seq = *maxLen;
    }
    SmallVector<int64_t> out(4, 0);
    out[d.batch] = (*offsets)[0] - 1;
    out[d.head] = (*packed)[1];
    out[d.seq] = seq;
    out[d.feature] = (*packed)[2];
    return single(out);
  }
  if (auto pack = dyn_cast<attn::PackOp>(op)) {
    // [T, H, D]: T static or total.
    auto input = state.shapeOf(op, pack.getInput());
    if (failed(input))
      return Result(failure());
    attn::LayoutDims d = pack.getLayoutDims();
    int64_t total = pack.getResult().getType().getDimSize(0);
    if (ShapedType::isDynamic(total)) {
      FailureOr<int64_t> value = state.integerOf(op, pack.getTotal());
      if (failed(value))
        return Result(failure());
      total = *value;
    }
    return single({total, (*input)[d.head], (*input)[d.feature]});
  }
  if (auto gather = dyn_cast<attn::GatherPagesOp>(op)) {
    // [B, H, M * P, D] in the result's layout (docs/PagedKV.md).
    auto cache = state.shapeOf(op, gather.getCache());
    auto table = state.shapeOf(op, gather.getBlockTable());
    if (failed(cache) || failed(table))
      return Result(failure());
    attn::LayoutDims c = gather.getCacheDims(), d = gather.getLayoutDims();
    SmallVector<int64_t> out(4, 0);
    out[d.batch] = (*table)[0];
    out[d.head] = (*cache)[c.head];
    out[d.seq] = (*table)[1] * (*cache)[c.seq];
    out[d.feature] = (*cache)[c.feature];
    return single(out);
  }
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
    // Operands must agree on every loop they index directly; compiled code
    // would read out of bounds otherwise.
    SmallVector<int64_t> bounds(linalgOp.getNumLoops(), -1);
    for (OpOperand &operand : op->getOpOperands()) {
      if (!isa<RankedTensorType>(operand.get().getType()))
        continue;
      auto shape = state.shapeOf(op, operand.get());
      if (failed(shape))
        return Result(failure());
      AffineMap map = linalgOp.getMatchingIndexingMap(&operand);
      for (auto [r, expr] : llvm::enumerate(map.getResults())) {
        auto dim = dyn_cast<AffineDimExpr>(expr);
        if (!dim || r >= shape->size())
          continue;
        int64_t &bound = bounds[dim.getPosition()];
        if (bound >= 0 && bound != (*shape)[r])
          return Result(mlir::emitError(op->getLoc())
                        << "'" << op->getName() << "' has loop d"
                        << dim.getPosition() << " of sizes " << bound << " and "
                        << (*shape)[r] << " in its operands at these sizes");
        bound = (*shape)[r];
      }
    }
  }
  if (auto dps = dyn_cast<DestinationStyleOpInterface>(op)) {
    Shapes shapes;
    for (OpResult result : op->getResults()) {
      auto init = state.shapeOf(op, dps.getTiedOpOperand(result)->get());
      if (failed(init))
        return Result(failure());
      shapes.push_back(SmallVector<int64_t>(*init));
    }
    return Result(shapes);
  }
  if (auto empty = dyn_cast<tensor::EmptyOp>(op)) {
    auto sizes = state.integersOf(op, empty.getMixedSizes());
    if (failed(sizes))
      return Result(failure());
    return single(*sizes);
  }
  if (auto castOp = dyn_cast<tensor::CastOp>(op)) {
    auto source = state.shapeOf(op, castOp.getSource());
    if (failed(source))
      return Result(failure());
    return single(*source);
  }
  if (auto concat = dyn_cast<tensor::ConcatOp>(op)) {
    SmallVector<int64_t> shape;
    for (Value input : concat.getInputs()) {
      auto s = state.shapeOf(op, input);
      if (failed(s))
        return Result(failure());
      if (shape.empty()) {
        shape.assign(s->begin(), s->end());
        continue;
      }
      for (auto [k, size] : llvm::enumerate(*s))
        if (k != concat.getDim() && size != shape[k])
          return Result(mlir::emitError(op->getLoc())
                        << "tensor.concat of shapes " << formatShape(shape)
                        << " and " << formatShape(*s) << " along dimension "
                        << concat.getDim() << " at these sizes");
      shape[concat.getDim()] += (*s)[concat.getDim()];
    }
    return single(shape);
  }
  if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op)) {
    auto sizes = state.integersOf(op, slice.getMixedSizes());
    if (failed(sizes))
      return Result(failure());
    llvm::SmallBitVector dropped = slice.getDroppedDims();
    SmallVector<int64_t> shape;
    for (auto [k, size] : llvm::enumerate(*sizes))
      if (!dropped.test(k))
        shape.push_back(size);
    return single(shape);
  }
  if (auto slice = dyn_cast<tensor::InsertSliceOp>(op)) {
    auto dest = state.shapeOf(op, slice.getDest());
    if (failed(dest))
      return Result(failure());
    return single(*dest);
  }
  if (auto pad = dyn_cast<tensor::PadOp>(op)) {
    auto source = state.shapeOf(op, pad.getSource());
    auto low = state.integersOf(op, pad.getMixedLowPad());
    auto high = state.integersOf(op, pad.getMixedHighPad());
    if (failed(source) || failed(low) || failed(high))
      return Result(failure());
    SmallVector<int64_t> shape;
    for (auto [size, lo, hi] : llvm::zip(*source, *low, *high))
      shape.push_back(size + lo + hi);
    return single(shape);
  }
  if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op)) {
    auto source = state.shapeOf(op, collapse.getSrc());
    if (failed(source))
      return Result(failure());
    SmallVector<int64_t> shape;
    for (const ReassociationIndices &group :
         collapse.getReassociationIndices()) {
      int64_t size = 1;
      for (int64_t k : group)
        size *= (*source)[k];
      shape.push_back(size);
    }
    return single(shape);
  }
  if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op)) {
    auto sizes = state.integersOf(op, expand.getMixedOutputShape());
    if (failed(sizes))
      return Result(failure());
    return single(*sizes);
  }
  return std::nullopt;
}

/// The default rule: a static result type, or result 0 shaped like
/// operand 0.
static FailureOr<SmallVector<SmallVector<int64_t>>>
inferByDefault(Operation *op, ShapeState &state) {
  SmallVector<SmallVector<int64_t>> shapes;
  for (OpResult result : op->getResults()) {
    auto tensor = dyn_cast<RankedTensorType>(result.getType());
    if (!tensor) {
      shapes.emplace_back();
      continue;
    }
    if (tensor.hasStaticShape()) {
      shapes.push_back(SmallVector<int64_t>(tensor.getShape()));
      continue;
    }
    if (result.getResultNumber() == 0 && op->getNumOperands() > 0) {
      auto it = state.shapes.find(op->getOperand(0));
      if (it != state.shapes.end() && shapeFitsType(it->second, tensor)) {
        shapes.push_back(it->second);
        continue;
      }
    }
    return mlir::emitError(op->getLoc())
           << "cannot tell the shape of result #" << result.getResultNumber()
           << " of '" << op->getName()
           << "': no shape rule for this op, and its type " << tensor
           << " is neither static nor shaped like its operand 0";
  }
  return shapes;
}

static LogicalResult inferOp(Operation *op, ShapeState &state) {
  foldIntegers(op, state);
  if (llvm::none_of(op->getResultTypes(),
                    [](Type t) { return isa<RankedTensorType>(t); })) {
    for (Type type : op->getResultTypes())
      if (isa<ShapedType>(type))
        return mlir::emitError(op->getLoc())
               << "cannot tell the shape of a result of '" << op->getName()
               << "' of type " << type;
    return success();
  }
  auto byRule = inferByRule(op, state);
  FailureOr<SmallVector<SmallVector<int64_t>>> shapes =
      byRule ? *byRule : inferByDefault(op, state);
  if (failed(shapes))
    return failure();
  for (auto [result, shape] : llvm::zip(op->getResults(), *shapes)) {
    if (!isa<RankedTensorType>(result.getType()))
      continue;
    if (!shapeFitsType(shape, result.getType()) ||
        llvm::any_of(shape, [](int64_t s) { return s < 0; }))
      return mlir::emitError(op->getLoc())
             << "result #" << result.getResultNumber() << " of '"
             << op->getName() << "' would have shape " << formatShape(shape)
             << ", which its type " << result.getType() << " does not allow";
    state.shapes[result] = shape;
  }
  return success();
}

FailureOr<ShapeMap>
attune::oracle::inferShapes(func::FuncOp func,
                            ArrayRef<SmallVector<int64_t>> argShapes) {
  if (func.isExternal())
    return mlir::emitError(func.getLoc()) << "function has no body";
  if (argShapes.size() != func.getNumArguments())
    return mlir::emitError(func.getLoc())
           << "expected " << func.getNumArguments() << " argument shapes, got "
           << argShapes.size();
  ShapeState state;
  for (auto [arg, shape] : llvm::zip(func.getArguments(), argShapes)) {
    if (!isa<RankedTensorType>(arg.getType()))
      continue;
    if (!shapeFitsType(shape, arg.getType()))
      return mlir::emitError(func.getLoc())
             << "argument #" << arg.getArgNumber() << " of shape "
             << formatShape(shape) << " does not fit its type "
             << arg.getType();
    state.shapes[arg] = shape;
  }
  for (Operation &op : func.getBody().front().without_terminator())
    if (failed(inferOp(&op, state)))
      return failure();
  return std::move(state.shapes);
}

Value attune::oracle::getSameShapeOperand(OpResult result) {
  Operation *op = result.getOwner();
  if (auto castOp = dyn_cast<tensor::CastOp>(op))
    return castOp.getSource();
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
    OpOperand *init = linalgOp.getDpsInitOperand(result.getResultNumber());
    AffineMap initMap = linalgOp.getMatchingIndexingMap(init);
    for (OpOperand *input : linalgOp.getDpsInputOperands())
      if (isa<RankedTensorType>(input->get().getType()) &&
          linalgOp.getMatchingIndexingMap(input) == initMap)
        return input->get();
    return init->get();
  }
  if (isa<DestinationStyleOpInterface>(op))
    return cast<DestinationStyleOpInterface>(op)
        .getTiedOpOperand(result)
        ->get();
  if (auto append = dyn_cast<attn::AppendPagesOp>(op))
    return append.getCache();
  if (auto merge = dyn_cast<attn::MergeOp>(op))
    return result.getResultNumber() == 0 ? merge.getOutputs().front()
                                         : merge.getLses().front();
  if (auto sort = dyn_cast<attn::SortIdsOp>(op))
    return sort.getIds();
  // Ops with an own rule that does not keep an operand's shape.
  if (isa<attn::AttentionOp, attn::GatherPagesOp, attn::UnpackOp,
          attn::LshBucketsOp, attn::NearestCentroidOp, attn::PackOp,
          attn::TopkBlocksOp, attn::LinearAttentionOp, tensor::EmptyOp,
          tensor::ConcatOp, tensor::ExtractSliceOp, tensor::PadOp,
          tensor::CollapseShapeOp, tensor::ExpandShapeOp>(op))
    return nullptr;
  if (auto slice = dyn_cast<tensor::InsertSliceOp>(op))
    return slice.getDest();
  // The default rule.
  if (result.getResultNumber() == 0 && op->getNumOperands() > 0) {
    auto type = dyn_cast<RankedTensorType>(result.getType());
    auto source = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
    if (type && source && type.getRank() == source.getRank() &&
        succeeded(verifyCompatibleShape(type, source)))
      return op->getOperand(0);
  }
  return nullptr;
}
