//===- MaskAnalysis.cpp - Empty / full / partial mask tiles -----*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "attune/Analysis/MaskAnalysis.h"

#include "attune/Analysis/MaskInterpreter.h"
#include "attune/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <deque>
#include <map>

using namespace mlir;
using namespace attune::attn;

//===----------------------------------------------------------------------===//
// Compiling a mask region
//===----------------------------------------------------------------------===//

static_assert(static_cast<int>(arith::CmpIPredicate::eq) == 0 &&
                  static_cast<int>(arith::CmpIPredicate::ne) == 1 &&
                  static_cast<int>(arith::CmpIPredicate::slt) == 2 &&
                  static_cast<int>(arith::CmpIPredicate::sle) == 3 &&
                  static_cast<int>(arith::CmpIPredicate::sgt) == 4 &&
                  static_cast<int>(arith::CmpIPredicate::sge) == 5 &&
                  static_cast<int>(arith::CmpIPredicate::ult) == 6 &&
                  static_cast<int>(arith::CmpIPredicate::ule) == 7 &&
                  static_cast<int>(arith::CmpIPredicate::ugt) == 8 &&
                  static_cast<int>(arith::CmpIPredicate::uge) == 9,
              "MaskInterpreter::cmp relies on the predicate numbering");

/// The bit width of a scalar integer or index type the analysis handles
/// (index is 64 bits), or nullopt.
static std::optional<unsigned> getScalarWidth(Type type) {
  if (type.isIndex())
    return 64;
  if (auto intType = dyn_cast<IntegerType>(type))
    if (intType.isSignless() && intType.getWidth() <= 64)
      return intType.getWidth();
  return std::nullopt;
}

namespace {
/// Builds a MaskProgram from the ops of a mask block.
class MaskCompiler {
public:
  explicit MaskCompiler(MaskProgram &p) : p(p) {}

  void compile(Block &mask) {
    for (auto [k, arg] : llvm::enumerate(AttentionOp::getIndexArgs(&mask)))
      slots[arg] = push(MaskOpcode::IndexArg, /*isBool=*/false, 64, k);
    p.numCaptures = AttentionOp::getCaptureArgs(&mask).size();
    for (unsigned k = 0; k < p.numCaptures; ++k) {
      BlockArgument arg = AttentionOp::getCaptureArg(&mask, k);
      if (std::optional<unsigned> w = getScalarWidth(arg.getType()))
        slots[arg] = push(MaskOpcode::Capture, *w == 1, *w, k);
    }
    for (Operation &op : mask.without_terminator())
      if (failed(compileOp(&op)))
        unsupported(&op);
    Value yielded = AttentionOp::getYieldedValue(&mask);
    auto it = slots.find(yielded);
    p.result = it != slots.end() && p.insts[it->second].isBool
                   ? it->second
                   : push(MaskOpcode::Top, /*isBool=*/true, 1);
  }

private:
  MaskProgram &p;
  DenseMap<Value, unsigned> slots;

  unsigned push(MaskOpcode opcode, bool isBool, unsigned width, int64_t imm = 0,
                ArrayRef<unsigned> operands = {}) {
    MaskInst inst;
    inst.opcode = opcode;
    inst.isBool = isBool;
    inst.width = isBool ? 1 : width;
    inst.imm = imm;
    inst.operands.assign(operands.begin(), operands.end());
    p.insts.push_back(std::move(inst));
    return p.insts.size() - 1;
  }

  /// The slot of `v`, if it is an integer or i1 the program computes.
  std::optional<unsigned> lookup(Value v) {
    auto it = slots.find(v);
    if (it == slots.end())
      return std::nullopt;
    return it->second;
  }

  /// Gives every integer or i1 result of `op` the value "anything".
  void unsupported(Operation *op) {
    ++p.numUnsupported;
    for (Value r : op->getResults())
      if (std::optional<unsigned> w = getScalarWidth(r.getType()))
        slots[r] = push(MaskOpcode::Top, *w == 1, *w);
  }

  /// Defines `result` by `opcode` over the slots of `operands`.
  LogicalResult define(Value result, MaskOpcode opcode, ValueRange operands,
                       int64_t imm = 0) {
    std::optional<unsigned> w = getScalarWidth(result.getType());
    if (!w)
      return failure();
    SmallVector<unsigned> ops;
    for (Value v : operands) {
      std::optional<unsigned> s = lookup(v);
      if (!s)
        return failure();
      ops.push_back(*s);
    }
    slots[result] = push(opcode, *w == 1, *w, imm, ops);
    return success();
  }

  /// An integer binary op; on i1 only the logic ops are understood.
  LogicalResult binary(Operation *op, MaskOpcode opcode) {
    Value r = op->getResult(0);
    if (r.getType().isInteger(1)) {
      switch (opcode) {
      case MaskOpcode::AndI:
        opcode = MaskOpcode::AndB;
        break;
      case MaskOpcode::OrI:
        opcode = MaskOpcode::OrB;
        break;
      case MaskOpcode::XOrI:
        opcode = MaskOpcode::XOrB;
        break;
      default:
        return failure();
      }
    }
    return define(r, opcode, op->getOperands());
  }

  /// maxsi(a, b) - minsi(a, b) (or the unsigned pair) with the same
  /// operands, in any order: |a - b|.
  LogicalResult subtract(arith::SubIOp op) {
    Operation *lhs = op.getLhs().getDefiningOp();
    Operation *rhs = op.getRhs().getDefiningOp();
    std::optional<MaskOpcode> absDiff;
    if (lhs && rhs && isa<arith::MaxSIOp>(lhs) && isa<arith::MinSIOp>(rhs))
      absDiff = MaskOpcode::AbsDiffS;
    if (lhs && rhs && isa<arith::MaxUIOp>(lhs) && isa<arith::MinUIOp>(rhs))
      absDiff = MaskOpcode::AbsDiffU;
    if (absDiff) {
      Value a = lhs->getOperand(0), b = lhs->getOperand(1);
      Value c = rhs->getOperand(0), d = rhs->getOperand(1);
      if ((a == c && b == d) || (a == d && b == c))
        return define(op, *absDiff, ValueRange{a, b});
    }
    return binary(op, MaskOpcode::Sub);
  }

  /// Integer casts: extension, truncation, index casts.
  LogicalResult cast(Operation *op, bool isSigned) {
    Value in = op->getOperand(0), out = op->getResult(0);
    std::optional<unsigned> from = getScalarWidth(in.getType());
    std::optional<unsigned> to = getScalarWidth(out.getType());
    if (!from || !to)
      return failure();
    if (*from == 1 && *to == 1)
      return define(out, MaskOpcode::AndB, ValueRange{in, in});
    if (*from == 1)
      return define(out, MaskOpcode::BoolToInt, in, isSigned);
    if (*to == 1)
      return define(out, MaskOpcode::LowBit, in);
    if (*to < *from)
      return define(out, MaskOpcode::Trunc, in);
    if (isSigned || *to == *from)
      return define(out, MaskOpcode::ExtSI, in);
    if (*from >= 63)
      return failure();
    return define(out, MaskOpcode::ExtUI, in);
  }

  LogicalResult compare(arith::CmpIOp op) {
    std::optional<unsigned> w = getScalarWidth(op.getLhs().getType());
    std::optional<unsigned> lhs = lookup(op.getLhs());
    std::optional<unsigned> rhs = lookup(op.getRhs());
    if (!w || !lhs || !rhs)
      return failure();
    if (*w == 1) {
      // Compare i1 values as the integers -1 and 0.
      lhs = push(MaskOpcode::BoolToInt, /*isBool=*/false, 1, 1, {*lhs});
      rhs = push(MaskOpcode::BoolToInt, /*isBool=*/false, 1, 1, {*rhs});
    }
    slots[op] = push(MaskOpcode::Cmp, /*isBool=*/true, 1,
                     static_cast<int64_t>(op.getPredicate()), {*lhs, *rhs});
    // `width` of a Cmp is the width of its operands.
    p.insts.back().width = *w;
    return success();
  }

  LogicalResult constant(arith::ConstantOp op) {
    auto attr = dyn_cast<IntegerAttr>(op.getValue());
    std::optional<unsigned> w = getScalarWidth(op.getType());
    if (!attr || !w)
      return failure();
    int64_t v = *w == 1 ? (attr.getValue().isZero() ? 0 : 1)
                        : attr.getValue().getSExtValue();
    slots[op] = push(MaskOpcode::Const, *w == 1, *w, v);
    return success();
  }

  LogicalResult extract(tensor::ExtractOp op) {
    std::optional<unsigned> capture =
        AttentionOp::getCaptureNumber(op->getBlock(), op.getTensor());
    if (!capture)
      return failure();
    return define(op, MaskOpcode::Extract, op.getIndices(), *capture);
  }

  LogicalResult compileOp(Operation *op) {
    using O = MaskOpcode;
    return TypeSwitch<Operation *, LogicalResult>(op)
        .Case([&](arith::ConstantOp c) { return constant(c); })
        .Case([&](arith::AddIOp o) { return binary(o, O::Add); })
        .Case([&](arith::SubIOp o) { return subtract(o); })
        .Case([&](arith::MulIOp o) { return binary(o, O::Mul); })
        .Case([&](arith::DivSIOp o) { return binary(o, O::DivSI); })
        .Case([&](arith::DivUIOp o) { return binary(o, O::DivUI); })
        .Case([&](arith::CeilDivSIOp o) { return binary(o, O::CeilDivSI); })
        .Case([&](arith::CeilDivUIOp o) { return binary(o, O::CeilDivUI); })
        .Case([&](arith::FloorDivSIOp o) { return binary(o, O::FloorDivSI); })
        .Case([&](arith::RemSIOp o) { return binary(o, O::RemSI); })
        .Case([&](arith::RemUIOp o) { return binary(o, O::RemUI); })
        .Case([&](arith::MinSIOp o) { return binary(o, O::MinSI); })
        .Case([&](arith::MaxSIOp o) { return binary(o, O::MaxSI); })
        .Case([&](arith::MinUIOp o) { return binary(o, O::MinUI); })
        .Case([&](arith::MaxUIOp o) { return binary(o, O::MaxUI); })
        .Case([&](arith::ShLIOp o) { return binary(o, O::ShlI); })
        .Case([&](arith::ShRSIOp o) { return binary(o, O::ShrSI); })
        .Case([&](arith::ShRUIOp o) { return binary(o, O::ShrUI); })
        .Case([&](arith::AndIOp o) { return binary(o, O::AndI); })
        .Case([&](arith::OrIOp o) { return binary(o, O::OrI); })
        .Case([&](arith::XOrIOp o) { return binary(o, O::XOrI); })
        .Case([&](math::AbsIOp o) {
          if (o.getType().isInteger(1)) // |x| of an i1 is x.
            return define(o, O::AndB,
                          ValueRange{o.getOperand(), o.getOperand()});
          return define(o, O::AbsI, o.getOperand());
        })
        .Case([&](arith::CmpIOp o) { return compare(o); })
        .Case([&](arith::SelectOp o) {
          if (!o.getCondition().getType().isInteger(1))
            return failure();
          return define(o, o.getType().isInteger(1) ? O::SelectB : O::Select,
                        o->getOperands());
        })
        .Case([&](arith::ExtSIOp o) { return cast(o, /*isSigned=*/true); })
        .Case([&](arith::ExtUIOp o) { return cast(o, /*isSigned=*/false); })
        .Case([&](arith::TruncIOp o) { return cast(o, /*isSigned=*/true); })
        .Case([&](arith::IndexCastOp o) { return cast(o, /*isSigned=*/true); })
        .Case(
            [&](arith::IndexCastUIOp o) { return cast(o, /*isSigned=*/false); })
        .Case([&](tensor::ExtractOp o) { return extract(o); })
        .Default([](Operation *) { return failure(); });
  }
};
} // namespace

std::unique_ptr<MaskProgram> MaskProgram::compile(Block &mask) {
  auto program = std::make_unique<MaskProgram>();
  MaskCompiler(*program).compile(mask);
  return program;
}

static StringRef getOpcodeName(MaskOpcode opcode) {
  switch (opcode) {
  case MaskOpcode::Top:
    return "Top";
  case MaskOpcode::Const:
    return "Const";
  case MaskOpcode::IndexArg:
    return "IndexArg";
  case MaskOpcode::Capture:
    return "Capture";
  case MaskOpcode::Extract:
    return "Extract";
  case MaskOpcode::Add:
    return "Add";
  case MaskOpcode::Sub:
    return "Sub";
  case MaskOpcode::Mul:
    return "Mul";
  case MaskOpcode::DivSI:
    return "DivSI";
  case MaskOpcode::DivUI:
    return "DivUI";
  case MaskOpcode::CeilDivSI:
    return "CeilDivSI";
  case MaskOpcode::CeilDivUI:
    return "CeilDivUI";
  case MaskOpcode::FloorDivSI:
    return "FloorDivSI";
  case MaskOpcode::RemSI:
    return "RemSI";
  case MaskOpcode::RemUI:
    return "RemUI";
  case MaskOpcode::MinSI:
    return "MinSI";
  case MaskOpcode::MaxSI:
    return "MaxSI";
  case MaskOpcode::MinUI:
    return "MinUI";
  case MaskOpcode::MaxUI:
    return "MaxUI";
  case MaskOpcode::AbsI:
    return "AbsI";
  case MaskOpcode::AbsDiffS:
    return "AbsDiffS";
  case MaskOpcode::AbsDiffU:
    return "AbsDiffU";
  case MaskOpcode::ShlI:
    return "ShlI";
  case MaskOpcode::ShrSI:
    return "ShrSI";
  case MaskOpcode::ShrUI:
    return "ShrUI";
  case MaskOpcode::AndI:
    return "AndI";
  case MaskOpcode::OrI:
    return "OrI";
  case MaskOpcode::XOrI:
    return "XOrI";
  case MaskOpcode::Cmp:
    return "Cmp";
  case MaskOpcode::Select:
    return "Select";
  case MaskOpcode::ExtSI:
    return "ExtSI";
  case MaskOpcode::ExtUI:
    return "ExtUI";
  case MaskOpcode::Trunc:
    return "Trunc";
  case MaskOpcode::BoolToInt:
    return "BoolToInt";
  case MaskOpcode::LowBit:
    return "LowBit";
  case MaskOpcode::AndB:
    return "AndB";
  case MaskOpcode::OrB:
    return "OrB";
  case MaskOpcode::XOrB:
    return "XOrB";
  case MaskOpcode::SelectB:
    return "SelectB";
  }
  return "?";
}

void MaskProgram::print(raw_ostream &os) const {
  for (auto [n, inst] : llvm::enumerate(insts)) {
    os << "  %" << n << " = " << getOpcodeName(inst.opcode);
    if (inst.opcode == MaskOpcode::Cmp)
      os << " "
         << arith::stringifyCmpIPredicate(
                static_cast<arith::CmpIPredicate>(inst.imm));
    else if (inst.imm != 0 || inst.opcode == MaskOpcode::Const)
      os << " [" << inst.imm << "]";
    for (unsigned o : inst.operands)
      os << " %" << o;
    os << " : " << (inst.isBool ? "i1" : "i" + std::to_string(inst.width))
       << "\n";
  }
  os << "  yield %" << result << "\n";
}

//===----------------------------------------------------------------------===//
// The static domain: int64 bounds, bool tri-states
//===----------------------------------------------------------------------===//

namespace {
struct StaticDomain {
  using Int = int64_t;
  using Bool = bool;
  static constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

  const IndexBox &box;
  ArrayRef<std::optional<Interval>> captureValues;
  ExtractRangeFn extractRange;

  static Int wrap(uint64_t v) { return static_cast<int64_t>(v); }

  Int cst(int64_t v) { return v; }
  Bool cstBool(bool v) { return v; }
  Int add(Int a, Int b) { return wrap(uint64_t(a) + uint64_t(b)); }
  Int sub(Int a, Int b) { return wrap(uint64_t(a) - uint64_t(b)); }
  Int mul(Int a, Int b) { return wrap(uint64_t(a) * uint64_t(b)); }
  Bool addOverflow(Int a, Int b) {
    int64_t r;
    return __builtin_add_overflow(a, b, &r);
  }
  Bool subOverflow(Int a, Int b) {
    int64_t r;
    return __builtin_sub_overflow(a, b, &r);
  }
  Bool mulOverflow(Int a, Int b) {
    int64_t r;
    return __builtin_mul_overflow(a, b, &r);
  }
  /// Like the emitted domain, a zero divisor or MIN / -1 divides by 1.
  static Int safeDivisor(Int a, Int b) {
    return b == 0 || (a == kMin && b == -1) ? 1 : b;
  }
  Int divTrunc(Int a, Int b) { return a / safeDivisor(a, b); }
  Int divFloor(Int a, Int b) {
    b = safeDivisor(a, b);
    Int q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
  }
  Int divCeil(Int a, Int b) {
    b = safeDivisor(a, b);
    Int q = a / b;
    return (a % b != 0 && ((a < 0) == (b < 0))) ? q + 1 : q;
  }
  Int remTrunc(Int a, Int b) { return a % safeDivisor(a, b); }
  Int smin(Int a, Int b) { return std::min(a, b); }
  Int smax(Int a, Int b) { return std::max(a, b); }
  Int bitAnd(Int a, Int b) { return a & b; }
  Int bitOr(Int a, Int b) { return a | b; }
  Int bitXor(Int a, Int b) { return a ^ b; }
  Int shl(Int a, Int s) { return s < 0 || s > 63 ? 0 : wrap(uint64_t(a) << s); }
  Int ashr(Int a, Int s) { return a >> (s < 0 || s > 63 ? 63 : s); }
  Bool lt(Int a, Int b) { return a < b; }
  Bool le(Int a, Int b) { return a <= b; }
  Bool eq(Int a, Int b) { return a == b; }
  Bool band(Bool a, Bool b) { return a && b; }
  Bool bor(Bool a, Bool b) { return a || b; }
  Bool bxor(Bool a, Bool b) { return a != b; }
  Bool bnot(Bool a) { return !a; }
  Int select(Bool c, Int a, Int b) { return c ? a : b; }
  Bool selectBool(Bool c, Bool a, Bool b) { return c ? a : b; }

  std::pair<Int, Int> indexArg(unsigned k) {
    const Interval &iv = k == 0   ? box.b
                         : k == 1 ? box.h
                         : k == 2 ? box.i
                                  : box.j;
    return {iv.lo, iv.hi};
  }

  /// `iv` within the range of a `width`-bit type (i1 intervals are over
  /// {0, 1} and stay as they are).
  static std::optional<std::pair<Int, Int>> clamp(Interval iv, unsigned width) {
    if (width == 1)
      return std::make_pair(iv.lo, iv.hi);
    using I = MaskInterpreter<StaticDomain>;
    Int lo = std::max(iv.lo, I::minOf(width));
    Int hi = std::min(iv.hi, I::maxOf(width));
    if (lo > hi)
      return std::nullopt;
    return std::make_pair(lo, hi);
  }

  std::optional<std::pair<Int, Int>> capture(unsigned k, unsigned width) {
    if (k >= captureValues.size() || !captureValues[k])
      return std::nullopt;
    return clamp(*captureValues[k], width);
  }

  std::optional<std::pair<Int, Int>>
  extract(unsigned k, ArrayRef<std::pair<Int, Int>> indices, unsigned width) {
    if (extractRange) {
      SmallVector<Interval> ivs;
      for (auto [lo, hi] : indices)
        ivs.push_back({lo, hi});
      if (std::optional<Interval> r = extractRange(k, ivs))
        return clamp(*r, width);
    }
    return capture(k, width);
  }
};
} // namespace

MaskClassifier::MaskClassifier(AttentionOp op) {
  if (Block *mask = op.getMaskBlock())
    program = MaskProgram::compile(*mask);
}
MaskClassifier::~MaskClassifier() = default;
MaskClassifier::MaskClassifier(MaskClassifier &&) = default;
MaskClassifier &MaskClassifier::operator=(MaskClassifier &&) = default;

TileClass
MaskClassifier::classify(const IndexBox &box,
                         ArrayRef<std::optional<Interval>> captureValues,
                         ExtractRangeFn extractRange) const {
  if (!program)
    return TileClass::Full;
  StaticDomain domain{box, captureValues, extractRange};
  MaskInterpreter<StaticDomain> interp(domain);
  auto [mayTrue, mayFalse] = interp.run(*program);
  if (!mayTrue)
    return TileClass::Empty;
  if (!mayFalse)
    return TileClass::Full;
  return TileClass::Partial;
}

TileClass
MaskClassifier::classifyRefined(const IndexBox &box, unsigned budget,
                                ArrayRef<std::optional<Interval>> captureValues,
                                ExtractRangeFn extractRange) const {
  TileClass whole = classify(box, captureValues, extractRange);
  if (whole != TileClass::Partial || budget == 0)
    return whole;
  // Breadth first over a partition of the box.
  std::deque<IndexBox> pending{box};
  bool sawFull = false, sawEmpty = false;
  while (!pending.empty()) {
    IndexBox piece = pending.front();
    pending.pop_front();
    Interval *coords[] = {&piece.b, &piece.h, &piece.i, &piece.j};
    Interval *longest =
        *llvm::max_element(coords, [](Interval *x, Interval *y) {
          return uint64_t(x->hi) - uint64_t(x->lo) <
                 uint64_t(y->hi) - uint64_t(y->lo);
        });
    if (longest->isPoint() || budget < 2)
      return TileClass::Partial;
    // Halves [lo, mid] and [mid + 1, hi], without overflow.
    int64_t mid = longest->lo +
                  int64_t((uint64_t(longest->hi) - uint64_t(longest->lo)) / 2);
    Interval saved = *longest;
    for (Interval half :
         {Interval(saved.lo, mid), Interval(mid + 1, saved.hi)}) {
      *longest = half;
      --budget;
      switch (classify(piece, captureValues, extractRange)) {
      case TileClass::Full:
        sawFull = true;
        break;
      case TileClass::Empty:
        sawEmpty = true;
        break;
      case TileClass::Partial:
        pending.push_back(piece);
        break;
      }
      if (sawFull && sawEmpty)
        return TileClass::Partial;
    }
  }
  return sawFull ? TileClass::Full : TileClass::Empty;
}

TileClass
attune::attn::classifyMaskTile(AttentionOp op, const IndexBox &box,
                               ArrayRef<std::optional<Interval>> captureValues,
                               ExtractRangeFn extractRange) {
  return MaskClassifier(op).classify(box, captureValues, extractRange);
}

//===----------------------------------------------------------------------===//
// Tile maps
//===----------------------------------------------------------------------===//

char attune::attn::getTileClassChar(TileClass cls) {
  switch (cls) {
  case TileClass::Empty:
    return '.';
  case TileClass::Full:
    return '#';
  case TileClass::Partial:
    return '+';
  }
  return '?';
}

int64_t TileMap::count(TileClass cls) const { return llvm::count(tiles, cls); }

double TileMap::nonEmptyFraction() const {
  if (tiles.empty())
    return 0.0;
  return double(tiles.size() - count(TileClass::Empty)) / tiles.size();
}

void TileMap::print(raw_ostream &os, StringRef indent) const {
  for (int64_t r = 0; r < numRows; ++r) {
    os << indent << '|';
    for (int64_t c = 0; c < numCols; ++c)
      os << getTileClassChar(at(r, c));
    os << "|\n";
  }
  int64_t total = tiles.size(), empty = count(TileClass::Empty);
  os << indent << total << " tiles (" << numRows << " x " << numCols
     << "): " << count(TileClass::Full) << " full, "
     << count(TileClass::Partial) << " partial, " << empty
     << " empty; non-empty " << (total - empty) << "/" << total << " ("
     << llvm::format("%.1f", 100.0 * nonEmptyFraction()) << "%)\n";
}

/// Escapes text for an SVG text node.
static std::string escapeXML(StringRef s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += ch;
    }
  }
  return out;
}

static StringRef getTileClassColor(TileClass cls) {
  switch (cls) {
  case TileClass::Empty:
    return "#f0f0f0";
  case TileClass::Full:
    return "#1f4e79";
  case TileClass::Partial:
    return "#f4a261";
  }
  return "#000000";
}

void TileMap::printSVG(raw_ostream &os, StringRef title) const {
  int64_t longest = std::max<int64_t>({numRows, numCols, 1});
  // Cells of 2..24 pixels, about 720 pixels for the longer side.
  int64_t cell = std::clamp<int64_t>(720 / longest, 2, 24);
  int64_t margin = 10, top = 30, legend = 40;
  // Wide enough for the legend and the title (about 7 pixels a character).
  int64_t width = std::max<int64_t>({numCols * cell + 2 * margin, 460,
                                     int64_t(7 * title.size()) + 2 * margin});
  int64_t height = top + numRows * cell + legend + margin;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width
     << "\" height=\"" << height << "\" viewBox=\"0 0 " << width << " "
     << height << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  os << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  os << "<text x=\"" << margin << "\" y=\"20\">" << escapeXML(title)
     << "</text>\n";
  os << "<g shape-rendering=\"crispEdges\">\n";
  // One rectangle per run of equal tiles in a row.
  for (int64_t r = 0; r < numRows; ++r) {
    for (int64_t c = 0; c < numCols;) {
      TileClass cls = at(r, c);
      int64_t end = c + 1;
      while (end < numCols && at(r, end) == cls)
        ++end;
      os << "<rect x=\"" << margin + c * cell << "\" y=\"" << top + r * cell
         << "\" width=\"" << (end - c) * cell << "\" height=\"" << cell
         << "\" fill=\"" << getTileClassColor(cls) << "\"/>\n";
      c = end;
    }
  }
  os << "</g>\n";
  os << "<rect x=\"" << margin << "\" y=\"" << top << "\" width=\""
     << numCols * cell << "\" height=\"" << numRows * cell
     << "\" fill=\"none\" stroke=\"#808080\"/>\n";
  int64_t y = top + numRows * cell + 22, x = margin;
  int64_t total = tiles.size();
  for (TileClass cls :
       {TileClass::Full, TileClass::Partial, TileClass::Empty}) {
    StringRef name = cls == TileClass::Full      ? "full"
                     : cls == TileClass::Partial ? "partial"
                                                 : "empty";
    os << "<rect x=\"" << x << "\" y=\"" << y - 10 << "\" width=\"12\" "
       << "height=\"12\" fill=\"" << getTileClassColor(cls)
       << "\" stroke=\"#808080\"/>\n";
    os << "<text x=\"" << x + 16 << "\" y=\"" << y << "\">" << name << " "
       << count(cls) << "</text>\n";
    x += 110;
  }
  os << "<text x=\"" << x << "\" y=\"" << y << "\">non-empty "
     << llvm::format("%.1f", 100.0 * nonEmptyFraction()) << "% of " << total
     << "</text>\n";
  os << "</svg>\n";
}

TileMap attune::attn::computeTileMap(
    AttentionOp op, Interval batch, Interval head, int64_t seqQ, int64_t seqK,
    int64_t tileQ, int64_t tileK,
    ArrayRef<std::optional<Interval>> captureValues,
    ExtractRangeFn extractRange, unsigned refineBudget) {
  assert(tileQ > 0 && tileK > 0 && seqQ >= 0 && seqK >= 0 &&
         "expected positive tiles and non-negative sizes");
  TileMap map;
  map.seqQ = seqQ;
  map.seqK = seqK;
  map.tileQ = tileQ;
  map.tileK = tileK;
  map.numRows = (seqQ + tileQ - 1) / tileQ;
  map.numCols = (seqK + tileK - 1) / tileK;
  map.tiles.reserve(map.numRows * map.numCols);
  MaskClassifier classifier(op);
  for (int64_t r = 0; r < map.numRows; ++r) {
    for (int64_t c = 0; c < map.numCols; ++c) {
      IndexBox box{batch,
                   head,
                   {r * tileQ, std::min((r + 1) * tileQ, seqQ) - 1},
                   {c * tileK, std::min((c + 1) * tileK, seqK) - 1}};
      map.tiles.push_back(classifier.classifyRefined(
          box, refineBudget, captureValues, extractRange));
    }
  }
  return map;
}

//===----------------------------------------------------------------------===//
// The emitted domain: arith ops on i64 bounds and i1 tri-states
//===----------------------------------------------------------------------===//

namespace {
struct EmitDomain {
  using Int = Value;
  using Bool = Value;

  OpBuilder &b;
  Location loc;
  ValueRange boxLo, boxHi, captures;
  EmitExtractRangeFn extractRange;
  Type i64, i1;
  // Not a DenseMap: INT64_MAX and INT64_MAX - 1 are its reserved keys.
  std::map<int64_t, Value> constants;
  Value trueValue, falseValue;
  DenseMap<Value, Value> asI64;

  EmitDomain(OpBuilder &b, Location loc, ValueRange boxLo, ValueRange boxHi,
             ValueRange captures, EmitExtractRangeFn extractRange)
      : b(b), loc(loc), boxLo(boxLo), boxHi(boxHi), captures(captures),
        extractRange(extractRange), i64(b.getI64Type()), i1(b.getI1Type()) {}

  Int cst(int64_t v) {
    Value &c = constants[v];
    if (!c)
      c = arith::ConstantIntOp::create(b, loc, i64, v);
    return c;
  }
  Bool cstBool(bool v) {
    Value &c = v ? trueValue : falseValue;
    if (!c)
      c = arith::ConstantIntOp::create(b, loc, i1, v);
    return c;
  }

  template <typename OpTy> Value fold(Value x, Value y) {
    return b.createOrFold<OpTy>(loc, x, y);
  }

  Int add(Int x, Int y) { return fold<arith::AddIOp>(x, y); }
  Int sub(Int x, Int y) { return fold<arith::SubIOp>(x, y); }
  Int mul(Int x, Int y) { return fold<arith::MulIOp>(x, y); }
  Bool lt(Int x, Int y) {
    return b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, x, y);
  }
  Bool le(Int x, Int y) {
    return b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::sle, x, y);
  }
  Bool eq(Int x, Int y) {
    return b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, x, y);
  }
  /// Signed overflow of x + y: both operands differ in sign from the sum.
  Bool addOverflow(Int x, Int y) {
    Value s = add(x, y);
    return lt(bitAnd(bitXor(x, s), bitXor(y, s)), cst(0));
  }
  /// Signed overflow of x - y: the operands differ in sign, and the
  /// difference differs from x.
  Bool subOverflow(Int x, Int y) {
    Value s = sub(x, y);
    return lt(bitAnd(bitXor(x, y), bitXor(x, s)), cst(0));
  }
  Bool mulOverflow(Int x, Int y) {
    SmallVector<Value, 2> parts;
    b.createOrFold<arith::MulSIExtendedOp>(parts, loc, x, y);
    return b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::ne,
                                         parts[1], ashr(parts[0], cst(63)));
  }
  /// A divisor that never traps: 1 where y is 0 or x / y overflows.
  Value safeDivisor(Int x, Int y) {
    Bool bad =
        bor(eq(y, cst(0)), band(eq(x, cst(std::numeric_limits<int64_t>::min())),
                                eq(y, cst(-1))));
    return select(bad, cst(1), y);
  }
  Int divTrunc(Int x, Int y) {
    return fold<arith::DivSIOp>(x, safeDivisor(x, y));
  }
  /// x / y rounded toward zero, then adjusted by `step` (-1 for floor, +1
  /// for ceil) where the division is inexact and the exact quotient is
  /// negative (floor) or positive (ceil). Spelled with divsi and remsi
  /// rather than floordivsi / ceildivsi, whose folders give up where an
  /// intermediate of their expansion overflows.
  Int divRounded(Int x, Int y, int64_t step) {
    Value d = safeDivisor(x, y);
    Value q = fold<arith::DivSIOp>(x, d);
    Value r = fold<arith::RemSIOp>(x, d);
    Bool inexact =
        b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, r, cst(0));
    Bool negative = bxor(lt(x, cst(0)), lt(d, cst(0)));
    Bool adjust = band(inexact, step < 0 ? negative : bnot(negative));
    return select(adjust, add(q, cst(step)), q);
  }
  Int divFloor(Int x, Int y) { return divRounded(x, y, -1); }
  Int divCeil(Int x, Int y) { return divRounded(x, y, +1); }
  Int remTrunc(Int x, Int y) {
    return fold<arith::RemSIOp>(x, safeDivisor(x, y));
  }
  Int smin(Int x, Int y) { return fold<arith::MinSIOp>(x, y); }
  Int smax(Int x, Int y) { return fold<arith::MaxSIOp>(x, y); }
  Int bitAnd(Int x, Int y) { return fold<arith::AndIOp>(x, y); }
  Int bitOr(Int x, Int y) { return fold<arith::OrIOp>(x, y); }
  Int bitXor(Int x, Int y) { return fold<arith::XOrIOp>(x, y); }
  /// Shift amount `s` if it is in [0, 63], else `fallback` (no poison).
  Value safeShift(Int s, int64_t fallback) {
    Bool ok = b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, s,
                                            cst(64));
    return select(ok, s, cst(fallback));
  }
  Int shl(Int x, Int s) {
    Bool ok = b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, s,
                                            cst(64));
    return select(ok, fold<arith::ShLIOp>(x, safeShift(s, 0)), cst(0));
  }
  Int ashr(Int x, Int s) { return fold<arith::ShRSIOp>(x, safeShift(s, 63)); }
  Bool band(Bool x, Bool y) { return fold<arith::AndIOp>(x, y); }
  Bool bor(Bool x, Bool y) { return fold<arith::OrIOp>(x, y); }
  Bool bxor(Bool x, Bool y) { return fold<arith::XOrIOp>(x, y); }
  Bool bnot(Bool x) { return bxor(x, cstBool(true)); }
  Int select(Bool c, Int x, Int y) {
    return b.createOrFold<arith::SelectOp>(loc, c, x, y);
  }
  Bool selectBool(Bool c, Bool x, Bool y) { return select(c, x, y); }

  /// An integer, index or i1 scalar as i64 (sign-extended; i1 as 0 / 1).
  Value toI64(Value v) {
    Value &cached = asI64[v];
    if (cached)
      return cached;
    Type t = v.getType();
    if (t.isIndex())
      cached = b.createOrFold<arith::IndexCastOp>(loc, i64, v);
    else if (t.isInteger(64))
      cached = v;
    else if (t.isInteger(1))
      cached = b.createOrFold<arith::ExtUIOp>(loc, i64, v);
    else
      cached = b.createOrFold<arith::ExtSIOp>(loc, i64, v);
    return cached;
  }

  std::pair<Int, Int> indexArg(unsigned k) {
    return {toI64(boxLo[k]), toI64(boxHi[k])};
  }

  Value getCapture(unsigned k) {
    return k < captures.size() ? captures[k] : Value();
  }

  std::optional<std::pair<Int, Int>> capture(unsigned k, unsigned) {
    Value v = getCapture(k);
    if (!v || !getScalarWidth(v.getType()))
      return std::nullopt;
    Value x = toI64(v);
    return std::make_pair(x, x);
  }

  std::optional<std::pair<Int, Int>>
  extract(unsigned k, ArrayRef<std::pair<Int, Int>> indices, unsigned width) {
    using I = MaskInterpreter<EmitDomain>;
    Value tensor = getCapture(k);
    auto tensorType =
        tensor ? dyn_cast<RankedTensorType>(tensor.getType()) : nullptr;
    std::optional<std::pair<Int, Int>> footprint;
    if (extractRange) {
      SmallVector<ValueInterval> ivs;
      for (auto [lo, hi] : indices)
        ivs.push_back({lo, hi});
      if (std::optional<ValueInterval> r = extractRange(b, loc, k, ivs))
        footprint = std::make_pair(r->lo, r->hi);
    }
    if (!tensorType || tensorType.getRank() != int64_t(indices.size()) ||
        !getScalarWidth(tensorType.getElementType()))
      return footprint;
    // Where every index is one value, read the element there. The index is
    // clamped into the tensor so the read is always in bounds; where it is
    // a point, the concrete mask reads it too, so it is in bounds anyway.
    Bool allPoints = cstBool(true);
    SmallVector<Value> at;
    for (auto [dim, range] : llvm::enumerate(indices)) {
      allPoints = band(allPoints, eq(range.first, range.second));
      Value size = toI64(tensor::DimOp::create(b, loc, tensor, dim));
      Value last = smax(sub(size, cst(1)), cst(0));
      Value idx = smax(smin(range.first, last), cst(0));
      at.push_back(
          b.createOrFold<arith::IndexCastOp>(loc, b.getIndexType(), idx));
    }
    Value element = toI64(tensor::ExtractOp::create(b, loc, tensor, at));
    Int otherLo = footprint ? footprint->first : cst(I::minOf(width));
    Int otherHi = footprint ? footprint->second : cst(I::maxOf(width));
    if (width == 1 && !footprint) {
      otherLo = cst(0);
      otherHi = cst(1);
    }
    return std::make_pair(select(allPoints, element, otherLo),
                          select(allPoints, element, otherHi));
  }
};
} // namespace

EmittedTileClass attune::attn::emitMaskTileClass(
    OpBuilder &b, Location loc, AttentionOp op, ValueRange boxLo,
    ValueRange boxHi, ValueRange captures, EmitExtractRangeFn extractRange) {
  assert(boxLo.size() == AttentionOp::kNumIndexArgs &&
         boxHi.size() == AttentionOp::kNumIndexArgs &&
         "expected box bounds for b, h, i, j");
  Block *mask = op.getMaskBlock();
  if (!mask) {
    Value f = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0);
    Value t = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1);
    return {f, t};
  }
  std::unique_ptr<MaskProgram> program = MaskProgram::compile(*mask);
  EmitDomain domain(b, loc, boxLo, boxHi, captures, extractRange);
  MaskInterpreter<EmitDomain> interp(domain);
  auto [mayTrue, mayFalse] = interp.run(*program);
  return {domain.bnot(mayTrue), domain.bnot(mayFalse)};
}
