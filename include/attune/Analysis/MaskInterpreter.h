//===- MaskInterpreter.h - Abstract interpretation of masks -----*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The abstract interpreter behind the mask analysis, written once and generic
// over the domain that holds interval bounds and tri-states:
//
//  - MaskProgram: a mask region compiled into a flat list of instructions
//    over the ops the analysis understands (anything else becomes `Top`).
//  - MaskInterpreter<Domain>: the transfer functions. An integer value of
//    width w is a closed interval [lo, hi] of its *signed* interpretation
//    (so the bit pattern of every value is determined); an i1 value is a
//    pair (mayTrue, mayFalse). Any result that may wrap is widened to the
//    full range of its type. The transfer functions never branch on data:
//    every case is computed and chosen with `Domain::select`, so one
//    definition serves both a domain of constants (int64_t / bool) and a
//    domain of SSA values (emitted arith ops).
//
// A Domain provides (Int and Bool are its value types):
//   Int cst(int64_t);                 Bool cstBool(bool);
//   Int add/sub/mul(Int, Int)         64-bit, wrapping
//   Bool addOverflow/subOverflow/mulOverflow(Int, Int)   signed 64-bit
//   Int divTrunc/divFloor/divCeil/remTrunc(Int, Int)     total: any result
//                                     for a zero divisor or MIN / -1
//   Int smin/smax(Int, Int);          Int bitAnd/bitOr/bitXor(Int, Int)
//   Int shl/ashr(Int, Int)            total: any result for amounts outside
//                                     [0, 63]
//   Bool lt/le/eq(Int, Int)           signed
//   Bool band/bor/bxor/bnot(...);     Int select(Bool, Int, Int)
//   Bool selectBool(Bool, Bool, Bool)
//   std::pair<Int, Int> indexArg(unsigned k)          the box, k = b, h, i, j
//   std::optional<std::pair<Int, Int>> capture(unsigned k, unsigned width)
//   std::optional<std::pair<Int, Int>> extract(unsigned k,
//       ArrayRef<std::pair<Int, Int>> indices, unsigned width)
// Leaves return bounds within the signed range of `width` (for i1: an
// interval over {0, 1}, nonzero meaning true).
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_ANALYSIS_MASKINTERPRETER_H
#define ATTUNE_ANALYSIS_MASKINTERPRETER_H

#include "mlir/IR/Block.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cassert>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace attune::attn {

/// Instructions of a compiled mask region.
enum class MaskOpcode : uint8_t {
  Top,      ///< Any value of the type (unsupported op or operand).
  Const,    ///< imm (Bool: imm != 0).
  IndexArg, ///< Box coordinate imm (0 = b, 1 = h, 2 = i, 3 = j).
  Capture,  ///< Scalar capture imm.
  Extract,  ///< tensor.extract from tensor capture imm at operands.
  Add,
  Sub,
  Mul,
  DivSI,
  DivUI,
  CeilDivSI,
  CeilDivUI,
  FloorDivSI,
  RemSI,
  RemUI,
  MinSI,
  MaxSI,
  MinUI,
  MaxUI,
  AbsI,
  AbsDiffS, ///< maxsi(a, b) - minsi(a, b) = |a - b|.
  AbsDiffU, ///< maxui(a, b) - minui(a, b).
  ShlI,
  ShrSI,
  ShrUI,
  AndI,
  OrI,
  XOrI,
  Cmp,    ///< arith.cmpi, imm = predicate, width = operand width.
  Select, ///< Integer select (cond, a, b).
  ExtSI,
  ExtUI,
  Trunc,
  BoolToInt, ///< i1 to integer, imm = 1 sign-extends, 0 zero-extends.
  LowBit,    ///< Truncation of an integer to i1.
  AndB,
  OrB,
  XOrB,
  SelectB ///< i1 select (cond, a, b).
};

/// One instruction: its operands are earlier instructions.
struct MaskInst {
  MaskOpcode opcode = MaskOpcode::Top;
  /// True for i1 results (tri-states), false for integers.
  bool isBool = false;
  /// Bit width of an integer result (1..64, index is 64); for Cmp the width
  /// of the operands.
  unsigned width = 64;
  int64_t imm = 0;
  llvm::SmallVector<unsigned, 2> operands;
};

/// A mask region compiled for the interpreter.
class MaskProgram {
public:
  /// Compiles the mask block of an `attn.attention` (arguments b, h, i, j,
  /// then the captures; terminated by `attn.yield` of an i1).
  static std::unique_ptr<MaskProgram> compile(mlir::Block &mask);

  llvm::ArrayRef<MaskInst> getInsts() const { return insts; }
  /// The instruction that computes the yielded i1.
  unsigned getResult() const { return result; }
  unsigned getNumCaptures() const { return numCaptures; }
  /// Number of instructions that are `Top` because of an unsupported op.
  unsigned getNumUnsupported() const { return numUnsupported; }

  void print(llvm::raw_ostream &os) const;

  std::vector<MaskInst> insts;
  unsigned result = 0;
  unsigned numCaptures = 0;
  unsigned numUnsupported = 0;
};

/// The abstract value of one instruction: bounds for integers, tri-state
/// for i1 (the unused half is left default-constructed).
template <typename D> struct AbstractValue {
  typename D::Int lo{}, hi{};
  typename D::Bool mayTrue{}, mayFalse{};
};

/// The transfer functions, generic over the domain D.
template <typename D> class MaskInterpreter {
public:
  using Int = typename D::Int;
  using Bool = typename D::Bool;
  using V = AbstractValue<D>;

  explicit MaskInterpreter(D &d) : d(d) {}

  /// Runs `program`; returns (mayTrue, mayFalse) of its result.
  std::pair<Bool, Bool> run(const MaskProgram &program) {
    llvm::ArrayRef<MaskInst> insts = program.getInsts();
    vals.assign(insts.size(), V());
    for (unsigned n = 0, e = insts.size(); n != e; ++n)
      vals[n] = step(insts, insts[n]);
    const V &r = vals[program.getResult()];
    return {r.mayTrue, r.mayFalse};
  }

  static int64_t minOf(unsigned w) {
    return w >= 64 ? std::numeric_limits<int64_t>::min()
                   : -(int64_t(1) << (w - 1));
  }
  static int64_t maxOf(unsigned w) {
    return w >= 64 ? std::numeric_limits<int64_t>::max()
                   : (int64_t(1) << (w - 1)) - 1;
  }

private:
  D &d;
  std::vector<V> vals;

  //===--------------------------------------------------------------------===//
  // Small helpers over the domain
  //===--------------------------------------------------------------------===//

  Int c(int64_t v) { return d.cst(v); }
  Bool cb(bool v) { return d.cstBool(v); }
  Bool and2(Bool a, Bool b) { return d.band(a, b); }
  Bool or2(Bool a, Bool b) { return d.bor(a, b); }
  Bool not1(Bool a) { return d.bnot(a); }
  Int sel(Bool cond, Int a, Int b) { return d.select(cond, a, b); }
  Int min2(Int a, Int b) { return d.smin(a, b); }
  Int max2(Int a, Int b) { return d.smax(a, b); }
  Int min4(Int a, Int b, Int x, Int y) { return min2(min2(a, b), min2(x, y)); }
  Int max4(Int a, Int b, Int x, Int y) { return max2(max2(a, b), max2(x, y)); }
  Bool isNonNeg(Int v) { return d.le(c(0), v); }

  V interval(Int lo, Int hi) {
    V v;
    v.lo = lo;
    v.hi = hi;
    return v;
  }
  V boolean(Bool mayTrue, Bool mayFalse) {
    V v;
    v.mayTrue = mayTrue;
    v.mayFalse = mayFalse;
    return v;
  }
  V top(unsigned w) { return interval(c(minOf(w)), c(maxOf(w))); }
  V topBool() { return boolean(cb(true), cb(true)); }

  /// [lo, hi] unless `bad` or it leaves the signed range of w bits (the
  /// concrete result may have wrapped): then every value of the type.
  V fit(Int lo, Int hi, Bool bad, unsigned w) {
    if (w < 64)
      bad = or2(bad, or2(d.lt(lo, c(minOf(w))), d.lt(c(maxOf(w)), hi)));
    return interval(sel(bad, c(minOf(w)), lo), sel(bad, c(maxOf(w)), hi));
  }

  /// A tri-state from an interval over i1 values (nonzero is true).
  V boolFromInterval(Int lo, Int hi) {
    Bool mayFalse = and2(d.le(lo, c(0)), d.le(c(0), hi));
    Bool mayTrue = not1(and2(d.eq(lo, c(0)), d.eq(hi, c(0))));
    return boolean(mayTrue, mayFalse);
  }

  /// Maps the signed interval of a w-bit value to the signed interval of
  /// its unsigned value minus 2^(w-1): unsigned order becomes signed order.
  /// An interval that holds both negative and non-negative values is, as
  /// unsigned, [0, 2^w - 1] minus a gap; its hull is everything.
  Int flipValue(Int s, unsigned w) {
    if (w >= 64)
      return d.add(s, c(minOf(64)));
    Int half = c(int64_t(1) << (w - 1));
    return sel(isNonNeg(s), d.sub(s, half), d.add(s, half));
  }
  Int unflipValue(Int t, unsigned w) {
    if (w >= 64)
      return d.add(t, c(minOf(64)));
    Int half = c(int64_t(1) << (w - 1));
    return sel(d.lt(t, c(0)), d.add(t, half), d.sub(t, half));
  }
  V toUnsignedOrder(const V &a, unsigned w) {
    Bool straddles = and2(d.lt(a.lo, c(0)), isNonNeg(a.hi));
    return interval(sel(straddles, c(minOf(w)), flipValue(a.lo, w)),
                    sel(straddles, c(maxOf(w)), flipValue(a.hi, w)));
  }
  V fromUnsignedOrder(const V &t, unsigned w) {
    // Flipped values below 0 are the non-negative signed ones: an interval
    // across 0 wraps around from the signed maximum to the minimum.
    Bool wraps = and2(d.lt(t.lo, c(0)), isNonNeg(t.hi));
    return interval(sel(wraps, c(minOf(w)), unflipValue(t.lo, w)),
                    sel(wraps, c(maxOf(w)), unflipValue(t.hi, w)));
  }

  //===--------------------------------------------------------------------===//
  // Transfer functions
  //===--------------------------------------------------------------------===//

  V add(const V &a, const V &b, unsigned w) {
    Bool ov = or2(d.addOverflow(a.lo, b.lo), d.addOverflow(a.hi, b.hi));
    return fit(d.add(a.lo, b.lo), d.add(a.hi, b.hi), ov, w);
  }

  V sub(const V &a, const V &b, unsigned w) {
    Bool ov = or2(d.subOverflow(a.lo, b.hi), d.subOverflow(a.hi, b.lo));
    return fit(d.sub(a.lo, b.hi), d.sub(a.hi, b.lo), ov, w);
  }

  V mul(const V &a, const V &b, unsigned w) {
    Int p1 = d.mul(a.lo, b.lo), p2 = d.mul(a.lo, b.hi);
    Int p3 = d.mul(a.hi, b.lo), p4 = d.mul(a.hi, b.hi);
    Bool ov = or2(or2(d.mulOverflow(a.lo, b.lo), d.mulOverflow(a.lo, b.hi)),
                  or2(d.mulOverflow(a.hi, b.lo), d.mulOverflow(a.hi, b.hi)));
    return fit(min4(p1, p2, p3, p4), max4(p1, p2, p3, p4), ov, w);
  }

  /// Whether the divisor interval holds 0.
  Bool holdsZero(const V &b) { return and2(d.le(b.lo, c(0)), isNonNeg(b.hi)); }
  /// Whether MIN / -1 (which overflows 64 bits) may happen.
  Bool divOverflow(const V &a, const V &b, unsigned w) {
    if (w < 64) // Computed exactly in 64 bits; `fit` sees the overflow.
      return cb(false);
    return and2(d.eq(a.lo, c(minOf(64))),
                and2(d.le(b.lo, c(-1)), d.le(c(-1), b.hi)));
  }

  /// Signed division rounding toward zero, down or up. For a divisor of one
  /// sign, the quotient is monotone in each operand, so its extremes are at
  /// the corners.
  template <typename Fn>
  V signedDiv(const V &a, const V &b, unsigned w, Fn div) {
    Int q1 = div(a.lo, b.lo), q2 = div(a.lo, b.hi);
    Int q3 = div(a.hi, b.lo), q4 = div(a.hi, b.hi);
    Bool bad = or2(holdsZero(b), divOverflow(a, b, w));
    return fit(min4(q1, q2, q3, q4), max4(q1, q2, q3, q4), bad, w);
  }

  /// Unsigned division rounding down or up: exact when both operands are
  /// non-negative as signed values (then signed and unsigned agree).
  template <typename Fn>
  V unsignedDiv(const V &a, const V &b, unsigned w, Fn div) {
    Bool ok = and2(isNonNeg(a.lo), d.le(c(1), b.lo));
    return fit(div(a.lo, b.hi), div(a.hi, b.lo), not1(ok), w);
  }

  /// Signed remainder (sign of the dividend).
  V remSigned(const V &a, const V &b, unsigned w) {
    Bool negB = d.lt(b.hi, c(0));
    // |b| in [alo, ahi]; -MIN overflows.
    Int alo = sel(negB, d.sub(c(0), b.hi), b.lo);
    Int ahi = sel(negB, d.sub(c(0), b.lo), b.hi);
    Bool bad = or2(or2(holdsZero(b), divOverflow(a, b, w)),
                   and2(negB, d.subOverflow(c(0), b.lo)));
    // One divisor and one quotient for the whole dividend interval: the
    // remainder is the dividend minus a constant.
    Int q1 = d.divTrunc(a.lo, b.lo), q2 = d.divTrunc(a.hi, b.lo);
    Bool onePeriod = and2(d.eq(b.lo, b.hi), d.eq(q1, q2));
    Int shift = d.mul(q1, b.lo);
    // |a| below every |b|: the remainder is the dividend.
    Bool small = or2(and2(isNonNeg(a.lo), d.lt(a.hi, alo)),
                     and2(d.le(a.hi, c(0)), d.lt(d.sub(c(0), alo), a.lo)));
    Int genLo = sel(isNonNeg(a.lo), c(0), max2(a.lo, d.sub(c(1), ahi)));
    Int genHi = sel(d.le(a.hi, c(0)), c(0), min2(a.hi, d.sub(ahi, c(1))));
    Int lo = sel(onePeriod, d.sub(a.lo, shift), sel(small, a.lo, genLo));
    Int hi = sel(onePeriod, d.sub(a.hi, shift), sel(small, a.hi, genHi));
    return fit(lo, hi, bad, w);
  }

  /// Unsigned remainder: needs a divisor in [1, 2^(w-1)); a dividend that
  /// may be negative (huge as unsigned) gives [0, b.hi - 1].
  V remUnsigned(const V &a, const V &b, unsigned w) {
    Bool ok = d.le(c(1), b.lo);
    Bool nonNegA = isNonNeg(a.lo);
    Int q1 = d.divTrunc(a.lo, b.lo), q2 = d.divTrunc(a.hi, b.lo);
    Bool onePeriod = and2(d.eq(b.lo, b.hi), d.eq(q1, q2));
    Int shift = d.mul(q1, b.lo);
    Bool small = d.lt(a.hi, b.lo);
    Int bMax = d.sub(b.hi, c(1));
    Int lo =
        sel(nonNegA, sel(onePeriod, d.sub(a.lo, shift), sel(small, a.lo, c(0))),
            c(0));
    Int hi = sel(
        nonNegA,
        sel(onePeriod, d.sub(a.hi, shift), sel(small, a.hi, min2(a.hi, bMax))),
        bMax);
    return fit(lo, hi, not1(ok), w);
  }

  V minSigned(const V &a, const V &b) {
    return interval(min2(a.lo, b.lo), min2(a.hi, b.hi));
  }
  V maxSigned(const V &a, const V &b) {
    return interval(max2(a.lo, b.lo), max2(a.hi, b.hi));
  }
  V minUnsigned(const V &a, const V &b, unsigned w) {
    return fromUnsignedOrder(
        minSigned(toUnsignedOrder(a, w), toUnsignedOrder(b, w)), w);
  }
  V maxUnsigned(const V &a, const V &b, unsigned w) {
    return fromUnsignedOrder(
        maxSigned(toUnsignedOrder(a, w), toUnsignedOrder(b, w)), w);
  }

  V absI(const V &a, unsigned w) {
    Bool nonNeg = isNonNeg(a.lo), nonPos = d.le(a.hi, c(0));
    Int negLo = d.sub(c(0), a.lo), negHi = d.sub(c(0), a.hi);
    Int lo = sel(nonNeg, a.lo, sel(nonPos, negHi, c(0)));
    Int hi = sel(nonNeg, a.hi, sel(nonPos, negLo, max2(negLo, a.hi)));
    return fit(lo, hi, and2(not1(nonNeg), d.subOverflow(c(0), a.lo)), w);
  }

  /// max(a, b) - min(a, b) is |a - b|: a - b ranges over the whole interval
  /// a - b, so its absolute value is exact, unlike max - min computed apart.
  V absDiffSigned(const V &a, const V &b, unsigned w) {
    return absI(sub(a, b, w), w);
  }
  V absDiffUnsigned(const V &a, const V &b, unsigned w) {
    // Within one half of the unsigned range, unsigned and signed order agree.
    Bool sameHalf = or2(and2(isNonNeg(a.lo), isNonNeg(b.lo)),
                        and2(d.lt(a.hi, c(0)), d.lt(b.hi, c(0))));
    V exact = absDiffSigned(a, b, w);
    V generic = sub(maxUnsigned(a, b, w), minUnsigned(a, b, w), w);
    return interval(sel(sameHalf, exact.lo, generic.lo),
                    sel(sameHalf, exact.hi, generic.hi));
  }

  /// Whether a shift amount is always in [0, limit].
  Bool validShift(const V &s, int64_t limit) {
    return and2(isNonNeg(s.lo), d.le(s.hi, c(limit)));
  }

  V shl(const V &a, const V &s, unsigned w) {
    // x << s = x * 2^s; 2^63 is not an int64, so amounts up to 62.
    Bool valid = validShift(s, std::min<int64_t>(w - 1, 62));
    V pow = interval(d.shl(c(1), sel(valid, s.lo, c(0))),
                     d.shl(c(1), sel(valid, s.hi, c(0))));
    V r = mul(a, pow, w);
    return fit(r.lo, r.hi, not1(valid), w);
  }

  /// Arithmetic shift right: monotone in each operand, extremes at corners.
  V shrSigned(const V &a, const V &s, unsigned w) {
    Bool valid = validShift(s, w - 1);
    Int slo = sel(valid, s.lo, c(0)), shi = sel(valid, s.hi, c(0));
    Int r1 = d.ashr(a.lo, slo), r2 = d.ashr(a.lo, shi);
    Int r3 = d.ashr(a.hi, slo), r4 = d.ashr(a.hi, shi);
    return fit(min4(r1, r2, r3, r4), max4(r1, r2, r3, r4), not1(valid), w);
  }

  /// Logical shift right: arithmetic on non-negative values; a negative
  /// value shifted by at least 1 lands in [0, 2^(w-1) - 1].
  V shrUnsigned(const V &a, const V &s, unsigned w) {
    V r = shrSigned(a, s, w);
    Bool nonNeg = isNonNeg(a.lo);
    Bool bad =
        or2(not1(validShift(s, w - 1)), and2(not1(nonNeg), d.lt(s.lo, c(1))));
    return fit(sel(nonNeg, r.lo, c(0)), sel(nonNeg, r.hi, c(maxOf(w))), bad, w);
  }

  /// The smallest 2^k - 1 >= v, for v >= 0.
  Int smear(Int v) {
    for (int64_t s : {1, 2, 4, 8, 16, 32})
      v = d.bitOr(v, d.ashr(v, c(s)));
    return v;
  }

  Bool bothPoints(const V &a, const V &b) {
    return and2(d.eq(a.lo, a.hi), d.eq(b.lo, b.hi));
  }

  /// Bitwise and: exact on points; non-negative operands bound the result.
  V andI(const V &a, const V &b, unsigned w) {
    Bool points = bothPoints(a, b);
    Int exact = d.bitAnd(a.lo, b.lo);
    Bool nnA = isNonNeg(a.lo), nnB = isNonNeg(b.lo);
    Int hi = sel(nnA, sel(nnB, min2(a.hi, b.hi), a.hi), b.hi);
    Bool bad = and2(not1(points), and2(not1(nnA), not1(nnB)));
    return fit(sel(points, exact, c(0)), sel(points, exact, hi), bad, w);
  }

  /// Bitwise or / xor: exact on points; non-negative operands stay below
  /// the next power of two.
  V orXorI(const V &a, const V &b, unsigned w, bool isXor) {
    Bool points = bothPoints(a, b);
    Int exact = isXor ? d.bitXor(a.lo, b.lo) : d.bitOr(a.lo, b.lo);
    Bool nn = and2(isNonNeg(a.lo), isNonNeg(b.lo));
    Int lo = isXor ? c(0) : max2(a.lo, b.lo);
    Int hi = smear(max2(a.hi, b.hi));
    Bool bad = and2(not1(points), not1(nn));
    return fit(sel(points, exact, lo), sel(points, exact, hi), bad, w);
  }

  V cmp(int64_t pred, V a, V b, unsigned w) {
    // Predicates in arith::CmpIPredicate order.
    enum { eq, ne, slt, sle, sgt, sge, ult, ule, ugt, uge };
    if (pred == eq || pred == ne) {
      Bool mayEq = and2(d.le(a.lo, b.hi), d.le(b.lo, a.hi));
      Bool mayNe = not1(and2(bothPoints(a, b), d.eq(a.lo, b.lo)));
      return pred == eq ? boolean(mayEq, mayNe) : boolean(mayNe, mayEq);
    }
    if (pred >= ult) {
      a = toUnsignedOrder(a, w);
      b = toUnsignedOrder(b, w);
      pred -= ult - slt;
    }
    // x < y may hold iff x.lo < y.hi, may fail iff y.lo <= x.hi.
    auto lessThan = [&](const V &x, const V &y) {
      return boolean(d.lt(x.lo, y.hi), d.le(y.lo, x.hi));
    };
    auto lessEqual = [&](const V &x, const V &y) {
      return boolean(d.le(x.lo, y.hi), d.lt(y.lo, x.hi));
    };
    switch (pred) {
    case slt:
      return lessThan(a, b);
    case sle:
      return lessEqual(a, b);
    case sgt:
      return lessThan(b, a);
    default:
      return lessEqual(b, a);
    }
  }

  V select(const V &cond, const V &a, const V &b) {
    Int lo =
        sel(cond.mayTrue, sel(cond.mayFalse, min2(a.lo, b.lo), a.lo), b.lo);
    Int hi =
        sel(cond.mayTrue, sel(cond.mayFalse, max2(a.hi, b.hi), a.hi), b.hi);
    return interval(lo, hi);
  }

  V selectBool(const V &cond, const V &a, const V &b) {
    return boolean(
        or2(and2(cond.mayTrue, a.mayTrue), and2(cond.mayFalse, b.mayTrue)),
        or2(and2(cond.mayTrue, a.mayFalse), and2(cond.mayFalse, b.mayFalse)));
  }

  V extUnsigned(const V &a, unsigned fromWidth) {
    assert(fromWidth < 63 && "zero extension from a width below 63");
    Int span = c(int64_t(1) << fromWidth);
    Bool nonNeg = isNonNeg(a.lo), neg = d.lt(a.hi, c(0));
    Int lo = sel(nonNeg, a.lo, sel(neg, d.add(a.lo, span), c(0)));
    Int hi = sel(nonNeg, a.hi, sel(neg, d.add(a.hi, span), d.sub(span, c(1))));
    return interval(lo, hi);
  }

  V boolToInt(const V &a, bool isSigned) {
    if (isSigned)
      return interval(sel(a.mayTrue, c(-1), c(0)),
                      sel(a.mayFalse, c(0), c(-1)));
    return interval(sel(a.mayFalse, c(0), c(1)), sel(a.mayTrue, c(1), c(0)));
  }

  V lowBit(const V &a) {
    Bool notPoint = not1(d.eq(a.lo, a.hi));
    Bool odd = not1(d.eq(d.bitAnd(a.lo, c(1)), c(0)));
    return boolean(or2(notPoint, odd), or2(notPoint, not1(odd)));
  }

  V leaf(std::optional<std::pair<Int, Int>> range, const MaskInst &inst) {
    if (!range)
      return inst.isBool ? topBool() : top(inst.width);
    if (inst.isBool)
      return boolFromInterval(range->first, range->second);
    return interval(range->first, range->second);
  }

  V step(llvm::ArrayRef<MaskInst> insts, const MaskInst &inst) {
    auto op = [&](unsigned k) -> const V & { return vals[inst.operands[k]]; };
    auto opWidth = [&](unsigned k) { return insts[inst.operands[k]].width; };
    unsigned w = inst.width;
    switch (inst.opcode) {
    case MaskOpcode::Top:
      return inst.isBool ? topBool() : top(w);
    case MaskOpcode::Const:
      if (inst.isBool)
        return boolean(cb(inst.imm != 0), cb(inst.imm == 0));
      return interval(c(inst.imm), c(inst.imm));
    case MaskOpcode::IndexArg: {
      auto [lo, hi] = d.indexArg(inst.imm);
      return interval(lo, hi);
    }
    case MaskOpcode::Capture:
      return leaf(d.capture(inst.imm, inst.isBool ? 1 : w), inst);
    case MaskOpcode::Extract: {
      llvm::SmallVector<std::pair<Int, Int>> indices;
      for (unsigned k = 0, e = inst.operands.size(); k != e; ++k)
        indices.push_back({op(k).lo, op(k).hi});
      return leaf(d.extract(inst.imm, indices, inst.isBool ? 1 : w), inst);
    }
    case MaskOpcode::Add:
      return add(op(0), op(1), w);
    case MaskOpcode::Sub:
      return sub(op(0), op(1), w);
    case MaskOpcode::Mul:
      return mul(op(0), op(1), w);
    case MaskOpcode::DivSI:
      return signedDiv(op(0), op(1), w,
                       [&](Int x, Int y) { return d.divTrunc(x, y); });
    case MaskOpcode::FloorDivSI:
      return signedDiv(op(0), op(1), w,
                       [&](Int x, Int y) { return d.divFloor(x, y); });
    case MaskOpcode::CeilDivSI:
      return signedDiv(op(0), op(1), w,
                       [&](Int x, Int y) { return d.divCeil(x, y); });
    case MaskOpcode::DivUI:
      return unsignedDiv(op(0), op(1), w,
                         [&](Int x, Int y) { return d.divTrunc(x, y); });
    case MaskOpcode::CeilDivUI:
      return unsignedDiv(op(0), op(1), w,
                         [&](Int x, Int y) { return d.divCeil(x, y); });
    case MaskOpcode::RemSI:
      return remSigned(op(0), op(1), w);
    case MaskOpcode::RemUI:
      return remUnsigned(op(0), op(1), w);
    case MaskOpcode::MinSI:
      return minSigned(op(0), op(1));
    case MaskOpcode::MaxSI:
      return maxSigned(op(0), op(1));
    case MaskOpcode::MinUI:
      return minUnsigned(op(0), op(1), w);
    case MaskOpcode::MaxUI:
      return maxUnsigned(op(0), op(1), w);
    case MaskOpcode::AbsI:
      return absI(op(0), w);
    case MaskOpcode::AbsDiffS:
      return absDiffSigned(op(0), op(1), w);
    case MaskOpcode::AbsDiffU:
      return absDiffUnsigned(op(0), op(1), w);
    case MaskOpcode::ShlI:
      return shl(op(0), op(1), w);
    case MaskOpcode::ShrSI:
      return shrSigned(op(0), op(1), w);
    case MaskOpcode::ShrUI:
      return shrUnsigned(op(0), op(1), w);
    case MaskOpcode::AndI:
      return andI(op(0), op(1), w);
    case MaskOpcode::OrI:
      return orXorI(op(0), op(1), w, /*isXor=*/false);
    case MaskOpcode::XOrI:
      return orXorI(op(0), op(1), w, /*isXor=*/true);
    case MaskOpcode::Cmp:
      return cmp(inst.imm, op(0), op(1), w);
    case MaskOpcode::Select:
      return select(op(0), op(1), op(2));
    case MaskOpcode::SelectB:
      return selectBool(op(0), op(1), op(2));
    case MaskOpcode::ExtSI:
      return op(0);
    case MaskOpcode::ExtUI:
      return extUnsigned(op(0), opWidth(0));
    case MaskOpcode::Trunc:
      return fit(op(0).lo, op(0).hi, cb(false), w);
    case MaskOpcode::BoolToInt:
      return boolToInt(op(0), inst.imm != 0);
    case MaskOpcode::LowBit:
      return lowBit(op(0));
    case MaskOpcode::AndB:
      return boolean(and2(op(0).mayTrue, op(1).mayTrue),
                     or2(op(0).mayFalse, op(1).mayFalse));
    case MaskOpcode::OrB:
      return boolean(or2(op(0).mayTrue, op(1).mayTrue),
                     and2(op(0).mayFalse, op(1).mayFalse));
    case MaskOpcode::XOrB: {
      const V &a = op(0), &b = op(1);
      return boolean(
          or2(and2(a.mayTrue, b.mayFalse), and2(a.mayFalse, b.mayTrue)),
          or2(and2(a.mayTrue, b.mayTrue), and2(a.mayFalse, b.mayFalse)));
    }
    }
    return inst.isBool ? topBool() : top(w);
  }
};

} // namespace attune::attn

#endif // ATTUNE_ANALYSIS_MASKINTERPRETER_H
