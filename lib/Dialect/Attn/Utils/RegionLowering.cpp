//===- RegionLowering.cpp - Lowering the score and mask regions -*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/Utils/RegionLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <functional>
#include <optional>

using namespace mlir;
using namespace attune::attn;

//===----------------------------------------------------------------------===//
// Which values vary per element
//===----------------------------------------------------------------------===//

RegionVariance::RegionVariance(Block *block, ArrayRef<Value> seeds,
                               bool opaqueOpsVary) {
  varying.insert(seeds.begin(), seeds.end());
  for (Operation &nested : block->without_terminator())
    if (hasVaryingOperand(nested) ||
        (opaqueOpsVary &&
         (nested.getNumRegions() > 0 || nested.getNumResults() != 1)))
      varying.insert(nested.getResults().begin(), nested.getResults().end());
}

bool RegionVariance::hasVaryingOperand(Operation &op) const {
  return llvm::any_of(op.getOperands(),
                      [&](Value operand) { return varying.contains(operand); });
}

AffineCasts
attune::attn::findAffineCasts(Block *block,
                              function_ref<bool(Value)> isInvariant) {
  // Values known as ci i + cj j + (invariant): the position arguments, and
  // what integer adds, subtracts, multiplies by small constants and casts
  // that keep the value make of them and invariants.
  AffineCasts casts;
  llvm::DenseMap<Value, std::pair<int64_t, int64_t>> forms;
  forms[AttentionOp::getIndexArg(block, RegionDim::I)] = {1, 0};
  forms[AttentionOp::getIndexArg(block, RegionDim::J)] = {0, 1};
  auto formOf = [&](Value v) -> std::optional<std::pair<int64_t, int64_t>> {
    if (isInvariant(v) && isa<IntegerType, IndexType>(v.getType()))
      return std::make_pair(int64_t(0), int64_t(0));
    auto it = forms.find(v);
    if (it == forms.end())
      return std::nullopt;
    return it->second;
  };
  // Whether every transitive user of `v` makes floats or i1: nothing
  // computed from the cast may become an index (reads would need clamped
  // positions, which are not affine).
  std::function<bool(Value)> feedsOnlyFloats = [&](Value v) {
    return llvm::all_of(v.getUsers(), [&](Operation *user) {
      if (user->hasTrait<OpTrait::IsTerminator>())
        return true;
      if (user->getNumRegions() || !isPure(user))
        return false;
      return llvm::all_of(user->getResults(), [&](Value result) {
        Type type = result.getType();
        return (isa<FloatType>(type) || type.isInteger(1)) &&
               feedsOnlyFloats(result);
      });
    });
  };
  for (Operation &nested : block->without_terminator()) {
    if (nested.getNumResults() != 1)
      continue;
    Value result = nested.getResult(0);
    std::optional<std::pair<int64_t, int64_t>> form;
    APInt constant;
    if (auto add = dyn_cast<arith::AddIOp>(nested)) {
      auto x = formOf(add.getLhs()), y = formOf(add.getRhs());
      if (x && y)
        form = std::make_pair(x->first + y->first, x->second + y->second);
    } else if (auto sub = dyn_cast<arith::SubIOp>(nested)) {
      auto x = formOf(sub.getLhs()), y = formOf(sub.getRhs());
      if (x && y)
        form = std::make_pair(x->first - y->first, x->second - y->second);
    } else if (auto mulOp = dyn_cast<arith::MulIOp>(nested)) {
      auto x = formOf(mulOp.getLhs());
      if (x && matchPattern(mulOp.getRhs(), m_ConstantInt(&constant)) &&
          constant.getSignificantBits() <= 16)
        form = std::make_pair(x->first * constant.getSExtValue(),
                              x->second * constant.getSExtValue());
    } else if (isa<arith::IndexCastOp, arith::ExtSIOp>(nested) ||
               (isa<arith::TruncIOp>(nested) &&
                result.getType().getIntOrFloatBitWidth() >= 32)) {
      form = formOf(nested.getOperand(0));
    } else if (isa<arith::SIToFPOp>(nested) && result.getType().isF32()) {
      auto x = formOf(nested.getOperand(0));
      if (x && *x != std::make_pair(int64_t(0), int64_t(0)) &&
          feedsOnlyFloats(result))
        casts[&nested] = *x;
    }
    if (form)
      forms[result] = *form;
  }
  return casts;
}

//===----------------------------------------------------------------------===//
// Inlining into a target's loop body
//===----------------------------------------------------------------------===//

void attune::attn::mapRegionArguments(Block *block, Value score,
                                      ArrayRef<Value> indices,
                                      ValueRange captures, IRMapping &mapping) {
  assert(indices.size() == AttentionOp::kNumIndexArgs &&
         "one value (or null) per index argument");
  if (score)
    mapping.map(AttentionOp::getScoreArg(block), score);
  for (auto [arg, value] : llvm::zip(AttentionOp::getIndexArgs(block), indices))
    if (value)
      mapping.map(arg, value);
  for (auto [arg, capture] :
       llvm::zip(AttentionOp::getCaptureArgs(block), captures))
    mapping.map(arg, capture);
}

Value attune::attn::emitBufferRead(OpBuilder &b, Operation *read, Value buffer,
                                   ValueRange operands) {
  if (isa<tensor::ExtractOp>(read))
    return memref::LoadOp::create(b, read->getLoc(), buffer, operands);
  assert(isa<tensor::DimOp>(read) && operands.size() == 1 &&
         "a tensor.extract or tensor.dim");
  return memref::DimOp::create(b, read->getLoc(), buffer, operands.front());
}

bool attune::attn::readCapture(OpBuilder &b, Operation &nested,
                               IRMapping &mapping,
                               ArrayRef<Value> captureBuffers) {
  if (!isa<tensor::ExtractOp, tensor::DimOp>(nested))
    return false;
  std::optional<unsigned> capture =
      AttentionOp::getCaptureNumber(nested.getBlock(), nested.getOperand(0));
  if (!capture || *capture >= captureBuffers.size())
    return false;
  Value buffer = captureBuffers[*capture];
  if (!buffer || !isa<MemRefType>(buffer.getType()))
    return false;
  SmallVector<Value> operands;
  for (Value operand : nested.getOperands().drop_front())
    operands.push_back(mapping.lookupOrDefault(operand));
  mapping.map(nested.getResult(0),
              emitBufferRead(b, &nested, buffer, operands));
  return true;
}

void attune::attn::rewriteBufferReads(Operation *root) {
  SmallVector<Operation *> reads;
  root->walk([&](Operation *nested) {
    if (isa<tensor::ExtractOp, tensor::DimOp>(nested) &&
        isa<MemRefType>(nested->getOperand(0).getType()))
      reads.push_back(nested);
  });
  for (Operation *read : reads) {
    OpBuilder b(read);
    // The operand is already a memref: the typed accessors (getTensor)
    // would assert, so read the operands generically.
    read->getResult(0).replaceAllUsesWith(emitBufferRead(
        b, read, read->getOperand(0), read->getOperands().drop_front()));
    read->erase();
  }
}

Value attune::attn::inlineRegion(OpBuilder &b, Block *block, IRMapping &mapping,
                                 ArrayRef<Value> captureBuffers,
                                 RegionOpEmitter emitOp,
                                 function_ref<void(Operation *)> onClone) {
  for (Operation &nested : block->without_terminator()) {
    if (emitOp && emitOp(nested, mapping))
      continue;
    if (readCapture(b, nested, mapping, captureBuffers))
      continue;
    Operation *clone = b.clone(nested, mapping);
    if (onClone)
      onClone(clone);
  }
  return mapping.lookupOrDefault(AttentionOp::getYieldedValue(block));
}

void attune::attn::hoistInvariants(OpBuilder &b, Block *block,
                                   const RegionVariance &variance,
                                   IRMapping &mapping,
                                   ArrayRef<Value> captureBuffers,
                                   IRMapping &hoisted) {
  for (Operation &nested : block->without_terminator()) {
    if (!variance.isHoistable(nested))
      continue;
    if (!readCapture(b, nested, mapping, captureBuffers))
      b.clone(nested, mapping);
    hoisted.map(nested.getResult(0), mapping.lookup(nested.getResult(0)));
  }
}

bool attune::attn::lookupHoisted(Operation &nested, const IRMapping &hoisted,
                                 IRMapping &mapping) {
  if (nested.getNumResults() != 1)
    return false;
  Value value = hoisted.lookupOrNull(nested.getResult(0));
  if (!value)
    return false;
  mapping.map(nested.getResult(0), value);
  return true;
}

Value attune::attn::cloneDependencies(OpBuilder &b, Block *block, Value value,
                                      IRMapping &mapping,
                                      const IRMapping &hoisted) {
  if (Value mapped = mapping.lookupOrNull(value))
    return mapped;
  if (Value hoistedValue = hoisted.lookupOrNull(value))
    return hoistedValue;
  Operation *def = value.getDefiningOp();
  assert(def && def->getBlock() == block && "an op of the region");
  for (Value operand : def->getOperands())
    cloneDependencies(b, block, operand, mapping, hoisted);
  b.clone(*def, mapping);
  return mapping.lookup(value);
}
