//===- OperandSources.cpp - Where Q, K and V are read from ------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "OperandSources.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <array>

using namespace mlir;
using namespace attune;
using namespace attune::cuda;

const OperandSource *OperandSources::find(Value argument) const {
  for (const OperandSource &source : all)
    if (source.argument == argument)
      return &source;
  return nullptr;
}

/// The concatenation along the sequence that produces K or V of `op`, or
/// null if `operand` is not one.
static tensor::ConcatOp sourceConcat(Value operand, attn::AttentionOp op) {
  auto concat = operand.getDefiningOp<tensor::ConcatOp>();
  if (!concat || concat.getDim() != op.getLayoutDims().seq)
    return nullptr;
  return concat;
}

/// The gather of pages that produces K or V of `op` in its layout, or null
/// if `operand` is not one.
static attn::GatherPagesOp sourceGather(Value operand, attn::AttentionOp op) {
  auto gather = operand.getDefiningOp<attn::GatherPagesOp>();
  if (!gather || gather.getLayout() != op.getLayout())
    return nullptr;
  return gather;
}

/// The unpack of a varlen batch that produces Q, K or V of `op` in its
/// layout, or null if `operand` is not one.
static attn::UnpackOp sourceUnpack(Value operand, attn::AttentionOp op) {
  auto unpack = operand.getDefiningOp<attn::UnpackOp>();
  if (!unpack || unpack.getLayout() != op.getLayout())
    return nullptr;
  return unpack;
}

/// The attn.rope that produces Q, K or V of `op`, or null if `operand` is
/// not one.
static attn::RopeOp sourceRope(Value operand) {
  return operand.getDefiningOp<attn::RopeOp>();
}

/// Q, K and V of `op`. (A named array: a braced ValueRange in a range-for
/// would point at an initializer list that is gone when the loop runs.)
static std::array<Value, 3> operandsOf(attn::AttentionOp op) {
  return {op.getQuery(), op.getKey(), op.getValue()};
}

/// Whether `value` is `tensor.dim %argument, 0`.
static bool isRowCountOf(Value value, Value argument) {
  auto dim = value.getDefiningOp<tensor::DimOp>();
  std::optional<int64_t> index = dim ? dim.getConstantIndex() : std::nullopt;
  return dim && dim.getSource() == argument && index == 0;
}

bool attune::cuda::isSourceProducer(Operation *producer,
                                    attn::AttentionOp op) {
  if (auto rope = dyn_cast<attn::RopeOp>(producer))
    return llvm::any_of(operandsOf(op), [&](Value operand) {
      return sourceRope(operand) == rope;
    });
  if (auto unpack = dyn_cast<attn::UnpackOp>(producer))
    return llvm::any_of(operandsOf(op), [&](Value operand) {
      return sourceUnpack(operand, op) == unpack;
    });
  if (auto concat = dyn_cast<tensor::ConcatOp>(producer))
    return sourceConcat(op.getKey(), op) == concat ||
           sourceConcat(op.getValue(), op) == concat;
  if (auto gather = dyn_cast<attn::GatherPagesOp>(producer))
    return sourceGather(op.getKey(), op) == gather ||
           sourceGather(op.getValue(), op) == gather;
  return false;
}

/// Why the gathers of pages that produce K and V (at least one of them
/// does) cannot be read by the kernels, or an empty string.
static std::string checkGathers(attn::AttentionOp op,
                                function_ref<bool(Value)> isArgument) {
  attn::GatherPagesOp key = sourceGather(op.getKey(), op);
  attn::GatherPagesOp value = sourceGather(op.getValue(), op);
  if (!key || !value)
    return "K and V must both be attn.gather_pages in the attention's "
           "layout, or neither";
  if (key.getBlockTable() != value.getBlockTable() ||
      key.getSeqLens() != value.getSeqLens())
    return "the attn.gather_pages read as K and V must use the same block "
           "table and lengths";
  for (attn::GatherPagesOp gather : {key, value}) {
    StringRef name = gather == key ? "K" : "V";
    for (Operation *user : gather->getUsers())
      if (user != op.getOperation())
        return ("the attn.gather_pages read as " + name +
                " may only be used by the attention (the kernels read its "
                "pages; it is never materialised)")
            .str();
    if (!isArgument(gather.getCache()) || !isArgument(gather.getBlockTable()) ||
        !isArgument(gather.getSeqLens()))
      return ("the cache, block table and lengths of the attn.gather_pages "
              "read as " +
              name + " must be function arguments")
          .str();
    // f32 inputs are split into bf16 planes by a kernel of their own, which
    // would copy the whole cache.
    if (!gather.getCache().getType().getElementType().isBF16() &&
        !gather.getCache().getType().getElementType().isF16())
      return "a paged KV cache must be bf16 or f16 on this target (f32 "
             "inputs are split into bf16 planes, which would copy the whole "
             "cache)";
  }
  return "";
}

/// Why the unpack that produces operand `name` cannot be read by the
/// kernels, or an empty string.
static std::string checkUnpack(attn::UnpackOp unpack, attn::AttentionOp op,
                               StringRef name,
                               function_ref<bool(Value)> isArgument) {
  for (Operation *user : unpack->getUsers())
    if (user != op.getOperation())
      return ("the attn.unpack read as " + name +
              " may only be used by the attention (the kernels read its "
              "packed rows; it is never materialised)")
          .str();
  if (!isArgument(unpack.getPacked()) || !isArgument(unpack.getCuSeqlens()))
    return ("the packed tensor and offsets of the attn.unpack read as " + name +
            " must be function arguments")
        .str();
  Type element = unpack.getPacked().getType().getElementType();
  // f32 inputs are split into bf16 planes by kernels of their own, which
  // do not know packed tensors.
  if (!element.isBF16() && !element.isF16())
    return ("the attn.unpack read as " + name +
            " must be bf16 or f16 on this target (f32 inputs are split into "
            "bf16 planes, which do not take packed tensors)")
        .str();
  return "";
}

/// Why the rope that produces operand `name` cannot be read by the kernels,
/// or an empty string.
static std::string checkRope(attn::RopeOp rope, attn::AttentionOp op,
                             StringRef name,
                             function_ref<bool(Value)> isArgument) {
  for (Operation *user : rope->getUsers())
    if (user != op.getOperation())
      return ("the attn.rope read as " + name +
              " may only be used by the attention")
          .str();
  if (!isArgument(rope.getInput()) ||
      (rope.getPositions() && !isArgument(rope.getPositions())) ||
      (rope.getFreqScales() && !isArgument(rope.getFreqScales())))
    return ("the input, positions and frequency scales of the attn.rope "
            "read as " +
            name + " must be function arguments")
        .str();
  return "";
}

std::optional<OperandSources>
attune::cuda::getOperandSources(attn::AttentionOp op, std::string &reason) {
  auto func = dyn_cast<func::FuncOp>(op->getParentOp());
  auto isArgument = [&](Value value) {
    auto arg = dyn_cast<BlockArgument>(value);
    return arg && func && arg.getOwner() == &func.getBody().front();
  };
  int64_t seqDim = op.getLayoutDims().seq;
  // Each operand's arguments.
  SmallVector<SmallVector<BlockArgument, 2>, 3> parts;
  StringRef names[] = {"Q", "K", "V"};
  std::array<Value, 3> operands = operandsOf(op);
  for (auto [index, operand] : llvm::enumerate(operands)) {
    SmallVector<BlockArgument, 2> &args = parts.emplace_back();
    if (isArgument(operand)) {
      args.push_back(cast<BlockArgument>(operand));
      continue;
    }
    if (attn::RopeOp rope = sourceRope(operand)) {
      // A rotated operand: one source, the rope's input.
      reason = checkRope(rope, op, names[index], isArgument);
      if (!reason.empty())
        return std::nullopt;
      args.push_back(cast<BlockArgument>(rope.getInput()));
      continue;
    }
    if (attn::UnpackOp unpack = sourceUnpack(operand, op)) {
      // A varlen operand: one source, the packed tensor.
      reason = checkUnpack(unpack, op, names[index], isArgument);
      if (!reason.empty())
        return std::nullopt;
      args.push_back(cast<BlockArgument>(unpack.getPacked()));
      continue;
    }
    if (index && sourceGather(operand, op)) {
      // A paged cache: one source, the cache, checked below.
      args.push_back(
          dyn_cast<BlockArgument>(sourceGather(operand, op).getCache()));
      continue;
    }
    tensor::ConcatOp concat = index ? sourceConcat(operand, op) : nullptr;
    if (!concat) {
      reason = "Q, K and V must be function arguments, or K and V a "
               "tensor.concat of function arguments along the sequence "
               "(dimension " +
               std::to_string(seqDim) +
               ") or attn.gather_pages of a paged cache, or any of them an "
               "attn.unpack of a function argument in the attention's "
               "layout or an attn.rope of one; " +
               names[index].str() + " is not";
      return std::nullopt;
    }
    for (Operation *user : concat->getUsers())
      if (user != op.getOperation()) {
        reason = "the tensor.concat read as " + names[index].str() +
                 " may only be used by the attention (the kernels read its "
                 "parts; it is never materialised)";
        return std::nullopt;
      }
    for (Value input : concat.getInputs()) {
      if (!isArgument(input)) {
        reason = "the parts of the tensor.concat read as " +
                 names[index].str() + " must be function arguments";
        return std::nullopt;
      }
      args.push_back(cast<BlockArgument>(input));
    }
  }
  attn::GatherPagesOp keyPages = sourceGather(op.getKey(), op);
  attn::GatherPagesOp valuePages = sourceGather(op.getValue(), op);
  if (keyPages || valuePages) {
    reason = checkGathers(op, isArgument);
    if (!reason.empty())
      return std::nullopt;
  }
  bool concatenated = parts[1].size() > 1 || parts[2].size() > 1 ||
                      sourceConcat(op.getKey(), op) ||
                      sourceConcat(op.getValue(), op);
  if (concatenated && parts[1].size() != parts[2].size()) {
    reason = "K and V must be concatenations of as many parts (K has " +
             std::to_string(parts[1].size()) + ", V " +
             std::to_string(parts[2].size()) + ")";
    return std::nullopt;
  }

  // The sequence length of part `i` as the manifest names it: a static size
  // or a symbol.
  auto partLength = [&](BlockArgument arg, size_t i) -> std::string {
    auto type = cast<RankedTensorType>(arg.getType());
    if (!type.isDynamicDim(seqDim))
      return std::to_string(type.getDimSize(seqDim));
    if (auto dims =
            func.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(), "attn.dims"))
      if (seqDim < static_cast<int64_t>(dims.size()))
        if (auto name = dyn_cast<StringAttr>(dims[seqDim]))
          return name.getValue().str();
    return "Sk" + std::to_string(i);
  };
  OperandSources sources;
  const char *roles[] = {"q", "k", "v"};
  for (unsigned operand = 0; operand < 3; ++operand) {
    sources.first[operand] = sources.all.size();
    for (auto [i, arg] : llvm::enumerate(parts[operand])) {
      OperandSource source{arg,     roles[operand], operand == 0 ? "Sq" : "Sk",
                           nullptr, nullptr,        nullptr};
      source.unpack = sourceUnpack(operands[operand], op);
      source.rope = sourceRope(operands[operand]);
      source.ropeOnLoad =
          source.rope && operand == 0 &&
          source.rope.getLayout() == op.getLayout() &&
          ropeFitsChunks(
              source.rope,
              cast<RankedTensorType>(arg.getType()).getElementType());
      if (keyPages && operand > 0) {
        source.role += "_cache";
        source.seqName.clear();
        source.pages = operand == 1 ? keyPages : valuePages;
      } else if (concatenated && operand > 0) {
        source.role += std::to_string(i);
        source.seqName = partLength(arg, i);
      }
      sources.all.push_back(std::move(source));
    }
  }
  sources.first[3] = sources.all.size();
  if (concatenated)
    for (size_t i = 0; i < parts[1].size(); ++i)
      if (partLength(parts[1][i], i) != partLength(parts[2][i], i)) {
        reason = "part " + std::to_string(i) +
                 " of the K and V concatenations must have the same "
                 "sequence length, the same static size or the same "
                 "attn.dims name (K's is " +
                 partLength(parts[1][i], i) + ", V's " +
                 partLength(parts[2][i], i) + ")";
        return std::nullopt;
      }
  return sources;
}

FailureOr<attn::PackOp> attune::cuda::getFusedPack(attn::AttentionOp op,
                                                   std::string &reason) {
  auto pack = dyn_cast_or_null<attn::PackOp>(op->getNextNode());
  attn::UnpackOp query = sourceUnpack(op.getQuery(), op);
  if (!pack || pack.getInput() != op.getOutput()) {
    // O is returned padded [B, H, S, Dv]; the manifest names a dynamic S
    // "Sq", the packed queries' row count, which must then be S.
    if (query && query.getMaxLen() &&
        !isRowCountOf(query.getMaxLen(), query.getPacked())) {
      reason = "the max_len of the attn.unpack read as Q must be the packed "
               "queries' row count (tensor.dim of them along 0) when O is "
               "returned padded";
      return failure();
    }
    return attn::PackOp();
  }
  auto fail = [&](const char *why) {
    reason = why;
    return failure();
  };
  auto func = dyn_cast<func::FuncOp>(op->getParentOp());
  auto offsets = dyn_cast<BlockArgument>(pack.getCuSeqlens());
  if (!func || !offsets || offsets.getOwner() != &func.getBody().front())
    return fail("the offsets of the attn.pack of O must be a function "
                "argument");
  if (pack.getLayout() != op.getLayout())
    return fail("the attn.pack of O must be in the attention's layout");
  if (op.getLse())
    return fail("an attention whose O goes through attn.pack may not have "
                "an lse result on this target");
  if (!op.getOutput().hasOneUse())
    return fail("the O that goes through attn.pack may only be used by it");
  // The result's rows: static, or the packed queries' row count, which the
  // manifest names "Sq".
  if (pack.getTotal() &&
      !(query && isRowCountOf(pack.getTotal(), query.getPacked())))
    return fail("the total of the attn.pack of O must be static or the "
                "packed queries' row count (tensor.dim of the packed Q along "
                "0) on this target");
  return pack;
}
