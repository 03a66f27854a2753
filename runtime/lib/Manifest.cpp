//===- Manifest.cpp - The manifest of a CUDA artifact directory -*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "Manifest.h"

#include "Json.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

using namespace attune::rt;

std::optional<DType> attune::rt::parseDType(std::string_view name) {
  if (name == "f32")
    return DType::F32;
  if (name == "f16")
    return DType::F16;
  if (name == "bf16")
    return DType::BF16;
  if (name == "i8")
    return DType::I8;
  if (name == "i32")
    return DType::I32;
  if (name == "i64")
    return DType::I64;
  if (name == "f64")
    return DType::F64;
  return std::nullopt;
}

const char *attune::rt::dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "f32";
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::I8:
    return "i8";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  case DType::F64:
    return "f64";
  }
  return "?";
}

int64_t attune::rt::dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::I8:
    return 1;
  case DType::I64:
  case DType::F64:
    return 8;
  }
  return 0;
}

/// Every comparison a kernel's `if` may use, in the order messages list them.
static constexpr Condition::Op conditionOps[] = {
    Condition::Op::Lt, Condition::Op::Le, Condition::Op::Gt,
    Condition::Op::Ge, Condition::Op::Eq};

const char *attune::rt::conditionKey(Condition::Op op) {
  switch (op) {
  case Condition::Op::Lt:
    return "lt";
  case Condition::Op::Le:
    return "le";
  case Condition::Op::Gt:
    return "gt";
  case Condition::Op::Ge:
    return "ge";
  case Condition::Op::Eq:
    return "eq";
  }
  return "?";
}

const char *attune::rt::conditionOperator(Condition::Op op) {
  switch (op) {
  case Condition::Op::Lt:
    return "<";
  case Condition::Op::Le:
    return "<=";
  case Condition::Op::Gt:
    return ">";
  case Condition::Op::Ge:
    return ">=";
  case Condition::Op::Eq:
    return "==";
  }
  return "?";
}

int Manifest::firstOf(TensorRole role) const {
  switch (role) {
  case TensorRole::Argument:
    return 0;
  case TensorRole::Result:
    return numArguments;
  case TensorRole::Workspace:
    return numArguments + numResults;
  }
  return 0;
}

int Manifest::countOf(TensorRole role) const {
  switch (role) {
  case TensorRole::Argument:
    return numArguments;
  case TensorRole::Result:
    return numResults;
  case TensorRole::Workspace:
    return numWorkspace;
  }
  return 0;
}

static const char *roleName(TensorRole role) {
  switch (role) {
  case TensorRole::Argument:
    return "argument";
  case TensorRole::Result:
    return "result";
  case TensorRole::Workspace:
    return "workspace";
  }
  return "tensor";
}

std::string Manifest::describeTensor(int tensor) const {
  const TensorSpec &spec = tensors[tensor];
  return cat(roleName(spec.role), " '", spec.name, "'");
}

std::string Manifest::describe(const DimExpr &expr) const {
  if (expr.isSymbol())
    return symbols[expr.symbol].name;
  return std::to_string(expr.value);
}

std::string Manifest::describe(const Condition &condition) const {
  return cat(describe(condition.lhs), " ", conditionOperator(condition.op),
             " ", describe(condition.rhs));
}

std::string Manifest::describe(const std::vector<DimExpr> &shape) const {
  std::string out = "[";
  for (size_t d = 0; d < shape.size(); ++d) {
    if (d)
      out += ", ";
    out += describe(shape[d]);
  }
  return out + "]";
}

std::string Manifest::describeShape(int tensor) const {
  return describe(tensors[tensor].shape);
}

/// The manifest key of an operator node ("add", ...).
static const char *exprKey(ExprNode::Op op) {
  switch (op) {
  case ExprNode::Op::Add:
    return "add";
  case ExprNode::Op::Sub:
    return "sub";
  case ExprNode::Op::Mul:
    return "mul";
  case ExprNode::Op::FloorDiv:
    return "floordiv";
  case ExprNode::Op::CeilDiv:
    return "ceildiv";
  case ExprNode::Op::Max:
    return "max";
  case ExprNode::Op::Min:
    return "min";
  case ExprNode::Op::Integer:
  case ExprNode::Op::Symbol:
  case ExprNode::Op::ResidentCTAs:
    break;
  }
  return nullptr;
}

/// Every operator of a derived symbol's expression, in the order messages
/// list them.
static constexpr ExprNode::Op exprOps[] = {
    ExprNode::Op::Add,      ExprNode::Op::Sub,     ExprNode::Op::Mul,
    ExprNode::Op::FloorDiv, ExprNode::Op::CeilDiv, ExprNode::Op::Max,
    ExprNode::Op::Min};

/// Appends node `i` of `nodes` to `out` in infix form, operands of + - *
/// parenthesized when nested; stops once `out` is past `limit` characters
/// (a hostile expression may have a million nodes).
static void printExpr(const Manifest &m, const std::vector<ExprNode> &nodes,
                      int i, bool nested, size_t limit, std::string &out) {
  if (out.size() > limit)
    return;
  const ExprNode &n = nodes[i];
  const char *infix = nullptr;
  switch (n.op) {
  case ExprNode::Op::Integer:
    out += std::to_string(n.value);
    return;
  case ExprNode::Op::Symbol:
    out += m.symbols[n.symbol].name;
    return;
  case ExprNode::Op::ResidentCTAs:
    out += cat("resident_ctas(",
               n.kernel >= 0 && n.kernel < static_cast<int>(m.kernels.size())
                   ? m.kernels[n.kernel].name
                   : std::string("?"),
               ")");
    return;
  case ExprNode::Op::FloorDiv:
  case ExprNode::Op::CeilDiv:
    out += cat(exprKey(n.op), "(");
    printExpr(m, nodes, n.lhs, false, limit, out);
    out += ", ";
    if (n.rhs >= 0)
      printExpr(m, nodes, n.rhs, false, limit, out);
    else
      out += std::to_string(n.value);
    out += ")";
    return;
  case ExprNode::Op::Max:
  case ExprNode::Op::Min:
    out += cat(exprKey(n.op), "(");
    printExpr(m, nodes, n.lhs, false, limit, out);
    out += ", ";
    printExpr(m, nodes, n.rhs, false, limit, out);
    out += ")";
    return;
  case ExprNode::Op::Add:
    infix = " + ";
    break;
  case ExprNode::Op::Sub:
    infix = " - ";
    break;
  case ExprNode::Op::Mul:
    infix = " * ";
    break;
  }
  if (nested)
    out += "(";
  printExpr(m, nodes, n.lhs, true, limit, out);
  out += infix;
  printExpr(m, nodes, n.rhs, true, limit, out);
  if (nested)
    out += ")";
}

std::string Manifest::describeExpr(int symbol, int node) const {
  constexpr size_t limit = 200;
  const std::vector<ExprNode> &nodes = symbols[symbol].expr;
  std::string out;
  if (!nodes.empty())
    printExpr(*this, nodes,
              node >= 0 ? node : static_cast<int>(nodes.size()) - 1,
              /*nested=*/false, limit, out);
  if (out.size() > limit)
    out = out.substr(0, limit) + "...";
  return out;
}

bool Manifest::needsDevice() const {
  for (const SymbolInfo &symbol : symbols)
    if (symbol.isResidentCTAs())
      return true;
  return false;
}

namespace {

/// Validates the JSON tree and fills a Manifest. Every error names the JSON
/// path of the offending value.
class ManifestReader {
public:
  explicit ManifestReader(Manifest &m) : m(m) {}

  Status read(const JsonValue &root);

private:
  Manifest &m;
  std::map<std::string, int> symbolIndex;
  std::map<std::string, int> tensorIndex;
  /// The first `symbols` entry of each derived symbol name, so that a
  /// reference to one not yet defined is told apart from an unknown name.
  std::map<std::string, size_t> derivedEntry;
  /// The `symbols` entry being read.
  size_t currentEntry = 0;
  /// A `resident_ctas` symbol whose kernel is looked up once `kernels` is
  /// read (symbols are read before kernels).
  struct ResidentUse {
    int symbol;
    std::string kernel;
    std::string path;
  };
  std::vector<ResidentUse> residentUses;

  static Status error(const std::string &path, const std::string &what) {
    return Status::error(ATTUNE_RT_ERROR_MANIFEST,
                         path.empty() ? what : cat(path, ": ", what));
  }

  static std::string member(const std::string &path, const char *key) {
    return path.empty() ? key : cat(path, ".", key);
  }

  static std::string element(const std::string &path, size_t i) {
    return cat(path, "[", i, "]");
  }

  /// Looks up `key` in `object`; a missing required member is an error.
  static Status get(const JsonValue &object, const std::string &path,
                    const char *key, bool required, const JsonValue *&out) {
    out = object.find(key);
    if (!out && required)
      return error(path, cat("missing member \"", key, "\""));
    return Status::ok();
  }

  static Status expectKind(const JsonValue &v, const std::string &path,
                           JsonValue::Kind kind, const char *what) {
    if (v.kind != kind)
      return error(path, cat("expected ", what, ", got ", v.kindName()));
    return Status::ok();
  }

  static Status readInt(const JsonValue &v, const std::string &path,
                        int64_t min, int64_t max, int64_t &out) {
    if (!v.isInt())
      return error(path, cat("expected an integer, got ", v.kindName()));
    if (v.integer < min || v.integer > max)
      return error(path, cat("expected an integer in [", min, ", ", max,
                             "], got ", v.integer));
    out = v.integer;
    return Status::ok();
  }

  static Status readName(const JsonValue &v, const std::string &path,
                         std::string &out) {
    if (!v.isString())
      return error(path, cat("expected a string, got ", v.kindName()));
    if (v.string.empty())
      return error(path, "expected a non-empty string");
    out = v.string;
    return Status::ok();
  }

  /// A file of the artifact directory must be named relative to it and stay
  /// inside it (loadManifest also checks where symbolic links lead).
  static Status checkRelativePath(const std::string &name,
                                  const std::string &path) {
    if (name.find('\0') != std::string::npos)
      return error(path, "a file name cannot contain a NUL character");
    if (name.front() == '/')
      return error(path, cat("'", name,
                             "' is absolute; expected a file name "
                             "relative to the artifact directory"));
    for (size_t start = 0; start <= name.size();) {
      size_t end = name.find('/', start);
      if (end == std::string::npos)
        end = name.size();
      if (name.compare(start, end - start, "..") == 0)
        return error(path, cat("'", name,
                               "' has a '..' component; expected "
                               "a file inside the artifact "
                               "directory"));
      start = end + 1;
    }
    return Status::ok();
  }

  /// Reads an integer (>= `min`) or the name of a defined symbol.
  Status readUse(const JsonValue &v, const std::string &path, int64_t min,
                 DimExpr &out) {
    if (v.isInt())
      return readInt(v, path, min, std::numeric_limits<int64_t>::max(),
                     out.value);
    if (!v.isString() || v.string.empty())
      return error(path, cat("expected an integer or a symbol name, got ",
                             v.kindName()));
    auto it = symbolIndex.find(v.string);
    if (it == symbolIndex.end())
      return error(path, cat("symbol '", v.string,
                             "' does not appear in any argument or result "
                             "shape",
                             derivedEntry.empty() ? "" : " nor in \"symbols\"",
                             ", so its value is unknown"));
    out.symbol = it->second;
    return Status::ok();
  }

  Status readDerivedSymbols(const JsonValue &root);
  Status readExpr(const JsonValue &v, const std::string &path, int depth,
                  std::vector<ExprNode> &nodes);

  Status readTensor(const JsonValue &v, const std::string &path,
                    TensorRole role, TensorSpec &spec);
  Status readTensorList(const JsonValue &root, const char *key,
                        TensorRole role, bool required, int &count);
  Status readConstraint(const JsonValue &v, const std::string &path);
  Status readKernel(const JsonValue &v, const std::string &path,
                    KernelSpec &kernel);
  Status readParam(const JsonValue &v, const std::string &path,
                   KernelParam &param);
  Status readCondition(const JsonValue &v, const std::string &path,
                       Condition &condition);
};

} // namespace

Status ManifestReader::readTensor(const JsonValue &v, const std::string &path,
                                  TensorRole role, TensorSpec &spec) {
  if (Status s = expectKind(v, path, JsonValue::Kind::Object, "an object");
      !s.isOk())
    return s;
  spec.role = role;
  const JsonValue *name, *dtype, *shape, *range, *scalar, *inPlace;
  if (Status s = get(v, path, "name", true, name); !s.isOk())
    return s;
  if (Status s = readName(*name, member(path, "name"), spec.name); !s.isOk())
    return s;
  auto [it, inserted] =
      tensorIndex.emplace(spec.name, static_cast<int>(m.tensors.size()));
  if (!inserted)
    return error(member(path, "name"),
                 cat("duplicate tensor name '", spec.name, "' (also ",
                     m.describeTensor(it->second), ")"));

  if (Status s = get(v, path, "dtype", true, dtype); !s.isOk())
    return s;
  if (!dtype->isString())
    return error(member(path, "dtype"),
                 cat("expected a string, got ", dtype->kindName()));
  std::optional<DType> parsed = parseDType(dtype->string);
  if (!parsed)
    return error(member(path, "dtype"),
                 cat("unknown dtype \"", dtype->string,
                     "\" (expected f32, f16, bf16, f64, i8, i32 or i64)"));
  spec.dtype = *parsed;

  if (Status s = get(v, path, "shape", true, shape); !s.isOk())
    return s;
  std::string shapePath = member(path, "shape");
  if (Status s = expectKind(*shape, shapePath, JsonValue::Kind::Array,
                            "an array");
      !s.isOk())
    return s;
  int tensor = static_cast<int>(m.tensors.size());
  for (size_t d = 0; d < shape->array.size(); ++d) {
    const JsonValue &dim = shape->array[d];
    std::string dimPath = element(shapePath, d);
    DimExpr expr;
    if (dim.isString() && role != TensorRole::Workspace) {
      // Arguments and results define symbols; workspace shapes only use them.
      if (dim.string.empty())
        return error(dimPath, "expected a non-empty symbol name");
      auto [sym, added] = symbolIndex.emplace(
          dim.string, static_cast<int>(m.symbols.size()));
      if (added)
        m.symbols.push_back({dim.string, tensor, static_cast<int>(d), {}});
      expr.symbol = sym->second;
    } else if (Status s = readUse(dim, dimPath, 0, expr); !s.isOk()) {
      return s;
    }
    spec.shape.push_back(expr);
  }

  if (Status s = get(v, path, "scalar", false, scalar); !s.isOk())
    return s;
  if (scalar) {
    std::string scalarPath = member(path, "scalar");
    if (scalar->kind != JsonValue::Kind::Bool)
      return error(scalarPath,
                   cat("expected true or false, got ", scalar->kindName()));
    spec.scalar = scalar->boolean;
    if (spec.scalar && role != TensorRole::Argument)
      return error(scalarPath, "only arguments can be scalars");
    if (spec.scalar && !spec.shape.empty())
      return error(scalarPath, "a scalar argument must have shape []");
  }

  if (Status s = get(v, path, "range", false, range); !s.isOk())
    return s;
  if (range) {
    std::string rangePath = member(path, "range");
    auto isNumber = [](const JsonValue &n) {
      return n.kind == JsonValue::Kind::Int ||
             n.kind == JsonValue::Kind::Double;
    };
    if (!range->isArray() || range->array.size() != 2 ||
        !isNumber(range->array[0]) || !isNumber(range->array[1]))
      return error(rangePath, "expected [lo, hi] with two numbers");
    spec.hasRange = true;
    spec.rangeLo = range->array[0].number;
    spec.rangeHi = range->array[1].number;
    if (spec.rangeLo >= spec.rangeHi)
      return error(rangePath,
                   cat("empty range [", spec.rangeLo, ", ", spec.rangeHi,
                       ") (it is half-open: lo must be below hi)"));
  }

  if (Status s = get(v, path, "in_place_of", false, inPlace); !s.isOk())
    return s;
  if (inPlace) {
    std::string inPlacePath = member(path, "in_place_of");
    if (role != TensorRole::Result)
      return error(inPlacePath, "only results can be written in place");
    if (!inPlace->isString())
      return error(inPlacePath,
                   cat("expected an argument name, got ", inPlace->kindName()));
    auto arg = tensorIndex.find(inPlace->string);
    if (arg == tensorIndex.end() || arg->second >= m.numArguments)
      return error(inPlacePath,
                   cat("'", inPlace->string, "' is not an argument"));
    const TensorSpec &source = m.tensors[arg->second];
    if (source.scalar)
      return error(inPlacePath, cat("argument '", source.name,
                                    "' is a scalar, not a buffer"));
    bool sameShape = source.dtype == spec.dtype &&
                     source.shape.size() == spec.shape.size();
    for (size_t d = 0; sameShape && d < spec.shape.size(); ++d)
      sameShape = source.shape[d].symbol == spec.shape[d].symbol &&
                  (spec.shape[d].isSymbol() ||
                   source.shape[d].value == spec.shape[d].value);
    if (!sameShape)
      return error(inPlacePath,
                   cat("argument '", source.name,
                       "' does not have the result's dtype and shape"));
    for (int i = m.numArguments; i < static_cast<int>(m.tensors.size()); ++i)
      if (m.tensors[i].inPlaceOf == arg->second)
        return error(inPlacePath,
                     cat("argument '", source.name,
                         "' is already written in place by ",
                         m.describeTensor(i)));
    spec.inPlaceOf = arg->second;
  }
  return Status::ok();
}

Status ManifestReader::readTensorList(const JsonValue &root, const char *key,
                                      TensorRole role, bool required,
                                      int &count) {
  const JsonValue *list;
  if (Status s = get(root, "", key, required, list); !s.isOk())
    return s;
  count = 0;
  if (!list)
    return Status::ok();
  if (Status s = expectKind(*list, key, JsonValue::Kind::Array, "an array");
      !s.isOk())
    return s;
  for (size_t i = 0; i < list->array.size(); ++i) {
    TensorSpec spec;
    if (Status s = readTensor(list->array[i], element(key, i), role, spec);
        !s.isOk())
      return s;
    m.tensors.push_back(std::move(spec));
    ++count;
  }
  return Status::ok();
}

Status ManifestReader::readExpr(const JsonValue &v, const std::string &path,
                                int depth, std::vector<ExprNode> &nodes) {
  ExprNode node;
  if (v.isInt()) {
    node.value = v.integer;
    nodes.push_back(node);
    return Status::ok();
  }
  if (v.isString() && !v.string.empty()) {
    auto it = symbolIndex.find(v.string);
    if (it == symbolIndex.end()) {
      auto later = derivedEntry.find(v.string);
      if (later != derivedEntry.end() && later->second == currentEntry)
        return error(path,
                     cat("derived symbol '", v.string, "' refers to itself"));
      if (later != derivedEntry.end())
        return error(path, cat("derived symbol '", v.string, "' is defined by ",
                               element("symbols", later->second),
                               ", not before this one (an expression may use "
                               "the argument and result symbols and earlier "
                               "derived symbols)"));
      return error(path, cat("symbol '", v.string,
                             "' does not appear in any argument or result "
                             "shape nor earlier in \"symbols\", so its "
                             "value is unknown"));
    }
    node.op = ExprNode::Op::Symbol;
    node.symbol = it->second;
    nodes.push_back(node);
    return Status::ok();
  }
  static const char *expected =
      "expected an integer, a symbol name or an operation such as "
      "{\"add\": [x, y]} or {\"floordiv\": [x, y]}";
  if (!v.isObject())
    return error(path, cat(expected, ", got ", v.kindName()));
  if (v.object.size() != 1)
    return error(path, cat(expected, ", got an object with ", v.object.size(),
                           " members"));
  // Parsing recurses once per level: bounded far below the JSON reader's
  // depth so that evaluation and messages stay cheap too.
  if (depth >= maxExprDepth)
    return error(path, cat("expression nested more than ", maxExprDepth,
                           " operations deep"));
  const auto &[key, operands] = v.object.front();
  bool known = false;
  for (ExprNode::Op op : exprOps)
    if (key == exprKey(op)) {
      node.op = op;
      known = true;
    }
  if (!known)
    return error(path, cat("unknown operation \"", key,
                           "\" (this runtime knows \"add\", \"sub\", "
                           "\"mul\", \"floordiv\", \"ceildiv\", \"max\" "
                           "and \"min\")"));
  std::string opPath = member(path, key.c_str());
  bool divides =
      node.op == ExprNode::Op::FloorDiv || node.op == ExprNode::Op::CeilDiv;
  if (!operands.isArray())
    return error(
        opPath, cat("expected two operands [x, y], got ", operands.kindName()));
  if (operands.array.size() != 2)
    return error(opPath, cat("expected two operands [x, y], got ",
                             operands.array.size()));
  if (Status s =
          readExpr(operands.array[0], element(opPath, 0), depth + 1, nodes);
      !s.isOk())
    return s;
  node.lhs = static_cast<int>(nodes.size()) - 1;
  if (divides && operands.array[1].isInt()) {
    // A literal divisor is checked here: never zero, and the result's sign
    // follows x's. An expression divisor is checked at launch.
    if (Status s = readInt(operands.array[1], element(opPath, 1), 1,
                           std::numeric_limits<int64_t>::max(), node.value);
        !s.isOk())
      return s;
  } else {
    if (Status s =
            readExpr(operands.array[1], element(opPath, 1), depth + 1, nodes);
        !s.isOk())
      return s;
    node.rhs = static_cast<int>(nodes.size()) - 1;
  }
  nodes.push_back(node);
  return Status::ok();
}

Status ManifestReader::readDerivedSymbols(const JsonValue &root) {
  const JsonValue *list;
  if (Status s = get(root, "", "symbols", false, list); !s.isOk())
    return s;
  if (!list)
    return Status::ok();
  if (Status s =
          expectKind(*list, "symbols", JsonValue::Kind::Array, "an array");
      !s.isOk())
    return s;
  for (size_t i = 0; i < list->array.size(); ++i) {
    const JsonValue *name = list->array[i].find("name");
    if (name && name->isString())
      derivedEntry.emplace(name->string, i);
  }
  for (size_t i = 0; i < list->array.size(); ++i) {
    const JsonValue &v = list->array[i];
    std::string path = element("symbols", i);
    currentEntry = i;
    if (Status s = expectKind(v, path, JsonValue::Kind::Object, "an object");
        !s.isOk())
      return s;
    const JsonValue *name;
    SymbolInfo info;
    if (Status s = get(v, path, "name", true, name); !s.isOk())
      return s;
    std::string namePath = member(path, "name");
    if (Status s = readName(*name, namePath, info.name); !s.isOk())
      return s;
    const JsonValue *value = v.find("value");
    const JsonValue *resident = v.find("resident_ctas");
    if (value && resident)
      return error(path, "expected either \"value\" or \"resident_ctas\", "
                         "not both");
    if (!value && !resident)
      return error(path, "missing member \"value\" (or \"resident_ctas\")");
    if (resident) {
      // The kernel is looked up once `kernels` is read.
      std::string residentPath = member(path, "resident_ctas");
      std::string kernel;
      if (Status s = readName(*resident, residentPath, kernel); !s.isOk())
        return s;
      residentUses.push_back(
          {static_cast<int>(m.symbols.size()), kernel, residentPath});
      ExprNode node;
      node.op = ExprNode::Op::ResidentCTAs;
      info.expr.push_back(node);
      info.onDevice = true;
    } else {
      if (Status s = readExpr(*value, member(path, "value"), 0, info.expr);
          !s.isOk())
        return s;
      for (const ExprNode &n : info.expr)
        info.onDevice |=
            n.op == ExprNode::Op::Symbol && m.symbols[n.symbol].onDevice;
    }
    // After the value, so that the message can tell why a symbol depending
    // on the device is refused.
    auto known = symbolIndex.find(info.name);
    if (known != symbolIndex.end()) {
      const SymbolInfo &other = m.symbols[known->second];
      // A shape binds its symbols from the caller's tensors; a derived one
      // is computed, and the two could disagree. Result shapes are also
      // computed without a device.
      if (!other.isDerived() && info.onDevice)
        return error(namePath,
                     cat("symbol '", info.name, "' is in the shape of ",
                         m.describeTensor(other.tensor),
                         "; it depends on the device (through "
                         "\"resident_ctas\"), and argument and result shapes "
                         "must not (they are known without one)"));
      if (!other.isDerived())
        return error(namePath,
                     cat("symbol '", info.name, "' is in the shape of ",
                         m.describeTensor(other.tensor),
                         "; a derived symbol needs a name no argument or "
                         "result shape uses"));
      return error(namePath,
                   cat("duplicate derived symbol '", info.name, "' (also ",
                       element("symbols", derivedEntry[info.name]), ")"));
    }
    symbolIndex.emplace(info.name, static_cast<int>(m.symbols.size()));
    m.symbols.push_back(std::move(info));
  }
  return Status::ok();
}

Status ManifestReader::readConstraint(const JsonValue &v,
                                      const std::string &path) {
  if (Status s = expectKind(v, path, JsonValue::Kind::Object, "an object");
      !s.isOk())
    return s;
  if (v.object.size() != 1)
    return error(path, "expected an object with exactly one member, e.g. "
                       "{\"divisible\": [a, b]}");
  const auto &[kind, operands] = v.object.front();
  // An unknown constraint cannot be checked, and skipping a check could
  // launch a kernel on shapes it does not support.
  if (kind != "divisible")
    return error(path, cat("unknown constraint \"", kind,
                           "\" (this runtime knows \"divisible\")"));
  std::string opPath = member(path, "divisible");
  if (!operands.isArray() || operands.array.size() != 2)
    return error(opPath, "expected [a, b]");
  Constraint c;
  if (Status s = readUse(operands.array[0], element(opPath, 0), 0, c.dividend);
      !s.isOk())
    return s;
  if (Status s = readUse(operands.array[1], element(opPath, 1), 1, c.divisor);
      !s.isOk())
    return s;
  m.constraints.push_back(c);
  return Status::ok();
}

Status ManifestReader::readParam(const JsonValue &v, const std::string &path,
                                 KernelParam &param) {
  if (Status s = expectKind(v, path, JsonValue::Kind::Object, "an object");
      !s.isOk())
    return s;
  const JsonValue *tensor = v.find("tensor");
  const JsonValue *scalar = v.find("scalar");
  const JsonValue *scalarArg = v.find("scalar_arg");
  if ((tensor != nullptr) + (scalar != nullptr) + (scalarArg != nullptr) != 1)
    return error(path, "expected {\"tensor\": name}, {\"scalar\": dtype, "
                       "\"symbol\": name} or {\"scalar_arg\": name}");
  // A view reshapes a buffer; on a value it would be silently meaningless.
  const JsonValue *view = v.find("shape");
  std::string viewPath = member(path, "shape");
  if (view && !tensor)
    return error(viewPath, "only a {\"tensor\": name} parameter can have a "
                           "\"shape\" (a view of the buffer)");
  if (view) {
    if (Status s =
            expectKind(*view, viewPath, JsonValue::Kind::Array, "an array");
        !s.isOk())
      return s;
    param.view.emplace();
    for (size_t d = 0; d < view->array.size(); ++d) {
      DimExpr dim;
      if (Status s = readUse(view->array[d], element(viewPath, d), 0, dim);
          !s.isOk())
        return s;
      param.view->push_back(dim);
    }
  }
  if (tensor || scalarArg) {
    const char *key = tensor ? "tensor" : "scalar_arg";
    std::string name;
    if (Status s = readName(tensor ? *tensor : *scalarArg, member(path, key),
                            name);
        !s.isOk())
      return s;
    auto it = tensorIndex.find(name);
    if (it == tensorIndex.end())
      return error(member(path, key),
                   cat("no argument, result or workspace buffer is named '",
                       name, "'"));
    param.tensor = it->second;
    bool isScalar = m.tensors[param.tensor].scalar;
    if (tensor && isScalar)
      return error(member(path, key),
                   cat(m.describeTensor(param.tensor),
                       " is a scalar; pass it with {\"scalar_arg\": name}"));
    if (scalarArg && !isScalar)
      return error(member(path, key), cat(m.describeTensor(param.tensor),
                                          " is not a scalar argument"));
    param.kind = tensor ? KernelParam::Kind::Tensor
                        : KernelParam::Kind::ScalarArgument;
    return Status::ok();
  }
  param.kind = KernelParam::Kind::Scalar;
  std::optional<DType> type =
      scalar->isString() ? parseDType(scalar->string) : std::nullopt;
  if (!type || (*type != DType::I32 && *type != DType::I64))
    return error(member(path, "scalar"), "expected \"i32\" or \"i64\"");
  param.scalarType = *type;
  const JsonValue *symbol;
  if (Status s = get(v, path, "symbol", true, symbol); !s.isOk())
    return s;
  return readUse(*symbol, member(path, "symbol"), 0, param.scalar);
}

Status ManifestReader::readCondition(const JsonValue &v,
                                     const std::string &path,
                                     Condition &condition) {
  static const char *example = "e.g. {\"le\": [\"Sq\", 16]}";
  if (!v.isObject())
    return error(path, cat("expected an object with one comparison, ", example,
                           ", got ", v.kindName()));
  if (v.object.size() != 1)
    return error(path, cat("expected an object with exactly one member, ",
                           example));
  const auto &[key, operands] = v.object.front();
  // An unknown comparison cannot be evaluated, and guessing would launch the
  // wrong code path.
  bool known = false;
  for (Condition::Op op : conditionOps)
    if (key == conditionKey(op)) {
      condition.op = op;
      known = true;
    }
  if (!known)
    return error(path, cat("unknown comparison \"", key,
                           "\" (this runtime knows \"lt\", \"le\", "
                           "\"gt\", \"ge\" and \"eq\")"));
  std::string opPath = member(path, key.c_str());
  if (!operands.isArray())
    return error(opPath, cat("expected two operands [x, y], got ",
                             operands.kindName()));
  if (operands.array.size() != 2)
    return error(opPath, cat("expected two operands [x, y], got ",
                             operands.array.size()));
  constexpr int64_t anyInt = std::numeric_limits<int64_t>::min();
  if (Status s = readUse(operands.array[0], element(opPath, 0), anyInt,
                         condition.lhs);
      !s.isOk())
    return s;
  return readUse(operands.array[1], element(opPath, 1), anyInt,
                 condition.rhs);
}

Status ManifestReader::readKernel(const JsonValue &v, const std::string &path,
                                  KernelSpec &kernel) {
  if (Status s = expectKind(v, path, JsonValue::Kind::Object, "an object");
      !s.isOk())
    return s;
  const JsonValue *name, *cubin, *block, *grid, *shared, *params, *cond;
  if (Status s = get(v, path, "name", true, name); !s.isOk())
    return s;
  if (Status s = readName(*name, member(path, "name"), kernel.name);
      !s.isOk())
    return s;

  if (Status s = get(v, path, "cubin", true, cubin); !s.isOk())
    return s;
  if (Status s = readName(*cubin, member(path, "cubin"), kernel.cubinFile);
      !s.isOk())
    return s;
  if (Status s = checkRelativePath(kernel.cubinFile, member(path, "cubin"));
      !s.isOk())
    return s;
  // Informative, but a launcher may read it: held to the same rule.
  if (const JsonValue *ptx = v.find("ptx")) {
    std::string ptxFile;
    if (Status s = readName(*ptx, member(path, "ptx"), ptxFile); !s.isOk())
      return s;
    if (Status s = checkRelativePath(ptxFile, member(path, "ptx")); !s.isOk())
      return s;
  }

  if (Status s = get(v, path, "block", true, block); !s.isOk())
    return s;
  std::string blockPath = member(path, "block");
  if (!block->isArray() || block->array.size() != 3)
    return error(blockPath, "expected three integers [x, y, z]");
  // CUDA's limits on every architecture the compiler targets.
  static constexpr int64_t blockLimit[3] = {1024, 1024, 64};
  int64_t threads = 1;
  for (size_t i = 0; i < 3; ++i) {
    int64_t value;
    if (Status s = readInt(block->array[i], element(blockPath, i), 1,
                           blockLimit[i], value);
        !s.isOk())
      return s;
    kernel.block[i] = static_cast<uint32_t>(value);
    threads *= value;
  }
  if (threads > 1024)
    return error(blockPath, cat(threads, " threads per block, above CUDA's "
                                         "limit of 1024"));

  if (Status s = get(v, path, "grid", true, grid); !s.isOk())
    return s;
  std::string gridPath = member(path, "grid");
  if (!grid->isArray() || grid->array.size() != 3)
    return error(gridPath, "expected three lists of factors [x, y, z]");
  for (size_t i = 0; i < 3; ++i) {
    const JsonValue &dim = grid->array[i];
    std::string dimPath = element(gridPath, i);
    if (!dim.isArray())
      return error(dimPath, cat("expected an array of factors, got ",
                                dim.kindName()));
    for (size_t f = 0; f < dim.array.size(); ++f) {
      const JsonValue &factor = dim.array[f];
      std::string factorPath = element(dimPath, f);
      GridFactor gf;
      if (factor.isObject()) {
        const JsonValue *ceildiv = factor.find("ceildiv");
        if (!ceildiv || factor.object.size() != 1)
          return error(factorPath, "expected an integer, a symbol or "
                                   "{\"ceildiv\": [x, n]}");
        std::string cdPath = member(factorPath, "ceildiv");
        if (!ceildiv->isArray() || ceildiv->array.size() != 2)
          return error(cdPath, "expected [x, n]");
        if (Status s = readUse(ceildiv->array[0], element(cdPath, 0), 0,
                               gf.value);
            !s.isOk())
          return s;
        if (Status s = readInt(ceildiv->array[1], element(cdPath, 1), 1,
                               std::numeric_limits<int64_t>::max(),
                               gf.divisor);
            !s.isOk())
          return s;
      } else if (Status s = readUse(factor, factorPath, 1, gf.value);
                 !s.isOk()) {
        return s;
      }
      kernel.grid[i].push_back(gf);
    }
  }

  if (Status s = get(v, path, "shared_bytes", false, shared); !s.isOk())
    return s;
  if (shared) {
    int64_t bytes;
    if (Status s = readInt(*shared, member(path, "shared_bytes"), 0,
                           std::numeric_limits<int32_t>::max(), bytes);
        !s.isOk())
      return s;
    kernel.sharedBytes = static_cast<uint32_t>(bytes);
  }

  if (Status s = get(v, path, "params", true, params); !s.isOk())
    return s;
  std::string paramsPath = member(path, "params");
  if (Status s = expectKind(*params, paramsPath, JsonValue::Kind::Array,
                            "an array");
      !s.isOk())
    return s;
  for (size_t i = 0; i < params->array.size(); ++i) {
    KernelParam param;
    if (Status s = readParam(params->array[i], element(paramsPath, i), param);
        !s.isOk())
      return s;
    kernel.params.push_back(param);
  }

  if (Status s = get(v, path, "if", false, cond); !s.isOk())
    return s;
  if (cond) {
    Condition condition;
    if (Status s = readCondition(*cond, member(path, "if"), condition);
        !s.isOk())
      return s;
    kernel.condition = condition;
  }
  return Status::ok();
}

Status ManifestReader::read(const JsonValue &root) {
  if (Status s = expectKind(root, "top level", JsonValue::Kind::Object,
                            "an object");
      !s.isOk())
    return s;
  const JsonValue *format, *version, *function, *chip;
  if (Status s = get(root, "", "format", true, format); !s.isOk())
    return s;
  if (!format->isString() || format->string != "attune-cuda")
    return error("format", "expected \"attune-cuda\"");
  if (Status s = get(root, "", "version", true, version); !s.isOk())
    return s;
  if (!version->isInt() || version->integer != 1)
    return error("version",
                 version->isInt()
                     ? cat("unsupported manifest version ", version->integer,
                           " (this runtime reads version 1)")
                     : cat("expected an integer, got ", version->kindName()));
  if (Status s = get(root, "", "function", true, function); !s.isOk())
    return s;
  if (Status s = readName(*function, "function", m.function); !s.isOk())
    return s;
  if (Status s = get(root, "", "chip", true, chip); !s.isOk())
    return s;
  if (Status s = readName(*chip, "chip", m.chip); !s.isOk())
    return s;

  if (Status s = readTensorList(root, "arguments", TensorRole::Argument, true,
                                m.numArguments);
      !s.isOk())
    return s;
  if (Status s = readTensorList(root, "results", TensorRole::Result, true,
                                m.numResults);
      !s.isOk())
    return s;
  // After the shapes that define symbols, before everything that uses them.
  if (Status s = readDerivedSymbols(root); !s.isOk())
    return s;
  if (Status s = readTensorList(root, "workspace", TensorRole::Workspace,
                                false, m.numWorkspace);
      !s.isOk())
    return s;

  const JsonValue *constraints, *kernels;
  if (Status s = get(root, "", "constraints", false, constraints); !s.isOk())
    return s;
  if (constraints) {
    if (Status s = expectKind(*constraints, "constraints",
                              JsonValue::Kind::Array, "an array");
        !s.isOk())
      return s;
    for (size_t i = 0; i < constraints->array.size(); ++i)
      if (Status s =
              readConstraint(constraints->array[i], element("constraints", i));
          !s.isOk())
        return s;
  }

  if (Status s = get(root, "", "kernels", true, kernels); !s.isOk())
    return s;
  if (Status s =
          expectKind(*kernels, "kernels", JsonValue::Kind::Array, "an array");
      !s.isOk())
    return s;
  if (kernels->array.empty())
    return error("kernels", "expected at least one kernel");
  for (size_t i = 0; i < kernels->array.size(); ++i) {
    KernelSpec kernel;
    if (Status s = readKernel(kernels->array[i], element("kernels", i), kernel);
        !s.isOk())
      return s;
    m.kernels.push_back(std::move(kernel));
  }
  // The first kernel of that name (names need not be unique).
  for (const ResidentUse &use : residentUses) {
    int &kernel = m.symbols[use.symbol].expr[0].kernel;
    for (size_t k = 0; k < m.kernels.size() && kernel < 0; ++k)
      if (m.kernels[k].name == use.kernel)
        kernel = static_cast<int>(k);
    if (kernel < 0)
      return error(use.path,
                   cat("no kernel of \"kernels\" is named '", use.kernel, "'"));
  }
  return Status::ok();
}

Status attune::rt::parseManifest(std::string_view json, Manifest &out) {
  out = Manifest();
  JsonValue root;
  std::string jsonError;
  if (!parseJson(json, root, jsonError))
    return Status::error(ATTUNE_RT_ERROR_MANIFEST,
                         cat("invalid JSON: ", jsonError));
  Manifest m;
  if (Status s = ManifestReader(m).read(root); !s.isOk())
    return s;
  out = std::move(m);
  return Status::ok();
}

Status attune::rt::readFile(const std::string &path, uint64_t maxBytes,
                            std::string &contents) {
  contents.clear();
  // O_NONBLOCK: opening a FIFO without a writer would block forever.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return Status::error(ATTUNE_RT_ERROR_IO, cat("cannot open '", path, "': ",
                                                 std::strerror(errno)));
  // Closed on every path out, std::bad_alloc included.
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info;
  Status status = Status::ok();
  if (::fstat(fd, &info) != 0) {
    status =
        Status::error(ATTUNE_RT_ERROR_IO,
                      cat("cannot stat '", path, "': ", std::strerror(errno)));
  } else if (!S_ISREG(info.st_mode)) {
    status = Status::error(ATTUNE_RT_ERROR_IO,
                           cat("'", path, "' is not a regular file"));
  } else if (static_cast<uint64_t>(info.st_size) > maxBytes) {
    status = Status::error(ATTUNE_RT_ERROR_IO,
                           cat("'", path, "' is ", info.st_size,
                               " bytes, above the limit of ", maxBytes));
  } else {
    contents.reserve(static_cast<size_t>(info.st_size));
    char buffer[1 << 16];
    while (true) {
      ssize_t n = ::read(fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        status =
            Status::error(ATTUNE_RT_ERROR_IO, cat("cannot read '", path,
                                                  "': ", std::strerror(errno)));
        break;
      }
      if (n == 0)
        break;
      // The size fstat reported may be wrong (a file that grows, /proc).
      if (contents.size() + static_cast<size_t>(n) > maxBytes) {
        status = Status::error(
            ATTUNE_RT_ERROR_IO,
            cat("'", path, "' is more than ", maxBytes, " bytes, the limit"));
        break;
      }
      contents.append(buffer, static_cast<size_t>(n));
    }
  }
  if (!status.isOk())
    contents.clear();
  return status;
}

/// realpath(3) into a std::string; empty on failure (errno set).
static std::string resolvePath(const std::string &path) {
  // Freed even if copying it into the string throws.
  std::unique_ptr<char, void (*)(void *)> resolved(
      ::realpath(path.c_str(), nullptr), std::free);
  return resolved ? std::string(resolved.get()) : std::string();
}

Status attune::rt::loadManifest(const std::string &dir, Manifest &out,
                                const LoadLimits &limits) {
  out = Manifest();
  struct stat info;
  if (::stat(dir.c_str(), &info) != 0)
    return Status::error(ATTUNE_RT_ERROR_IO,
                         cat("cannot open artifact directory '", dir,
                             "': ", std::strerror(errno)));
  if (!S_ISDIR(info.st_mode))
    return Status::error(ATTUNE_RT_ERROR_IO,
                         cat("'", dir, "' is not a directory (expected a "
                                       "CUDA artifact directory)"));
  std::string realDir = resolvePath(dir);
  if (realDir.empty())
    return Status::error(ATTUNE_RT_ERROR_IO,
                         cat("cannot resolve artifact directory '", dir,
                             "': ", std::strerror(errno)));
  if (realDir.back() != '/')
    realDir += '/';
  std::string base = dir;
  if (base.back() != '/')
    base += '/';
  std::string manifestPath = base + "manifest.json";
  std::string json;
  if (Status s = readFile(manifestPath, limits.manifestBytes, json); !s.isOk())
    return s;
  Manifest m;
  if (Status s = parseManifest(json, m); !s.isOk())
    return Status::error(s.code(), cat(manifestPath, ": ", s.message()));
  // Each file is read once and shared by the kernels that name it: a
  // manifest may list many kernels in one cubin (or, hostile, thousands).
  std::map<std::string, std::shared_ptr<const std::string>> images;
  uint64_t totalBytes = 0;
  std::string realDirItself = realDir.substr(0, realDir.size() - 1);
  for (KernelSpec &kernel : m.kernels) {
    std::string path = base + kernel.cubinFile;
    auto cubinError = [&](const std::string &what) {
      return Status::error(ATTUNE_RT_ERROR_IO,
                           cat("cubin of kernel '", kernel.name, "': ", what));
    };
    // parseManifest refused absolute names and '..'; a symbolic link may
    // still lead out of the directory.
    std::string real = resolvePath(path);
    if (real.empty())
      return cubinError(
          cat("cannot open '", path, "': ", std::strerror(errno)));
    // (The directory itself, e.g. "cubin": ".", is inside; readFile says
    // it is not a regular file.)
    if (real.compare(0, realDir.size(), realDir) != 0 && real != realDirItself)
      return cubinError(cat("'", path, "' resolves to '", real,
                            "', outside the artifact directory '", realDir,
                            "'"));
    std::shared_ptr<const std::string> &image = images[real];
    if (!image) {
      auto totalError = [&] {
        return cubinError(cat("the cubins total more than ",
                              limits.cubinTotalBytes, " bytes, the limit"));
      };
      // Known before reading it, unless it grows meanwhile.
      struct stat size;
      if (::stat(real.c_str(), &size) == 0 && S_ISREG(size.st_mode) &&
          static_cast<uint64_t>(size.st_size) <= limits.cubinBytes &&
          totalBytes + size.st_size > limits.cubinTotalBytes)
        return totalError();
      auto contents = std::make_shared<std::string>();
      if (Status s = readFile(real, limits.cubinBytes, *contents); !s.isOk())
        return cubinError(s.message());
      if (contents->empty())
        return cubinError(cat("'", path, "' is empty"));
      totalBytes += contents->size();
      if (totalBytes > limits.cubinTotalBytes)
        return totalError();
      image = std::move(contents);
    }
    kernel.cubin = image;
  }
  out = std::move(m);
  return Status::ok();
}
