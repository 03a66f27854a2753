//===- Manifest.h - The manifest of a CUDA artifact directory ---*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// manifest.json (docs/CUDAArtifacts.md, version 1) parsed and validated into
// a form the launcher uses without further checks: every symbol a grid,
// constraint, kernel condition, workspace, view or scalar parameter uses is
// defined by an argument or result shape or is a derived symbol (`symbols`,
// an expression of the symbols before it or a kernel's resident CTAs on the
// launch's device), every tensor a kernel parameter names exists.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_RUNTIME_MANIFEST_H
#define ATTUNE_RUNTIME_MANIFEST_H

#include "Status.h"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace attune::rt {

/// Element types; the values are the attune_rt_dtype codes.
enum class DType : int32_t {
  F32 = ATTUNE_RT_F32,
  F16 = ATTUNE_RT_F16,
  BF16 = ATTUNE_RT_BF16,
  I8 = ATTUNE_RT_I8,
  I32 = ATTUNE_RT_I32,
  I64 = ATTUNE_RT_I64,
  F64 = ATTUNE_RT_F64,
};

/// Parses a manifest dtype name ("f32", ...).
std::optional<DType> parseDType(std::string_view name);
/// Returns the manifest spelling of `dtype`.
const char *dtypeName(DType dtype);
/// Returns the size in bytes of one element of `dtype`.
int64_t dtypeSize(DType dtype);

/// An integer or a symbol: a dimension, a grid factor operand, a constraint
/// or condition operand, or a scalar parameter.
struct DimExpr {
  /// The integer when `symbol` is -1.
  int64_t value = 0;
  /// Index into Manifest::symbols, or -1 for an integer.
  int symbol = -1;

  bool isSymbol() const { return symbol >= 0; }
};

/// Where a tensor of the manifest comes from.
enum class TensorRole { Argument, Result, Workspace };

/// One argument, result or workspace buffer.
struct TensorSpec {
  std::string name;
  TensorRole role = TensorRole::Argument;
  DType dtype = DType::F32;
  std::vector<DimExpr> shape;
  /// A scalar argument (`"scalar": true`, shape []): passed by value, not as
  /// a device tensor. attunec writes it for non-tensor function arguments.
  bool scalar = false;
  /// The optional `range` [lo, hi), informative only (integers or floats).
  bool hasRange = false;
  double rangeLo = 0, rangeHi = 0;
  /// A result the kernels write in place into an argument (`"in_place_of"`,
  /// e.g. a paged KV cache appended to): that argument's index, else -1.
  /// The caller passes the argument's buffer as the result too.
  int inPlaceOf = -1;
};

/// One factor of a grid dimension: ceil(value / divisor) (divisor 1 for a
/// plain integer or symbol).
struct GridFactor {
  DimExpr value;
  int64_t divisor = 1;
};

/// One entry of a kernel's `params`.
struct KernelParam {
  /// `{"tensor": t}`, `{"scalar": dtype, "symbol": s}` or
  /// `{"scalar_arg": a}` (the value of scalar argument `a`).
  enum class Kind { Tensor, Scalar, ScalarArgument };
  Kind kind = Kind::Tensor;
  /// For Tensor and ScalarArgument: index into Manifest::tensors.
  int tensor = -1;
  /// For Scalar: I32 or I64, and the value passed.
  DType scalarType = DType::I64;
  DimExpr scalar;
  /// For Tensor, `{"tensor": t, "shape": [...]}`: the sizes the kernel sees
  /// the buffer with (a reshape: same address, contiguous row-major strides,
  /// any rank; the element counts must match at launch). Unset: the buffer's
  /// own shape.
  std::optional<std::vector<DimExpr>> view;
};

/// A kernel's optional `if`, e.g. {"le": ["Sq", 16]}: the kernel is launched
/// only when `lhs op rhs` holds for the bound symbols.
struct Condition {
  enum class Op { Lt, Le, Gt, Ge, Eq };
  Op op = Op::Eq;
  DimExpr lhs, rhs;
};

/// The manifest spelling of `op` ("le", ...).
const char *conditionKey(Condition::Op op);
/// The operator of `op` for messages ("<=", ...).
const char *conditionOperator(Condition::Op op);

/// One kernel of the manifest.
struct KernelSpec {
  std::string name;
  /// The cubin's file name (relative to the artifact directory, without a
  /// `..` component) and its contents, read by loadManifest (empty after
  /// parseManifest alone).
  std::string cubinFile;
  std::shared_ptr<const std::string> cubin;
  std::array<uint32_t, 3> block = {1, 1, 1};
  std::array<std::vector<GridFactor>, 3> grid;
  uint32_t sharedBytes = 0;
  std::vector<KernelParam> params;
  /// The `if` member; absent: the kernel is always launched.
  std::optional<Condition> condition;
};

/// A `divisible` constraint: dividend % divisor == 0.
struct Constraint {
  DimExpr dividend, divisor;
};

/// One node of a derived symbol's expression. A symbol's nodes are kept in
/// post-order (operands before their operator, the root last), so evaluating
/// it is one loop, whatever a hostile manifest nests.
struct ExprNode {
  /// ResidentCTAs is never inside an expression: it is the whole expression
  /// of a `{"name": s, "resident_ctas": kernel}` symbol.
  enum class Op {
    Integer,
    Symbol,
    Add,
    Sub,
    Mul,
    FloorDiv,
    CeilDiv,
    Max,
    Min,
    ResidentCTAs
  };
  Op op = Op::Integer;
  /// Integer: the value. FloorDiv and CeilDiv with a literal divisor (`rhs`
  /// -1): the divisor (>= 1).
  int64_t value = 0;
  /// Symbol: index into Manifest::symbols, always of an earlier symbol.
  int symbol = -1;
  /// ResidentCTAs: index into Manifest::kernels.
  int kernel = -1;
  /// The operands' indices in the node list: both for Add, Sub, Mul, Max
  /// and Min; for FloorDiv and CeilDiv `lhs`, and `rhs` too when the divisor
  /// is an expression (its value is checked at launch: it must be >= 1).
  int lhs = -1, rhs = -1;
};

/// The most operators a derived symbol's expression nests; deeper is a
/// manifest error (parsing and printing recurse once per level).
constexpr int maxExprDepth = 64;

/// A symbol: either defined by the first tensor dimension that has it
/// (arguments before results), or derived (top-level `symbols`) from the
/// symbols before it.
struct SymbolInfo {
  std::string name;
  /// The defining tensor and dimension; -1 for a derived symbol.
  int tensor = -1;
  int dim = -1;
  /// A derived symbol's expression in post-order; empty otherwise.
  std::vector<ExprNode> expr;
  /// Whether the value depends on the launch's device: a `resident_ctas`
  /// symbol or one derived from such a symbol. No argument or result shape
  /// uses one (result shapes are computed without a device).
  bool onDevice = false;

  bool isDerived() const { return !expr.empty(); }
  /// Whether this is a `resident_ctas` symbol: the number of CTAs of kernel
  /// `expr[0].kernel` the launch's device holds at once.
  bool isResidentCTAs() const {
    return expr.size() == 1 && expr[0].op == ExprNode::Op::ResidentCTAs;
  }
};

/// A validated version-1 manifest.
struct Manifest {
  std::string function;
  std::string chip;
  /// Arguments, then results, then workspace buffers.
  std::vector<TensorSpec> tensors;
  int numArguments = 0;
  int numResults = 0;
  int numWorkspace = 0;
  /// Every symbol: those of the argument and result shapes in order of first
  /// appearance, then the derived ones in `symbols` order.
  std::vector<SymbolInfo> symbols;
  std::vector<Constraint> constraints;
  std::vector<KernelSpec> kernels;

  /// Index into `tensors` of the first tensor of `role`.
  int firstOf(TensorRole role) const;
  /// Number of tensors of `role`.
  int countOf(TensorRole role) const;

  /// "argument 'q'", "result 'o'" or "workspace 'm'".
  std::string describeTensor(int tensor) const;
  /// The manifest shape of a tensor, e.g. "[B, 8, Sq, 128]".
  std::string describeShape(int tensor) const;
  /// A symbol's name or an integer, for messages.
  std::string describe(const DimExpr &expr) const;
  /// A condition for messages, e.g. "Sq <= 16".
  std::string describe(const Condition &condition) const;
  /// A derived symbol's expression for messages, e.g. "max(Sk - Sq, 0)"
  /// (cut short past a few hundred characters); with `node`, the
  /// subexpression rooted at that node instead (e.g. a divisor).
  std::string describeExpr(int symbol, int node = -1) const;
  /// Whether some symbol is `resident_ctas`: a launch is then planned only
  /// once the module is loaded on the launch's device.
  bool needsDevice() const;
  /// A list of dimensions for messages, e.g. "[B, 8, Sq, 128]".
  std::string describe(const std::vector<DimExpr> &shape) const;
};

/// Parses and validates the text of manifest.json. Does not read cubins.
/// Errors are ATTUNE_RT_ERROR_MANIFEST with a JSON path, e.g.
/// "kernels[0].grid[1]: expected an array of factors, got an integer".
Status parseManifest(std::string_view json, Manifest &out);

/// The sizes of the files loadManifest reads.
struct LoadLimits {
  /// manifest.json (also parseJson's default document limit).
  uint64_t manifestBytes = 16 << 20;
  /// One cubin.
  uint64_t cubinBytes = 256 << 20;
  /// All the distinct cubins together.
  uint64_t cubinTotalBytes = uint64_t(1) << 30;
};

/// Reads and validates `dir`/manifest.json and reads every kernel's cubin
/// into the manifest. The directory is untrusted input: a cubin must resolve
/// (symbolic links followed) to a regular file inside the directory and be
/// at most `limits.cubinBytes` (`limits.cubinTotalBytes` for all of them
/// together; a file several kernels name is read once); ATTUNE_RT_ERROR_IO
/// otherwise.
Status loadManifest(const std::string &dir, Manifest &out,
                    const LoadLimits &limits = LoadLimits());

/// Reads a whole regular file of at most `maxBytes` bytes. The file is opened
/// non-blocking, so a FIFO or a device is refused instead of blocking or
/// reading forever. ATTUNE_RT_ERROR_IO naming the path and the reason on
/// failure.
Status readFile(const std::string &path, uint64_t maxBytes,
                std::string &contents);

} // namespace attune::rt

#endif // ATTUNE_RUNTIME_MANIFEST_H
