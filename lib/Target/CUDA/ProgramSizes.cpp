//===- ProgramSizes.cpp - Tensor sizes of a program, symbolically -*- C++
//-*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// See ProgramSizes.h.
//
//===----------------------------------------------------------------------===//

#include "ProgramSizes.h"

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace attune;
using namespace attune::cuda;
namespace json = llvm::json;

std::string ProgramSizes::key(const json::Value &expr) {
  return llvm::formatv("{0}", expr).str();
}

json::Value ProgramSizes::combine(StringRef op, json::Value a, json::Value b) {
  std::optional<int64_t> x = a.getAsInteger(), y = b.getAsInteger();
  if (x && y) {
    if (op == "add")
      return *x + *y;
    if (op == "sub")
      return *x - *y;
    if (op == "mul")
      return *x * *y;
    if (op == "max")
      return std::max(*x, *y);
    if (op == "min")
      return std::min(*x, *y);
    if (op == "floordiv" && *y > 0 && *x >= 0)
      return *x / *y;
    if (op == "ceildiv" && *y > 0 && *x >= 0)
      return (*x + *y - 1) / *y;
  }
  if ((op == "add" && y == 0) || (op == "sub" && y == 0) ||
      (op == "mul" && y == 1) ||
      ((op == "floordiv" || op == "ceildiv") && y == 1))
    return a;
  if ((op == "add" && x == 0) || (op == "mul" && x == 1))
    return b;
  return json::Object{{op, json::Array{std::move(a), std::move(b)}}};
}

ProgramSizes::ProgramSizes(func::FuncOp func) : func(func) {
  // Roles of arguments that are Q, K or V of an attention (the first that
  // reads them), directly or as the packed rows an attn.unpack presents
  // (varlen), with the positions of their dimensions.
  // The sizes of a later attention's operands get its number as a suffix
  // (Sq_1, ...): two attentions need not have the same sizes, and where
  // one attention needs two sizes equal its step unifies them.
  struct Role {
    StringRef name;
    attn::LayoutDims at;
    unsigned number;
  };
  DenseMap<Value, Role> roles;
  // Packed rows [T, H, D]: no batch dimension.
  static constexpr attn::LayoutDims kPackedDims{~0u, 1, 0, 2};
  // The offsets of unpacks and of O's attn.pack, named as a one-attention
  // manifest names them (cu_seqlens_q, ...: the GPU check draws valid
  // offsets by these names) with B + 1 entries, or n + 1 where an operand
  // of the attention has the static batch n.
  struct Offsets {
    StringRef name;
    json::Value size;
  };
  DenseMap<Value, Offsets> offsets;
  unsigned attentions = 0;
  // An operand that attn.rope rotates or attn.permute reorders (in the
  // attention's layout, e.g. attn-cluster's sorted rows) has the role of
  // the rope's or permute's input.
  func.walk([&](attn::AttentionOp op) {
    auto unrotated = [&](Value operand) -> Value {
      if (auto permute = operand.getDefiningOp<attn::PermuteOp>();
          permute && permute.getLayout() == op.getLayout())
        operand = permute.getInput();
      if (auto rope = operand.getDefiningOp<attn::RopeOp>();
          rope && rope.getLayout() == op.getLayout())
        return rope.getInput();
      return operand;
    };
    attn::LayoutDims at = op.getLayoutDims();
    json::Value batches =
        attentions ? "B_plus_1_" + std::to_string(attentions) : "B_plus_1";
    for (Value v : {op.getQuery(), op.getKey(), op.getValue(), op.getOutput()})
      if (auto type = cast<RankedTensorType>(v.getType());
          !type.isDynamicDim(at.batch))
        batches = type.getDimSize(at.batch) + 1;
    auto note = [&](Value operand, StringRef role, StringRef offsetsName) {
      operand = unrotated(operand);
      if (auto unpack = operand.getDefiningOp<attn::UnpackOp>()) {
        roles.try_emplace(unpack.getPacked(),
                          Role{role, kPackedDims, attentions});
        offsets.try_emplace(unpack.getCuSeqlens(),
                            Offsets{offsetsName, batches});
        return;
      }
      roles.try_emplace(operand, Role{role, at, attentions});
    };
    note(op.getQuery(), "q", "cu_seqlens_q");
    note(op.getKey(), "k", "cu_seqlens_k");
    note(op.getValue(), "v", "cu_seqlens_v");
    for (Operation *user : op.getOutput().getUsers())
      if (auto pack = dyn_cast<attn::PackOp>(user))
        offsets.try_emplace(pack.getCuSeqlens(),
                            Offsets{"cu_seqlens_o", batches});
    ++attentions;
  });
  llvm::StringSet<> used;
  unsigned captures = 0;
  for (BlockArgument arg : func.getArguments()) {
    auto it = roles.find(arg);
    auto offsetsIt = offsets.find(arg);
    StringRef role = it != roles.end()            ? it->second.name
                     : offsetsIt != offsets.end() ? offsetsIt->second.name
                                                  : StringRef();
    std::string name;
    if (!role.empty()) {
      name = role.str();
      for (unsigned n = 1; used.contains(name); ++n)
        name = (role + "_" + Twine(n)).str();
    } else {
      do
        name = "capture" + std::to_string(captures++);
      while (used.contains(name));
    }
    used.insert(name);
    this->names.push_back(name);
    std::vector<json::Value> dims;
    auto tensor = dyn_cast<RankedTensorType>(arg.getType());
    auto given =
        func.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(), "attn.dims");
    for (int64_t d = 0; tensor && d < tensor.getRank(); ++d) {
      if (!tensor.isDynamicDim(d)) {
        dims.push_back(tensor.getDimSize(d));
        continue;
      }
      if (given && d < static_cast<int64_t>(given.size()))
        if (auto text = dyn_cast<StringAttr>(given[d])) {
          dims.push_back(text.getValue().str());
          this->taken.insert(text.getValue());
          continue;
        }
      if (offsetsIt != offsets.end()) {
        dims.push_back(offsetsIt->second.size);
        if (std::optional<StringRef> symbol =
                offsetsIt->second.size.getAsString())
          this->taken.insert(*symbol);
        continue;
      }
      if (it != roles.end()) {
        attn::LayoutDims at = it->second.at;
        bool query = it->second.name == "q";
        StringRef base = d == at.batch            ? "B"
                         : d == at.head           ? (query ? "Hq" : "Hkv")
                         : d == at.seq            ? (query ? "Sq" : "Sk")
                         : it->second.name == "v" ? "Dv"
                                                  : "D";
        std::string symbol = base.str();
        if (it->second.number > 0)
          symbol += "_" + std::to_string(it->second.number);
        dims.push_back(symbol);
        this->taken.insert(symbol);
        continue;
      }
      dims.push_back(llvm::formatv("{0}_d{1}", name, d).str());
      this->taken.insert(*dims.back().getAsString());
    }
    argumentDims.push_back(std::move(dims));
  }
}

json::Array ProgramSizes::argumentShape(unsigned i) const {
  json::Array shape;
  for (const json::Value &d : argumentDims[i])
    shape.push_back(d);
  return shape;
}

const json::Value *ProgramSizes::definition(StringRef symbol) const {
  for (const json::Value &entry : derived)
    if (entry.getAsObject()->getString("name") == symbol)
      return entry.getAsObject()->get("value");
  return nullptr;
}

/// Defines a derived symbol `member`: `definition` under the key `k` (equal
/// keys, one symbol), named `n<i>` by its position.
std::string ProgramSizes::define(const std::string &k, StringRef member,
                                 json::Value definition) {
  auto it = derivedByKey.find(k);
  if (it != derivedByKey.end())
    return it->second;
  std::string symbol;
  for (size_t n = derived.size(); symbol.empty() || taken.contains(symbol); ++n)
    symbol = "n" + std::to_string(n);
  taken.insert(symbol);
  derived.push_back(
      json::Object{{"name", symbol}, {member, std::move(definition)}});
  derivedByKey[k] = symbol;
  return symbol;
}

json::Value ProgramSizes::name(const json::Value &expr) {
  if (expr.kind() != json::Value::Object)
    return expr;
  return define(key(expr), "value", expr);
}

json::Value ProgramSizes::residentCTAs(StringRef kernel) {
  // Not an expression's key: a printed expression is never a bare string.
  return define(("resident_ctas " + kernel).str(), "resident_ctas",
                kernel.str());
}

FailureOr<json::Array> ProgramSizes::shape(Value tensor) {
  json::Array result;
  auto type = cast<RankedTensorType>(tensor.getType());
  for (int64_t d = 0; d < type.getRank(); ++d) {
    FailureOr<json::Value> size = dim(tensor, d);
    if (failed(size))
      return failure();
    result.push_back(name(*size));
  }
  return result;
}

/// A mixed size (attribute or value) as an expression.
static FailureOr<json::Value> mixed(ProgramSizes &sizes, OpFoldResult size) {
  if (std::optional<int64_t> c = getConstantIntValue(size))
    return json::Value(*c);
  return sizes.index(cast<Value>(size));
}

FailureOr<json::Value> ProgramSizes::dim(Value tensor, int64_t d) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (!type.isDynamicDim(d))
    return json::Value(type.getDimSize(d));
  if (auto arg = dyn_cast<BlockArgument>(tensor)) {
    if (arg.getOwner()->getParentOp() == func)
      return argumentDims[arg.getArgNumber()][d];
    return emitError(arg.getLoc(), "CUDA target: cannot size a block "
                                   "argument of a nested region"),
           failure();
  }
  Operation *op = tensor.getDefiningOp();
  auto result = cast<OpResult>(tensor);
  if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op)) {
    json::Value product = 1;
    // The reassociation is a temporary: held here, not ranged over through
    // a reference into it.
    SmallVector<ReassociationIndices> groups =
        collapse.getReassociationIndices();
    for (int64_t s : groups[d]) {
      FailureOr<json::Value> part = dim(collapse.getSrc(), s);
      if (failed(part))
        return failure();
      product =
          ProgramSizes::combine("mul", std::move(product), std::move(*part));
    }
    return product;
  }
  if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op))
    return mixed(*this, expand.getMixedOutputShape()[d]);
  if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op)) {
    llvm::SmallBitVector dropped = slice.getDroppedDims();
    int64_t kept = -1;
    for (auto [i, size] : llvm::enumerate(slice.getMixedSizes()))
      if (!dropped.test(i) && ++kept == d)
        return mixed(*this, size);
  }
  if (auto empty = dyn_cast<tensor::EmptyOp>(op))
    return mixed(*this, empty.getMixedSizes()[d]);
  if (auto linalg = dyn_cast<linalg::LinalgOp>(op))
    return dim(linalg.getDpsInits()[result.getResultNumber()], d);
  if (auto concat = dyn_cast<tensor::ConcatOp>(op)) {
    if (static_cast<int64_t>(concat.getDim()) != d)
      return dim(concat.getInputs().front(), d);
    json::Value sum = 0;
    for (Value input : concat.getInputs()) {
      FailureOr<json::Value> part = dim(input, d);
      if (failed(part))
        return failure();
      sum = ProgramSizes::combine("add", std::move(sum), std::move(*part));
    }
    return sum;
  }
  if (auto rope = dyn_cast<attn::RopeOp>(op))
    return dim(rope.getInput(), d);
  if (auto permute = dyn_cast<attn::PermuteOp>(op))
    return dim(permute.getInput(), d);
  if (auto sort = dyn_cast<attn::SortIdsOp>(op))
    return dim(sort.getIds(), d);
  if (auto append = dyn_cast<attn::AppendPagesOp>(op))
    return dim(append.getCache(), d);
  if (auto pack = dyn_cast<attn::PackOp>(op)) {
    // [T, H, D]: T the total (given where dynamic), H and D the input's.
    attn::LayoutDims at = pack.getLayoutDims();
    if (d != 0)
      return dim(pack.getInput(), d == 1 ? at.head : at.feature);
    if (pack.getTotal())
      return index(pack.getTotal());
  }
  if (auto unpack = dyn_cast<attn::UnpackOp>(op)) {
    // [B, H, S, D] in its layout: B one less than the offsets, S the
    // max_len (given where dynamic), H and D the packed rows'.
    attn::LayoutDims at = unpack.getLayoutDims();
    if (d == at.batch) {
      FailureOr<json::Value> offsets = dim(unpack.getCuSeqlens(), 0);
      if (failed(offsets))
        return failure();
      return ProgramSizes::combine("sub", std::move(*offsets), 1);
    }
    if (d != at.seq)
      return dim(unpack.getPacked(), d == at.head ? 1 : 2);
    if (unpack.getMaxLen())
      return index(unpack.getMaxLen());
  }
  if (auto attention = dyn_cast<attn::AttentionOp>(op)) {
    // O: Q's shape with V's head size; lse: [B, Hq, Sq] of Q.
    attn::LayoutDims at = attention.getLayoutDims();
    if (result.getResultNumber() == 0)
      return d == at.feature ? dim(attention.getValue(), at.feature)
                             : dim(attention.getQuery(), d);
    int64_t fromQuery[] = {at.batch, at.head, at.seq};
    return dim(attention.getQuery(), fromQuery[d]);
  }
  return op->emitError("CUDA target: cannot tell dimension ")
             << d << " of this '" << op->getName()
             << "' result from the argument sizes",
         failure();
}

FailureOr<json::Value> ProgramSizes::index(Value value) {
  if (std::optional<int64_t> c = getConstantIntValue(value))
    return json::Value(*c);
  Operation *op = value.getDefiningOp();
  if (!op)
    return emitError(value.getLoc(), "CUDA target: a scalar argument cannot "
                                     "size a tensor"),
           failure();
  if (auto dimOp = dyn_cast<tensor::DimOp>(op)) {
    std::optional<int64_t> d = dimOp.getConstantIndex();
    if (!d)
      return op->emitError("CUDA target: tensor.dim of a dynamic dimension "
                           "index"),
             failure();
    return dim(dimOp.getSource(), *d);
  }
  if (isa<arith::IndexCastOp, arith::IndexCastUIOp, arith::ExtSIOp,
          arith::ExtUIOp, arith::TruncIOp>(op))
    return index(op->getOperand(0));
  StringRef kind =
      TypeSwitch<Operation *, StringRef>(op)
          .Case<arith::AddIOp>([](auto) { return "add"; })
          .Case<arith::SubIOp>([](auto) { return "sub"; })
          .Case<arith::MulIOp>([](auto) { return "mul"; })
          .Case<arith::DivUIOp, arith::DivSIOp, arith::FloorDivSIOp>(
              [](auto) { return "floordiv"; })
          .Case<arith::CeilDivUIOp, arith::CeilDivSIOp>(
              [](auto) { return "ceildiv"; })
          .Case<arith::MaxUIOp, arith::MaxSIOp>([](auto) { return "max"; })
          .Case<arith::MinUIOp, arith::MinSIOp>([](auto) { return "min"; })
          .Default([](auto) { return ""; });
  if (kind.empty())
    return op->emitError("CUDA target: cannot compute '")
               << op->getName()
               << "' from the argument sizes (the artifact has no host "
                  "code; sizes may use + - * floordiv ceildiv max min of "
                  "tensor.dim and constants)",
           failure();
  FailureOr<json::Value> lhs = index(op->getOperand(0));
  FailureOr<json::Value> rhs = index(op->getOperand(1));
  if (failed(lhs) || failed(rhs))
    return failure();
  if ((kind == "floordiv" || kind == "ceildiv") &&
      !(rhs->getAsInteger() && *rhs->getAsInteger() > 0))
    return op->emitError("CUDA target: a size may only be divided by a "
                         "positive constant"),
           failure();
  return ProgramSizes::combine(kind, std::move(*lhs), std::move(*rhs));
}
