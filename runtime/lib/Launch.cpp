//===- Launch.cpp - Checks and launch planning, without a GPU ---*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "Launch.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

using namespace attune::rt;

static Status tensorError(std::string message) {
  return Status::error(ATTUNE_RT_ERROR_TENSOR, std::move(message));
}

/// "expected 5 arguments (q, k, v, q_doc, kv_doc) but got 3".
static Status countError(const Manifest &m, TensorRole role, int64_t got) {
  int first = m.firstOf(role), count = m.countOf(role);
  const char *noun = role == TensorRole::Argument ? "argument" : "result";
  std::string names;
  for (int i = 0; i < count; ++i)
    names += (i ? ", " : "") + m.tensors[first + i].name;
  return tensorError(cat("expected ", count, " ", noun, count == 1 ? "" : "s",
                         count ? " (" + names + ")" : std::string(),
                         " but got ", got));
}

/// Checks one caller tensor against manifest tensor `index`, binding its
/// symbols.
static Status checkTensor(const Manifest &m, int index,
                          const attune_rt_tensor &t, Bindings &b) {
  const TensorSpec &spec = m.tensors[index];
  std::string what = m.describeTensor(index);

  if (t.dtype != static_cast<int32_t>(spec.dtype)) {
    const char *name = attune_rt_dtype_name(t.dtype);
    std::string got = name ? name : cat("code ", t.dtype, " (unknown)");
    return tensorError(cat(what, " has dtype ", got,
                           " but the manifest expects ", dtypeName(spec.dtype)));
  }

  int rank = static_cast<int>(spec.shape.size());
  if (t.rank != rank)
    return tensorError(cat(what, " has rank ", t.rank,
                           " but the manifest expects rank ", rank,
                           " (shape ", m.describeShape(index), ")"));
  if (rank > 0 && !t.shape)
    return Status::error(ATTUNE_RT_ERROR_INVALID_ARGUMENT,
                         cat(what, " has rank ", rank, " but no shape array"));

  bool empty = false;
  for (int d = 0; d < rank; ++d) {
    int64_t size = t.shape[d];
    const DimExpr &expected = spec.shape[d];
    if (size < 0)
      return tensorError(cat(what, " dimension ", d, " is ", size,
                             " (negative)"));
    empty |= size == 0;
    if (!expected.isSymbol()) {
      if (size != expected.value)
        return tensorError(cat(what, " dimension ", d, " is ", size,
                               " but the manifest requires ", expected.value,
                               " (shape ", m.describeShape(index), ")"));
      continue;
    }
    int sym = expected.symbol;
    if (!b.isBound(sym)) {
      b.values[sym] = size;
      b.sourceTensor[sym] = index;
      b.sourceDim[sym] = d;
      b.bound[sym] = true;
      continue;
    }
    if (b.values[sym] != size) {
      return tensorError(cat(what, " dimension ", d, " is ", size,
                             " but symbol '", m.symbols[sym].name, "' is ",
                             b.values[sym], " (from ",
                             m.describeTensor(b.sourceTensor[sym]),
                             " dimension ", b.sourceDim[sym], ")"));
    }
  }

  // The runtime never copies, so the layout must be exactly the one the
  // kernels index: row-major and dense. A dimension of size 1 is never
  // stepped over, so its stride does not matter (PyTorch leaves arbitrary
  // strides there); a tensor without elements has no layout at all.
  int64_t expectedStride = 1;
  bool overflow = false;
  for (int d = rank - 1; d >= 0; --d) {
    if (!empty && t.strides && t.shape[d] != 1 &&
        t.strides[d] != expectedStride) {
      std::string shape = "[";
      for (int i = 0; i < rank; ++i)
        shape += cat(i ? ", " : "", t.shape[i]);
      return tensorError(cat(
          what, " is not contiguous: dimension ", d, " has stride ",
          t.strides[d], " but a contiguous row-major tensor of shape ", shape,
          "] has stride ", expectedStride,
          " there (the runtime never copies; pass a contiguous tensor)"));
    }
    overflow |= __builtin_mul_overflow(expectedStride, t.shape[d],
                                       &expectedStride);
  }
  if (overflow && !empty)
    return Status::error(ATTUNE_RT_ERROR_UNSUPPORTED,
                         cat(what, " has more than 2^63 elements"));

  // A scalar argument's `data` is its value, not an address.
  if (spec.scalar)
    return Status::ok();
  if (!empty && t.data == 0)
    return tensorError(cat(what, " has a null data pointer"));
  if (t.data % 16 != 0)
    return tensorError(cat(what, " data pointer 0x", std::hex, t.data,
                           " is not 16-byte aligned"));
  return Status::ok();
}

Status attune::rt::checkTensors(const Manifest &m, const attune_rt_tensor *args,
                                int64_t numArgs,
                                const attune_rt_tensor *results,
                                int64_t numResults, bool withResults,
                                Bindings &out) {
  out.values.assign(m.symbols.size(), 0);
  out.sourceTensor.assign(m.symbols.size(), -1);
  out.sourceDim.assign(m.symbols.size(), -1);
  out.bound.assign(m.symbols.size(), false);

  if (numArgs != m.numArguments)
    return countError(m, TensorRole::Argument, numArgs);
  if (withResults && numResults != m.numResults)
    return countError(m, TensorRole::Result, numResults);
  if ((numArgs > 0 && !args) || (withResults && numResults > 0 && !results))
    return Status::error(ATTUNE_RT_ERROR_INVALID_ARGUMENT,
                         "null tensor array with a nonzero count");

  for (int i = 0; i < m.numArguments; ++i)
    if (Status s = checkTensor(m, i, args[i], out); !s.isOk())
      return s;
  if (withResults)
    for (int i = 0; i < m.numResults; ++i) {
      if (Status s = checkTensor(m, m.numArguments + i, results[i], out);
          !s.isOk())
        return s;
      // The kernels write this result into the argument's buffer, so the
      // caller must pass that buffer: any other would be left unwritten.
      int source = m.tensors[m.numArguments + i].inPlaceOf;
      if (source >= 0 && results[i].data != args[source].data)
        return tensorError(cat(
            m.describeTensor(m.numArguments + i),
            " is written in place into ", m.describeTensor(source),
            ": pass that argument's buffer as the result (got 0x", std::hex,
            results[i].data, ", the argument is 0x", args[source].data, ")"));
    }
  return Status::ok();
}

Status attune::rt::bindTensors(const Manifest &m, const attune_rt_tensor *args,
                               int64_t numArgs, const attune_rt_tensor *results,
                               int64_t numResults, bool withResults,
                               Bindings &out,
                               const std::vector<int64_t> *residentCTAs) {
  if (Status s =
          checkTensors(m, args, numArgs, results, numResults, withResults, out);
      !s.isOk())
    return s;
  return evaluateDerivedSymbols(m, out, residentCTAs);
}

/// x / n rounded towards negative or positive infinity (n >= 1, so neither
/// overflows).
static int64_t floorDiv(int64_t x, int64_t n) { return x / n - (x % n < 0); }
static int64_t ceilDiv(int64_t x, int64_t n) { return x / n + (x % n > 0); }

/// Why evaluating an expression stopped.
enum class ExprFailure { None, Overflow, Divisor };

/// Evaluates a post-order expression into `scratch` (one value per node).
/// Stops at the first operation that overflows int64 or divides by an
/// expression below 1, setting `failed` to its node.
static ExprFailure evaluateExpr(const std::vector<ExprNode> &nodes,
                                const Bindings &b,
                                const std::vector<int64_t> *residentCTAs,
                                std::vector<int64_t> &scratch, size_t &failed) {
  scratch.resize(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    const ExprNode &n = nodes[i];
    int64_t x = n.lhs >= 0 ? scratch[n.lhs] : 0;
    int64_t y = n.rhs >= 0 ? scratch[n.rhs] : 0;
    int64_t &r = scratch[i];
    failed = i;
    switch (n.op) {
    case ExprNode::Op::Integer:
      r = n.value;
      break;
    case ExprNode::Op::Symbol:
      r = b.values[n.symbol];
      break;
    case ExprNode::Op::ResidentCTAs:
      // Without the device, the least any device holds.
      r = residentCTAs && n.kernel >= 0 &&
                  n.kernel < static_cast<int>(residentCTAs->size())
              ? std::max<int64_t>((*residentCTAs)[n.kernel], 1)
              : 1;
      break;
    case ExprNode::Op::Add:
      if (__builtin_add_overflow(x, y, &r))
        return ExprFailure::Overflow;
      break;
    case ExprNode::Op::Sub:
      if (__builtin_sub_overflow(x, y, &r))
        return ExprFailure::Overflow;
      break;
    case ExprNode::Op::Mul:
      if (__builtin_mul_overflow(x, y, &r))
        return ExprFailure::Overflow;
      break;
    case ExprNode::Op::FloorDiv:
    case ExprNode::Op::CeilDiv: {
      // A literal divisor was checked at load; an expression's only now.
      int64_t divisor = n.rhs >= 0 ? y : n.value;
      if (divisor < 1)
        return ExprFailure::Divisor;
      r = n.op == ExprNode::Op::FloorDiv ? floorDiv(x, divisor)
                                         : ceilDiv(x, divisor);
      break;
    }
    case ExprNode::Op::Max:
      r = std::max(x, y);
      break;
    case ExprNode::Op::Min:
      r = std::min(x, y);
      break;
    }
  }
  return ExprFailure::None;
}

/// "Sq = 130, Sk = 77": the symbols `nodes` reads, each once, with values.
static std::string operandValues(const Manifest &m,
                                 const std::vector<ExprNode> &nodes,
                                 const Bindings &b) {
  std::string out;
  std::vector<bool> listed(m.symbols.size(), false);
  for (const ExprNode &n : nodes) {
    if (n.op != ExprNode::Op::Symbol || listed[n.symbol])
      continue;
    listed[n.symbol] = true;
    out += cat(out.empty() ? "" : ", ", m.symbols[n.symbol].name, " = ",
               b.values[n.symbol]);
  }
  return out;
}

Status
attune::rt::evaluateDerivedSymbols(const Manifest &m, Bindings &b,
                                   const std::vector<int64_t> *residentCTAs) {
  std::vector<int64_t> scratch;
  for (size_t sym = 0; sym < m.symbols.size(); ++sym) {
    const SymbolInfo &info = m.symbols[sym];
    if (!info.isDerived())
      continue;
    bool ready = true;
    for (const ExprNode &n : info.expr)
      ready &= n.op != ExprNode::Op::Symbol || b.isBound(n.symbol);
    // Without the results, a symbol only a result defines is unknown.
    if (!ready)
      continue;
    size_t failed = 0;
    ExprFailure failure =
        evaluateExpr(info.expr, b, residentCTAs, scratch, failed);
    int64_t value = failure == ExprFailure::None ? scratch.back() : 0;
    if (failure != ExprFailure::None || value < 0) {
      // Messages are built only on failure: this runs at every launch.
      std::string values = operandValues(m, info.expr, b);
      std::string how;
      if (failure == ExprFailure::Overflow)
        how = " overflows int64";
      else if (failure == ExprFailure::Divisor)
        how = cat(" divides by ",
                  m.describeExpr(static_cast<int>(sym), info.expr[failed].rhs),
                  " = ", scratch[info.expr[failed].rhs]);
      else
        how = cat(" is ", value);
      std::string what = cat("derived symbol '", info.name,
                             "' = ", m.describeExpr(static_cast<int>(sym)), how,
                             values.empty() ? "" : " for " + values);
      if (failure == ExprFailure::Overflow)
        return Status::error(ATTUNE_RT_ERROR_UNSUPPORTED, what);
      return Status::error(ATTUNE_RT_ERROR_TENSOR,
                           cat(what,
                               failure == ExprFailure::Divisor
                                   ? ", but a divisor must be at least 1"
                                   : ", but a symbol cannot be negative",
                               " (these shapes do not suit the artifact)"));
    }
    b.values[sym] = value;
    b.bound[sym] = true;
  }
  return Status::ok();
}

Status attune::rt::checkConstraints(const Manifest &m, const Bindings &b,
                                    bool skipUnbound) {
  for (const Constraint &c : m.constraints) {
    bool bound = (!c.dividend.isSymbol() || b.isBound(c.dividend.symbol)) &&
                 (!c.divisor.isSymbol() || b.isBound(c.divisor.symbol));
    if (!bound) {
      if (skipUnbound)
        continue;
      // Every symbol is defined by an argument or result, or derived from
      // them, so a full binding binds all of them.
      return Status::error(ATTUNE_RT_ERROR_INVALID_ARGUMENT,
                           "constraint on an unbound symbol");
    }
    int64_t a = b.evaluate(c.dividend), d = b.evaluate(c.divisor);
    if (d == 0 || a % d != 0) {
      std::string lhs = m.describe(c.dividend), rhs = m.describe(c.divisor);
      std::string values;
      if (c.dividend.isSymbol())
        values += cat(lhs, " = ", a);
      if (c.divisor.isSymbol())
        values += cat(values.empty() ? "" : ", ", rhs, " = ", d);
      return Status::error(
          ATTUNE_RT_ERROR_CONSTRAINT,
          cat("constraint divisible(", lhs, ", ", rhs, ") does not hold: ", a,
              " is not a multiple of ", d,
              values.empty() ? "" : " (" + values + ")"));
    }
  }
  return Status::ok();
}

std::vector<int64_t> attune::rt::shapeOf(const Manifest &m, int tensor,
                                         const Bindings &b) {
  std::vector<int64_t> shape;
  for (const DimExpr &d : m.tensors[tensor].shape)
    shape.push_back(b.evaluate(d));
  return shape;
}

Status attune::rt::resultShapes(const Manifest &m, const Bindings &b,
                                std::vector<std::vector<int64_t>> &shapes) {
  shapes.clear();
  for (int r = 0; r < m.numResults; ++r) {
    int index = m.numArguments + r;
    const TensorSpec &spec = m.tensors[index];
    for (size_t d = 0; d < spec.shape.size(); ++d)
      if (spec.shape[d].isSymbol() && !b.isBound(spec.shape[d].symbol))
        return Status::error(
            ATTUNE_RT_ERROR_TENSOR,
            cat(m.describeTensor(index), " dimension ", d, " is symbol '",
                m.symbols[spec.shape[d].symbol].name,
                "', which no argument determines; pass the results "
                "explicitly"));
    shapes.push_back(shapeOf(m, index, b));
  }
  return Status::ok();
}

bool attune::rt::conditionHolds(const Condition &condition,
                                const Bindings &b) {
  int64_t x = b.evaluate(condition.lhs), y = b.evaluate(condition.rhs);
  switch (condition.op) {
  case Condition::Op::Lt:
    return x < y;
  case Condition::Op::Le:
    return x <= y;
  case Condition::Op::Gt:
    return x > y;
  case Condition::Op::Ge:
    return x >= y;
  case Condition::Op::Eq:
    return x == y;
  }
  return false;
}

/// "Sq <= 16" with the values of its symbols: "Sq <= 16 (Sq = 130)".
static std::string describeWithValues(const Manifest &m, const Condition &c,
                                      const Bindings &b) {
  std::string values;
  if (c.lhs.isSymbol())
    values = cat(m.describe(c.lhs), " = ", b.evaluate(c.lhs));
  if (c.rhs.isSymbol() && c.rhs.symbol != c.lhs.symbol)
    values += cat(values.empty() ? "" : ", ", m.describe(c.rhs), " = ",
                  b.evaluate(c.rhs));
  return m.describe(c) + (values.empty() ? "" : " (" + values + ")");
}

Status attune::rt::computeGrid(const Manifest &m, int kernel,
                               const Bindings &b,
                               std::array<uint32_t, 3> &grid) {
  static constexpr int64_t limit[3] = {std::numeric_limits<int32_t>::max(),
                                       65535, 65535};
  const KernelSpec &k = m.kernels[kernel];
  for (int i = 0; i < 3; ++i) {
    int64_t product = 1;
    bool overflow = false;
    for (const GridFactor &f : k.grid[i]) {
      int64_t v = b.evaluate(f.value);
      int64_t factor = v / f.divisor + (v % f.divisor != 0);
      overflow |= __builtin_mul_overflow(product, factor, &product);
    }
    if (overflow || product > limit[i])
      return Status::error(
          ATTUNE_RT_ERROR_UNSUPPORTED,
          cat("kernel '", k.name, "' grid dimension ", "xyz"[i], " is ",
              overflow ? std::string("above 2^63") : std::to_string(product),
              ", above CUDA's limit of ", limit[i],
              " (the shapes are too large for this kernel)"));
    grid[i] = static_cast<uint32_t>(product);
  }
  return Status::ok();
}

/// The number of elements of `shape`, 0 if a dimension is 0; false if it
/// overflows int64.
static bool elementCount(const std::vector<int64_t> &shape, int64_t &count) {
  count = 1;
  bool overflow = false;
  for (int64_t size : shape) {
    if (size == 0) {
      count = 0;
      return true;
    }
    overflow |= __builtin_mul_overflow(count, size, &count);
  }
  return !overflow;
}

/// The values of `dims`, e.g. "[2, 40, 128]".
static std::string describeValues(const std::vector<int64_t> &dims) {
  std::string out = "[";
  for (size_t d = 0; d < dims.size(); ++d)
    out += cat(d ? ", " : "", dims[d]);
  return out + "]";
}

/// Checks that parameter `p` of kernel `kernel`, if a view, has as many
/// elements as its buffer: the kernel indexes the buffer's memory through it.
static Status checkView(const Manifest &m, int kernel, int p,
                        const Bindings &b) {
  const KernelParam &param = m.kernels[kernel].params[p];
  if (param.kind != KernelParam::Kind::Tensor || !param.view)
    return Status::ok();
  std::vector<int64_t> buffer = shapeOf(m, param.tensor, b), view;
  for (const DimExpr &d : *param.view)
    view.push_back(b.evaluate(d));
  int64_t bufferCount, viewCount;
  bool bufferFits = elementCount(buffer, bufferCount);
  bool viewFits = elementCount(view, viewCount);
  if (bufferFits && viewFits && bufferCount == viewCount)
    return Status::ok();
  auto count = [](bool fits, int64_t n) {
    return fits ? cat(n, " elements") : std::string("more than 2^63 elements");
  };
  return Status::error(
      ATTUNE_RT_ERROR_TENSOR,
      cat("kernel '", m.kernels[kernel].name, "' parameter ", p, " views ",
          m.describeTensor(param.tensor), " ", m.describeShape(param.tensor),
          " = ", describeValues(buffer), " (", count(bufferFits, bufferCount),
          ") as ", m.describe(*param.view), " = ", describeValues(view), " (",
          count(viewFits, viewCount),
          "), but a view must have as many elements as its buffer"));
}

Status attune::rt::planLaunch(const Manifest &m, const attune_rt_tensor *args,
                              int64_t numArgs, const attune_rt_tensor *results,
                              int64_t numResults, LaunchPlan &plan,
                              const std::vector<int64_t> *residentCTAs) {
  if (Status s = bindTensors(m, args, numArgs, results, numResults,
                             /*withResults=*/true, plan.bindings, residentCTAs);
      !s.isOk())
    return s;
  const Bindings &b = plan.bindings;
  if (Status s = checkConstraints(m, b, /*skipUnbound=*/false); !s.isOk())
    return s;

  plan.enabled.assign(m.kernels.size(), true);
  bool anyEnabled = false;
  for (size_t k = 0; k < m.kernels.size(); ++k) {
    const std::optional<Condition> &c = m.kernels[k].condition;
    plan.enabled[k] = !c || conditionHolds(*c, b);
    anyEnabled |= plan.enabled[k];
  }
  if (!anyEnabled) {
    // Every kernel is conditional and none applies: launching nothing would
    // leave the results unwritten without a word.
    std::string conditions;
    for (const KernelSpec &kernel : m.kernels)
      conditions += cat(conditions.empty() ? "" : "; ", "kernel '",
                        kernel.name, "' runs if ",
                        describeWithValues(m, *kernel.condition, b));
    return Status::error(ATTUNE_RT_ERROR_UNSUPPORTED,
                         cat("no kernel's condition holds for these shapes, "
                             "so nothing would compute the results (",
                             conditions, ")"));
  }

  plan.grids.assign(m.kernels.size(), {0, 0, 0});
  for (size_t k = 0; k < m.kernels.size(); ++k) {
    // A kernel that does not run may not support these shapes at all: its
    // grid and scalars are neither evaluated nor checked.
    if (!plan.enabled[k])
      continue;
    if (Status s = computeGrid(m, static_cast<int>(k), b, plan.grids[k]);
        !s.isOk())
      return s;
    const std::vector<KernelParam> &params = m.kernels[k].params;
    for (size_t p = 0; p < params.size(); ++p) {
      if (Status s = checkView(m, static_cast<int>(k), static_cast<int>(p), b);
          !s.isOk())
        return s;
      if (params[p].kind != KernelParam::Kind::Scalar ||
          params[p].scalarType != DType::I32)
        continue;
      int64_t value = b.evaluate(params[p].scalar);
      if (value > std::numeric_limits<int32_t>::max())
        return Status::error(
            ATTUNE_RT_ERROR_UNSUPPORTED,
            cat("kernel '", m.kernels[k].name, "' parameter ", p, " (",
                m.describe(params[p].scalar), " = ", value,
                ") does not fit its i32 scalar"));
    }
  }

  // Only buffers a launched kernel names are sized (and so allocated): a
  // code path that does not run may need scratch memory the other does not.
  int first = m.firstOf(TensorRole::Workspace);
  std::vector<bool> used(m.numWorkspace, false);
  for (size_t k = 0; k < m.kernels.size(); ++k)
    if (plan.launches(k))
      for (const KernelParam &p : m.kernels[k].params)
        if (p.kind == KernelParam::Kind::Tensor && p.tensor >= first)
          used[p.tensor - first] = true;
  plan.workspaceBytes.assign(m.numWorkspace, 0);
  for (int w = 0; w < m.numWorkspace; ++w) {
    if (!used[w])
      continue;
    int64_t bytes = dtypeSize(m.tensors[first + w].dtype);
    bool overflow = false;
    for (int64_t size : shapeOf(m, first + w, b))
      overflow |= __builtin_mul_overflow(bytes, size, &bytes);
    if (overflow)
      return Status::error(ATTUNE_RT_ERROR_UNSUPPORTED,
                           cat(m.describeTensor(first + w),
                               " would need more than 2^63 bytes"));
    plan.workspaceBytes[w] = static_cast<uint64_t>(bytes);
  }
  return Status::ok();
}

bool attune::rt::isCheckedCapture(const Manifest &m, int tensor) {
  const TensorSpec &spec = m.tensors[tensor];
  return spec.role == TensorRole::Argument && spec.hasRange &&
         (spec.dtype == DType::I8 || spec.dtype == DType::I32 ||
          spec.dtype == DType::I64);
}

/// ceil(x) as an int64, saturated.
static int64_t ceilSaturated(double x) {
  double c = std::ceil(x);
  // 2^63 is the first double above the int64 range.
  if (c >= 9223372036854775808.0)
    return std::numeric_limits<int64_t>::max();
  if (c <= -9223372036854775808.0)
    return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(c);
}

IntegerRange attune::rt::integerRange(const TensorSpec &spec) {
  constexpr int64_t maxInt = std::numeric_limits<int64_t>::max();
  constexpr int64_t minInt = std::numeric_limits<int64_t>::min();
  IntegerRange r;
  r.min = ceilSaturated(spec.rangeLo);
  if (std::ceil(spec.rangeHi) >= 9223372036854775808.0) {
    r.max = maxInt; // every int64 is below hi
  } else {
    int64_t hi = ceilSaturated(spec.rangeHi);
    if (hi == minInt) // no int64 is below hi
      return {maxInt, minInt};
    r.max = hi - 1;
  }
  // e.g. [0.2, 0.8): no integer at all, and min > max rejects every value.
  return r;
}

/// A range bound as the manifest wrote it: an integer without a fraction.
static std::string describeBound(double x) {
  if (x == std::floor(x) && std::fabs(x) < 9.0e15)
    return std::to_string(static_cast<int64_t>(x));
  std::ostringstream os;
  os.precision(17);
  os << x;
  return os.str();
}

std::string attune::rt::describeRange(const TensorSpec &spec) {
  return cat("[", describeBound(spec.rangeLo), ", ",
             describeBound(spec.rangeHi), ")");
}

/// Element `i` of a host copy of an integer capture.
static int64_t elementAt(DType dtype, const void *host, int64_t i) {
  const char *bytes = static_cast<const char *>(host);
  switch (dtype) {
  case DType::I8:
    return static_cast<int8_t>(bytes[i]);
  case DType::I32: {
    int32_t v;
    std::memcpy(&v, bytes + 4 * i, 4);
    return v;
  }
  default: {
    int64_t v;
    std::memcpy(&v, bytes + 8 * i, 8);
    return v;
  }
  }
}

Status attune::rt::checkScalarCaptures(const Manifest &m,
                                       const attune_rt_tensor *args) {
  for (int i = 0; i < m.numArguments; ++i) {
    const TensorSpec &spec = m.tensors[i];
    if (!spec.scalar || !isCheckedCapture(m, i))
      continue;
    // The value's bits, truncated to its width and sign-extended.
    int64_t value = spec.dtype == DType::I8 ? static_cast<int8_t>(args[i].data)
                    : spec.dtype == DType::I32
                        ? static_cast<int32_t>(args[i].data)
                        : static_cast<int64_t>(args[i].data);
    IntegerRange r = integerRange(spec);
    if (value < r.min || value > r.max)
      return Status::error(ATTUNE_RT_ERROR_CAPTURE_RANGE,
                           cat(m.describeTensor(i), " is ", value,
                               ", outside its range ", describeRange(spec)));
  }
  return Status::ok();
}

Status attune::rt::checkCaptureValues(const Manifest &m, int tensor,
                                      const Bindings &b, const void *host,
                                      int64_t first, int64_t count) {
  const TensorSpec &spec = m.tensors[tensor];
  IntegerRange r = integerRange(spec);
  for (int64_t i = 0; i < count; ++i) {
    int64_t value = elementAt(spec.dtype, host, i);
    if (value >= r.min && value <= r.max)
      continue;
    // The row-major multi-index of element first + i.
    std::vector<int64_t> shape = shapeOf(m, tensor, b);
    std::vector<int64_t> index(shape.size());
    int64_t flat = first + i;
    for (size_t d = shape.size(); d-- > 0;) {
      index[d] = shape[d] ? flat % shape[d] : 0;
      flat = shape[d] ? flat / shape[d] : 0;
    }
    std::string where = "[";
    for (size_t d = 0; d < index.size(); ++d)
      where += cat(d ? ", " : "", index[d]);
    return Status::error(
        ATTUNE_RT_ERROR_CAPTURE_RANGE,
        cat(m.describeTensor(tensor), " element ", where, "] is ", value,
            ", outside its range ", describeRange(spec),
            " (a capture's values are checked before every launch; see "
            "attune_rt_set_capture_checks)"));
  }
  return Status::ok();
}

void attune::rt::packParams(const Manifest &m, int kernel, const Bindings &b,
                            const std::vector<uint64_t> &addresses,
                            PackedParams &out) {
  out.slots.clear();
  out.sizes.clear();
  auto push = [&](uint64_t value, uint8_t size) {
    out.slots.push_back(value);
    out.sizes.push_back(size);
  };
  for (const KernelParam &p : m.kernels[kernel].params) {
    if (p.kind == KernelParam::Kind::ScalarArgument) {
      // The caller's bits, narrowed to the argument's size and stored at the
      // start of the slot like any by-value parameter.
      uint64_t bits = addresses[p.tensor], slot = 0;
      int64_t size = dtypeSize(m.tensors[p.tensor].dtype);
      uint8_t u8 = static_cast<uint8_t>(bits);
      uint16_t u16 = static_cast<uint16_t>(bits);
      uint32_t u32 = static_cast<uint32_t>(bits);
      std::memcpy(&slot,
                  size == 1   ? static_cast<const void *>(&u8)
                  : size == 2 ? static_cast<const void *>(&u16)
                  : size == 4 ? static_cast<const void *>(&u32)
                              : static_cast<const void *>(&bits),
                  size);
      push(slot, static_cast<uint8_t>(size));
      continue;
    }
    if (p.kind == KernelParam::Kind::Scalar) {
      int64_t value = b.evaluate(p.scalar);
      if (p.scalarType == DType::I64) {
        push(static_cast<uint64_t>(value), 8);
        continue;
      }
      // Keep the i32 in the slot's first four bytes, where the driver reads
      // it, whatever the host's byte order.
      uint64_t slot = 0;
      int32_t narrow = static_cast<int32_t>(value);
      std::memcpy(&slot, &narrow, sizeof(narrow));
      push(slot, 4);
      continue;
    }
    std::vector<int64_t> shape;
    if (p.view)
      for (const DimExpr &d : *p.view)
        shape.push_back(b.evaluate(d));
    else
      shape = shapeOf(m, p.tensor, b);
    uint64_t address = addresses[p.tensor];
    push(address, 8); // allocated pointer
    push(address, 8); // aligned pointer
    push(0, 8);       // offset
    for (int64_t size : shape)
      push(static_cast<uint64_t>(size), 8);
    std::vector<uint64_t> strides(shape.size());
    uint64_t stride = 1;
    for (size_t d = shape.size(); d-- > 0;) {
      strides[d] = stride;
      stride *= static_cast<uint64_t>(shape[d]);
    }
    for (uint64_t s : strides)
      push(s, 8);
  }
  out.pointers.clear();
  for (uint64_t &slot : out.slots)
    out.pointers.push_back(&slot);
  out.pointers.push_back(nullptr);
}
