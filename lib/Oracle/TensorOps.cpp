//===- TensorOps.cpp - The oracle's tensor and linalg ops -------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Evaluates the tensor and linalg ops written around attention in a spec
// function, in float64, with the oracle's own loops:
//
//   - tensor.empty (floats read as NaN: reading an empty tensor is undefined,
//     and a NaN makes a spec that does so fail its check), tensor.cast,
//     tensor.concat, tensor.extract_slice / tensor.insert_slice (any
//     positive strides, rank-reducing too), tensor.collapse_shape /
//     tensor.expand_shape;
//   - elementwise arith/math ops on tensors (the Elementwise trait): the
//     same op on scalars, built in a detached block, run per element;
//   - every linalg op on tensors (linalg.generic, fill, matmul, batch_matmul,
//     transpose, broadcast, reduce, map, ...) through its indexing maps and
//     its scalar body: the loop bounds come from the operand shapes, each
//     point of the iteration space runs the body (translated once by
//     Oracle.cpp's ProgramBuilder) in row-major loop order. Indexing maps
//     must be affine-linear in the loops (sums of loops times constants);
//     linalg.index is supported.
//
// Nothing here uses a lowering or an upstream interpreter: only the ops'
// attributes, indexing maps and bodies.
//
//===----------------------------------------------------------------------===//

#include "OracleInternal.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"

#include <cmath>
#include <limits>
#include <string>

using namespace mlir;
using namespace attune::oracle;
using namespace attune::oracle::detail;

std::string attune::oracle::detail::formatList(ArrayRef<int64_t> values) {
  std::string text = "[";
  for (auto [k, v] : llvm::enumerate(values)) {
    if (k)
      text += ", ";
    text += std::to_string(v);
  }
  return text + "]";
}

std::string attune::oracle::detail::formatShape(ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (auto [k, size] : llvm::enumerate(shape)) {
    if (k)
      text += ", ";
    text += ShapedType::isDynamic(size) ? "?" : std::to_string(size);
  }
  return text + "]";
}

bool attune::oracle::detail::shapeFitsType(ArrayRef<int64_t> shape,
                                           Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || tensor.getRank() != static_cast<int64_t>(shape.size()))
    return false;
  for (auto [want, size] : llvm::zip(tensor.getShape(), shape))
    if (!ShapedType::isDynamic(want) && want != size)
      return false;
  return true;
}

/// Row-major strides of `shape`.
static SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t k = static_cast<int64_t>(shape.size()) - 2; k >= 0; --k)
    strides[k] = strides[k + 1] * shape[k + 1];
  return strides;
}

/// The product of `shape`, or failure past 2^62 elements.
static FailureOr<int64_t> countElements(Operation *op,
                                        ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t size : shape)
    if (size < 0 || llvm::MulOverflow(n, size, n) || n > (int64_t(1) << 62))
      return mlir::emitError(op->getLoc())
             << "oracle: '" << op->getName() << "' would have shape "
             << formatList(shape) << ", which is not a valid size";
  return n;
}

/// An array of `shape` filled with `fill`.
static FailureOr<Array> makeArray(Operation *op, ArrayRef<int64_t> shape,
                                  double fill) {
  FailureOr<int64_t> n = countElements(op, shape);
  if (failed(n))
    return failure();
  Array array;
  array.shape.assign(shape.begin(), shape.end());
  array.data.assign(*n, fill);
  return array;
}

/// Checks `shape` against the static sizes of `type`.
static LogicalResult checkShape(Operation *op, Type type,
                                ArrayRef<int64_t> shape) {
  if (shapeFitsType(shape, type))
    return success();
  return mlir::emitError(op->getLoc())
         << "oracle: '" << op->getName() << "' computes shape "
         << formatList(shape) << ", its result type is " << type;
}

namespace {

/// Evaluates one tensor or linalg op in an environment.
class TensorOpEvaluator {
public:
  TensorOpEvaluator(Operation *op, Environment &env) : op(op), env(env) {}

  LogicalResult evaluateEmpty(tensor::EmptyOp empty);
  LogicalResult evaluateCast(tensor::CastOp cast);
  LogicalResult evaluateConcat(tensor::ConcatOp concat);
  LogicalResult evaluateExtractSlice(tensor::ExtractSliceOp slice);
  LogicalResult evaluateInsertSlice(tensor::InsertSliceOp slice);
  LogicalResult evaluateReshape(Value source, Value result,
                                ArrayRef<int64_t> shape);
  LogicalResult evaluateCollapse(tensor::CollapseShapeOp collapse);
  LogicalResult evaluateExpand(tensor::ExpandShapeOp expand);
  LogicalResult evaluateLinalg(linalg::LinalgOp linalgOp);
  LogicalResult evaluateElementwise();

private:
  /// The array of `value`, or a diagnostic.
  FailureOr<const Array *> array(Value value);
  /// The integer `value` (index or integer scalar), or a diagnostic.
  FailureOr<int64_t> integer(Value value);
  /// The integer of an attribute or a value.
  FailureOr<int64_t> integer(OpFoldResult size);
  FailureOr<SmallVector<int64_t>> integers(ArrayRef<OpFoldResult> sizes);
  /// Checks a slice of `shape` at offsets/sizes/strides.
  LogicalResult checkSlice(ArrayRef<int64_t> shape, ArrayRef<int64_t> offsets,
                           ArrayRef<int64_t> sizes, ArrayRef<int64_t> strides);

  Operation *op;
  Environment &env;
};

} // namespace

FailureOr<const Array *> TensorOpEvaluator::array(Value value) {
  const Array *a = env.lookupArray(value);
  if (!a)
    return mlir::emitError(op->getLoc())
           << "oracle: no value for an operand of '" << op->getName() << "'";
  return a;
}

FailureOr<int64_t> TensorOpEvaluator::integer(Value value) {
  std::optional<Cell> cell = env.lookupScalar(value);
  if (!cell || !value.getType().isIntOrIndex())
    return mlir::emitError(op->getLoc())
           << "oracle: no integer value for an operand of '" << op->getName()
           << "'";
  return cell->i;
}

FailureOr<int64_t> TensorOpEvaluator::integer(OpFoldResult size) {
  if (auto attr = dyn_cast<Attribute>(size))
    return cast<IntegerAttr>(attr).getInt();
  return integer(cast<Value>(size));
}

FailureOr<SmallVector<int64_t>>
TensorOpEvaluator::integers(ArrayRef<OpFoldResult> sizes) {
  SmallVector<int64_t> values;
  for (OpFoldResult size : sizes) {
    FailureOr<int64_t> v = integer(size);
    if (failed(v))
      return failure();
    values.push_back(*v);
  }
  return values;
}

LogicalResult TensorOpEvaluator::evaluateEmpty(tensor::EmptyOp empty) {
  RankedTensorType type = empty.getType();
  SmallVector<int64_t> shape;
  unsigned dynamic = 0;
  for (int64_t size : type.getShape()) {
    if (!ShapedType::isDynamic(size)) {
      shape.push_back(size);
      continue;
    }
    FailureOr<int64_t> v = integer(empty.getDynamicSizes()[dynamic++]);
    if (failed(v))
      return failure();
    shape.push_back(*v);
  }
  double fill = isa<FloatType>(type.getElementType())
                    ? std::numeric_limits<double>::quiet_NaN()
                    : 0.0;
  FailureOr<Array> result = makeArray(op, shape, fill);
  if (failed(result))
    return failure();
  env.bindArray(empty.getResult(), std::move(*result));
  return success();
}

LogicalResult TensorOpEvaluator::evaluateCast(tensor::CastOp castOp) {
  FailureOr<const Array *> source = array(castOp.getSource());
  if (failed(source) ||
      failed(checkShape(op, castOp.getType(), (*source)->shape)))
    return failure();
  env.bindArray(castOp.getResult(), **source);
  return success();
}

LogicalResult TensorOpEvaluator::evaluateConcat(tensor::ConcatOp concat) {
  int64_t dim = concat.getDim();
  SmallVector<const Array *> inputs;
  for (Value input : concat.getInputs()) {
    FailureOr<const Array *> a = array(input);
    if (failed(a))
      return failure();
    inputs.push_back(*a);
  }
  SmallVector<int64_t> shape(inputs.front()->shape.begin(),
                             inputs.front()->shape.end());
  shape[dim] = 0;
  for (const Array *input : inputs) {
    for (auto [k, size] : llvm::enumerate(input->shape))
      if (static_cast<int64_t>(k) != dim && size != shape[k])
        return mlir::emitError(op->getLoc())
               << "oracle: tensor.concat of shapes "
               << formatList(inputs.front()->shape) << " and "
               << formatList(input->shape) << " along dimension " << dim;
    shape[dim] += input->shape[dim];
  }
  if (failed(checkShape(op, concat.getType(), shape)))
    return failure();
  FailureOr<Array> result = makeArray(op, shape, 0.0);
  if (failed(result))
    return failure();
  int64_t outer = 1;
  for (int64_t k = 0; k < dim; ++k)
    outer *= shape[k];
  double *out = result->data.data();
  for (int64_t o = 0; o < outer; ++o) {
    for (const Array *input : inputs) {
      int64_t chunk = outer ? input->numElements() / outer : 0;
      const double *from = input->data.data() + o * chunk;
      out = std::copy(from, from + chunk, out);
    }
  }
  env.bindArray(concat.getResult(), std::move(*result));
  return success();
}

LogicalResult TensorOpEvaluator::checkSlice(ArrayRef<int64_t> shape,
                                            ArrayRef<int64_t> offsets,
                                            ArrayRef<int64_t> sizes,
                                            ArrayRef<int64_t> strides) {
  for (size_t k = 0; k < shape.size(); ++k) {
    bool ok =
        offsets[k] >= 0 && sizes[k] >= 0 && strides[k] > 0 &&
        (sizes[k] == 0 || offsets[k] + (sizes[k] - 1) * strides[k] < shape[k]);
    if (!ok)
      return mlir::emitError(op->getLoc())
             << "oracle: '" << op->getName() << "' with offsets "
             << formatList(offsets) << ", sizes " << formatList(sizes)
             << " and strides " << formatList(strides)
             << " is out of bounds of a tensor of shape " << formatList(shape);
  }
  return success();
}

/// Calls `body(sourceOffset, k)` for the k-th element (row-major) of the
/// slice of a tensor with `strides` at `offsets`/`sizes`/`sliceStrides`.
template <typename Fn>
static void forEachInSlice(ArrayRef<int64_t> strides, ArrayRef<int64_t> offsets,
                           ArrayRef<int64_t> sizes,
                           ArrayRef<int64_t> sliceStrides, Fn body) {
  int64_t rank = sizes.size(), total = 1;
  for (int64_t size : sizes)
    total *= size;
  SmallVector<int64_t> index(rank, 0);
  for (int64_t k = 0; k < total; ++k) {
    int64_t offset = 0;
    for (int64_t d = 0; d < rank; ++d)
      offset += (offsets[d] + index[d] * sliceStrides[d]) * strides[d];
    body(offset, k);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < sizes[d])
        break;
      index[d] = 0;
    }
  }
}

LogicalResult
TensorOpEvaluator::evaluateExtractSlice(tensor::ExtractSliceOp slice) {
  FailureOr<const Array *> source = array(slice.getSource());
  auto offsets = integers(slice.getMixedOffsets());
  auto sizes = integers(slice.getMixedSizes());
  auto strides = integers(slice.getMixedStrides());
  if (failed(source) || failed(offsets) || failed(sizes) || failed(strides) ||
      failed(checkSlice((*source)->shape, *offsets, *sizes, *strides)))
    return failure();
  // A rank-reducing slice drops unit dimensions: same elements, same order.
  llvm::SmallBitVector dropped = slice.getDroppedDims();
  SmallVector<int64_t> shape;
  for (auto [k, size] : llvm::enumerate(*sizes))
    if (!dropped.test(k))
      shape.push_back(size);
  if (failed(checkShape(op, slice.getType(), shape)))
    return failure();
  FailureOr<Array> result = makeArray(op, shape, 0.0);
  if (failed(result))
    return failure();
  const double *from = (*source)->data.data();
  double *to = result->data.data();
  forEachInSlice(stridesOf((*source)->shape), *offsets, *sizes, *strides,
                 [&](int64_t offset, int64_t k) { to[k] = from[offset]; });
  env.bindArray(slice.getResult(), std::move(*result));
  return success();
}

LogicalResult
TensorOpEvaluator::evaluateInsertSlice(tensor::InsertSliceOp slice) {
  FailureOr<const Array *> source = array(slice.getSource());
  FailureOr<const Array *> dest = array(slice.getDest());
  auto offsets = integers(slice.getMixedOffsets());
  auto sizes = integers(slice.getMixedSizes());
  auto strides = integers(slice.getMixedStrides());
  if (failed(source) || failed(dest) || failed(offsets) || failed(sizes) ||
      failed(strides) ||
      failed(checkSlice((*dest)->shape, *offsets, *sizes, *strides)))
    return failure();
  int64_t count = 1;
  for (int64_t size : *sizes)
    count *= size;
  if (count != (*source)->numElements())
    return mlir::emitError(op->getLoc())
           << "oracle: tensor.insert_slice of a source of shape "
           << formatList((*source)->shape) << " into a slice of sizes "
           << formatList(*sizes);
  Array result = **dest;
  const double *from = (*source)->data.data();
  double *to = result.data.data();
  forEachInSlice(stridesOf(result.shape), *offsets, *sizes, *strides,
                 [&](int64_t offset, int64_t k) { to[offset] = from[k]; });
  env.bindArray(slice.getResult(), std::move(result));
  return success();
}

LogicalResult TensorOpEvaluator::evaluateReshape(Value source, Value result,
                                                 ArrayRef<int64_t> shape) {
  FailureOr<const Array *> input = array(source);
  if (failed(input) || failed(checkShape(op, result.getType(), shape)))
    return failure();
  FailureOr<int64_t> count = countElements(op, shape);
  if (failed(count))
    return failure();
  if (*count != (*input)->numElements())
    return mlir::emitError(op->getLoc())
           << "oracle: '" << op->getName() << "' of shape "
           << formatList((*input)->shape) << " into shape "
           << formatList(shape);
  Array reshaped = **input;
  reshaped.shape.assign(shape.begin(), shape.end());
  env.bindArray(result, std::move(reshaped));
  return success();
}

LogicalResult
TensorOpEvaluator::evaluateCollapse(tensor::CollapseShapeOp collapse) {
  FailureOr<const Array *> input = array(collapse.getSrc());
  if (failed(input))
    return failure();
  SmallVector<int64_t> shape;
  for (const ReassociationIndices &group : collapse.getReassociationIndices()) {
    int64_t size = 1;
    for (int64_t k : group)
      size *= (*input)->shape[k];
    shape.push_back(size);
  }
  return evaluateReshape(collapse.getSrc(), collapse.getResult(), shape);
}

LogicalResult TensorOpEvaluator::evaluateExpand(tensor::ExpandShapeOp expand) {
  FailureOr<SmallVector<int64_t>> shape =
      integers(expand.getMixedOutputShape());
  if (failed(shape))
    return failure();
  return evaluateReshape(expand.getSrc(), expand.getResult(), *shape);
}

//===----------------------------------------------------------------------===//
// linalg ops
//===----------------------------------------------------------------------===//

/// Adds `scale` times the affine-linear `expr` to `coeffs` (one per loop) and
/// `constant`; fails for a non-linear expression (mod, floordiv, symbols).
static LogicalResult linearize(AffineExpr expr, int64_t scale,
                               MutableArrayRef<int64_t> coeffs,
                               int64_t &constant) {
  if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
    coeffs[dim.getPosition()] += scale;
    return success();
  }
  if (auto c = dyn_cast<AffineConstantExpr>(expr)) {
    constant += scale * c.getValue();
    return success();
  }
  auto binary = dyn_cast<AffineBinaryOpExpr>(expr);
  if (!binary)
    return failure();
  if (expr.getKind() == AffineExprKind::Add)
    return success(
        succeeded(linearize(binary.getLHS(), scale, coeffs, constant)) &&
        succeeded(linearize(binary.getRHS(), scale, coeffs, constant)));
  if (expr.getKind() == AffineExprKind::Mul) {
    if (auto c = dyn_cast<AffineConstantExpr>(binary.getRHS()))
      return linearize(binary.getLHS(), scale * c.getValue(), coeffs, constant);
    if (auto c = dyn_cast<AffineConstantExpr>(binary.getLHS()))
      return linearize(binary.getRHS(), scale * c.getValue(), coeffs, constant);
  }
  return failure();
}

namespace {
/// How one operand of a linalg op is read or written at a loop point.
struct OperandAccess {
  const Array *array = nullptr;
  /// Element type, for converting to and from Cells.
  Type elementType;
  /// For each result of the indexing map: its coefficient per loop and its
  /// constant.
  SmallVector<SmallVector<int64_t>> coeffs;
  SmallVector<int64_t> constants;
  /// Whether each map result is one loop dimension (in bounds by
  /// construction).
  bool pureDims = true;
  /// The scalar of a non-tensor operand.
  Cell scalar{};
  /// The block argument position, or -1.
  int64_t blockArg = -1;
};
} // namespace

LogicalResult TensorOpEvaluator::evaluateLinalg(linalg::LinalgOp linalgOp) {
  if (!linalgOp.hasPureTensorSemantics())
    return mlir::emitError(op->getLoc())
           << "oracle: '" << op->getName() << "' must work on tensors";
  if (op->getNumRegions() != 1 || op->getRegion(0).empty())
    return mlir::emitError(op->getLoc()) << "oracle does not support '"
                                         << op->getName() << "' without a body";
  Block &body = op->getRegion(0).front();
  unsigned numLoops = linalgOp.getNumLoops();
  SmallVector<int64_t> bounds(numLoops, -1);
  SmallVector<OperandAccess> accesses;
  for (OpOperand &operand : op->getOpOperands()) {
    OperandAccess access;
    Value value = operand.get();
    access.elementType = getElementTypeOrSelf(value.getType());
    if (!isSupportedScalarType(access.elementType))
      return mlir::emitError(op->getLoc())
             << "oracle does not support '" << op->getName() << "' on type "
             << value.getType();
    // Block arguments follow the operands (linalg.map has none for its
    // init).
    if (operand.getOperandNumber() < body.getNumArguments())
      access.blockArg = operand.getOperandNumber();
    AffineMap map = linalgOp.getMatchingIndexingMap(&operand);
    ArrayRef<int64_t> shape;
    if (isa<RankedTensorType>(value.getType())) {
      FailureOr<const Array *> a = array(value);
      if (failed(a))
        return failure();
      access.array = *a;
      shape = access.array->shape;
    } else {
      std::optional<Cell> cell = env.lookupScalar(value);
      if (!cell)
        return mlir::emitError(op->getLoc())
               << "oracle: no value for an operand of '" << op->getName()
               << "'";
      access.scalar = *cell;
    }
    if (map.getNumResults() != shape.size() || map.getNumSymbols() != 0)
      return mlir::emitError(op->getLoc())
             << "oracle: '" << op->getName() << "' has indexing map "
             << AffineMapAttr::get(map) << " for an operand of shape "
             << formatList(shape);
    for (auto [r, expr] : llvm::enumerate(map.getResults())) {
      access.coeffs.emplace_back(numLoops, 0);
      access.constants.push_back(0);
      if (failed(linearize(expr, 1, access.coeffs.back(),
                           access.constants.back())))
        return mlir::emitError(op->getLoc())
               << "oracle does not support the indexing map "
               << AffineMapAttr::get(map) << " of '" << op->getName()
               << "' (results must be sums of loops times constants)";
      auto dim = dyn_cast<AffineDimExpr>(expr);
      if (!dim) {
        access.pureDims = false;
        continue;
      }
      int64_t &bound = bounds[dim.getPosition()];
      if (bound >= 0 && bound != shape[r])
        return mlir::emitError(op->getLoc())
               << "oracle: '" << op->getName() << "' has loop d"
               << dim.getPosition() << " of sizes " << bound << " and "
               << shape[r] << " in its operands";
      bound = shape[r];
    }
    accesses.push_back(std::move(access));
  }
  for (auto [d, bound] : llvm::enumerate(bounds))
    if (bound < 0)
      return mlir::emitError(op->getLoc())
             << "oracle: cannot tell the size of loop d" << d << " of '"
             << op->getName() << "' from its operand shapes";

  // The body: block arguments and linalg.index results are written per
  // point; the results start as copies of the inits.
  SmallVector<Value> arguments(body.getArguments().begin(),
                               body.getArguments().end());
  SmallVector<int64_t> indexDims;
  for (auto index : body.getOps<linalg::IndexOp>()) {
    arguments.push_back(index.getResult());
    indexDims.push_back(index.getDim());
  }
  FailureOr<ScalarBlock> program = ScalarBlock::compile(body, arguments, env);
  if (failed(program))
    return failure();
  unsigned numInputs = linalgOp.getNumDpsInputs();
  SmallVector<Array> outputs;
  for (unsigned k = numInputs; k < accesses.size(); ++k)
    outputs.push_back(*accesses[k].array);
  if (body.getTerminator()->getNumOperands() != outputs.size())
    return mlir::emitError(op->getLoc())
           << "oracle: '" << op->getName() << "' yields "
           << body.getTerminator()->getNumOperands() << " values for "
           << outputs.size() << " results";

  // Linear offsets per operand: base + sum over loops of step * index.
  SmallVector<SmallVector<int64_t>> steps;
  SmallVector<int64_t> bases;
  for (OperandAccess &access : accesses) {
    SmallVector<int64_t> strides =
        access.array ? stridesOf(access.array->shape) : SmallVector<int64_t>();
    SmallVector<int64_t> step(numLoops, 0);
    int64_t base = 0;
    for (auto [r, coeffs] : llvm::enumerate(access.coeffs)) {
      base += access.constants[r] * strides[r];
      for (unsigned d = 0; d < numLoops; ++d)
        step[d] += coeffs[d] * strides[r];
    }
    steps.push_back(std::move(step));
    bases.push_back(base);
  }

  int64_t total = 1;
  for (int64_t bound : bounds)
    total *= bound;
  SmallVector<int64_t> point(numLoops, 0);
  auto context = [&] {
    return " in '" + op->getName().getStringRef().str() + "' at loop indices " +
           formatList(point);
  };
  for (unsigned a = 0; a < accesses.size(); ++a)
    if (!accesses[a].array && accesses[a].blockArg >= 0)
      program->setArgument(accesses[a].blockArg, accesses[a].scalar);
  for (int64_t n = 0; n < total; ++n) {
    for (unsigned a = 0; a < accesses.size(); ++a) {
      const OperandAccess &access = accesses[a];
      if (!access.array)
        continue;
      if (!access.pureDims) {
        for (auto [r, coeffs] : llvm::enumerate(access.coeffs)) {
          int64_t index = access.constants[r];
          for (unsigned d = 0; d < numLoops; ++d)
            index += coeffs[d] * point[d];
          if (index < 0 || index >= access.array->shape[r])
            return mlir::emitError(op->getLoc())
                   << "oracle: operand #" << a << " of '" << op->getName()
                   << "' is read out of bounds (index " << index
                   << " of dimension " << r << ", of size "
                   << access.array->shape[r] << ") at loop indices "
                   << formatList(point);
        }
      }
      if (access.blockArg < 0)
        continue;
      int64_t offset = bases[a];
      for (unsigned d = 0; d < numLoops; ++d)
        offset += steps[a][d] * point[d];
      const Array &source =
          a < numInputs ? *access.array : outputs[a - numInputs];
      program->setArgument(access.blockArg, cellFromDouble(source.data[offset],
                                                           access.elementType));
    }
    for (auto [k, dim] : llvm::enumerate(indexDims)) {
      Cell cell;
      cell.i = point[dim];
      program->setArgument(body.getNumArguments() + k, cell);
    }
    if (failed(program->run(context)))
      return failure();
    for (unsigned k = 0; k < outputs.size(); ++k) {
      unsigned a = numInputs + k;
      int64_t offset = bases[a];
      for (unsigned d = 0; d < numLoops; ++d)
        offset += steps[a][d] * point[d];
      outputs[k].data[offset] =
          doubleFromCell(program->getResult(k), accesses[a].elementType);
    }
    for (int64_t d = static_cast<int64_t>(numLoops) - 1; d >= 0; --d) {
      if (++point[d] < bounds[d])
        break;
      point[d] = 0;
    }
  }
  for (auto [result, output] : llvm::zip(op->getResults(), outputs))
    env.bindArray(result, std::move(output));
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise ops on tensors
//===----------------------------------------------------------------------===//

/// Whether `op` is an elementwise scalar op (arith, math) applied to
/// tensors: the Elementwise trait, a ranked tensor result, no regions.
static bool isElementwiseOnTensors(Operation *op) {
  return op->hasTrait<OpTrait::Elementwise>() && op->getNumRegions() == 0 &&
         op->getNumResults() > 0 &&
         llvm::all_of(op->getResultTypes(),
                      [](Type t) { return isa<RankedTensorType>(t); });
}

LogicalResult TensorOpEvaluator::evaluateElementwise() {
  // The same op on scalars, in a detached block, run once per element.
  Block block;
  SmallVector<const Array *> arrays;
  SmallVector<Type> elementTypes;
  for (Value operand : op->getOperands()) {
    Type element = getElementTypeOrSelf(operand.getType());
    elementTypes.push_back(element);
    block.addArgument(element, op->getLoc());
    if (!isa<RankedTensorType>(operand.getType())) {
      arrays.push_back(nullptr);
      continue;
    }
    FailureOr<const Array *> a = array(operand);
    if (failed(a))
      return failure();
    if (!arrays.empty() && arrays.front() &&
        arrays.front()->shape != (*a)->shape)
      return mlir::emitError(op->getLoc())
             << "oracle: '" << op->getName() << "' on shapes "
             << formatList(arrays.front()->shape) << " and "
             << formatList((*a)->shape);
    arrays.push_back(*a);
  }
  const Array *shapeSource = nullptr;
  for (const Array *a : arrays)
    shapeSource = shapeSource ? shapeSource : a;
  if (!shapeSource)
    return mlir::emitError(op->getLoc())
           << "oracle: '" << op->getName() << "' has no tensor operand";
  SmallVector<Type> resultTypes;
  for (Type type : op->getResultTypes())
    resultTypes.push_back(getElementTypeOrSelf(type));
  OperationState state(op->getLoc(), op->getName());
  state.addOperands(block.getArguments());
  state.addTypes(resultTypes);
  state.addAttributes(op->getAttrs());
  OpBuilder builder(op->getContext());
  builder.setInsertionPointToEnd(&block);
  Operation *scalarOp = builder.create(state);
  linalg::YieldOp::create(builder, op->getLoc(), scalarOp->getResults());

  SmallVector<Value> arguments(block.getArguments().begin(),
                               block.getArguments().end());
  FailureOr<ScalarBlock> program = ScalarBlock::compile(block, arguments, env);
  if (failed(program))
    return failure();
  for (auto [k, operand] : llvm::enumerate(op->getOperands()))
    if (!arrays[k]) {
      std::optional<Cell> cell = env.lookupScalar(operand);
      if (!cell)
        return mlir::emitError(op->getLoc())
               << "oracle: no value for an operand of '" << op->getName()
               << "'";
      program->setArgument(k, *cell);
    }
  SmallVector<Array> results;
  for (Value result : op->getResults()) {
    if (failed(checkShape(op, result.getType(), shapeSource->shape)))
      return failure();
    results.push_back(Array{shapeSource->shape,
                            std::vector<double>(shapeSource->data.size())});
  }
  int64_t element = 0;
  auto context = [&] {
    return " at element " + std::to_string(element) + " of '" +
           op->getName().getStringRef().str() + "'";
  };
  for (int64_t n = shapeSource->numElements(); element < n; ++element) {
    for (auto [k, a] : llvm::enumerate(arrays))
      if (a)
        program->setArgument(k,
                             cellFromDouble(a->data[element], elementTypes[k]));
    if (failed(program->run(context)))
      return failure();
    for (auto [k, result] : llvm::enumerate(results))
      result.data[element] =
          doubleFromCell(program->getResult(k), resultTypes[k]);
  }
  for (auto [value, result] : llvm::zip(op->getResults(), results))
    env.bindArray(value, std::move(result));
  return success();
}

std::optional<LogicalResult>
attune::oracle::detail::evaluateTensorOp(Operation *op, Environment &env) {
  TensorOpEvaluator evaluator(op, env);
  if (auto empty = dyn_cast<tensor::EmptyOp>(op))
    return evaluator.evaluateEmpty(empty);
  if (auto cast = dyn_cast<tensor::CastOp>(op))
    return evaluator.evaluateCast(cast);
  if (auto concat = dyn_cast<tensor::ConcatOp>(op))
    return evaluator.evaluateConcat(concat);
  if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op))
    return evaluator.evaluateExtractSlice(slice);
  if (auto slice = dyn_cast<tensor::InsertSliceOp>(op))
    return evaluator.evaluateInsertSlice(slice);
  if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op))
    return evaluator.evaluateCollapse(collapse);
  if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op))
    return evaluator.evaluateExpand(expand);
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
    return evaluator.evaluateLinalg(linalgOp);
  if (isElementwiseOnTensors(op))
    return evaluator.evaluateElementwise();
  return std::nullopt;
}
