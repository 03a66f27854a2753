//===- AttnOps.cpp - Attn dialect operations --------------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cfloat>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace attune::attn;

LayoutDims attune::attn::getLayoutDims(Layout layout) {
  switch (layout) {
  case Layout::bhsd:
    return {0, 1, 2, 3};
  case Layout::bshd:
    return {0, 2, 1, 3};
  }
  llvm_unreachable("unknown layout");
}

//===----------------------------------------------------------------------===//
// AttentionOp: builders and accessors
//===----------------------------------------------------------------------===//

void AttentionOp::build(OpBuilder &builder, OperationState &state,
                        Type outputType, Type lseType, Value query, Value key,
                        Value value, ValueRange captures, FloatAttr scale,
                        Layout layout) {
  state.addOperands({query, key, value});
  state.addOperands(captures);
  if (scale)
    state.addAttribute(getScaleAttrName(state.name), scale);
  state.addAttribute(getLayoutAttrName(state.name),
                     LayoutAttr::get(builder.getContext(), layout));
  state.addTypes(outputType);
  if (lseType)
    state.addTypes(lseType);
  state.addRegion();
  state.addRegion();
  state.addRegion();
}

static int64_t dimOf(Value v, unsigned pos) {
  return cast<RankedTensorType>(v.getType()).getDimSize(pos);
}

int64_t AttentionOp::getHeadSize() {
  return dimOf(getQuery(), getLayoutDims().feature);
}
int64_t AttentionOp::getValueHeadSize() {
  return dimOf(getValue(), getLayoutDims().feature);
}
int64_t AttentionOp::getNumQueryHeads() {
  return dimOf(getQuery(), getLayoutDims().head);
}
int64_t AttentionOp::getNumKVHeads() {
  return dimOf(getKey(), getLayoutDims().head);
}

double AttentionOp::getScaleValue() {
  if (std::optional<APFloat> scale = getScale())
    return scale->convertToDouble();
  return 1.0 / std::sqrt(static_cast<double>(getHeadSize()));
}

Value AttentionOp::getYieldedValue(Block *block) {
  return cast<YieldOp>(block->getTerminator()).getValues().front();
}

bool AttentionOp::isScoreBlock(Block *block) {
  return block->getParent() ==
         &cast<AttentionOp>(block->getParentOp()).getScore();
}

unsigned AttentionOp::getNumLeadingArgs(Block *block) {
  auto op = cast<AttentionOp>(block->getParentOp());
  Region *region = block->getParent();
  if (region == &op.getTiles())
    return kNumTileIndexArgs;
  return region == &op.getScore() ? kNumIndexArgs + 1 : kNumIndexArgs;
}

BlockArgument AttentionOp::getIndexArg(Block *block, RegionDim dim) {
  return getIndexArgs(block)[static_cast<unsigned>(dim)];
}

Block::BlockArgListType AttentionOp::getIndexArgs(Block *block) {
  assert(block->getParent() !=
             &cast<AttentionOp>(block->getParentOp()).getTiles() &&
         "the tiles region has box arguments (getTileBoxArgs)");
  unsigned first = isScoreBlock(block) ? 1 : 0;
  return block->getArguments().slice(first, kNumIndexArgs);
}

BlockArgument AttentionOp::getScoreArg(Block *scoreBlock) {
  assert(isScoreBlock(scoreBlock) && "only the score region has s");
  return scoreBlock->getArgument(0);
}

Block::BlockArgListType AttentionOp::getTileBoxArgs(Block *tilesBlock) {
  return tilesBlock->getArguments().take_front(kNumTileIndexArgs);
}

Block::BlockArgListType AttentionOp::getCaptureArgs(Block *block) {
  return block->getArguments().drop_front(getNumLeadingArgs(block));
}

std::optional<unsigned> AttentionOp::getCaptureNumber(Block *block,
                                                      Value value) {
  auto arg = dyn_cast<BlockArgument>(value);
  unsigned numLeading = getNumLeadingArgs(block);
  if (!arg || arg.getOwner() != block || arg.getArgNumber() < numLeading)
    return std::nullopt;
  return arg.getArgNumber() - numLeading;
}

void AttentionOp::getAsmBlockArgumentNames(Region &region,
                                           OpAsmSetValueNameFn setNameFn) {
  if (region.empty())
    return;
  Block &block = region.front();
  if (&region == &getTiles()) {
    static constexpr const char *kBoxNames[] = {"b", "h", "i0", "i1", "j0", "j1"};
    for (unsigned k = 0; k < kNumTileIndexArgs && k < block.getNumArguments();
         ++k)
      setNameFn(block.getArgument(k), kBoxNames[k]);
    return;
  }
  static constexpr const char *kIndexNames[] = {"b", "h", "i", "j"};
  unsigned first = &region == &getScore() ? 1 : 0;
  if (first == 1 && block.getNumArguments() > 0)
    setNameFn(block.getArgument(0), "s");
  for (unsigned k = 0; k < kNumIndexArgs; ++k)
    if (first + k < block.getNumArguments())
      setNameFn(block.getArgument(first + k), kIndexNames[k]);
}

void AttentionOp::inferResultRangesFromOptional(
    ArrayRef<IntegerValueRange>, SetIntLatticeFn setResultRange) {
  // The index arguments of every region are positions or sizes of Q, K and
  // V below 2^31 (the op's contract); captures may hold anything. The
  // mask's and score's (b, h, i, j) are also below a static B, Hq, Sq, Sk.
  unsigned width = IndexType::kInternalStorageBitWidth;
  auto below = [&](int64_t size) {
    return ConstantIntRanges::fromUnsigned(APInt::getZero(width),
                                           APInt(width, size - 1));
  };
  ConstantIntRanges position = below(std::numeric_limits<int32_t>::max());
  SmallVector<ConstantIntRanges> elementPosition(kNumIndexArgs, position);
  auto qType = dyn_cast<RankedTensorType>(getQuery().getType());
  auto kType = dyn_cast<RankedTensorType>(getKey().getType());
  if (qType && kType && qType.getRank() == 4 && kType.getRank() == 4) {
    LayoutDims dims = getLayoutDims();
    int64_t sizes[] = {qType.getDimSize(dims.batch),
                       qType.getDimSize(dims.head), qType.getDimSize(dims.seq),
                       kType.getDimSize(dims.seq)};
    for (auto [range, size] : llvm::zip(elementPosition, sizes))
      if (!ShapedType::isDynamic(size) && size > 0 &&
          size <= std::numeric_limits<int32_t>::max())
        range = below(size);
  }
  for (Region *region : getRegions()) {
    if (region->empty())
      continue;
    Block *block = &region->front();
    // Not verified yet: leave a block without its leading arguments alone.
    if (block->getNumArguments() < getNumLeadingArgs(block))
      continue;
    bool tiles = region == &getTiles();
    Block::BlockArgListType positions =
        tiles ? getTileBoxArgs(block) : getIndexArgs(block);
    for (BlockArgument arg : block->getArguments()) {
      const auto *at = llvm::find(positions, arg);
      if (at != positions.end() && arg.getType().isIndex())
        setResultRange(arg, IntegerValueRange(
                                tiles ? position
                                      : elementPosition[at - positions.begin()]));
      else if (arg.getType().isIntOrIndex())
        setResultRange(arg, IntegerValueRange::getMaxRange(arg));
    }
  }
}

//===----------------------------------------------------------------------===//
// AttentionOp: custom assembly
//===----------------------------------------------------------------------===//
//
//   attn.attention ins(%q, %k, %v : Tq, Tk, Tv)
//       [captures(%c... : Tc...)] [scale(<float>)] [layout(bshd)]
//       [tile_sizes(Tq, Tk)] -> To [, Tlse] [attributes {...}]
//       [score(%s, %b, %h, %i, %j, %c...) { ... }]
//       [mask(%b, %h, %i, %j, %c...) { ... }]
//       [tiles(%b, %h, %i0, %i1, %j0, %j1, %c...) { ... }]
//
// Region argument types are implied by their position (f32 score, index
// indices, then the capture types), so specs stay short.

/// Parses `keyword(%a, %b : Ta, Tb)` into `operands`; the list may be empty.
static ParseResult
parseOperandsWithTypes(OpAsmParser &parser, OperationState &result,
                       SmallVectorImpl<Type> &types) {
  SmallVector<OpAsmParser::UnresolvedOperand> operands;
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseLParen() || parser.parseOperandList(operands))
    return failure();
  if (!operands.empty() && parser.parseColonTypeList(types))
    return failure();
  if (parser.parseRParen())
    return failure();
  if (operands.size() != types.size())
    return parser.emitError(loc, "expected ")
           << operands.size() << " types, got " << types.size();
  return parser.resolveOperands(operands, types, loc, result.operands);
}

ParseResult AttentionOp::parse(OpAsmParser &parser, OperationState &result) {
  MLIRContext *ctx = parser.getContext();
  SMLoc insLoc = parser.getCurrentLocation();
  SmallVector<Type, 3> insTypes;
  if (parser.parseKeyword("ins") ||
      parseOperandsWithTypes(parser, result, insTypes))
    return failure();
  if (insTypes.size() != 3)
    return parser.emitError(insLoc, "expected three operands (query, key, "
                                    "value), got ")
           << insTypes.size();

  SmallVector<Type> captureTypes;
  if (succeeded(parser.parseOptionalKeyword("captures")) &&
      parseOperandsWithTypes(parser, result, captureTypes))
    return failure();

  if (succeeded(parser.parseOptionalKeyword("scale"))) {
    // Parse straight into f32 so that the hexadecimal form the printer uses
    // for values without an exact short decimal spelling (0x4B800000) is read
    // as f32 bits, not as the bits of a double.
    APFloat scale(APFloat::IEEEsingle());
    if (parser.parseLParen() ||
        parser.parseFloat(APFloat::IEEEsingle(), scale) ||
        parser.parseRParen())
      return failure();
    result.addAttribute(getScaleAttrName(result.name),
                        FloatAttr::get(Float32Type::get(ctx), scale));
  }

  if (succeeded(parser.parseOptionalKeyword("layout"))) {
    StringRef name;
    SMLoc loc = parser.getCurrentLocation();
    if (parser.parseLParen() || parser.parseKeyword(&name) ||
        parser.parseRParen())
      return failure();
    std::optional<Layout> layout = symbolizeLayout(name);
    if (!layout)
      return parser.emitError(loc, "expected layout 'bhsd' or 'bshd', got '")
             << name << "'";
    result.addAttribute(getLayoutAttrName(result.name),
                        LayoutAttr::get(ctx, *layout));
  }

  if (succeeded(parser.parseOptionalKeyword("tile_sizes"))) {
    int64_t tq, tk;
    if (parser.parseLParen() || parser.parseInteger(tq) ||
        parser.parseComma() || parser.parseInteger(tk) ||
        parser.parseRParen())
      return failure();
    result.addAttribute(getTileSizesAttrName(result.name),
                        DenseI64ArrayAttr::get(ctx, {tq, tk}));
  }

  SmallVector<Type, 2> resultTypes;
  SMLoc resultLoc = parser.getCurrentLocation();
  if (parser.parseArrow() || parser.parseTypeList(resultTypes))
    return failure();
  if (resultTypes.size() != 1 && resultTypes.size() != 2)
    return parser.emitError(resultLoc, "expected one or two result types "
                                       "(output and optional lse), got ")
           << resultTypes.size();
  result.addTypes(resultTypes);

  SMLoc attrLoc = parser.getCurrentLocation();
  if (parser.parseOptionalAttrDictWithKeyword(result.attributes))
    return failure();
  // `attributes {layout = ..., scale = ...}` may spell the inherent
  // attributes too; check their types here, as the generic form does, since a
  // mistyped one would otherwise be dropped silently when it becomes a
  // property.
  if (failed(verifyInherentAttrs(result.name, result.attributes, [&] {
        return parser.emitError(attrLoc);
      })))
    return failure();

  Region *score = result.addRegion();
  Region *mask = result.addRegion();
  Region *tiles = result.addRegion();
  Type f32 = Float32Type::get(ctx);
  Type index = IndexType::get(ctx);
  // The regions may come in any order, each at most once.
  for (int n = 0; n < 3; ++n) {
    SMLoc loc = parser.getCurrentLocation();
    StringRef kind;
    if (failed(parser.parseOptionalKeyword(&kind, {"score", "mask", "tiles"})))
      break;
    bool isScore = kind == "score", isTiles = kind == "tiles";
    Region *region = isScore ? score : isTiles ? tiles : mask;
    if (!region->empty())
      return parser.emitError(loc, "duplicate '") << kind << "' region";

    SmallVector<Type> argTypes;
    if (isScore)
      argTypes.push_back(f32);
    argTypes.append(isTiles ? kNumTileIndexArgs : kNumIndexArgs, index);
    argTypes.append(captureTypes.begin(), captureTypes.end());

    SmallVector<OpAsmParser::Argument> args;
    if (parser.parseArgumentList(args, OpAsmParser::Delimiter::Paren,
                                 /*allowType=*/false))
      return failure();
    if (args.size() != argTypes.size())
      return parser.emitError(loc, "expected ")
             << argTypes.size() << " " << kind << " region arguments ("
             << (isScore ? "s, b, h, i, j"
                 : isTiles ? "b, h, i0, i1, j0, j1"
                           : "b, h, i, j")
             << " and one per capture), got "
             << args.size();
    for (auto [arg, type] : llvm::zip_equal(args, argTypes))
      arg.type = type;
    if (parser.parseRegion(*region, args))
      return failure();
  }
  return success();
}

void AttentionOp::print(OpAsmPrinter &p) {
  p << " ins(" << getQuery() << ", " << getKey() << ", " << getValue()
    << " : " << getQuery().getType() << ", " << getKey().getType() << ", "
    << getValue().getType() << ")";
  if (!getCaptures().empty()) {
    p << " captures(" << getCaptures() << " : ";
    llvm::interleaveComma(getCaptures().getTypes(), p);
    p << ")";
  }
  if (std::optional<APFloat> scale = getScale()) {
    p << " scale(";
    p.printFloat(*scale);
    p << ")";
  }
  if (getLayout() != Layout::bhsd)
    p << " layout(" << stringifyLayout(getLayout()) << ")";
  if (std::optional<std::pair<int64_t, int64_t>> sizes = getTileSizesPair())
    p << " tile_sizes(" << sizes->first << ", " << sizes->second << ")";
  p << " -> ";
  llvm::interleaveComma(getResultTypes(), p);
  SmallVector<StringRef, 3> elided{getScaleAttrName(), getLayoutAttrName()};
  // A malformed tile_sizes (not two values) stays in the dictionary, so that
  // the printed form still shows it and the verifier names it.
  if (getTileSizesPair() || !getTileSizesAttr())
    elided.push_back(getTileSizesAttrName());
  p.printOptionalAttrDictWithKeyword((*this)->getAttrs(), elided);

  auto printRegion = [&](Region &region, StringRef kind) {
    if (region.empty())
      return;
    p.increaseIndent();
    p.printNewline();
    p << kind << "(";
    llvm::interleaveComma(region.getArguments(), p,
                          [&](BlockArgument arg) { p.printOperand(arg); });
    p << ") ";
    p.printRegion(region, /*printEntryBlockArgs=*/false,
                  /*printBlockTerminators=*/true);
    p.decreaseIndent();
  };
  printRegion(getScore(), "score");
  printRegion(getMask(), "mask");
  printRegion(getTiles(), "tiles");
}

//===----------------------------------------------------------------------===//
// AttentionOp: verification
//===----------------------------------------------------------------------===//

double AttentionOp::getMaxScale(int64_t headSize) {
  return FLT_MAX / (4.0 * double(headSize) * 65504.0 * 65504.0);
}

static bool isSupportedElementType(Type type) {
  return type.isF32() || type.isF16() || type.isBF16();
}

/// Two dimension sizes agree unless both are static and differ.
static bool dimsCompatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

LogicalResult AttentionOp::verify() {
  // The generic form drops a mistyped inherent attribute given in the
  // discardable dictionary (`<{}> {layout = 1}`) and leaves the property null;
  // every accessor below would then dereference it.
  if (!getLayoutAttr())
    return emitOpError("expected a 'layout' attribute of type #attn.layout");

  if (std::optional<ArrayRef<int64_t>> sizes = getTileSizes()) {
    if (sizes->size() != 2 || (*sizes)[0] <= 0 || (*sizes)[1] <= 0) {
      std::string got;
      llvm::raw_string_ostream os(got);
      llvm::interleaveComma(*sizes, os);
      return emitOpError("expected 'tile_sizes' to be two positive integers "
                         "(queries and keys per tile), got [")
             << got << "]";
    }
  }

  auto qType = cast<RankedTensorType>(getQuery().getType());
  auto kType = cast<RankedTensorType>(getKey().getType());
  auto vType = cast<RankedTensorType>(getValue().getType());

  for (auto [name, type] :
       {std::pair<StringRef, RankedTensorType>{"query", qType},
        {"key", kType},
        {"value", vType}}) {
    if (type.getRank() != 4)
      return emitOpError("expected ")
             << name << " to have rank 4, got rank " << type.getRank();
    // An encoding (sparse, packed, ...) changes what the elements mean; the
    // lowerings read Q, K and V as plain dense tensors.
    if (type.getEncoding())
      return emitOpError("expected ")
             << name << " to have no tensor encoding, got " << type;
  }

  // The regions' index arguments are assumed below 2^31 (see
  // inferResultRangesFromOptional), so no static size may reach it.
  for (auto [name, type] :
       {std::pair<StringRef, RankedTensorType>{"query", qType},
        {"key", kType},
        {"value", vType}})
    for (int64_t size : type.getShape())
      if (!ShapedType::isDynamic(size) &&
          size > std::numeric_limits<int32_t>::max())
        return emitOpError("expected every dimension of ")
               << name << " to be below 2^31, got " << size;

  Type elementType = qType.getElementType();
  if (!isSupportedElementType(elementType))
    return emitOpError("expected query element type to be f32, f16 or bf16, "
                       "got ")
           << elementType;
  if (kType.getElementType() != elementType ||
      vType.getElementType() != elementType)
    return emitOpError("expected key and value element types to match the "
                       "query element type ")
           << elementType;

  LayoutDims d = getLayoutDims();
  for (auto [name, type] :
       {std::pair<StringRef, RankedTensorType>{"query", qType},
        {"key", kType},
        {"value", vType}}) {
    for (auto [dimName, pos] : {std::pair<StringRef, unsigned>{"head count",
                                                               d.head},
                                {"head size", d.feature}}) {
      int64_t size = type.getDimSize(pos);
      if (ShapedType::isDynamic(size) || size <= 0)
        return emitOpError("expected ")
               << name << " " << dimName
               << " (dimension " << pos << ") to be static and positive";
    }
  }

  int64_t hq = qType.getDimSize(d.head), hkv = kType.getDimSize(d.head);
  if (vType.getDimSize(d.head) != hkv)
    return emitOpError("expected key and value head counts to match, got ")
           << hkv << " and " << vType.getDimSize(d.head);
  if (hq % hkv != 0)
    return emitOpError("expected query head count ")
           << hq << " to be a multiple of the key/value head count " << hkv;
  if (qType.getDimSize(d.feature) != kType.getDimSize(d.feature))
    return emitOpError("expected query and key head sizes to match, got ")
           << qType.getDimSize(d.feature) << " and "
           << kType.getDimSize(d.feature);

  int64_t qb = qType.getDimSize(d.batch);
  if (!dimsCompatible(qb, kType.getDimSize(d.batch)) ||
      !dimsCompatible(qb, vType.getDimSize(d.batch)) ||
      !dimsCompatible(kType.getDimSize(d.batch), vType.getDimSize(d.batch)))
    return emitOpError("expected query, key and value batch sizes to match");
  if (!dimsCompatible(kType.getDimSize(d.seq), vType.getDimSize(d.seq)))
    return emitOpError("expected key and value sequence lengths to match, got ")
           << kType.getDimSize(d.seq) << " and " << vType.getDimSize(d.seq);

  if (std::optional<APFloat> scale = getScale()) {
    if (!scale->isFiniteNonZero() || scale->isNegative()) {
      // APFloat spells inf and nan the same way on every host, unlike the
      // double formatting of the diagnostic stream.
      SmallString<16> str;
      scale->toString(str);
      return emitOpError("expected scale to be positive and finite, got ")
             << str;
    }
    double bound = getMaxScale(qType.getDimSize(d.feature));
    if (scale->convertToDouble() > bound) {
      SmallString<16> str;
      scale->toString(str);
      return emitOpError("expected scale to be at most ")
             << llvm::formatv("{0:e2}", bound)
             << " (FLT_MAX / (4 * D * 65504^2) for head size D = "
             << qType.getDimSize(d.feature)
             << ", so that scaled scores stay finite in f32), got " << str;
    }
  }

  // The output is [B, Hq, Sq, Dv] in the layout's order, of Q's element type.
  SmallVector<int64_t, 4> outShape(4);
  outShape[d.batch] = qb;
  outShape[d.head] = hq;
  outShape[d.seq] = qType.getDimSize(d.seq);
  outShape[d.feature] = vType.getDimSize(d.feature);
  auto expectedOut = RankedTensorType::get(outShape, elementType);
  auto outType = cast<RankedTensorType>(getOutput().getType());
  if (outType != expectedOut)
    return emitOpError("expected output type ")
           << expectedOut << ", got " << outType;

  if (Value lse = getLse()) {
    auto expectedLse = RankedTensorType::get(
        {qb, hq, qType.getDimSize(d.seq)}, Float32Type::get(getContext()));
    auto lseType = cast<RankedTensorType>(lse.getType());
    if (lseType != expectedLse)
      return emitOpError("expected lse type ")
             << expectedLse << ", got " << lseType;
  }

  for (auto [idx, capture] : llvm::enumerate(getCaptures())) {
    Type type = capture.getType();
    Type scalar = type;
    if (auto tensor = dyn_cast<RankedTensorType>(type))
      scalar = tensor.getElementType();
    if (!isa<IntegerType, IndexType, FloatType>(scalar))
      return emitOpError("expected capture #")
             << idx
             << " to be a ranked tensor or a scalar of integer, index or "
                "float type, got "
             << type;
  }
  return success();
}

/// Verifies one optional region: its arguments, its `attn.yield` and that it
/// has no side effects (regions are evaluated any number of times, in any
/// order, on any target).
static LogicalResult verifyRegion(AttentionOp op, Region &region,
                                  StringRef kind, ArrayRef<Type> argTypes,
                                  Type yieldType) {
  if (region.empty())
    return success();
  Block &block = region.front();
  if (block.getNumArguments() != argTypes.size())
    return op.emitOpError("expected ")
           << kind << " region to have " << argTypes.size()
           << " arguments ("
           << (kind == "score"   ? "s, b, h, i, j"
               : kind == "tiles" ? "b, h, i0, i1, j0, j1"
                                 : "b, h, i, j")
           << " and one per capture), got "
           << block.getNumArguments();
  for (auto [idx, arg, type] :
       llvm::enumerate(block.getArguments(), argTypes))
    if (arg.getType() != type)
      return op.emitOpError("expected ")
             << kind << " region argument #" << idx << " to have type "
             << type << ", got " << arg.getType();

  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield)
    return op.emitOpError("expected ")
           << kind << " region to end with 'attn.yield'";
  if (yield.getValues().size() != 1 ||
      yield.getValues().front().getType() != yieldType)
    return yield.emitOpError("expected to yield a single ")
           << yieldType << " from the " << kind << " region";

  for (Operation &nested : block) {
    if (!isMemoryEffectFree(&nested))
      return nested.emitOpError("has side effects, which are not allowed in "
                                "the ")
             << kind << " region of 'attn.attention'";
  }
  return success();
}

/// For an integer division or remainder (arith or index dialect): whether it
/// is signed. These are undefined behaviour (a trap on x86) for a zero
/// divisor, and the signed ones for INT_MIN / -1.
static std::optional<bool> isSignedDivision(Operation *op) {
  return llvm::StringSwitch<std::optional<bool>>(op->getName().getStringRef())
      .Cases({"arith.divsi", "arith.remsi", "arith.ceildivsi",
              "arith.floordivsi", "index.divs", "index.rems", "index.ceildivs",
              "index.floordivs"},
             true)
      .Cases({"arith.divui", "arith.remui", "arith.ceildivui", "index.divu",
              "index.remu", "index.ceildivu"},
             false)
      .Default(std::nullopt);
}

/// Whether `op` is an integer shift (arith or index dialect): poison when
/// the shift amount is the bit width or more (x86 masks the amount, so the
/// compiled code and the oracle would silently disagree).
static bool isShift(Operation *op) {
  return llvm::is_contained({"arith.shli", "arith.shrsi", "arith.shrui",
                             "index.shl", "index.shrs", "index.shru"},
                            op->getName().getStringRef());
}

/// If `op` is a `tensor.dim` / `memref.dim` whose constant index is not a
/// dimension of its ranked source, that index (UB when it runs).
static std::optional<int64_t> getOutOfRangeDimIndex(Operation *op) {
  StringRef name = op->getName().getStringRef();
  // A capture's defining op may not be verified yet: check its form.
  if ((name != "tensor.dim" && name != "memref.dim") ||
      op->getNumOperands() != 2)
    return std::nullopt;
  auto type = dyn_cast<ShapedType>(op->getOperand(0).getType());
  APInt index;
  if (!type || !type.hasRank() ||
      !matchPattern(op->getOperand(1), m_ConstantInt(&index)))
    return std::nullopt;
  int64_t value = index.getSExtValue();
  if (value >= 0 && value < type.getRank())
    return std::nullopt;
  return value;
}

/// Refuses what would be undefined behaviour when the score and mask regions
/// run, since the targets evaluate them without checks: integer division
/// by a divisor that may be zero (or -1 for a dividend that may be INT_MIN),
/// shifts by an amount that may reach the bit width, and `tensor.dim` past
/// the rank. Divisors and shift amounts are judged by integer ranges
/// (InferIntRangeInterface), which know the index arguments but nothing of
/// captures, so a constant is the usual way to pass.
static LogicalResult verifyDefinedBehaviour(AttentionOp op) {
  for (auto [idx, capture] : llvm::enumerate(op.getCaptures()))
    if (Operation *def = capture.getDefiningOp())
      if (std::optional<int64_t> index = getOutOfRangeDimIndex(def))
        return op.emitOpError("expected capture #")
               << idx << " to be the size of a dimension of its tensor, got "
               << "dimension " << *index << " of a rank-"
               << cast<ShapedType>(def->getOperand(0).getType()).getRank()
               << " value";

  SmallVector<std::tuple<Operation *, bool, StringRef>> divisions;
  SmallVector<std::pair<Operation *, StringRef>> shifts;
  for (auto [region, kind] :
       {std::pair<Region *, StringRef>{&op.getScore(), "score"},
        {&op.getMask(), "mask"}}) {
    WalkResult result = region->walk([&](Operation *nested) {
      if (std::optional<int64_t> index = getOutOfRangeDimIndex(nested)) {
        nested->emitOpError("index ")
            << *index << " is not a dimension of its rank-"
            << cast<ShapedType>(nested->getOperand(0).getType()).getRank()
            << " operand (undefined behaviour in the " << kind
            << " region of 'attn.attention')";
        return WalkResult::interrupt();
      }
      if (std::optional<bool> isSigned = isSignedDivision(nested);
          isSigned && nested->getNumOperands() == 2)
        divisions.push_back({nested, *isSigned, kind});
      if (isShift(nested) && nested->getNumOperands() == 2)
        shifts.push_back({nested, kind});
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return failure();
  }
  if (divisions.empty() && shifts.empty())
    return success();

  // Integer ranges by one forward sweep over the regions: the index
  // arguments from this op's InferIntRangeInterface, every other value from
  // its defining op's, unknown (the full range) where there is none.
  DenseMap<Value, IntegerValueRange> ranges;
  auto set = [&](Value v, const IntegerValueRange &range) {
    ranges[v] = range;
  };
  op.inferResultRangesFromOptional({}, set);
  auto lookup = [&](Value v) {
    auto it = ranges.find(v);
    return it != ranges.end() ? it->second : IntegerValueRange::getMaxRange(v);
  };
  op->walk<WalkOrder::PreOrder>([&](Operation *nested) {
    auto infer = dyn_cast<InferIntRangeInterface>(nested);
    if (!infer || nested == op.getOperation())
      return;
    SmallVector<IntegerValueRange> operands =
        llvm::map_to_vector(nested->getOperands(), lookup);
    infer.inferResultRangesFromOptional(operands, set);
  });
  auto rangeOf = [&](Value v) -> std::optional<ConstantIntRanges> {
    IntegerValueRange range = lookup(v);
    if (range.isUninitialized())
      return std::nullopt;
    return range.getValue();
  };
  for (auto [division, isSigned, kind] : divisions) {
    std::optional<ConstantIntRanges> divisor = rangeOf(division->getOperand(1));
    bool nonZero = divisor && (divisor->umin().isStrictlyPositive() ||
                               divisor->smin().isStrictlyPositive() ||
                               divisor->smax().isNegative());
    if (!nonZero)
      return division->emitOpError("needs a divisor that is provably nonzero "
                                   "in the ")
             << kind
             << " region of 'attn.attention' (division by zero is undefined "
                "behaviour): divide by a nonzero constant";
    if (!isSigned)
      continue;
    std::optional<ConstantIntRanges> dividend =
        rangeOf(division->getOperand(0));
    auto excludes = [](const ConstantIntRanges &r, const APInt &x) {
      return r.umin().ugt(x) || r.umax().ult(x) || r.smin().sgt(x) ||
             r.smax().slt(x);
    };
    unsigned width = divisor->umin().getBitWidth();
    if (!excludes(*divisor, APInt::getAllOnes(width)) &&
        !(dividend && excludes(*dividend, APInt::getSignedMinValue(width))))
      return division->emitOpError("needs a divisor that is provably not -1, "
                                   "or a dividend that is provably not the "
                                   "most negative value, in the ")
             << kind
             << " region of 'attn.attention' (that quotient overflows: "
                "undefined behaviour)";
  }
  for (auto [shift, kind] : shifts) {
    std::optional<ConstantIntRanges> amount = rangeOf(shift->getOperand(1));
    if (amount && amount->umax().ult(amount->umax().getBitWidth()))
      continue;
    unsigned width = amount ? amount->umax().getBitWidth() : 0;
    InFlightDiagnostic diag = shift->emitOpError(
        "needs a shift amount that is provably below the bit width");
    if (width)
      diag << " (" << width << ")";
    return diag << " in the " << kind
                << " region of 'attn.attention' (a larger shift is undefined "
                   "behaviour): shift by a constant or clamp the amount";
  }
  return success();
}

LogicalResult AttentionOp::verifyRegions() {
  MLIRContext *ctx = getContext();
  Type f32 = Float32Type::get(ctx), index = IndexType::get(ctx);
  SmallVector<Type> maskArgs(kNumIndexArgs, index);
  llvm::append_range(maskArgs, getCaptures().getTypes());
  SmallVector<Type> scoreArgs{f32};
  llvm::append_range(scoreArgs, maskArgs);
  if (failed(verifyRegion(*this, getScore(), "score", scoreArgs, f32)))
    return failure();
  SmallVector<Type> tilesArgs(kNumTileIndexArgs, index);
  llvm::append_range(tilesArgs, getCaptures().getTypes());
  if (failed(verifyRegion(*this, getTiles(), "tiles", tilesArgs,
                          IntegerType::get(ctx, 8))))
    return failure();
  if (failed(verifyRegion(*this, getMask(), "mask", maskArgs,
                          IntegerType::get(ctx, 1))))
    return failure();
  return verifyDefinedBehaviour(*this);
}

#define GET_OP_CLASSES
#include "attune/Dialect/Attn/IR/AttnOps.cpp.inc"
