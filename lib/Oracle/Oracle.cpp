//===- Oracle.cpp - Independent float64 reference evaluator -----*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The oracle evaluates a spec in three steps:
//
//   1. the function arguments are checked against the function type;
//   2. the ops of the function body are evaluated in order: scalar ops one at
//      a time, `attn.attention` row by row;
//   3. the returned values are copied out as Arrays.
//
// Scalar code (the score and mask regions, and the scalar ops around the
// attention op) is translated once into a flat `Program`: a vector of small
// instructions over a register file of `Cell`s. Floats of every width are
// held as doubles and are not rounded to their type (the oracle computes the
// exact answer), except by `arith.truncf`, which rounds through APFloat.
// Integers are held as int64 sign-extended from their bit width, and every
// instruction re-normalises its result to that width, so wrap-around and
// unsigned reinterpretation behave as in MLIR's `arith` semantics. Operations
// whose result MLIR calls undefined or poison (integer division by zero,
// signed division overflow, over-wide shifts, out-of-range float-to-int
// conversions, out-of-bounds `tensor.extract`) are reported as errors.
//
//===----------------------------------------------------------------------===//

#include "attune/Oracle/Oracle.h"

#include "OracleInternal.h"

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/bit.h"

#include <array>
#include <cmath>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <tuple>

using namespace mlir;
using namespace attune;
using namespace attune::oracle;
using attune::oracle::detail::Cell;
using attune::oracle::detail::formatList;
using attune::oracle::detail::formatShape;

int64_t Array::numElements() const {
  int64_t n = 1;
  for (int64_t size : shape)
    n *= size;
  return n;
}

namespace {

//===----------------------------------------------------------------------===//
// Scalar representation
//===----------------------------------------------------------------------===//

// One interpreter register is a detail::Cell (OracleInternal.h).

/// How a scalar type is held in a Cell.
struct ScalarKind {
  bool isFloat;
  /// The bit width; 64 for index.
  unsigned width;
};

/// A reference to a tensor the program reads with tensor.extract/tensor.dim.
struct TensorRef {
  const Array *array;
  /// Whether the elements are integers (held exactly in the doubles).
  bool isInt;
  /// The integer element width.
  unsigned width;
  /// Row-major strides of `array`.
  std::vector<int64_t> strides;
};

//===----------------------------------------------------------------------===//
// Instructions
//===----------------------------------------------------------------------===//

/// The instruction set of the flat interpreter. Binary ops read slots `a` and
/// `b`, unary ops `a`, ternary ops `a`, `b`, `c`; all write slot `dst`.
// clang-format off
enum class Opc : uint8_t {
  // Float binary.
  AddF, SubF, MulF, DivF, RemF, MaximumF, MinimumF, MaxNumF, MinNumF, PowF,
  CopySign, Atan2,
  // Float unary.
  NegF, Exp, Exp2, ExpM1, Log, Log2, Log10, Log1p, Tanh, Sqrt, Rsqrt, AbsF,
  Sin, Cos, Tan, Asin, Acos, Atan, Sinh, Cosh, Asinh, Acosh, Atanh, Cbrt, Erf,
  Erfc, Floor, Ceil, Round, RoundEven, Trunc,
  // Other float ops: `fma` is ternary, `fpowi` takes an integer exponent in
  // `b`; `cmpf` has its predicate in `pred`; the classifications yield i1.
  Fma, FPowI, CmpF, IsNaN, IsInf, IsFinite,
  // Integer binary ops at bit width `width`; `cmpi` has its predicate in
  // `pred`.
  AddI, SubI, MulI, DivSI, DivUI, RemSI, RemUI, FloorDivSI, CeilDivSI,
  CeilDivUI, MaxSI, MinSI, MaxUI, MinUI, AndI, OrI, XOrI, ShLI, ShRSI, ShRUI,
  CmpI,
  // Integer unary ops at bit width `width`.
  AbsI, CtLz, CtTz, CtPop,
  // Conversions: integer ones from `srcWidth` to `width`; `uitofp` reads an
  // integer of width `width`; `fptosi`/`fptoui` write one of width `width`;
  // `RoundTo` rounds to `semantics[c]` with the llvm::RoundingMode `pred`.
  Copy, SExtOrTrunc, ZExtOrTrunc, SIToFP, UIToFP, FPToSI, FPToUI, RoundToF32,
  RoundTo,
  // `select`: `a` ? `b` : `c`.
  Select,
  // `tensor.extract` of `tensors[a]` at the `c` index slots listed from
  // `operandPool[b]`; `tensor.dim` of `tensors[a]` at index slot `b`.
  Extract, Dim,
  // Control flow for scf.if: jump to instruction `b` if slot `a` is zero;
  // jump to instruction `a`.
  JumpIfZero, Jump,
};
// clang-format on

/// One instruction of the flat interpreter.
struct Instr {
  Opc opc;
  uint8_t pred = 0;
  uint8_t width = 0;
  uint8_t srcWidth = 0;
  uint32_t dst = 0, a = 0, b = 0, c = 0;
};

/// Scalar code translated for repeated evaluation: run `code` over `slots`
/// and read the yielded value from `slots[result]`. Slots of constants and
/// captured scalars are filled in once; the caller writes the per-element
/// argument slots before each run. Instructions never write argument slots.
struct Program {
  std::vector<Instr> code;
  /// The op each instruction came from, for diagnostics.
  std::vector<Operation *> origin;
  std::vector<Cell> slots;
  std::vector<uint32_t> operandPool;
  std::vector<TensorRef> tensors;
  std::vector<const llvm::fltSemantics *> semantics;
  uint32_t result = 0;
};

} // namespace

//===----------------------------------------------------------------------===//
// Integer and float helpers
//===----------------------------------------------------------------------===//

/// Sign-extends the low `width` bits of `v`.
static inline int64_t sextFrom(uint64_t v, unsigned width) {
  if (width >= 64)
    return static_cast<int64_t>(v);
  unsigned shift = 64 - width;
  return static_cast<int64_t>(v << shift) >> shift;
}

/// The low `width` bits of `v` as an unsigned number.
static inline uint64_t zextFrom(int64_t v, unsigned width) {
  if (width >= 64)
    return static_cast<uint64_t>(v);
  return static_cast<uint64_t>(v) & ((uint64_t(1) << width) - 1);
}

/// The most negative signed value of `width` bits.
static inline int64_t minSigned(unsigned width) {
  return sextFrom(uint64_t(1) << (width - 1), width);
}

/// An i1 result: all ones for true, as for any sign-extended integer.
static inline int64_t fromBool(bool b) { return b ? -1 : 0; }

/// The integer `v` (exact in a double, at most 2^64 - 1) wrapped to `width`.
static int64_t intFromDouble(double v, unsigned width) {
  if (v >= 9223372036854775808.0)
    return sextFrom(static_cast<uint64_t>(v), width);
  return sextFrom(static_cast<uint64_t>(static_cast<int64_t>(v)), width);
}

/// Rounds to the nearest integer, ties to even, independently of the
/// floating-point environment.
static double roundEven(double x) {
  if (std::fabs(x - std::trunc(x)) == 0.5)
    return 2.0 * std::round(x / 2.0);
  return std::round(x);
}

/// IEEE-754 2019 maximum (propagates NaN, +0 > -0).
static double maximumF(double x, double y) {
  if (std::isnan(x) || std::isnan(y))
    return std::numeric_limits<double>::quiet_NaN();
  if (x == y)
    return std::signbit(x) ? y : x;
  return x > y ? x : y;
}

/// IEEE-754 2019 minimum (propagates NaN, -0 < +0).
static double minimumF(double x, double y) {
  if (std::isnan(x) || std::isnan(y))
    return std::numeric_limits<double>::quiet_NaN();
  if (x == y)
    return std::signbit(x) ? x : y;
  return x < y ? x : y;
}

/// The result of arith.cmpf with predicate `pred` on `x` and `y`.
static bool compareFloats(arith::CmpFPredicate pred, double x, double y) {
  bool unordered = std::isnan(x) || std::isnan(y);
  using P = arith::CmpFPredicate;
  switch (pred) {
  case P::AlwaysFalse:
    return false;
  case P::OEQ:
    return !unordered && x == y;
  case P::OGT:
    return !unordered && x > y;
  case P::OGE:
    return !unordered && x >= y;
  case P::OLT:
    return !unordered && x < y;
  case P::OLE:
    return !unordered && x <= y;
  case P::ONE:
    return !unordered && x != y;
  case P::ORD:
    return !unordered;
  case P::UEQ:
    return unordered || x == y;
  case P::UGT:
    return unordered || x > y;
  case P::UGE:
    return unordered || x >= y;
  case P::ULT:
    return unordered || x < y;
  case P::ULE:
    return unordered || x <= y;
  case P::UNE:
    return unordered || x != y;
  case P::UNO:
    return unordered;
  case P::AlwaysTrue:
    return true;
  }
  return false;
}

/// The result of arith.cmpi with predicate `pred` on `x` and `y` of `width`
/// bits.
static bool compareInts(arith::CmpIPredicate pred, int64_t x, int64_t y,
                        unsigned width) {
  uint64_t ux = zextFrom(x, width), uy = zextFrom(y, width);
  using P = arith::CmpIPredicate;
  switch (pred) {
  case P::eq:
    return x == y;
  case P::ne:
    return x != y;
  case P::slt:
    return x < y;
  case P::sle:
    return x <= y;
  case P::sgt:
    return x > y;
  case P::sge:
    return x >= y;
  case P::ult:
    return ux < uy;
  case P::ule:
    return ux <= uy;
  case P::ugt:
    return ux > uy;
  case P::uge:
    return ux >= uy;
  }
  return false;
}

/// Rounds `x` to the float format `sem` with rounding mode `mode` and returns
/// the rounded value as a double.
static double roundToSemantics(double x, const llvm::fltSemantics &sem,
                               llvm::RoundingMode mode) {
  llvm::APFloat value(x);
  bool losesInfo = false;
  value.convert(sem, mode, &losesInfo);
  value.convert(llvm::APFloat::IEEEdouble(),
                llvm::RoundingMode::NearestTiesToEven, &losesInfo);
  return value.convertToDouble();
}

//===----------------------------------------------------------------------===//
// Execution
//===----------------------------------------------------------------------===//

/// Whether signed division of `x` by `y` at `width` bits is defined.
static inline bool signedDivisionDefined(int64_t x, int64_t y, unsigned width) {
  return y != 0 && !(y == -1 && x == minSigned(width));
}

/// Runs `program` once. Returns the index of the instruction that failed (a
/// division by zero, an out-of-bounds extract, ...) or -1 on success; on
/// failure the slots still hold the failing instruction's operands.
static int64_t execute(Program &program) {
  Cell *s = program.slots.data();
  const Instr *code = program.code.data();
  size_t size = program.code.size();
  for (size_t pc = 0; pc < size; ++pc) {
    const Instr &in = code[pc];
    Cell &d = s[in.dst];
    unsigned w = in.width;
#define FA s[in.a].f
#define FB s[in.b].f
#define IA s[in.a].i
#define IB s[in.b].i
    switch (in.opc) {
    // Float binary.
    case Opc::AddF:
      d.f = FA + FB;
      break;
    case Opc::SubF:
      d.f = FA - FB;
      break;
    case Opc::MulF:
      d.f = FA * FB;
      break;
    case Opc::DivF:
      d.f = FA / FB;
      break;
    case Opc::RemF:
      d.f = std::fmod(FA, FB);
      break;
    case Opc::MaximumF:
      d.f = maximumF(FA, FB);
      break;
    case Opc::MinimumF:
      d.f = minimumF(FA, FB);
      break;
    case Opc::MaxNumF:
      d.f = std::isnan(FA) ? FB : std::isnan(FB) ? FA : maximumF(FA, FB);
      break;
    case Opc::MinNumF:
      d.f = std::isnan(FA) ? FB : std::isnan(FB) ? FA : minimumF(FA, FB);
      break;
    case Opc::PowF:
      d.f = std::pow(FA, FB);
      break;
    case Opc::CopySign:
      d.f = std::copysign(FA, FB);
      break;
    case Opc::Atan2:
      d.f = std::atan2(FA, FB);
      break;
    // Float unary.
    case Opc::NegF:
      d.f = -FA;
      break;
    case Opc::Exp:
      d.f = std::exp(FA);
      break;
    case Opc::Exp2:
      d.f = std::exp2(FA);
      break;
    case Opc::ExpM1:
      d.f = std::expm1(FA);
      break;
    case Opc::Log:
      d.f = std::log(FA);
      break;
    case Opc::Log2:
      d.f = std::log2(FA);
      break;
    case Opc::Log10:
      d.f = std::log10(FA);
      break;
    case Opc::Log1p:
      d.f = std::log1p(FA);
      break;
    case Opc::Tanh:
      d.f = std::tanh(FA);
      break;
    case Opc::Sqrt:
      d.f = std::sqrt(FA);
      break;
    case Opc::Rsqrt:
      d.f = 1.0 / std::sqrt(FA);
      break;
    case Opc::AbsF:
      d.f = std::fabs(FA);
      break;
    case Opc::Sin:
      d.f = std::sin(FA);
      break;
    case Opc::Cos:
      d.f = std::cos(FA);
      break;
    case Opc::Tan:
      d.f = std::tan(FA);
      break;
    case Opc::Asin:
      d.f = std::asin(FA);
      break;
    case Opc::Acos:
      d.f = std::acos(FA);
      break;
    case Opc::Atan:
      d.f = std::atan(FA);
      break;
    case Opc::Sinh:
      d.f = std::sinh(FA);
      break;
    case Opc::Cosh:
      d.f = std::cosh(FA);
      break;
    case Opc::Asinh:
      d.f = std::asinh(FA);
      break;
    case Opc::Acosh:
      d.f = std::acosh(FA);
      break;
    case Opc::Atanh:
      d.f = std::atanh(FA);
      break;
    case Opc::Cbrt:
      d.f = std::cbrt(FA);
      break;
    case Opc::Erf:
      d.f = std::erf(FA);
      break;
    case Opc::Erfc:
      d.f = std::erfc(FA);
      break;
    case Opc::Floor:
      d.f = std::floor(FA);
      break;
    case Opc::Ceil:
      d.f = std::ceil(FA);
      break;
    case Opc::Round:
      d.f = std::round(FA);
      break;
    case Opc::RoundEven:
      d.f = roundEven(FA);
      break;
    case Opc::Trunc:
      d.f = std::trunc(FA);
      break;
    // Other float ops.
    case Opc::Fma:
      d.f = std::fma(FA, FB, s[in.c].f);
      break;
    case Opc::FPowI:
      d.f = std::pow(FA, static_cast<double>(IB));
      break;
    case Opc::CmpF:
      d.i = fromBool(
          compareFloats(static_cast<arith::CmpFPredicate>(in.pred), FA, FB));
      break;
    case Opc::IsNaN:
      d.i = fromBool(std::isnan(FA));
      break;
    case Opc::IsInf:
      d.i = fromBool(std::isinf(FA));
      break;
    case Opc::IsFinite:
      d.i = fromBool(std::isfinite(FA));
      break;
    // Integer binary.
    case Opc::AddI:
      d.i = sextFrom(static_cast<uint64_t>(IA) + static_cast<uint64_t>(IB), w);
      break;
    case Opc::SubI:
      d.i = sextFrom(static_cast<uint64_t>(IA) - static_cast<uint64_t>(IB), w);
      break;
    case Opc::MulI:
      d.i = sextFrom(static_cast<uint64_t>(IA) * static_cast<uint64_t>(IB), w);
      break;
    case Opc::DivSI:
      if (!signedDivisionDefined(IA, IB, w))
        return pc;
      d.i = sextFrom(static_cast<uint64_t>(IA / IB), w);
      break;
    case Opc::DivUI: {
      uint64_t y = zextFrom(IB, w);
      if (y == 0)
        return pc;
      d.i = sextFrom(zextFrom(IA, w) / y, w);
      break;
    }
    case Opc::RemSI:
      if (IB == 0)
        return pc;
      d.i = IB == -1 ? 0 : IA % IB;
      break;
    case Opc::RemUI: {
      uint64_t y = zextFrom(IB, w);
      if (y == 0)
        return pc;
      d.i = sextFrom(zextFrom(IA, w) % y, w);
      break;
    }
    case Opc::FloorDivSI: {
      if (!signedDivisionDefined(IA, IB, w))
        return pc;
      int64_t q = IA / IB, r = IA % IB;
      if (r != 0 && ((r < 0) != (IB < 0)))
        --q;
      d.i = q;
      break;
    }
    case Opc::CeilDivSI: {
      if (!signedDivisionDefined(IA, IB, w))
        return pc;
      int64_t q = IA / IB, r = IA % IB;
      if (r != 0 && ((r < 0) == (IB < 0)))
        ++q;
      d.i = sextFrom(static_cast<uint64_t>(q), w);
      break;
    }
    case Opc::CeilDivUI: {
      uint64_t x = zextFrom(IA, w), y = zextFrom(IB, w);
      if (y == 0)
        return pc;
      d.i = sextFrom(x / y + (x % y != 0 ? 1 : 0), w);
      break;
    }
    case Opc::MaxSI:
      d.i = IA > IB ? IA : IB;
      break;
    case Opc::MinSI:
      d.i = IA < IB ? IA : IB;
      break;
    case Opc::MaxUI:
      d.i = zextFrom(IA, w) > zextFrom(IB, w) ? IA : IB;
      break;
    case Opc::MinUI:
      d.i = zextFrom(IA, w) < zextFrom(IB, w) ? IA : IB;
      break;
    case Opc::AndI:
      d.i = IA & IB;
      break;
    case Opc::OrI:
      d.i = IA | IB;
      break;
    case Opc::XOrI:
      d.i = IA ^ IB;
      break;
    case Opc::ShLI: {
      uint64_t amount = zextFrom(IB, w);
      if (amount >= w)
        return pc;
      d.i = sextFrom(static_cast<uint64_t>(IA) << amount, w);
      break;
    }
    case Opc::ShRSI: {
      uint64_t amount = zextFrom(IB, w);
      if (amount >= w)
        return pc;
      d.i = IA >> amount;
      break;
    }
    case Opc::ShRUI: {
      uint64_t amount = zextFrom(IB, w);
      if (amount >= w)
        return pc;
      d.i = sextFrom(zextFrom(IA, w) >> amount, w);
      break;
    }
    case Opc::CmpI:
      d.i = fromBool(
          compareInts(static_cast<arith::CmpIPredicate>(in.pred), IA, IB, w));
      break;
    // Integer unary.
    case Opc::AbsI:
      d.i = IA < 0 ? sextFrom(0 - static_cast<uint64_t>(IA), w) : IA;
      break;
    case Opc::CtLz: {
      uint64_t x = zextFrom(IA, w);
      d.i = sextFrom(x == 0 ? w : llvm::countl_zero(x) - (64 - w), w);
      break;
    }
    case Opc::CtTz: {
      uint64_t x = zextFrom(IA, w);
      d.i = sextFrom(x == 0 ? w : llvm::countr_zero(x), w);
      break;
    }
    case Opc::CtPop:
      d.i = sextFrom(llvm::popcount(zextFrom(IA, w)), w);
      break;
    // Conversions.
    case Opc::Copy:
      d = s[in.a];
      break;
    case Opc::SExtOrTrunc:
      d.i = sextFrom(static_cast<uint64_t>(IA), w);
      break;
    case Opc::ZExtOrTrunc:
      d.i = w > in.srcWidth ? static_cast<int64_t>(zextFrom(IA, in.srcWidth))
                            : sextFrom(static_cast<uint64_t>(IA), w);
      break;
    case Opc::SIToFP:
      d.f = static_cast<double>(IA);
      break;
    case Opc::UIToFP:
      d.f = static_cast<double>(zextFrom(IA, w));
      break;
    case Opc::FPToSI: {
      double t = std::trunc(FA), bound = std::ldexp(1.0, w - 1);
      if (!(t >= -bound && t < bound))
        return pc;
      d.i = static_cast<int64_t>(t);
      break;
    }
    case Opc::FPToUI: {
      double t = std::trunc(FA);
      if (!(t >= 0.0 && t < std::ldexp(1.0, w)))
        return pc;
      d.i = sextFrom(static_cast<uint64_t>(t), w);
      break;
    }
    case Opc::RoundToF32:
      d.f = static_cast<double>(static_cast<float>(FA));
      break;
    case Opc::RoundTo:
      d.f = roundToSemantics(FA, *program.semantics[in.c],
                             static_cast<llvm::RoundingMode>(in.pred));
      break;
    // Other.
    case Opc::Select:
      d = IA != 0 ? s[in.b] : s[in.c];
      break;
    case Opc::Extract: {
      const TensorRef &t = program.tensors[in.a];
      const uint32_t *indices = program.operandPool.data() + in.b;
      int64_t offset = 0;
      for (uint32_t k = 0; k < in.c; ++k) {
        int64_t index = s[indices[k]].i;
        if (index < 0 || index >= t.array->shape[k])
          return pc;
        offset += index * t.strides[k];
      }
      double value = t.array->data[offset];
      if (t.isInt)
        d.i = intFromDouble(value, t.width);
      else
        d.f = value;
      break;
    }
    case Opc::Dim: {
      const TensorRef &t = program.tensors[in.a];
      int64_t index = IB;
      if (index < 0 || index >= static_cast<int64_t>(t.array->shape.size()))
        return pc;
      d.i = t.array->shape[index];
      break;
    }
    case Opc::JumpIfZero:
      if (IA == 0)
        pc = static_cast<size_t>(in.b) - 1;
      break;
    case Opc::Jump:
      pc = static_cast<size_t>(in.a) - 1;
      break;
    }
#undef FA
#undef FB
#undef IA
#undef IB
  }
  return -1;
}

/// Reports the failure of instruction `pc` of `program` at its op's
/// location; `context` (e.g. " at (b=0, h=1, i=2, j=3)") ends the message.
static void reportFailure(const Program &program, int64_t pc,
                          llvm::StringRef context) {
  const Instr &in = program.code[pc];
  Operation *op = program.origin[pc];
  StringRef name = op->getName().getStringRef();
  const Cell *s = program.slots.data();
  InFlightDiagnostic diag = mlir::emitError(op->getLoc()) << "oracle: ";
  switch (in.opc) {
  case Opc::DivSI:
  case Opc::FloorDivSI:
  case Opc::CeilDivSI:
    if (s[in.b].i != 0) {
      diag << "signed division overflow (" << s[in.a].i << " / -1) in '" << name
           << "'";
      break;
    }
    [[fallthrough]];
  case Opc::DivUI:
  case Opc::RemSI:
  case Opc::RemUI:
  case Opc::CeilDivUI:
    diag << "integer division by zero in '" << name << "'";
    break;
  case Opc::ShLI:
  case Opc::ShRSI:
  case Opc::ShRUI:
    diag << "shift amount " << zextFrom(s[in.b].i, in.width)
         << " is not less than the bit width " << unsigned(in.width) << " in '"
         << name << "'";
    break;
  case Opc::FPToSI:
  case Opc::FPToUI:
    diag << "value " << s[in.a].f << " is out of the range of i"
         << unsigned(in.width) << " in '" << name << "'";
    break;
  case Opc::Extract: {
    SmallVector<int64_t> indices;
    for (uint32_t k = 0; k < in.c; ++k)
      indices.push_back(s[program.operandPool[in.b + k]].i);
    diag << "tensor.extract index " << formatList(indices)
         << " is out of bounds for a tensor of shape "
         << formatList(program.tensors[in.a].array->shape);
    break;
  }
  case Opc::Dim:
    diag << "tensor.dim index " << s[in.b].i
         << " is out of range for a tensor of rank "
         << program.tensors[in.a].array->shape.size();
    break;
  default:
    diag << "'" << name << "' failed";
    break;
  }
  diag << context;
}

//===----------------------------------------------------------------------===//
// Translation of scalar code into a Program
//===----------------------------------------------------------------------===//

/// How values of `type` are held, or nullopt for a type the oracle does not
/// handle as a scalar.
static std::optional<ScalarKind> getScalarKind(Type type) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return ScalarKind{true, floatType.getWidth()};
  if (isa<IndexType>(type))
    return ScalarKind{false, 64};
  if (auto intType = dyn_cast<IntegerType>(type)) {
    unsigned width = intType.getWidth();
    if (width >= 1 && width <= 64)
      return ScalarKind{false, width};
  }
  return std::nullopt;
}

/// The ops that translate into a single instruction of the same arity.
static std::optional<Opc> lookupSimpleOpcode(StringRef name) {
  return llvm::StringSwitch<std::optional<Opc>>(name)
      .Case("arith.addf", Opc::AddF)
      .Case("arith.subf", Opc::SubF)
      .Case("arith.mulf", Opc::MulF)
      .Case("arith.divf", Opc::DivF)
      .Case("arith.remf", Opc::RemF)
      .Case("arith.maximumf", Opc::MaximumF)
      .Case("arith.minimumf", Opc::MinimumF)
      .Case("arith.maxnumf", Opc::MaxNumF)
      .Case("arith.minnumf", Opc::MinNumF)
      .Case("arith.negf", Opc::NegF)
      .Case("math.powf", Opc::PowF)
      .Case("math.copysign", Opc::CopySign)
      .Case("math.atan2", Opc::Atan2)
      .Case("math.exp", Opc::Exp)
      .Case("math.exp2", Opc::Exp2)
      .Case("math.expm1", Opc::ExpM1)
      .Case("math.log", Opc::Log)
      .Case("math.log2", Opc::Log2)
      .Case("math.log10", Opc::Log10)
      .Case("math.log1p", Opc::Log1p)
      .Case("math.tanh", Opc::Tanh)
      .Case("math.sqrt", Opc::Sqrt)
      .Case("math.rsqrt", Opc::Rsqrt)
      .Case("math.absf", Opc::AbsF)
      .Case("math.sin", Opc::Sin)
      .Case("math.cos", Opc::Cos)
      .Case("math.tan", Opc::Tan)
      .Case("math.asin", Opc::Asin)
      .Case("math.acos", Opc::Acos)
      .Case("math.atan", Opc::Atan)
      .Case("math.sinh", Opc::Sinh)
      .Case("math.cosh", Opc::Cosh)
      .Case("math.asinh", Opc::Asinh)
      .Case("math.acosh", Opc::Acosh)
      .Case("math.atanh", Opc::Atanh)
      .Case("math.cbrt", Opc::Cbrt)
      .Case("math.erf", Opc::Erf)
      .Case("math.erfc", Opc::Erfc)
      .Case("math.floor", Opc::Floor)
      .Case("math.ceil", Opc::Ceil)
      .Case("math.round", Opc::Round)
      .Case("math.roundeven", Opc::RoundEven)
      .Case("math.trunc", Opc::Trunc)
      .Case("math.fma", Opc::Fma)
      .Case("math.fpowi", Opc::FPowI)
      .Case("math.isnan", Opc::IsNaN)
      .Case("math.isinf", Opc::IsInf)
      .Case("math.isfinite", Opc::IsFinite)
      .Case("arith.addi", Opc::AddI)
      .Case("arith.subi", Opc::SubI)
      .Case("arith.muli", Opc::MulI)
      .Case("arith.divsi", Opc::DivSI)
      .Case("arith.divui", Opc::DivUI)
      .Case("arith.remsi", Opc::RemSI)
      .Case("arith.remui", Opc::RemUI)
      .Case("arith.floordivsi", Opc::FloorDivSI)
      .Case("arith.ceildivsi", Opc::CeilDivSI)
      .Case("arith.ceildivui", Opc::CeilDivUI)
      .Case("arith.maxsi", Opc::MaxSI)
      .Case("arith.minsi", Opc::MinSI)
      .Case("arith.maxui", Opc::MaxUI)
      .Case("arith.minui", Opc::MinUI)
      .Case("arith.andi", Opc::AndI)
      .Case("arith.ori", Opc::OrI)
      .Case("arith.xori", Opc::XOrI)
      .Case("arith.shli", Opc::ShLI)
      .Case("arith.shrsi", Opc::ShRSI)
      .Case("arith.shrui", Opc::ShRUI)
      .Case("math.absi", Opc::AbsI)
      .Case("math.ctlz", Opc::CtLz)
      .Case("math.cttz", Opc::CtTz)
      .Case("math.ctpop", Opc::CtPop)
      .Case("arith.extf", Opc::Copy)
      .Case("arith.sitofp", Opc::SIToFP)
      .Case("arith.uitofp", Opc::UIToFP)
      .Case("arith.fptosi", Opc::FPToSI)
      .Case("arith.fptoui", Opc::FPToUI)
      .Case("arith.extsi", Opc::SExtOrTrunc)
      .Case("arith.trunci", Opc::SExtOrTrunc)
      .Case("arith.index_cast", Opc::SExtOrTrunc)
      .Case("arith.extui", Opc::ZExtOrTrunc)
      .Case("arith.index_castui", Opc::ZExtOrTrunc)
      .Default(std::nullopt);
}

/// The llvm::RoundingMode of an arith rounding mode.
static llvm::RoundingMode toLLVMRoundingMode(arith::RoundingMode mode) {
  switch (mode) {
  case arith::RoundingMode::to_nearest_even:
    return llvm::RoundingMode::NearestTiesToEven;
  case arith::RoundingMode::downward:
    return llvm::RoundingMode::TowardNegative;
  case arith::RoundingMode::upward:
    return llvm::RoundingMode::TowardPositive;
  case arith::RoundingMode::toward_zero:
    return llvm::RoundingMode::TowardZero;
  case arith::RoundingMode::to_nearest_away:
    return llvm::RoundingMode::NearestTiesToAway;
  }
  return llvm::RoundingMode::NearestTiesToEven;
}

namespace {

/// Translates scalar ops into a Program, giving every SSA value a slot and
/// every captured tensor an entry of the program's tensor table.
class ProgramBuilder {
public:
  explicit ProgramBuilder(Program &program) : program(program) {}

  /// Gives `value` a slot that the caller writes before each run.
  uint32_t bindArgument(Value value) { return slotOf[value] = newSlot({}); }

  /// Gives `value` a slot holding `cell` for every run.
  void bindScalar(Value value, Cell cell) { slotOf[value] = newSlot(cell); }

  /// Makes `value` (a ranked tensor) refer to `array`.
  LogicalResult bindTensor(Value value, const Array &array, Location loc);

  /// Translates the ops of `block` except its terminator.
  LogicalResult compileBlock(Block &block);

  /// Translates one op.
  LogicalResult compileOp(Operation *op);

  /// The slot of `value`; fails (with a diagnostic at `loc`) for a value the
  /// builder has not seen.
  FailureOr<uint32_t> lookup(Value value, Location loc) const;

private:
  uint32_t newSlot(Cell init) {
    program.slots.push_back(init);
    return program.slots.size() - 1;
  }
  void emit(Operation *op, Instr instr) {
    program.code.push_back(instr);
    program.origin.push_back(op);
  }
  LogicalResult compileConstant(arith::ConstantOp op);
  LogicalResult compileIf(scf::IfOp op);
  LogicalResult compileTensorOp(Operation *op, Value tensor, ValueRange indices,
                                Opc opc);

  Program &program;
  DenseMap<Value, uint32_t> slotOf;
  DenseMap<Value, uint32_t> tensorOf;
};

} // namespace

/// Emits the diagnostic for an op the oracle does not interpret.
static LogicalResult emitUnsupported(Operation *op) {
  return mlir::emitError(op->getLoc())
         << "oracle does not support '" << op->getName() << "'";
}

/// Emits the diagnostic for a supported op on a type the oracle does not
/// interpret.
static LogicalResult emitUnsupportedType(Operation *op, Type type) {
  return mlir::emitError(op->getLoc()) << "oracle does not support '"
                                       << op->getName() << "' on type " << type;
}

LogicalResult ProgramBuilder::bindTensor(Value value, const Array &array,
                                         Location loc) {
  auto type = cast<RankedTensorType>(value.getType());
  std::optional<ScalarKind> kind = getScalarKind(type.getElementType());
  if (!kind)
    return mlir::emitError(loc)
           << "oracle does not support tensors of " << type.getElementType();
  TensorRef ref{&array, !kind->isFloat, kind->width, {}};
  ref.strides.assign(array.shape.size(), 1);
  for (int64_t k = static_cast<int64_t>(array.shape.size()) - 2; k >= 0; --k)
    ref.strides[k] = ref.strides[k + 1] * array.shape[k + 1];
  program.tensors.push_back(std::move(ref));
  tensorOf[value] = program.tensors.size() - 1;
  return success();
}

FailureOr<uint32_t> ProgramBuilder::lookup(Value value, Location loc) const {
  auto it = slotOf.find(value);
  if (it == slotOf.end())
    return mlir::emitError(loc) << "oracle: no value for an operand";
  return it->second;
}

LogicalResult ProgramBuilder::compileBlock(Block &block) {
  for (Operation &op : block.without_terminator())
    if (failed(compileOp(&op)))
      return failure();
  return success();
}

LogicalResult ProgramBuilder::compileConstant(arith::ConstantOp op) {
  Attribute value = op.getValue();
  Cell cell{};
  if (auto intAttr = dyn_cast<IntegerAttr>(value)) {
    std::optional<ScalarKind> kind = getScalarKind(intAttr.getType());
    if (!kind)
      return emitUnsupportedType(op, intAttr.getType());
    cell.i = intAttr.getValue().getSExtValue();
  } else if (auto floatAttr = dyn_cast<FloatAttr>(value)) {
    cell.f = floatAttr.getValueAsDouble();
  } else {
    return emitUnsupportedType(op, op.getType());
  }
  bindScalar(op.getResult(), cell);
  return success();
}

LogicalResult ProgramBuilder::compileIf(scf::IfOp op) {
  for (Type type : op.getResultTypes())
    if (!getScalarKind(type))
      return emitUnsupportedType(op, type);
  FailureOr<uint32_t> cond = lookup(op.getCondition(), op.getLoc());
  if (failed(cond))
    return failure();
  SmallVector<uint32_t> results;
  for (Value result : op.getResults())
    results.push_back(bindArgument(result));

  // Translates one branch and copies what it yields into `results`.
  auto compileBranch = [&](Region &region) -> LogicalResult {
    if (region.empty())
      return success();
    Block &block = region.front();
    if (failed(compileBlock(block)))
      return failure();
    Operation *yield = block.getTerminator();
    for (auto [slot, value] : llvm::zip(results, yield->getOperands())) {
      FailureOr<uint32_t> from = lookup(value, yield->getLoc());
      if (failed(from))
        return failure();
      emit(yield, Instr{Opc::Copy, 0, 0, 0, slot, *from, 0, 0});
    }
    return success();
  };

  size_t branch = program.code.size();
  emit(op, Instr{Opc::JumpIfZero, 0, 0, 0, 0, *cond, 0, 0});
  if (failed(compileBranch(op.getThenRegion())))
    return failure();
  if (op.getElseRegion().empty()) {
    program.code[branch].b = program.code.size();
    return success();
  }
  size_t jump = program.code.size();
  emit(op, Instr{Opc::Jump, 0, 0, 0, 0, 0, 0, 0});
  program.code[branch].b = program.code.size();
  if (failed(compileBranch(op.getElseRegion())))
    return failure();
  program.code[jump].a = program.code.size();
  return success();
}

LogicalResult ProgramBuilder::compileTensorOp(Operation *op, Value tensor,
                                              ValueRange indices, Opc opc) {
  auto it = tensorOf.find(tensor);
  if (it == tensorOf.end())
    return mlir::emitError(op->getLoc())
           << "oracle: '" << op->getName()
           << "' must read a function argument or a capture";
  Instr instr{opc, 0, 0, 0, 0, it->second, 0, 0};
  if (opc == Opc::Extract) {
    instr.b = program.operandPool.size();
    instr.c = indices.size();
    for (Value index : indices) {
      FailureOr<uint32_t> slot = lookup(index, op->getLoc());
      if (failed(slot))
        return failure();
      program.operandPool.push_back(*slot);
    }
    std::optional<ScalarKind> kind = getScalarKind(
        cast<RankedTensorType>(tensor.getType()).getElementType());
    if (!kind)
      return emitUnsupportedType(op, tensor.getType());
  } else {
    FailureOr<uint32_t> slot = lookup(indices.front(), op->getLoc());
    if (failed(slot))
      return failure();
    instr.b = *slot;
  }
  instr.dst = bindArgument(op->getResult(0));
  emit(op, instr);
  return success();
}

LogicalResult ProgramBuilder::compileOp(Operation *op) {
  if (auto constant = dyn_cast<arith::ConstantOp>(op))
    return compileConstant(constant);
  if (auto ifOp = dyn_cast<scf::IfOp>(op))
    return compileIf(ifOp);
  if (auto extract = dyn_cast<tensor::ExtractOp>(op))
    return compileTensorOp(op, extract.getTensor(), extract.getIndices(),
                           Opc::Extract);
  if (auto dim = dyn_cast<tensor::DimOp>(op))
    return compileTensorOp(op, dim.getSource(), dim.getIndex(), Opc::Dim);

  StringRef name = op->getName().getStringRef();
  std::optional<Opc> simple = lookupSimpleOpcode(name);
  bool isSelect = isa<arith::SelectOp>(op), isCmpI = isa<arith::CmpIOp>(op),
       isCmpF = isa<arith::CmpFOp>(op), isTruncF = isa<arith::TruncFOp>(op);
  if (!simple && !isSelect && !isCmpI && !isCmpF && !isTruncF)
    return emitUnsupported(op);
  if (op->getNumResults() != 1 || op->getNumOperands() > 3 ||
      op->getNumRegions() != 0)
    return emitUnsupported(op);
  for (Type type : op->getOperandTypes())
    if (!getScalarKind(type))
      return emitUnsupportedType(op, type);
  for (Type type : op->getResultTypes())
    if (!getScalarKind(type))
      return emitUnsupportedType(op, type);

  Instr instr{simple.value_or(Opc::Copy), 0, 0, 0, 0, 0, 0, 0};
  uint32_t *operandSlots[] = {&instr.a, &instr.b, &instr.c};
  for (auto [k, operand] : llvm::enumerate(op->getOperands())) {
    FailureOr<uint32_t> slot = lookup(operand, op->getLoc());
    if (failed(slot))
      return failure();
    *operandSlots[k] = *slot;
  }

  // Integer widths: of the operand for comparisons, integer sources of
  // conversions and unary/binary integer ops, of the result for the
  // float-to-integer conversions and the integer width changes.
  Type resultType = op->getResult(0).getType();
  ScalarKind result = *getScalarKind(resultType);
  if (op->getNumOperands() > 0) {
    ScalarKind source = *getScalarKind(op->getOperand(0).getType());
    instr.width = source.isFloat ? result.width : source.width;
    instr.srcWidth = source.width;
  }
  if (isSelect) {
    instr.opc = Opc::Select;
  } else if (isCmpI) {
    instr.opc = Opc::CmpI;
    instr.pred = static_cast<uint8_t>(cast<arith::CmpIOp>(op).getPredicate());
  } else if (isCmpF) {
    instr.opc = Opc::CmpF;
    instr.pred = static_cast<uint8_t>(cast<arith::CmpFOp>(op).getPredicate());
  } else if (isTruncF) {
    auto truncf = cast<arith::TruncFOp>(op);
    llvm::RoundingMode mode = llvm::RoundingMode::NearestTiesToEven;
    if (std::optional<arith::RoundingMode> rm = truncf.getRoundingmode())
      mode = toLLVMRoundingMode(*rm);
    const llvm::fltSemantics &sem =
        cast<FloatType>(resultType).getFloatSemantics();
    if (&sem == &llvm::APFloat::IEEEdouble()) {
      instr.opc = Opc::Copy;
    } else if (&sem == &llvm::APFloat::IEEEsingle() &&
               mode == llvm::RoundingMode::NearestTiesToEven) {
      instr.opc = Opc::RoundToF32;
    } else {
      instr.opc = Opc::RoundTo;
      instr.pred = static_cast<uint8_t>(mode);
      instr.c = program.semantics.size();
      program.semantics.push_back(&sem);
    }
  } else if (*simple == Opc::SExtOrTrunc || *simple == Opc::ZExtOrTrunc ||
             *simple == Opc::FPToSI || *simple == Opc::FPToUI) {
    instr.width = result.width;
  }
  instr.dst = bindArgument(op->getResult(0));
  emit(op, instr);
  return success();
}

//===----------------------------------------------------------------------===//
// Evaluation of the function body
//===----------------------------------------------------------------------===//

namespace {

/// A value of the function body: a tensor, or a scalar held in a Cell.
struct TopValue {
  const Array *array = nullptr;
  Cell scalar{};
};

/// Evaluates the ops of one function body in order.
class Evaluator : public oracle::detail::Environment {
public:
  // oracle::detail::Environment, for the tensor ops of TensorOps.cpp.
  const Array *lookupArray(Value value) override {
    return values.lookup(value).array;
  }
  std::optional<Cell> lookupScalar(Value value) override {
    auto it = values.find(value);
    if (it == values.end())
      return std::nullopt;
    return it->second.scalar;
  }
  void bindArray(Value value, Array array) override {
    storage.push_back(std::move(array));
    values[value].array = &storage.back();
  }

  /// Binds the function arguments; fails on a mismatch with the type.
  LogicalResult bindArguments(func::FuncOp func, ArrayRef<Array> args);

  /// Evaluates every op of the body and collects the returned values.
  FailureOr<std::vector<Array>> run(func::FuncOp func);

private:
  LogicalResult evaluateScalarOp(Operation *op);
  LogicalResult evaluateAttention(attn::AttentionOp op);
  LogicalResult evaluateRope(attn::RopeOp op);
  LogicalResult evaluateMerge(attn::MergeOp op);
  /// The slots of a region program's leading arguments.
  struct RegionArgSlots {
    /// s (score region only).
    uint32_t score = 0;
    /// b, h, i, j, in RegionDim order.
    std::array<uint32_t, attn::AttentionOp::kNumIndexArgs> index{};
    uint32_t &operator[](attn::RegionDim dim) {
      return index[static_cast<unsigned>(dim)];
    }
  };
  LogicalResult buildRegionProgram(attn::AttentionOp op, Block *block,
                                   Program &program, RegionArgSlots &slots);
  DenseMap<Value, TopValue> values;
  std::deque<Array> storage;
};

} // namespace

/// Checks that every element of `array` is a valid integer of `width` bits:
/// integral and in [-2^(width-1), 2^width).
static bool holdsIntegers(const Array &array, unsigned width) {
  double low = -std::ldexp(1.0, width - 1), high = std::ldexp(1.0, width);
  for (double v : array.data)
    if (!(v >= low && v < high) || std::trunc(v) != v)
      return false;
  return true;
}

LogicalResult Evaluator::bindArguments(func::FuncOp func,
                                       ArrayRef<Array> args) {
  Location loc = func.getLoc();
  if (func.isExternal())
    return mlir::emitError(loc) << "oracle: function has no body";
  if (args.size() != func.getNumArguments())
    return mlir::emitError(loc) << "oracle: expected " << func.getNumArguments()
                                << " arguments, got " << args.size();
  for (auto [k, arg] : llvm::enumerate(args)) {
    BlockArgument value = func.getArgument(k);
    Type type = value.getType();
    auto tensorType = dyn_cast<RankedTensorType>(type);
    std::optional<ScalarKind> kind =
        getScalarKind(tensorType ? tensorType.getElementType() : type);
    if (!kind)
      return mlir::emitError(loc)
             << "oracle does not support arguments of type " << type;
    ArrayRef<int64_t> expected =
        tensorType ? tensorType.getShape() : ArrayRef<int64_t>();
    bool shapeMatches = arg.shape.size() == expected.size();
    for (auto [size, want] : llvm::zip(arg.shape, expected))
      shapeMatches &=
          size >= 0 && (ShapedType::isDynamic(want) || size == want);
    if (!shapeMatches)
      return mlir::emitError(loc)
             << "oracle: argument #" << k << " has shape "
             << formatShape(arg.shape) << ", expected " << type;
    if (static_cast<int64_t>(arg.data.size()) != arg.numElements())
      return mlir::emitError(loc)
             << "oracle: argument #" << k << " has " << arg.data.size()
             << " elements, its shape " << formatShape(arg.shape) << " has "
             << arg.numElements();
    if (!kind->isFloat && !holdsIntegers(arg, kind->width))
      return mlir::emitError(loc) << "oracle: argument #" << k
                                  << " holds a value that is not an integer of "
                                  << kind->width << " bits";
    TopValue &top = values[value];
    if (tensorType) {
      top.array = &arg;
      continue;
    }
    if (kind->isFloat)
      top.scalar.f = arg.data.front();
    else
      top.scalar.i = intFromDouble(arg.data.front(), kind->width);
  }
  return success();
}

LogicalResult Evaluator::evaluateScalarOp(Operation *op) {
  // The op's operands and, for an op with regions (scf.if), the values its
  // regions use from the function body.
  llvm::SetVector<Value> inputs;
  op->walk([&](Operation *inner) {
    for (Value operand : inner->getOperands())
      if (!op->isAncestor(operand.getParentRegion()->getParentOp()))
        inputs.insert(operand);
  });

  Program program;
  ProgramBuilder builder(program);
  for (Value operand : inputs) {
    auto it = values.find(operand);
    if (it == values.end())
      return mlir::emitError(op->getLoc()) << "oracle: no value for an operand";
    if (isa<RankedTensorType>(operand.getType())) {
      if (failed(builder.bindTensor(operand, *it->second.array, op->getLoc())))
        return failure();
      continue;
    }
    builder.bindScalar(operand, it->second.scalar);
  }
  if (failed(builder.compileOp(op)))
    return failure();
  int64_t failedAt = execute(program);
  if (failedAt >= 0) {
    reportFailure(program, failedAt, "");
    return failure();
  }
  for (Value result : op->getResults()) {
    FailureOr<uint32_t> slot = builder.lookup(result, op->getLoc());
    if (failed(slot))
      return failure();
    values[result].scalar = program.slots[*slot];
  }
  return success();
}

LogicalResult Evaluator::buildRegionProgram(attn::AttentionOp op, Block *block,
                                            Program &program,
                                            RegionArgSlots &slots) {
  using attn::AttentionOp;
  ProgramBuilder builder(program);
  if (AttentionOp::isScoreBlock(block))
    slots.score = builder.bindArgument(AttentionOp::getScoreArg(block));
  for (auto [slot, arg] :
       llvm::zip(slots.index, AttentionOp::getIndexArgs(block)))
    slot = builder.bindArgument(arg);
  for (auto [k, capture] : llvm::enumerate(op.getCaptures())) {
    BlockArgument arg = AttentionOp::getCaptureArg(block, k);
    const TopValue &top = values.lookup(capture);
    if (isa<RankedTensorType>(capture.getType())) {
      if (!top.array)
        return mlir::emitError(op.getLoc())
               << "oracle: capture #" << k << " has no value";
      if (failed(builder.bindTensor(arg, *top.array, op.getLoc())))
        return failure();
      continue;
    }
    if (!getScalarKind(capture.getType()))
      return mlir::emitError(op.getLoc())
             << "oracle does not support captures of type "
             << capture.getType();
    builder.bindScalar(arg, top.scalar);
  }
  if (failed(builder.compileBlock(*block)))
    return failure();
  Value yielded = attn::AttentionOp::getYieldedValue(block);
  FailureOr<uint32_t> result =
      builder.lookup(yielded, block->getTerminator()->getLoc());
  if (failed(result))
    return failure();
  program.result = *result;
  return success();
}

/// Row-major strides of a 4-D `shape`.
static std::array<int64_t, 4> getStrides(ArrayRef<int64_t> shape) {
  return {shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1};
}

/// Checks a computed result shape against the static sizes of `type`.
static LogicalResult checkResultShape(Operation *op, Type type,
                                      ArrayRef<int64_t> shape, StringRef what) {
  if (oracle::detail::shapeFitsType(shape, type))
    return success();
  return mlir::emitError(op->getLoc())
         << "oracle: the " << what << " has shape " << formatShape(shape)
         << ", the result type is " << type;
}

LogicalResult Evaluator::evaluateAttention(attn::AttentionOp op) {
  const Array *q = values.lookup(op.getQuery()).array;
  const Array *k = values.lookup(op.getKey()).array;
  const Array *v = values.lookup(op.getValue()).array;
  if (!q || !k || !v)
    return mlir::emitError(op.getLoc()) << "oracle: no value for an operand";
  if (q->shape.size() != 4 || k->shape.size() != 4 || v->shape.size() != 4)
    return mlir::emitError(op.getLoc())
           << "oracle: query, key and value must have rank 4";

  attn::LayoutDims dims = op.getLayoutDims();
  int64_t batch = q->shape[dims.batch], numHeads = q->shape[dims.head],
          seqQ = q->shape[dims.seq], headSize = q->shape[dims.feature];
  int64_t numKVHeads = k->shape[dims.head], seqK = k->shape[dims.seq],
          valueSize = v->shape[dims.feature];
  if (k->shape[dims.batch] != batch || v->shape[dims.batch] != batch ||
      k->shape[dims.feature] != headSize || v->shape[dims.head] != numKVHeads ||
      v->shape[dims.seq] != seqK || numKVHeads <= 0 ||
      numHeads % numKVHeads != 0)
    return mlir::emitError(op.getLoc())
           << "oracle: inconsistent shapes: query " << formatShape(q->shape)
           << ", key " << formatShape(k->shape) << ", value "
           << formatShape(v->shape);
  int64_t group = numHeads / numKVHeads;

  Array out;
  out.shape.assign(4, 0);
  out.shape[dims.batch] = batch;
  out.shape[dims.head] = numHeads;
  out.shape[dims.seq] = seqQ;
  out.shape[dims.feature] = valueSize;
  out.data.assign(out.numElements(), 0.0);
  if (failed(
          checkResultShape(op, op.getOutput().getType(), out.shape, "output")))
    return failure();
  Array lse;
  lse.shape = {batch, numHeads, seqQ};
  lse.data.assign(lse.numElements(), 0.0);
  if (op.getLse() &&
      failed(checkResultShape(op, op.getLse().getType(), lse.shape, "lse")))
    return failure();

  // Per-dimension strides in logical (b, h, s, d) order.
  auto logicalStrides = [&](const Array &a) {
    std::array<int64_t, 4> st = getStrides(a.shape);
    return std::array<int64_t, 4>{st[dims.batch], st[dims.head], st[dims.seq],
                                  st[dims.feature]};
  };
  std::array<int64_t, 4> qs = logicalStrides(*q), ks = logicalStrides(*k),
                         vs = logicalStrides(*v), os = logicalStrides(out);

  Block *maskBlock = op.getMaskBlock(), *scoreBlock = op.getScoreBlock();
  Program maskProgram, scoreProgram;
  RegionArgSlots maskArgs, scoreArgs;
  if (maskBlock &&
      failed(buildRegionProgram(op, maskBlock, maskProgram, maskArgs)))
    return failure();
  if (scoreBlock &&
      failed(buildRegionProgram(op, scoreBlock, scoreProgram, scoreArgs)))
    return failure();

  // Reports a failure of a region at element (b, h, i, j).
  auto fail = [](const Program &program, int64_t pc, int64_t b, int64_t h,
                 int64_t i, int64_t j) {
    std::string context =
        " at (b=" + std::to_string(b) + ", h=" + std::to_string(h) +
        ", i=" + std::to_string(i) + ", j=" + std::to_string(j) + ")";
    reportFailure(program, pc, context);
    return failure();
  };

  const double scale = op.getScaleValue();
  const double negInf = -std::numeric_limits<double>::infinity();
  std::vector<double> scores(seqK), acc(valueSize);
  Cell *maskSlots = maskProgram.slots.data();
  Cell *scoreSlots = scoreProgram.slots.data();
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t h = 0; h < numHeads; ++h) {
      int64_t hk = h / group;
      for (int64_t i = 0; i < seqQ; ++i) {
        for (auto [block, args, slots] :
             {std::make_tuple(maskBlock, &maskArgs, maskSlots),
              std::make_tuple(scoreBlock, &scoreArgs, scoreSlots)}) {
          if (!block)
            continue;
          slots[(*args)[attn::RegionDim::B]].i = b;
          slots[(*args)[attn::RegionDim::H]].i = h;
          slots[(*args)[attn::RegionDim::I]].i = i;
        }
        const double *qRow = q->data.data() + b * qs[0] + h * qs[1] + i * qs[2];
        double rowMax = negInf;
        for (int64_t j = 0; j < seqK; ++j) {
          if (maskBlock) {
            maskSlots[maskArgs[attn::RegionDim::J]].i = j;
            int64_t failedAt = execute(maskProgram);
            if (failedAt >= 0)
              return fail(maskProgram, failedAt, b, h, i, j);
            if (maskSlots[maskProgram.result].i == 0) {
              scores[j] = negInf;
              continue;
            }
          }
          const double *kRow =
              k->data.data() + b * ks[0] + hk * ks[1] + j * ks[2];
          double dot = 0.0;
          for (int64_t d = 0; d < headSize; ++d)
            dot += qRow[d * qs[3]] * kRow[d * ks[3]];
          double score = scale * dot;
          if (scoreBlock) {
            scoreSlots[scoreArgs.score].f = score;
            scoreSlots[scoreArgs[attn::RegionDim::J]].i = j;
            int64_t failedAt = execute(scoreProgram);
            if (failedAt >= 0)
              return fail(scoreProgram, failedAt, b, h, i, j);
            score = scoreSlots[scoreProgram.result].f;
          }
          scores[j] = score;
          // A NaN score makes the row NaN, as it does in softmax; a plain
          // `>` would skip it and could even call the row fully masked.
          if (score > rowMax || std::isnan(score))
            rowMax = std::isnan(rowMax) ? rowMax : score;
        }

        double *oRow = out.data.data() + b * os[0] + h * os[1] + i * os[2];
        double &rowLse = lse.data[(b * numHeads + h) * seqQ + i];
        if (rowMax == negInf) {
          // Every key is masked: O = 0 (already zero) and lse = -inf.
          rowLse = negInf;
          continue;
        }
        std::fill(acc.begin(), acc.end(), 0.0);
        double sum = 0.0;
        for (int64_t j = 0; j < seqK; ++j) {
          if (scores[j] == negInf)
            continue;
          double p = std::exp(scores[j] - rowMax);
          sum += p;
          const double *vRow =
              v->data.data() + b * vs[0] + hk * vs[1] + j * vs[2];
          for (int64_t d = 0; d < valueSize; ++d)
            acc[d] += p * vRow[d * vs[3]];
        }
        for (int64_t d = 0; d < valueSize; ++d)
          oRow[d * os[3]] = acc[d] / sum;
        rowLse = rowMax + std::log(sum);
      }
    }
  }

  bindArray(op.getOutput(), std::move(out));
  if (op.getLse())
    bindArray(op.getLse(), std::move(lse));
  return success();
}

LogicalResult Evaluator::evaluateRope(attn::RopeOp op) {
  // docs/Rope.md, written out again here rather than through the op's
  // pairing helpers, which the lowerings use.
  const Array *x = values.lookup(op.getInput()).array;
  if (!x)
    return mlir::emitError(op.getLoc()) << "oracle: no value for the input";
  const Array *positions =
      op.getPositions() ? values.lookup(op.getPositions()).array : nullptr;
  const Array *scales =
      op.getFreqScales() ? values.lookup(op.getFreqScales()).array : nullptr;
  int64_t offset = op.getOffset() ? values.lookup(op.getOffset()).scalar.i : 0;
  attn::LayoutDims dims = op.getLayoutDims();
  int64_t batch = x->shape[dims.batch], heads = x->shape[dims.head],
          seq = x->shape[dims.seq], features = x->shape[dims.feature];
  int64_t rotary = op.getRotaryDim() ? int64_t(*op.getRotaryDim()) : features;
  if (positions && positions->shape.back() != seq)
    return mlir::emitError(op.getLoc())
           << "oracle: positions " << formatShape(positions->shape)
           << " do not match the input " << formatShape(x->shape);
  if (positions && positions->shape.size() == 2 &&
      positions->shape[0] != batch)
    return mlir::emitError(op.getLoc())
           << "oracle: positions " << formatShape(positions->shape)
           << " do not match the input " << formatShape(x->shape);
  if (scales && scales->numElements() != rotary / 2)
    return mlir::emitError(op.getLoc())
           << "oracle: freq_scales has " << scales->numElements()
           << " entries, rotary_dim / 2 is " << rotary / 2;
  bool interleaved = op.getStyle() == attn::RopeStyle::interleaved;
  double base = op.getBase().convertToDouble();
  double scaling = op.getScaling().convertToDouble();

  Array out = *x;
  std::array<int64_t, 4> strides = getStrides(x->shape);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t s = 0; s < seq; ++s) {
      double p = positions ? positions->data[positions->shape.size() == 2
                                                 ? b * seq + s
                                                 : s]
                           : double(offset + s);
      for (int64_t k = 0; k < rotary / 2; ++k) {
        double theta = std::pow(base, -2.0 * double(k) / double(rotary));
        if (scales)
          theta *= scales->data[k];
        double angle = p / scaling * theta;
        double c = std::cos(angle), sn = std::sin(angle);
        int64_t first = interleaved ? 2 * k : k;
        int64_t second = interleaved ? 2 * k + 1 : k + rotary / 2;
        for (int64_t h = 0; h < heads; ++h) {
          std::array<int64_t, 4> at{};
          at[dims.batch] = b;
          at[dims.head] = h;
          at[dims.seq] = s;
          int64_t row = at[0] * strides[0] + at[1] * strides[1] +
                        at[2] * strides[2];
          double x1 = x->data[row + first * strides[dims.feature]];
          double x2 = x->data[row + second * strides[dims.feature]];
          out.data[row + first * strides[dims.feature]] = x1 * c - x2 * sn;
          out.data[row + second * strides[dims.feature]] = x2 * c + x1 * sn;
        }
      }
    }
  }
  bindArray(op.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::evaluateMerge(attn::MergeOp op) {
  // docs/Merge.md: lse = log sum_i exp(lse_i), O = sum_i exp(lse_i - lse)
  // O_i, with O = 0 and lse = -inf where every lse_i is -inf.
  std::vector<const Array *> outputs, lses;
  for (Value o : op.getOutputs())
    outputs.push_back(values.lookup(o).array);
  for (Value l : op.getLses())
    lses.push_back(values.lookup(l).array);
  for (auto *a : llvm::concat<const Array *>(outputs, lses))
    if (!a)
      return mlir::emitError(op.getLoc()) << "oracle: no value for an operand";
  for (size_t k = 1; k < outputs.size(); ++k)
    if (outputs[k]->shape != outputs[0]->shape ||
        lses[k]->shape != lses[0]->shape)
      return mlir::emitError(op.getLoc())
             << "oracle: partial #" << k << " has shapes "
             << formatShape(outputs[k]->shape) << " and "
             << formatShape(lses[k]->shape) << ", partial #0 "
             << formatShape(outputs[0]->shape) << " and "
             << formatShape(lses[0]->shape);
  attn::LayoutDims dims = op.getLayoutDims();
  const std::vector<int64_t> &shape = outputs[0]->shape;
  int64_t batch = shape[dims.batch], heads = shape[dims.head],
          seq = shape[dims.seq], features = shape[dims.feature];
  if (lses[0]->shape != std::vector<int64_t>{batch, heads, seq})
    return mlir::emitError(op.getLoc())
           << "oracle: lse " << formatShape(lses[0]->shape)
           << " does not match O " << formatShape(shape);
  const double negInf = -std::numeric_limits<double>::infinity();
  Array out{shape, std::vector<double>(outputs[0]->data.size(), 0.0)};
  Array lse{lses[0]->shape, std::vector<double>(lses[0]->data.size())};
  std::array<int64_t, 4> strides = getStrides(shape);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t s = 0; s < seq; ++s) {
        int64_t row = (b * heads + h) * seq + s;
        double m = negInf;
        for (const Array *l : lses)
          m = std::isnan(l->data[row]) ? l->data[row]
                                       : std::max(m, l->data[row]);
        double total = 0.0;
        if (m != negInf)
          for (const Array *l : lses)
            total += std::exp(l->data[row] - m);
        double merged = m == negInf ? negInf : m + std::log(total);
        lse.data[row] = merged;
        if (merged == negInf)
          continue;
        std::array<int64_t, 4> at{};
        at[dims.batch] = b;
        at[dims.head] = h;
        at[dims.seq] = s;
        int64_t base = at[0] * strides[0] + at[1] * strides[1] +
                       at[2] * strides[2] + at[3] * strides[3];
        for (size_t k = 0; k < outputs.size(); ++k) {
          double weight = std::exp(lses[k]->data[row] - merged);
          for (int64_t f = 0; f < features; ++f)
            out.data[base + f * strides[dims.feature]] +=
                weight * outputs[k]->data[base + f * strides[dims.feature]];
        }
      }
  bindArray(op.getOutput(), std::move(out));
  bindArray(op.getLse(), std::move(lse));
  return success();
}

FailureOr<std::vector<Array>> Evaluator::run(func::FuncOp func) {
  Block &body = func.getBody().front();
  for (Operation &op : body) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      std::vector<Array> results;
      for (Value operand : ret.getOperands()) {
        const TopValue &top = values.lookup(operand);
        if (isa<RankedTensorType>(operand.getType())) {
          results.push_back(*top.array);
          continue;
        }
        ScalarKind kind = *getScalarKind(operand.getType());
        double value = kind.isFloat ? top.scalar.f
                       : kind.width == 1
                           ? static_cast<double>(top.scalar.i != 0)
                           : static_cast<double>(top.scalar.i);
        results.push_back(Array{{}, {value}});
      }
      return results;
    }
    if (auto attention = dyn_cast<attn::AttentionOp>(op)) {
      if (failed(evaluateAttention(attention)))
        return failure();
      continue;
    }
    if (auto rope = dyn_cast<attn::RopeOp>(op)) {
      if (failed(evaluateRope(rope)))
        return failure();
      continue;
    }
    if (auto merge = dyn_cast<attn::MergeOp>(op)) {
      if (failed(evaluateMerge(merge)))
        return failure();
      continue;
    }
    if (std::optional<LogicalResult> done =
            oracle::detail::evaluatePagedOp(&op, *this)) {
      if (failed(*done))
        return failure();
      continue;
    }
    if (std::optional<LogicalResult> done =
            oracle::detail::evaluateVarlenOp(&op, *this)) {
      if (failed(*done))
        return failure();
      continue;
    }
    if (std::optional<LogicalResult> done =
            oracle::detail::evaluateHashOp(&op, *this)) {
      if (failed(*done))
        return failure();
      continue;
    }
    if (std::optional<LogicalResult> done =
            oracle::detail::evaluateBlockSelectionOp(&op, *this)) {
      if (failed(*done))
        return failure();
      continue;
    }
    if (std::optional<LogicalResult> done =
            oracle::detail::evaluateLinearAttentionOp(&op, *this)) {
      if (failed(*done))
        return failure();
      continue;
    }
    if (std::optional<LogicalResult> done =
            oracle::detail::evaluateTensorOp(&op, *this)) {
      if (failed(*done))
        return failure();
      continue;
    }
    if (failed(evaluateScalarOp(&op)))
      return failure();
  }
  return mlir::emitError(func.getLoc())
         << "oracle: function body has no func.return";
}

FailureOr<std::vector<Array>> attune::oracle::evaluate(func::FuncOp func,
                                                       ArrayRef<Array> args) {
  Evaluator evaluator;
  if (failed(evaluator.bindArguments(func, args)))
    return failure();
  return evaluator.run(func);
}

//===----------------------------------------------------------------------===//
// Seams for TensorOps.cpp (OracleInternal.h)
//===----------------------------------------------------------------------===//

Cell oracle::detail::cellFromDouble(double v, Type type) {
  ScalarKind kind = *getScalarKind(type);
  Cell cell;
  if (kind.isFloat)
    cell.f = v;
  else
    cell.i = intFromDouble(v, kind.width);
  return cell;
}

double oracle::detail::doubleFromCell(Cell c, Type type) {
  ScalarKind kind = *getScalarKind(type);
  if (kind.isFloat)
    return c.f;
  return kind.width == 1 ? static_cast<double>(c.i != 0)
                         : static_cast<double>(c.i);
}

bool oracle::detail::isSupportedScalarType(Type type) {
  return getScalarKind(type).has_value();
}

struct oracle::detail::ScalarBlock::Impl {
  Program program;
  std::vector<uint32_t> argumentSlots;
  std::vector<uint32_t> resultSlots;
};

oracle::detail::ScalarBlock::ScalarBlock() = default;
oracle::detail::ScalarBlock::~ScalarBlock() = default;
oracle::detail::ScalarBlock::ScalarBlock(ScalarBlock &&) = default;
oracle::detail::ScalarBlock &
oracle::detail::ScalarBlock::operator=(ScalarBlock &&) = default;

FailureOr<oracle::detail::ScalarBlock>
oracle::detail::ScalarBlock::compile(Block &block, ArrayRef<Value> arguments,
                                     Environment &env) {
  ScalarBlock result;
  result.impl = std::make_unique<Impl>();
  Program &program = result.impl->program;
  ProgramBuilder builder(program);
  for (Value argument : arguments)
    result.impl->argumentSlots.push_back(builder.bindArgument(argument));
  // Values the block reads from the function body (the block may be
  // detached): bound once.
  llvm::SmallPtrSet<Value, 16> inside(block.args_begin(), block.args_end());
  for (Operation &op : block)
    op.walk([&](Operation *inner) {
      inside.insert(inner->result_begin(), inner->result_end());
      for (Region &region : inner->getRegions())
        for (Block &nested : region)
          inside.insert(nested.args_begin(), nested.args_end());
    });
  llvm::SetVector<Value> outside;
  for (Operation &op : block)
    op.walk([&](Operation *inner) {
      for (Value operand : inner->getOperands())
        if (!inside.contains(operand))
          outside.insert(operand);
    });
  Location loc = block.front().getLoc();
  for (Value value : outside) {
    if (isa<RankedTensorType>(value.getType())) {
      const Array *array = env.lookupArray(value);
      if (!array)
        return mlir::emitError(loc) << "oracle: no value for an operand";
      if (failed(builder.bindTensor(value, *array, loc)))
        return failure();
      continue;
    }
    std::optional<Cell> cell = env.lookupScalar(value);
    if (!cell || !getScalarKind(value.getType()))
      return mlir::emitError(loc)
             << "oracle: no scalar value for an operand of type "
             << value.getType();
    builder.bindScalar(value, *cell);
  }
  llvm::SmallPtrSet<Value, 8> given(arguments.begin(), arguments.end());
  for (Operation &op : block.without_terminator()) {
    if (op.getNumResults() > 0 && llvm::all_of(op.getResults(), [&](Value v) {
          return given.contains(v);
        }))
      continue;
    if (failed(builder.compileOp(&op)))
      return failure();
  }
  Operation *terminator = block.getTerminator();
  for (Value yielded : terminator->getOperands()) {
    FailureOr<uint32_t> slot = builder.lookup(yielded, terminator->getLoc());
    if (failed(slot))
      return failure();
    result.impl->resultSlots.push_back(*slot);
  }
  return result;
}

void oracle::detail::ScalarBlock::setArgument(unsigned k, Cell value) {
  impl->program.slots[impl->argumentSlots[k]] = value;
}

LogicalResult
oracle::detail::ScalarBlock::run(llvm::function_ref<std::string()> context) {
  int64_t failedAt = ::execute(impl->program);
  if (failedAt < 0)
    return success();
  reportFailure(impl->program, failedAt, context());
  return failure();
}

Cell oracle::detail::ScalarBlock::getResult(unsigned k) const {
  return impl->program.slots[impl->resultSlots[k]];
}
