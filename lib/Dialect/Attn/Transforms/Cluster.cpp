//===- Cluster.cpp - attn-cluster: attention over sorted rows -*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Rewrites an attn.attention whose mask holds (ANDed) `ids_q[.., b, h, i] ==
// ids_k[.., b, h / g, j]` into the same attention over queries and keys
// sorted by id (docs/Hashing.md, "The clustering pass"): the mask's id
// ranges then grow along the sorted sequences, so the tile classifier of
// attn-sparsify finds every tile whose buckets differ empty, and the cost
// falls from S^2 to about the sum over buckets of |bucket|^2.
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace attune::attn {
#define GEN_PASS_DEF_ATTNCLUSTER
#include "attune/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attune::attn

using namespace mlir;
using namespace attune::attn;

namespace {
/// One side of the id equality: `extract %ids[c..., b, h', s]` of capture
/// `capture` (its index among the op's captures), where `s` is the region's
/// `i` (queries) or `j` (keys).
struct IdsRead {
  tensor::ExtractOp extract;
  unsigned capture = 0;
  /// The constant leading indices (`c...`, e.g. the hash round).
  SmallVector<int64_t> leading;
  /// The ids' range [0, numIds), known from the op that computed them.
  int64_t numIds = 0;
};

/// The query and key sides of a clusterable mask.
struct IdsMatch {
  IdsRead query, key;
};
} // namespace

/// The number of distinct ids `ids` can hold, when it is the result of an op
/// that bounds them; 0 otherwise.
static int64_t knownNumIds(Value ids) {
  if (auto lsh = ids.getDefiningOp<LshBucketsOp>())
    return lsh.getNumBuckets();
  if (auto centroid = ids.getDefiningOp<NearestCentroidOp>()) {
    int64_t k = centroid.getCentroids().getType().getDimSize(1);
    return ShapedType::isDynamic(k) ? 0 : k;
  }
  return 0;
}

/// Whether `head` is the key/value head of query head `h` for `group` query
/// heads per key/value head: `h` itself when group is 1, else `h / group`.
static bool isKVHead(Value head, Value h, int64_t group) {
  if (head == h)
    return group == 1;
  Operation *def = head.getDefiningOp();
  if (!def || !isa<arith::DivUIOp, arith::DivSIOp, arith::FloorDivSIOp>(def) ||
      def->getOperand(0) != h)
    return false;
  APInt divisor;
  return matchPattern(def->getOperand(1), m_ConstantInt(&divisor)) &&
         divisor == group;
}

/// Matches `value` as an ids read of the op's mask block: an extract of a
/// capture at `[c..., b, head, seq]` with `head` as `isHead` accepts and
/// sizes agreeing (where static) with `operand`'s B, H and S.
static std::optional<IdsRead> matchIdsRead(AttentionOp op, Value value,
                                           Value seq,
                                           function_ref<bool(Value)> isHead,
                                           Value operand) {
  auto extract = value.getDefiningOp<tensor::ExtractOp>();
  if (!extract)
    return std::nullopt;
  auto arg = dyn_cast<BlockArgument>(extract.getTensor());
  Block *mask = op.getMaskBlock();
  if (!arg || arg.getOwner() != mask ||
      arg.getArgNumber() < AttentionOp::kNumIndexArgs)
    return std::nullopt;
  ValueRange indices = extract.getIndices();
  unsigned rank = indices.size();
  if (rank < 3 || indices[rank - 1] != seq ||
      indices[rank - 3] != mask->getArgument(0) || !isHead(indices[rank - 2]))
    return std::nullopt;
  IdsRead read;
  read.extract = extract;
  read.capture = arg.getArgNumber() - AttentionOp::kNumIndexArgs;
  Value ids = op.getCaptures()[read.capture];
  auto type = cast<RankedTensorType>(ids.getType());
  if (!type.getElementType().isInteger(32))
    return std::nullopt;
  for (unsigned d = 0; d + 3 < rank; ++d) {
    std::optional<int64_t> c = getConstantIntValue(indices[d]);
    if (!c || *c < 0 || ShapedType::isDynamic(type.getDimSize(d)) ||
        *c >= type.getDimSize(d))
      return std::nullopt;
    read.leading.push_back(*c);
  }
  // B, H and S of the ids against the operand's (dynamic ones are checked at
  // run time by attn.permute).
  LayoutDims dims = op.getLayoutDims();
  auto operandType = cast<RankedTensorType>(operand.getType());
  unsigned operandDims[3] = {dims.batch, dims.head, dims.seq};
  for (unsigned k = 0; k < 3; ++k) {
    int64_t a = type.getDimSize(rank - 3 + k);
    int64_t b = operandType.getDimSize(operandDims[k]);
    if (!ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b)
      return std::nullopt;
  }
  read.numIds = knownNumIds(ids);
  if (read.numIds < 2)
    return std::nullopt;
  return read;
}

/// Finds an id equality among the conjuncts of the mask's result.
static std::optional<IdsMatch> matchClusterableMask(AttentionOp op) {
  Block *mask = op.getMaskBlock();
  if (!mask || op.getTilesBlock())
    return std::nullopt;
  Value h = mask->getArgument(1);
  Value i = mask->getArgument(2), j = mask->getArgument(3);
  int64_t group = op.getGroupSize();
  SmallVector<Value> worklist{AttentionOp::getYieldedValue(mask)};
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    if (auto andOp = v.getDefiningOp<arith::AndIOp>()) {
      worklist.append({andOp.getLhs(), andOp.getRhs()});
      continue;
    }
    auto cmp = v.getDefiningOp<arith::CmpIOp>();
    if (!cmp || cmp.getPredicate() != arith::CmpIPredicate::eq)
      continue;
    for (auto [x, y] : {std::pair(cmp.getLhs(), cmp.getRhs()),
                        std::pair(cmp.getRhs(), cmp.getLhs())}) {
      auto query = matchIdsRead(
          op, x, i, [&](Value head) { return head == h; }, op.getQuery());
      auto key = matchIdsRead(
          op, y, j, [&](Value head) { return isKVHead(head, h, group); },
          op.getKey());
      if (query && key)
        return IdsMatch{*query, *key};
    }
  }
  return std::nullopt;
}

namespace {
/// The sorted form of one ids capture: its order and sorted ids (captured by
/// the new op at `orderArg` and `sortedArg`), and the [B, H, S] order of the
/// rows the permutes use.
struct SortedIds {
  unsigned orderArg = 0, sortedArg = 0;
  Value rowOrder;
};
} // namespace

/// Sorts `read`'s ids, appending the order and the sorted ids to `captures`.
static SortedIds sortIds(OpBuilder &b, AttentionOp op, const IdsRead &read,
                         SmallVectorImpl<Value> &captures) {
  Location loc = op.getLoc();
  Value ids = op.getCaptures()[read.capture];
  auto type = cast<RankedTensorType>(ids.getType());
  auto sort = SortIdsOp::create(b, loc, type, type, ids, read.numIds);
  SortedIds sorted;
  sorted.orderArg = captures.size();
  captures.push_back(sort.getOrder());
  sorted.sortedArg = captures.size();
  captures.push_back(sort.getSorted());
  sorted.rowOrder = sort.getOrder();
  if (!read.leading.empty()) {
    // The row order of the read's round: ids[c..., :, :, :] as [B, H, S].
    unsigned rank = type.getRank();
    SmallVector<OpFoldResult> offsets, sizes, strides(rank, b.getIndexAttr(1));
    SmallVector<OpFoldResult> all =
        tensor::getMixedSizes(b, loc, sort.getOrder());
    for (unsigned d = 0; d < rank; ++d) {
      bool lead = d < read.leading.size();
      offsets.push_back(b.getIndexAttr(lead ? read.leading[d] : 0));
      sizes.push_back(lead ? b.getIndexAttr(1) : all[d]);
    }
    auto rowType = RankedTensorType::get(type.getShape().take_back(3),
                                         type.getElementType());
    sorted.rowOrder = tensor::ExtractSliceOp::create(
        b, loc, rowType, sort.getOrder(), offsets, sizes, strides);
  }
  return sorted;
}

/// In `block` (a score or mask region of the new op, with the captures from
/// `firstCapture`), reads every query and key index in its original position:
/// uses of `i` become `order_q[c..., b, h, i]` and those of `j`
/// `order_k[c..., b, h / g, j]`.
static void renumberPositions(Block *block, unsigned firstIndex,
                              unsigned firstCapture, const IdsMatch &match,
                              const SortedIds &query, const SortedIds &key,
                              int64_t group, Location loc) {
  Value b = block->getArgument(firstIndex),
        h = block->getArgument(firstIndex + 1);
  Value i = block->getArgument(firstIndex + 2);
  Value j = block->getArgument(firstIndex + 3);
  if (i.use_empty() && j.use_empty())
    return;
  OpBuilder builder = OpBuilder::atBlockBegin(block);
  auto original = [&](Value pos, Value head, const IdsRead &read,
                      const SortedIds &sorted) -> Value {
    SmallVector<Value> at;
    for (int64_t c : read.leading)
      at.push_back(arith::ConstantIndexOp::create(builder, loc, c));
    at.append({b, head, pos});
    Value order = block->getArgument(firstCapture + sorted.orderArg);
    Value id = tensor::ExtractOp::create(builder, loc, order, at);
    // Unsigned: the region sees a nonnegative position, as `i` and `j` are.
    return arith::IndexCastUIOp::create(builder, loc, builder.getIndexType(),
                                        id);
  };
  Value kvHead = h;
  if (group != 1)
    kvHead = arith::DivUIOp::create(
        builder, loc, h, arith::ConstantIndexOp::create(builder, loc, group));
  Value oi = original(i, h, match.query, query);
  Value oj = original(j, kvHead, match.key, key);
  i.replaceAllUsesExcept(oi, oi.getDefiningOp()->getOperand(0).getDefiningOp());
  j.replaceAllUsesExcept(oj, oj.getDefiningOp()->getOperand(0).getDefiningOp());
}

/// Replaces `read`'s extract (now at the original position) by the sorted
/// ids at the sorted position `pos`: the same value, in the form whose
/// per-tile ranges are tight.
static void readSortedIds(const IdsRead &read, const SortedIds &sorted,
                          Value pos, unsigned firstCapture) {
  tensor::ExtractOp extract = read.extract;
  Block *block = extract->getBlock();
  SmallVector<Value> at(extract.getIndices());
  at.back() = pos;
  OpBuilder builder(extract);
  Value ids = tensor::ExtractOp::create(
      builder, extract.getLoc(),
      block->getArgument(firstCapture + sorted.sortedArg), at);
  extract.replaceAllUsesWith(ids);
  extract.erase();
}

/// Removes the captures neither region reads (the unsorted ids, usually).
static void dropUnusedCaptures(AttentionOp op) {
  unsigned numCaptures = op.getCaptures().size();
  unsigned firstOperand = op.getCaptures().getBeginOperandIndex();
  for (unsigned c = numCaptures; c-- > 0;) {
    SmallVector<std::pair<Block *, unsigned>> args;
    bool used = false;
    for (auto [block, first] : {std::pair(op.getScoreBlock(), 1u),
                                std::pair(op.getMaskBlock(), 0u)}) {
      if (!block)
        continue;
      unsigned arg = first + AttentionOp::kNumIndexArgs + c;
      used |= !block->getArgument(arg).use_empty();
      args.emplace_back(block, arg);
    }
    if (used)
      continue;
    for (auto [block, arg] : args)
      block->eraseArgument(arg);
    op->eraseOperand(firstOperand + c);
  }
}

/// Rewrites `op` (matched by `match`) into the attention over sorted rows.
static void cluster(AttentionOp op, const IdsMatch &match) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  SmallVector<Value> captures(op.getCaptures());
  unsigned numCaptures = captures.size();
  SortedIds query = sortIds(b, op, match.query, captures);
  SortedIds key = query;
  bool shared = match.query.capture == match.key.capture &&
                match.query.leading == match.key.leading;
  if (!shared)
    key = sortIds(b, op, match.key, captures);

  Layout layout = op.getLayout();
  auto permute = [&](Value x, Value order, bool inverse) -> Value {
    Layout l = cast<RankedTensorType>(x.getType()).getRank() == 3 ? Layout::bhsd
                                                                  : layout;
    return PermuteOp::create(b, loc, x.getType(), x, order, inverse, l);
  };
  Value q = permute(op.getQuery(), query.rowOrder, false);
  Value k = permute(op.getKey(), key.rowOrder, false);
  Value v = permute(op.getValue(), key.rowOrder, false);
  Value lse = op.getLse();
  auto sortedOp = AttentionOp::create(b, loc, op.getOutput().getType(),
                                      lse ? lse.getType() : Type(), q, k, v,
                                      captures, op.getScaleAttr(), layout);
  if (std::optional<ArrayRef<int64_t>> tiles = op.getTileSizes())
    sortedOp.setTileSizes(*tiles);

  // The regions move over with the new captures' arguments.
  unsigned firstCapture = AttentionOp::kNumIndexArgs;
  for (auto [region, firstIndex] :
       {std::pair(&op.getScore(), 1u), std::pair(&op.getMask(), 0u)}) {
    Region &target = firstIndex ? sortedOp.getScore() : sortedOp.getMask();
    if (region->empty())
      continue;
    target.takeBody(*region);
    Block *block = &target.front();
    for (Value added : ArrayRef<Value>(captures).drop_front(numCaptures))
      block->addArgument(added.getType(), loc);
    renumberPositions(block, firstIndex, firstIndex + firstCapture, match,
                      query, key, op.getGroupSize(), loc);
    if (firstIndex == 0) {
      // The ids the equality compares, at the sorted rows `i` and `j`.
      readSortedIds(match.query, query, block->getArgument(2), firstCapture);
      readSortedIds(match.key, key, block->getArgument(3), firstCapture);
    }
  }

  // The order reads the regions turned out not to need (no use of i or j
  // besides the ids), then the captures nothing reads.
  for (Region *region : {&sortedOp.getScore(), &sortedOp.getMask()})
    if (!region->empty())
      for (Operation &inner :
           llvm::make_early_inc_range(llvm::reverse(region->front())))
        if (isOpTriviallyDead(&inner))
          inner.erase();
  dropUnusedCaptures(sortedOp);

  SmallVector<Value> results{
      permute(sortedOp.getOutput(), query.rowOrder, true)};
  // An lse nothing reads needs no permute (a CUDA program would run it).
  if (lse)
    results.push_back(lse.use_empty()
                          ? sortedOp.getLse()
                          : permute(sortedOp.getLse(), query.rowOrder, true));
  op->replaceAllUsesWith(results);
  op.erase();
}

unsigned attune::attn::clusterBucketedAttention(Operation *root) {
  SmallVector<std::pair<AttentionOp, IdsMatch>> work;
  root->walk([&](AttentionOp op) {
    if (std::optional<IdsMatch> match = matchClusterableMask(op))
      work.emplace_back(op, *match);
  });
  for (auto &[op, match] : work)
    cluster(op, match);
  return work.size();
}

namespace {
struct AttnCluster : attune::attn::impl::AttnClusterBase<AttnCluster> {
  using Base::Base;
  void runOnOperation() override { clusterBucketedAttention(getOperation()); }
};
} // namespace
