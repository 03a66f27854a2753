//===- Program.cpp - Functions of several steps on CUDA ---------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// A function whose body holds several attention and linalg ops (cascade
// and hierarchical attention merged with attn.merge, Linformer's
// projections, Transformer-XL's relative terms) compiles to one artifact
// whose kernels run in the function's order over the program's buffers
// (docs/CUDATarget.md, "Programs"):
//
// - every step result that is not returned lives in a workspace, its shape
//   an expression of the argument symbols (ProgramSizes.h), named as a
//   derived symbol of the manifest;
// - reshapes are views: a kernel reads a buffer with the view's shape (a
//   tensor parameter with its own "shape"), and linalg kernels index
//   through slices too; an attention operand that is a slice is copied;
// - an attention step (the op and the producers its kernels read through)
//   is outlined into a function of its own, compiled as a one-attention
//   spec, and its manifest entries are renamed into the program's symbols
//   and buffers;
// - attn.merge is lowered to linalg (attn-lower-merge), and every linalg op
//   becomes a linalg kernel (LinalgKernel.cpp).
//
// The artifact has no host code, so nothing may need the function's values
// to size a launch: sizes are + - * floordiv ceildiv max min of argument
// sizes and constants, and assertions between sizes must hold symbolically.
//
//===----------------------------------------------------------------------===//

#include "Program.h"

#include "Artifacts.h"
#include "OperandSources.h"

#include "attune/Dialect/Attn/Transforms/Passes.h"
#include "attune/Dialect/Attn/Transforms/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/RegionUtils.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace attune;
using namespace attune::cuda;
namespace json = llvm::json;

/// The public function of `spec` with a body.
static func::FuncOp entryFunction(ModuleOp spec) {
  func::FuncOp entry;
  spec.walk([&](func::FuncOp func) {
    if (!func.isPrivate() && !func.isExternal() && !entry)
      entry = func;
  });
  return entry;
}

/// The buffer a reshape views, or null where a slice is in between (not
/// contiguous: an attention step reads a copy).
static Value contiguousRoot(Value tensor) {
  while (Operation *op = tensor.getDefiningOp()) {
    if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op))
      tensor = collapse.getSrc();
    else if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op))
      tensor = expand.getSrc();
    else if (isa<tensor::ExtractSliceOp>(op))
      return Value();
    else
      break;
  }
  return tensor;
}

/// Whether `op` is a view the steps read through.
static bool isView(Operation *op) {
  return isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp,
             tensor::ExtractSliceOp>(op);
}

/// Whether `fill` only initialises linalg ops (its constant is then read
/// by their kernels, never stored).
static bool initialisesOnly(linalg::FillOp fill) {
  return llvm::all_of(fill->getUses(), [](OpOperand &use) {
    auto user = dyn_cast<linalg::LinalgOp>(use.getOwner());
    return user && user.isDpsInit(&use);
  });
}

/// The ops of the attention step of `op`: the producers its kernels read
/// through, the op, and the pack of O they store through.
static SmallVector<Operation *> attentionGroup(attn::AttentionOp op) {
  SmallVector<Operation *> group;
  for (Operation &producer : *op->getBlock()) {
    if (&producer == op.getOperation())
      break;
    if (isSourceProducer(&producer, op))
      group.push_back(&producer);
  }
  group.push_back(op);
  std::string reason;
  FailureOr<attn::PackOp> pack = getFusedPack(op, reason);
  if (succeeded(pack) && *pack)
    group.push_back(*pack);
  return group;
}

/// A copy of `value` (linalg.copy into an empty tensor of its sizes),
/// inserted before `before`.
static Value copyOf(OpBuilder &b, Value value, Operation *before) {
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(before);
  Location loc = value.getLoc();
  auto type = cast<RankedTensorType>(value.getType());
  Value empty = tensor::EmptyOp::create(
      b, loc, tensor::getMixedSizes(b, loc, value), type.getElementType());
  return linalg::CopyOp::create(b, loc, value, empty).getResult(0);
}

/// Rewrites `func` into the form the steps take: merges lowered to linalg,
/// named linalg ops generalised (fills that only initialise kept), copies
/// where a returned value is not a step's own result or an attention
/// operand is a slice.
static LogicalResult prepare(func::FuncOp func, bool cluster) {
  IRRewriter rewriter(func.getContext());
  SmallVector<attn::MergeOp> merges;
  func.walk([&](attn::MergeOp op) { merges.push_back(op); });
  for (attn::MergeOp merge : merges)
    if (failed(attn::lowerMerge(rewriter, merge)))
      return failure();
  // Attention over bucket ids over rows sorted by id (attn-cluster): a
  // sort and permutes, steps of their own (HashKernels.cpp).
  if (cluster)
    attn::clusterBucketedAttention(func);
  // Bucket ids (a contraction and an argmax) and block maps (sums,
  // scores, selection passes): linalg steps.
  if (failed(attn::lowerAll(func, attn::lowerLshBuckets)) ||
      failed(attn::lowerAll(func, attn::lowerNearestCentroid)) ||
      failed(attn::lowerAll(func, attn::lowerTopkBlocks)) ||
      failed(attn::lowerAll(func, attn::lowerLinearAttention)))
    return failure();

  // Returned values: each its own step's result, returned once.
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  llvm::SmallDenseSet<Value> returned;
  for (OpOperand &operand : ret->getOpOperands()) {
    Value value = operand.get();
    Operation *def = value.getDefiningOp();
    bool own =
        def && isa<linalg::LinalgOp, attn::AttentionOp, attn::PackOp,
                   attn::AppendPagesOp, attn::SortIdsOp, attn::PermuteOp>(def);
    if (isa<RankedTensorType>(value.getType()) &&
        (!own || !returned.insert(value).second))
      operand.set(copyOf(rewriter, value, ret));
  }
  // Attention operands through slices: copied.
  SmallVector<attn::AttentionOp> attentions;
  func.walk([&](attn::AttentionOp op) { attentions.push_back(op); });
  for (attn::AttentionOp op : attentions) {
    SmallVector<Operation *> group = attentionGroup(op);
    for (Operation *member : group)
      for (OpOperand &operand : member->getOpOperands())
        if (isa<RankedTensorType>(operand.get().getType()) &&
            !contiguousRoot(operand.get()))
          operand.set(copyOf(rewriter, operand.get(), group.front()));
  }

  SmallVector<linalg::LinalgOp> named;
  func.walk([&](linalg::LinalgOp op) {
    if (isa<linalg::GenericOp>(op))
      return;
    if (auto fill = dyn_cast<linalg::FillOp>(op.getOperation());
        fill && initialisesOnly(fill))
      return;
    named.push_back(op);
  });
  for (linalg::LinalgOp op : named) {
    rewriter.setInsertionPoint(op);
    if (failed(linalg::generalizeNamedOp(rewriter, op)))
      return op.emitError("CUDA target: cannot generalise this linalg op");
  }
  return success();
}

/// `x` (f32) rounded by the PTX instruction `asm`; null for other types.
static Value roundF32(OpBuilder &b, Location loc, Value x, StringRef asm_) {
  if (!x.getType().isF32())
    return Value();
  return LLVM::InlineAsmOp::create(
             b, loc, b.getF32Type(), ValueRange{x}, b.getStringAttr(asm_),
             b.getStringAttr("=f,f"), UnitAttr(), UnitAttr(),
             LLVM::TailCallKindAttr::get(
                 b.getContext(), LLVM::tailcallkind::TailCallKind::None),
             LLVM::AsmDialectAttr(), ArrayAttr())
      .getResult(0);
}

/// The first reduction loop's extent from which a linalg kernel takes a
/// warp per point (splitCombiner): below it, a thread's serial loop.
static constexpr int64_t kSplitReduction = 256;

namespace {
/// Compiles a prepared program function step by step into manifest members.
class ProgramCompiler {
public:
  ProgramCompiler(func::FuncOp func, const CUDAPipelineOptions &options,
                  StringRef directory, StringRef assembler, bool dryRun)
      : func(func), sizes(func), options(options), directory(directory),
        assembler(assembler), dryRun(dryRun) {}

  FailureOr<json::Object> run();

private:
  FailureOr<std::string> bufferOf(Value root);
  LogicalResult attentionStep(attn::AttentionOp op);
  LogicalResult linalgStep(linalg::GenericOp op, OpBuilder &kernels);
  LogicalResult appendStep(attn::AppendPagesOp op, OpBuilder &kernels);
  /// An attn.sort_ids or attn.permute step (HashKernels.cpp).
  LogicalResult hashStep(Operation *op, OpBuilder &kernels);
  /// Appends `kernel` (a step kernel of the linalg module) to the manifest.
  void addStepKernel(LinalgKernel &kernel);
  LogicalResult checkAssert(cf::AssertOp op);

  /// `size` with argument symbols unified by attention steps replaced by
  /// the symbol they were unified with.
  json::Value resolve(json::Value size) const {
    while (std::optional<StringRef> symbol = size.getAsString()) {
      auto it = aliases.find(*symbol);
      if (it == aliases.end())
        break;
      size = it->second;
    }
    return size;
  }
  /// Renames unified symbols wherever the manifest names sizes.
  void renameAliases(json::Object &object) const;

  func::FuncOp func;
  ProgramSizes sizes;
  llvm::StringMap<std::string> aliases;
  const CUDAPipelineOptions &options;
  StringRef directory, assembler;
  bool dryRun;
  DenseMap<Value, std::string> buffers;
  json::Array arguments, results, workspace, kernels, constraints;
  unsigned steps = 0, temporaries = 0;
  /// The linalg kernels' names (their cubin is compiled last).
  SmallVector<std::string> linalgKernels;
};
} // namespace

FailureOr<std::string> ProgramCompiler::bufferOf(Value root) {
  auto it = buffers.find(root);
  if (it != buffers.end())
    return it->second;
  Operation *def = root.getDefiningOp();
  if (!def || !isa<linalg::LinalgOp, attn::AttentionOp, attn::PackOp,
                   attn::SortIdsOp, attn::PermuteOp>(def))
    return (def ? def->emitError("CUDA target: this '")
                      << def->getName() << "' has no buffer to read from"
                : emitError(root.getLoc(), "CUDA target: no buffer")),
           failure();
  FailureOr<json::Array> shape = sizes.shape(root);
  if (failed(shape))
    return failure();
  std::string name = "t" + std::to_string(temporaries++);
  workspace.push_back(json::Object{
      {"name", name},
      {"dtype",
       dtypeName(cast<RankedTensorType>(root.getType()).getElementType())},
      {"shape", std::move(*shape)}});
  return buffers[root] = name;
}

LogicalResult ProgramCompiler::checkAssert(cf::AssertOp op) {
  auto cmp = op.getArg().getDefiningOp<arith::CmpIOp>();
  if (cmp && cmp.getPredicate() == arith::CmpIPredicate::eq) {
    FailureOr<json::Value> lhs = sizes.index(cmp.getLhs());
    FailureOr<json::Value> rhs = sizes.index(cmp.getRhs());
    if (failed(lhs) || failed(rhs))
      return failure();
    if (ProgramSizes::key(*lhs) == ProgramSizes::key(*rhs))
      return success();
  }
  return op.emitError("CUDA target: the assertion '")
         << op.getMsg()
         << "' does not hold for every argument size the manifest allows, "
            "and the artifact has no host code to check it";
}

/// Renames the symbols of a manifest entry (a grid, an `if`, a shape) with
/// `map`.
static LogicalResult renameSymbols(json::Value &value,
                                   const llvm::StringMap<json::Value> &map) {
  if (std::optional<StringRef> symbol = value.getAsString()) {
    auto it = map.find(*symbol);
    if (it == map.end())
      return failure();
    value = it->second;
    return success();
  }
  if (json::Array *array = value.getAsArray()) {
    for (json::Value &element : *array)
      if (failed(renameSymbols(element, map)))
        return failure();
    return success();
  }
  if (json::Object *object = value.getAsObject())
    for (auto &[key, element] : *object)
      if (failed(renameSymbols(element, map)))
        return failure();
  return success();
}

LogicalResult ProgramCompiler::attentionStep(attn::AttentionOp op) {
  MLIRContext *ctx = op.getContext();
  Location loc = op.getLoc();
  SmallVector<Operation *> group = attentionGroup(op);
  llvm::SmallPtrSet<Operation *, 8> members(group.begin(), group.end());
  auto inGroup = [&](Value value) {
    Operation *def = value.getDefiningOp();
    return def && members.contains(def);
  };
  // What the step reads from outside it.
  llvm::SetVector<Value> externals;
  for (Operation *member : group) {
    for (Value operand : member->getOperands())
      if (!inGroup(operand))
        externals.insert(operand);
    llvm::SetVector<Value> above;
    getUsedValuesDefinedAbove(member->getRegions(), above);
    for (Value value : above)
      if (!inGroup(value))
        externals.insert(value);
  }
  // What it gives: O (or its pack) and lse.
  Operation *last = group.back();
  SmallVector<Value> outputs;
  if (auto pack = dyn_cast<attn::PackOp>(last)) {
    if (!op.getOutput().hasOneUse())
      return op.emitError("CUDA target: O is packed by an attn.pack and "
                          "used elsewhere too");
    outputs.push_back(pack.getResult());
  } else {
    outputs.push_back(op.getOutput());
  }
  if (Value lse = op.getLse())
    outputs.push_back(lse);

  // The step as a function of its own: tensors and scalars as arguments,
  // constants cloned, sizes computed in the function as i64 arguments
  // bound to the program's symbols.
  OwningOpRef<ModuleOp> sub = ModuleOp::create(loc);
  OpBuilder b(ctx);
  b.setInsertionPointToStart(sub->getBody());
  std::string stem = (func.getSymName() + "_s" + std::to_string(steps++)).str();
  SmallVector<Type> argTypes;
  SmallVector<Value> argValues;
  SmallVector<Value> constants;
  // The pack's total and the unpacks' max_len, where they are tensor.dim
  // of the packed rows the step reads, are recomputed in the step, where
  // the target sees what they are; other scalars become arguments.
  llvm::SmallDenseSet<Value> packSizes;
  for (Operation *member : group) {
    if (auto pack = dyn_cast<attn::PackOp>(member))
      packSizes.insert(pack.getTotal());
    if (auto unpack = dyn_cast<attn::UnpackOp>(member))
      packSizes.insert(unpack.getMaxLen());
  }
  SmallVector<tensor::DimOp> dims;
  for (Value value : externals) {
    if (matchPattern(value, m_Constant())) {
      constants.push_back(value);
      continue;
    }
    if (auto dim = value.getDefiningOp<tensor::DimOp>();
        dim && packSizes.contains(value) && dim.getConstantIndex() &&
        externals.contains(dim.getSource()) &&
        !matchPattern(dim.getSource(), m_Constant())) {
      dims.push_back(dim);
      continue;
    }
    Type type = value.getType();
    if (!isa<RankedTensorType>(type) && !isa<BlockArgument>(value) &&
        !type.isIndex() && !type.isInteger(64))
      return op.emitError("CUDA target: a scalar computed in the function "
                          "and read by an attention step must be an index "
                          "or i64 size (the artifact has no host code to "
                          "compute others)");
    argTypes.push_back(type);
    argValues.push_back(value);
  }
  SmallVector<Type> resultTypes;
  for (Value value : outputs)
    resultTypes.push_back(value.getType());
  auto subFunc = func::FuncOp::create(b, loc, stem,
                                      b.getFunctionType(argTypes, resultTypes));
  Block *entry = subFunc.addEntryBlock();
  b.setInsertionPointToStart(entry);
  IRMapping map;
  for (auto [k, value] : llvm::enumerate(argValues)) {
    map.map(value, entry->getArgument(k));
    if (auto original = dyn_cast<BlockArgument>(value))
      if (Attribute range =
              func.getArgAttr(original.getArgNumber(), "attn.range"))
        subFunc.setArgAttr(k, "attn.range", range);
  }
  for (Value value : constants)
    map.map(value, b.clone(*value.getDefiningOp())
                       ->getResult(cast<OpResult>(value).getResultNumber()));
  for (tensor::DimOp dim : dims)
    map.map(dim.getResult(),
            tensor::DimOp::create(b, dim.getLoc(), map.lookup(dim.getSource()),
                                  *dim.getConstantIndex()));
  for (Operation *member : group)
    b.clone(*member, map);
  SmallVector<Value> returned;
  for (Value value : outputs)
    returned.push_back(map.lookup(value));
  func::ReturnOp::create(b, loc, returned);

  if (failed(checkSingleAttentionSpec(*sub)))
    return failure();

  // Each argument and result of the step: its program buffer (and view
  // shape) or scalar, and the program sizes of its symbols.
  llvm::StringMap<json::Value> symbols;
  llvm::StringMap<json::Object> params;
  auto bind = [&](const json::Object &entry, Value value) -> LogicalResult {
    StringRef name = *entry.getString("name");
    if (!isa<RankedTensorType>(value.getType())) {
      if (auto arg = dyn_cast<BlockArgument>(value)) {
        params[name] = json::Object{
            {"scalar_arg", sizes.argumentName(arg.getArgNumber()).str()}};
        return success();
      }
      FailureOr<json::Value> expr = sizes.index(value);
      if (failed(expr))
        return failure();
      params[name] =
          json::Object{{"scalar", "i64"}, {"symbol", sizes.name(*expr)}};
      return success();
    }
    const json::Array &shape = *entry.getArray("shape");
    for (auto [d, size] : llvm::enumerate(shape)) {
      std::optional<StringRef> symbol = size.getAsString();
      if (!symbol)
        continue;
      FailureOr<json::Value> expr = sizes.dim(value, d);
      if (failed(expr))
        return failure();
      json::Value named = resolve(sizes.name(*expr));
      auto [it, inserted] = symbols.try_emplace(*symbol, named);
      if (inserted)
        continue;
      json::Value known = resolve(it->second);
      if (ProgramSizes::key(known) == ProgramSizes::key(named))
        continue;
      // Two argument sizes the attention needs equal: one symbol, which
      // the runtime checks is the same in every shape that names it.
      std::optional<StringRef> a = known.getAsString(), b = named.getAsString();
      if (a && b && !sizes.definition(*a) && !sizes.definition(*b)) {
        aliases[*b] = a->str();
        continue;
      }
      return op.emitError("CUDA target: the attention reads sizes ")
             << ProgramSizes::key(known) << " and " << ProgramSizes::key(named)
             << " as one size '" << *symbol
             << "', and nothing checks that they are equal";
    }
    Value root = contiguousRoot(value);
    FailureOr<std::string> buffer = bufferOf(root);
    if (failed(buffer))
      return failure();
    json::Object param{{"tensor", *buffer}};
    if (root != value) {
      FailureOr<json::Array> view = sizes.shape(value);
      if (failed(view))
        return failure();
      param["shape"] = std::move(*view);
    }
    params[name] = std::move(param);
    return success();
  };

  json::Object compiled;
  if (dryRun) {
    // Only the bindings' diagnostics: the step's own manifest is not built.
    for (Value value : argValues)
      if (isa<RankedTensorType>(value.getType()) &&
          failed(bufferOf(contiguousRoot(value))))
        return failure();
    return success();
  }
  FailureOr<json::Object> manifest =
      compileAttentionFunction(*sub, options, directory, assembler);
  if (failed(manifest))
    return failure();
  compiled = std::move(*manifest);
  for (auto [entry, value] :
       llvm::zip_equal(*compiled.getArray("arguments"), argValues))
    if (failed(bind(*entry.getAsObject(), value)))
      return failure();
  for (auto [entry, value] :
       llvm::zip_equal(*compiled.getArray("results"), outputs))
    if (failed(bind(*entry.getAsObject(), value)))
      return failure();
  auto internal = [&](StringRef what) {
    return op.emitError("CUDA target: internal error: the attention step's ")
           << what << " names a size its arguments do not";
  };
  // Its derived symbols (the decode kernel's resident CTAs and split
  // count), as program sizes.
  if (json::Array *derived = compiled.getArray("symbols"))
    for (json::Value &entry : *derived) {
      json::Object &object = *entry.getAsObject();
      if (std::optional<StringRef> kernel = object.getString("resident_ctas")) {
        symbols.insert_or_assign(*object.getString("name"),
                                 sizes.residentCTAs(*kernel));
        continue;
      }
      json::Value value = *object.get("value");
      if (failed(renameSymbols(value, symbols)))
        return internal("derived symbol");
      symbols.insert_or_assign(*object.getString("name"), sizes.name(value));
    }
  // Its workspaces, prefixed with the step's name.
  for (json::Value &entry : *compiled.getArray("workspace")) {
    json::Object &object = *entry.getAsObject();
    std::string name = (stem + "_" + *object.getString("name")).str();
    params[*object.getString("name")] = json::Object{{"tensor", name}};
    object["name"] = name;
    if (failed(renameSymbols(*object.get("shape"), symbols)))
      return internal("workspace");
    workspace.push_back(std::move(entry));
  }
  for (json::Value &entry : *compiled.getArray("constraints")) {
    if (failed(renameSymbols(entry, symbols)))
      return internal("constraint");
    std::string key = ProgramSizes::key(entry);
    if (llvm::none_of(constraints, [&](const json::Value &known) {
          return ProgramSizes::key(known) == key;
        }))
      constraints.push_back(std::move(entry));
  }
  for (json::Value &entry : *compiled.getArray("kernels")) {
    json::Object &kernel = *entry.getAsObject();
    if (failed(renameSymbols(*kernel.get("grid"), symbols)))
      return internal("grid");
    if (json::Value *condition = kernel.get("if"))
      if (failed(renameSymbols(*condition, symbols)))
        return internal("launch condition");
    for (json::Value &param : *kernel.getArray("params")) {
      json::Object &object = *param.getAsObject();
      std::optional<StringRef> name = object.getString("tensor");
      if (!name)
        name = object.getString("scalar_arg");
      if (name) {
        auto known = params.find(*name);
        if (known == params.end())
          return op.emitError("CUDA target: internal error: a kernel of the "
                              "attention step reads '")
                 << *name << "', which its manifest does not define";
        param = json::Object(known->second);
        continue;
      }
      if (failed(renameSymbols(*object.get("symbol"), symbols)))
        return internal("scalar parameter");
    }
    kernels.push_back(std::move(entry));
  }
  return success();
}

LogicalResult ProgramCompiler::linalgStep(linalg::GenericOp op,
                                          OpBuilder &kernelBuilder) {
  std::string name =
      (func.getSymName() + "_s" + std::to_string(steps++) + "_linalg").str();
  BufferNamer namer = [&](Value root) { return bufferOf(root); };
  // A long reduction would leave most of the GPU idle as one serial loop
  // per point: a contraction (Linformer's projections over the sequence)
  // then takes the tiled kernels, which read each operand once per tile of
  // the other; another reduction with a known combiner a warp per point.
  // Which kernels run is chosen by the first reduction loop's extent, at
  // compile time when it is static, else by the launch condition.
  std::optional<Contraction> contraction = matchContraction(op);
  std::optional<json::Value> split;
  if (contraction || splitCombiner(op)) {
    FailureOr<SmallVector<json::Value>> extents = loopExtents(op, sizes);
    if (failed(extents))
      return failure();
    for (auto [l, iterator] : llvm::enumerate(op.getIteratorTypesArray()))
      if (iterator == utils::IteratorType::reduction) {
        split = (*extents)[l];
        break;
      }
  }
  std::optional<int64_t> length = split ? split->getAsInteger() : std::nullopt;
  bool threads = !split || !length || *length < kSplitReduction;
  bool warps = split && (!length || *length >= kSplitReduction);
  if (threads) {
    FailureOr<LinalgKernel> kernel =
        emitLinalgKernel(kernelBuilder, op, name, sizes, namer);
    if (failed(kernel))
      return failure();
    addStepKernel(*kernel);
    if (warps)
      kernels.back().getAsObject()->insert(
          {"if", json::Object{{"lt", json::Array{*split, kSplitReduction}}}});
  }
  auto longOnly = [&] {
    if (threads)
      kernels.back().getAsObject()->insert(
          {"if", json::Object{{"ge", json::Array{*split, kSplitReduction}}}});
  };
  if (warps && contraction) {
    std::string partial = name + "_partial";
    FailureOr<json::Array> shape =
        contractionPartialShape(op, *contraction, sizes);
    if (failed(shape))
      return failure();
    workspace.push_back(json::Object{
        {"name", partial}, {"dtype", "f32"}, {"shape", std::move(*shape)}});
    FailureOr<SmallVector<LinalgKernel>> tiled = emitContractionKernels(
        kernelBuilder, op, *contraction, threads ? name + "_tiles" : name,
        partial, sizes, namer);
    if (failed(tiled))
      return failure();
    for (LinalgKernel &kernel : *tiled) {
      addStepKernel(kernel);
      longOnly();
    }
  } else if (warps) {
    FailureOr<LinalgKernel> kernel = emitLinalgKernel(
        kernelBuilder, op, threads ? name + "_warps" : name, sizes, namer,
        /*warp=*/true);
    if (failed(kernel))
      return failure();
    addStepKernel(*kernel);
    longOnly();
  }
  return success();
}

/// The attn.rope whose result is `op`'s rows and is read by nothing else
/// (applied by the append kernel), or null.
static attn::RopeOp fusedRope(attn::AppendPagesOp op) {
  auto rope = op.getRows().getDefiningOp<attn::RopeOp>();
  return rope && rope->hasOneUse() ? rope : attn::RopeOp();
}

LogicalResult ProgramCompiler::appendStep(attn::AppendPagesOp op,
                                          OpBuilder &kernelBuilder) {
  attn::RopeOp rope = fusedRope(op);
  if (rope && rope.getLayout() != op.getLayout())
    return op.emitError("CUDA target: the attn.rope of the appended rows "
                        "reads them in another layout than the append");
  std::string name =
      (func.getSymName() + "_s" + std::to_string(steps++) + "_append").str();
  std::string flags = name + "_written";
  FailureOr<json::Value> pages =
      sizes.dim(op.getCache(), op.getCacheDims().batch);
  if (failed(pages))
    return failure();
  workspace.push_back(json::Object{
      {"name", flags},
      {"dtype", "i32"},
      {"shape", json::Array{sizes.name(*pages), op.getPageSize()}}});
  BufferNamer namer = [&](Value root) { return bufferOf(root); };
  FailureOr<SmallVector<LinalgKernel>> emitted =
      emitAppendKernels(kernelBuilder, op, rope, name, flags, sizes, namer);
  if (failed(emitted))
    return failure();
  for (LinalgKernel &kernel : *emitted)
    addStepKernel(kernel);
  return success();
}

LogicalResult ProgramCompiler::hashStep(Operation *op,
                                        OpBuilder &kernelBuilder) {
  std::string name = (func.getSymName() + "_s" + std::to_string(steps++)).str();
  BufferNamer namer = [&](Value root) { return bufferOf(root); };
  FailureOr<LinalgKernel> kernel;
  if (auto sort = dyn_cast<attn::SortIdsOp>(op)) {
    kernel =
        emitSortIdsKernel(kernelBuilder, sort, name + "_sort", sizes, namer);
  } else {
    auto permute = cast<attn::PermuteOp>(op);
    // A scatter by an order with a repeated entry would leave rows
    // unwritten: only orders that are permutations by construction.
    if (permute.getInverse() && !attn::isSortOrder(permute.getOrder()))
      return permute.emitError(
                 "CUDA target: an inverse attn.permute needs an order of "
                 "attn.sort_ids (a permutation by construction); the CPU "
                 "target checks any order"),
             failure();
    kernel = emitPermuteKernel(kernelBuilder, permute, name + "_permute", sizes,
                               namer);
  }
  if (failed(kernel))
    return failure();
  addStepKernel(*kernel);
  return success();
}

void ProgramCompiler::addStepKernel(LinalgKernel &kernel) {
  const std::string &name = kernel.name;
  json::Value grid = kernel.count;
  if (std::optional<int64_t> n = grid.getAsInteger())
    grid = (*n + kStepThreads - 1) / kStepThreads;
  else
    grid = json::Object{{"ceildiv", json::Array{grid, kStepThreads}}};
  json::Array dims{json::Array{std::move(grid)}, json::Array{}, json::Array{}};
  if (kernel.grid)
    dims = std::move(*kernel.grid);
  std::string cubin = (func.getSymName() + "_linalg").str();
  kernels.push_back(json::Object{{"name", name},
                                 {"cubin", cubin + ".cubin"},
                                 {"ptx", cubin + ".ptx"},
                                 {"block", json::Array{kStepThreads, 1, 1}},
                                 {"grid", std::move(dims)},
                                 {"shared_bytes", 0},
                                 {"params", std::move(kernel.params)}});
  linalgKernels.push_back(name);
}

void ProgramCompiler::renameAliases(json::Object &object) const {
  if (aliases.empty())
    return;
  std::function<void(json::Value &)> rename = [&](json::Value &value) {
    if (value.getAsString()) {
      value = resolve(value);
    } else if (json::Array *array = value.getAsArray()) {
      for (json::Value &element : *array)
        rename(element);
    } else if (json::Object *inner = value.getAsObject()) {
      for (auto &[key, element] : *inner)
        rename(element);
    }
  };
  auto each = [&](StringRef list, ArrayRef<StringRef> members) {
    for (json::Value &entry : *object.getArray(list))
      for (StringRef member : members)
        if (json::Value *value = entry.getAsObject()->get(member))
          rename(*value);
  };
  each("arguments", {"shape"});
  each("results", {"shape"});
  each("symbols", {"value"});
  each("workspace", {"shape"});
  for (json::Value &entry : *object.getArray("constraints"))
    rename(entry);
  each("kernels", {"grid", "if"});
  for (json::Value &kernel : *object.getArray("kernels"))
    for (json::Value &param : *kernel.getAsObject()->getArray("params"))
      for (StringRef member : {"symbol", "shape"})
        if (json::Value *value = param.getAsObject()->get(member))
          rename(*value);
}

FailureOr<json::Object> ProgramCompiler::run() {
  MLIRContext *ctx = func.getContext();
  Block &body = func.getBody().front();
  for (BlockArgument arg : func.getArguments()) {
    Type type = arg.getType();
    auto tensor = dyn_cast<RankedTensorType>(type);
    std::string dtype = dtypeName(tensor ? tensor.getElementType() : type);
    if (dtype.empty())
      return func.emitError("CUDA target: unsupported argument type ") << type,
             failure();
    std::string name = sizes.argumentName(arg.getArgNumber()).str();
    json::Object entry{{"name", name},
                       {"dtype", dtype},
                       {"shape", sizes.argumentShape(arg.getArgNumber())}};
    if (!tensor)
      entry["scalar"] = true;
    if (std::optional<json::Array> range =
            argumentRange(func, arg.getArgNumber()))
      entry["range"] = std::move(*range);
    if (tensor)
      buffers[arg] = name;
    arguments.push_back(std::move(entry));
  }
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  // Appends write into the caller's cache buffer: its result is that
  // buffer, which the function must return (the manifest's "in_place_of"),
  // and nothing may read the cache as it was before.
  for (Operation &op : body) {
    auto append = dyn_cast<attn::AppendPagesOp>(op);
    if (!append)
      continue;
    auto cache = dyn_cast<BlockArgument>(append.getCache());
    if (!cache || cache.getOwner() != &body)
      return append.emitError("CUDA target: the cache of an "
                              "attn.append_pages must be an argument of "
                              "the function (it is appended to in place)"),
             failure();
    if (!cache.hasOneUse())
      return append.emitError("CUDA target: the cache is appended to in "
                              "place, so nothing else may read it: use "
                              "the append's result"),
             failure();
    if (!llvm::is_contained(ret.getOperands(), append.getResult()))
      return append.emitError("CUDA target: the cache is appended to in "
                              "place; return the append's result, so that "
                              "the update is one of the function's results"),
             failure();
    buffers[append.getResult()] = buffers[cache];
  }
  for (auto [k, value] : llvm::enumerate(ret.getOperands())) {
    auto type = dyn_cast<RankedTensorType>(value.getType());
    if (!type)
      return ret.emitError("CUDA target: a program returns tensors only"),
             failure();
    std::string name = k == 0 && type.getRank() >= 3 ? "o"
                       : k == 1 && type.getRank() == 3
                           ? "lse"
                           : "result" + std::to_string(k);
    FailureOr<json::Array> shape = sizes.shape(value);
    if (failed(shape))
      return failure();
    for (auto [d, size] : llvm::enumerate(*shape))
      if (std::optional<StringRef> symbol = size.getAsString();
          symbol && sizes.definition(*symbol))
        return ret.emitError("CUDA target: dimension ")
                   << d << " of result " << k << " is "
                   << ProgramSizes::key(*sizes.definition(*symbol))
                   << ", computed from the argument sizes; the CUDA runtime "
                      "sizes results by the arguments' symbols only",
               failure();
    json::Object entry{{"name", name},
                       {"dtype", dtypeName(type.getElementType())},
                       {"shape", std::move(*shape)}};
    if (value.getDefiningOp<attn::AppendPagesOp>()) {
      entry["in_place_of"] = buffers[value];
      results.push_back(std::move(entry));
      continue;
    }
    results.push_back(std::move(entry));
    buffers[value] = name;
  }

  // The steps, in order; the linalg kernels go into one module.
  OwningOpRef<ModuleOp> linalgModule = ModuleOp::create(func.getLoc());
  linalgModule->getOperation()->setAttr(
      gpu::GPUDialect::getContainerModuleAttrName(), UnitAttr::get(ctx));
  OpBuilder kernelBuilder(ctx);
  kernelBuilder.setInsertionPointToStart(linalgModule->getBody());
  auto gpuModule =
      gpu::GPUModuleOp::create(kernelBuilder, func.getLoc(), "attn_kernels");
  kernelBuilder.setInsertionPointToStart(gpuModule.getBody());

  llvm::SmallPtrSet<Operation *, 16> claimed;
  for (Operation &op : body) {
    if (auto attention = dyn_cast<attn::AttentionOp>(op))
      for (Operation *member : attentionGroup(attention))
        claimed.insert(member);
    if (auto append = dyn_cast<attn::AppendPagesOp>(op))
      if (attn::RopeOp rope = fusedRope(append))
        claimed.insert(rope);
  }
  for (Operation &op : body) {
    if (auto attention = dyn_cast<attn::AttentionOp>(op)) {
      if (failed(attentionStep(attention)))
        return failure();
      continue;
    }
    if (auto append = dyn_cast<attn::AppendPagesOp>(op)) {
      if (failed(appendStep(append, kernelBuilder)))
        return failure();
      continue;
    }
    if (claimed.contains(&op) || isa<func::ReturnOp>(op) || isView(&op) ||
        isa<tensor::EmptyOp, tensor::DimOp>(op))
      continue;
    if (auto fill = dyn_cast<linalg::FillOp>(op); fill && initialisesOnly(fill))
      continue;
    if (auto generic = dyn_cast<linalg::GenericOp>(op)) {
      if (failed(linalgStep(generic, kernelBuilder)))
        return failure();
      continue;
    }
    if (auto assertion = dyn_cast<cf::AssertOp>(op)) {
      if (failed(checkAssert(assertion)))
        return failure();
      continue;
    }
    if (isa<attn::SortIdsOp, attn::PermuteOp>(op)) {
      if (failed(hashStep(&op, kernelBuilder)))
        return failure();
      continue;
    }
    bool tensors = llvm::any_of(
        op.getResultTypes(), [](Type type) { return isa<ShapedType>(type); });
    if (tensors || op.getNumRegions() > 0)
      return op.emitError("CUDA target: '")
                 << op.getName() << "' in @" << func.getSymName()
                 << ": a CUDA program holds attention steps (with the "
                    "producers their kernels read through), attn.merge, "
                    "attn.append_pages (with the attn.rope of its rows), "
                    "attn.sort_ids, attn.permute, linalg ops, tensor reshapes "
                    "and slices, and scalar "
                    "size computations",
             failure();
  }

  if (!dryRun && !linalgKernels.empty()) {
    // exp, log, tanh, ... (the merge's among them) as polynomials: the NVVM
    // lowering would call libdevice, which links only where the CUDA
    // toolkit is found at compile time, and the attention kernels never
    // need it either.
    RewritePatternSet approximations(ctx);
    populateMathPolynomialApproximationPatterns(approximations);
    if (failed(applyPatternsGreedily(*linalgModule, std::move(approximations))))
      return func.emitError("CUDA target: cannot expand the math functions "
                            "of the linalg steps"),
             failure();
    // What is left (fma, floor, absf, ...) as LLVM intrinsics, for the same
    // reason; a math op with none is refused here.
    SmallVector<Operation *> left;
    linalgModule->walk([&](Operation *op) {
      if (isa<math::MathDialect>(op->getDialect()))
        left.push_back(op);
    });
    for (Operation *op : left) {
      OpBuilder b(op);
      Location loc = op->getLoc();
      Type type = op->getResult(0).getType();
      ValueRange in = op->getOperands();
      Value out =
          TypeSwitch<Operation *, Value>(op)
              .Case<math::FmaOp>([&](auto) {
                return LLVM::FMAOp::create(b, loc, type, in[0], in[1], in[2]);
              })
              // The NVVM lowering sends llvm.floor/ceil to libdevice too.
              .Case<math::FloorOp>([&](auto) {
                return roundF32(b, loc, in[0], "cvt.rmi.f32.f32 $0, $1;");
              })
              .Case<math::CeilOp>([&](auto) {
                return roundF32(b, loc, in[0], "cvt.rpi.f32.f32 $0, $1;");
              })
              .Case<math::AbsFOp>(
                  [&](auto) { return LLVM::FAbsOp::create(b, loc, in[0]); })
              .Case<math::SqrtOp>(
                  [&](auto) { return LLVM::SqrtOp::create(b, loc, in[0]); })
              .Case<math::CopySignOp>([&](auto) {
                return LLVM::CopySignOp::create(b, loc, in[0], in[1]);
              })
              .Default([](auto) { return Value(); });
      if (!out)
        return op->emitError("CUDA target: '")
                   << op->getName()
                   << "' in a linalg step has no lowering without libdevice",
               failure();
      op->getResult(0).replaceAllUsesWith(out);
      op->erase();
    }
    CUDAPipelineOptions plain;
    plain.chip = options.chip.getValue();
    FailureOr<CompiledModule> module =
        compileModule(*linalgModule, plain, directory,
                      (func.getSymName() + "_linalg").str(), assembler);
    if (failed(module))
      return failure();
    for (json::Value &entry : kernels) {
      json::Object &kernel = *entry.getAsObject();
      for (const KernelInfo &info : module->kernels)
        if (kernel.getString("name") == info.name) {
          kernel["registers"] = info.registers;
          kernel["spill_bytes"] = info.spillBytes;
        }
    }
  }

  json::Object object;
  object["function"] = func.getSymName().str();
  object["arguments"] = std::move(arguments);
  object["results"] = std::move(results);
  object["constraints"] = std::move(constraints);
  object["symbols"] = json::Array(sizes.derivedSymbols());
  object["workspace"] = std::move(workspace);
  object["kernels"] = std::move(kernels);
  renameAliases(object);
  return object;
}

/// A prepared clone of `spec` and its entry function.
static FailureOr<std::pair<OwningOpRef<ModuleOp>, func::FuncOp>>
preparedClone(ModuleOp spec, bool cluster) {
  OwningOpRef<ModuleOp> clone = cast<ModuleOp>(spec->clone());
  func::FuncOp func = entryFunction(*clone);
  if (!func)
    return emitError(spec.getLoc(), "CUDA target: no public function with a "
                                    "body"),
           failure();
  if (!func.getBody().hasOneBlock())
    return func.emitError("CUDA target: a program is one block"), failure();
  if (failed(prepare(func, cluster)))
    return failure();
  return std::make_pair(std::move(clone), func);
}

LogicalResult attune::cuda::checkProgram(ModuleOp spec) {
  auto prepared = preparedClone(spec, /*cluster=*/true);
  if (failed(prepared))
    return failure();
  CUDAPipelineOptions none;
  return failure(failed(
      ProgramCompiler(prepared->second, none, "", "", /*dryRun=*/true).run()));
}

FailureOr<json::Object>
attune::cuda::compileProgram(ModuleOp spec, const CUDAPipelineOptions &options,
                             StringRef directory, StringRef assembler) {
  auto prepared = preparedClone(spec, options.cluster);
  if (failed(prepared))
    return failure();
  return ProgramCompiler(prepared->second, options, directory, assembler,
                         /*dryRun=*/false)
      .run();
}
