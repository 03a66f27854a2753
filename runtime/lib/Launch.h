//===- Launch.h - Checks and launch planning, without a GPU -----*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Everything between "the caller handed us tensors" and "call cuLaunchKernel"
// that needs no driver: checking the tensors against the manifest (binding
// its symbols, then evaluating the derived ones), the constraints, which
// kernels' conditions hold, the grid of every kernel that runs, view shapes,
// workspace sizes and the kernel parameter values. Kept apart from the driver
// calls so it is unit-tested on machines without a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_RUNTIME_LAUNCH_H
#define ATTUNE_RUNTIME_LAUNCH_H

#include "Manifest.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace attune::rt {

/// Symbol values bound from the caller's tensors, and the derived symbols'
/// values computed from them.
struct Bindings {
  std::vector<int64_t> values;
  /// For each symbol, the tensor (index into Manifest::tensors) and dimension
  /// whose size bound it; -1 while unbound and for a derived symbol.
  std::vector<int> sourceTensor;
  std::vector<int> sourceDim;
  /// Whether each symbol has a value.
  std::vector<bool> bound;

  bool isBound(int symbol) const { return bound[symbol]; }
  /// Value of an integer or a bound symbol.
  int64_t evaluate(const DimExpr &expr) const {
    return expr.isSymbol() ? values[expr.symbol] : expr.value;
  }
};

/// Checks the caller's tensors against the manifest and binds the symbols
/// of their shapes: the number of arguments (and, if `withResults`, of
/// results), then for each tensor in order its dtype, rank, every dimension
/// (static sizes, symbols unified with their first occurrence), contiguity
/// and data pointer (null only without elements, 16-byte aligned; not for
/// scalar arguments, whose `data` is their value). The derived symbols stay
/// unbound. The first failure is returned.
Status checkTensors(const Manifest &m, const attune_rt_tensor *args,
                    int64_t numArgs, const attune_rt_tensor *results,
                    int64_t numResults, bool withResults, Bindings &out);

/// checkTensors, then evaluateDerivedSymbols (with `residentCTAs`).
Status bindTensors(const Manifest &m, const attune_rt_tensor *args,
                   int64_t numArgs, const attune_rt_tensor *results,
                   int64_t numResults, bool withResults, Bindings &out,
                   const std::vector<int64_t> *residentCTAs = nullptr);

/// Evaluates, in order, every derived symbol whose operands are bound (all of
/// them once the results are bound; without the results, those that use no
/// symbol only a result defines stay unbound). A `resident_ctas` symbol of
/// kernel k is `(*residentCTAs)[k]` (one entry per manifest kernel, from the
/// launch's device) or, without them, 1: the least any device holds; either
/// way at least 1. A value that overflows int64 is
/// ATTUNE_RT_ERROR_UNSUPPORTED; a negative one, or a floordiv or ceildiv by
/// an expression that is not positive, ATTUNE_RT_ERROR_TENSOR (the shapes do
/// not suit the artifact); each names the symbol.
Status
evaluateDerivedSymbols(const Manifest &m, Bindings &b,
                       const std::vector<int64_t> *residentCTAs = nullptr);

/// Checks the constraints. With `skipUnbound`, constraints on a symbol that
/// is not bound are skipped (used when only the arguments are known).
Status checkConstraints(const Manifest &m, const Bindings &b,
                        bool skipUnbound);

/// The shape of `tensor` (index into Manifest::tensors); every symbol it uses
/// must be bound.
std::vector<int64_t> shapeOf(const Manifest &m, int tensor, const Bindings &b);

/// The shape of every result; fails naming the result, dimension and symbol
/// if a result uses a symbol that is not bound.
Status resultShapes(const Manifest &m, const Bindings &b,
                    std::vector<std::vector<int64_t>> &shapes);

/// Whether `condition` holds for the bound symbols.
bool conditionHolds(const Condition &condition, const Bindings &b);

/// Evaluates a kernel's grid; fails if a dimension exceeds CUDA's limits
/// (2^31-1 for x, 65535 for y and z).
Status computeGrid(const Manifest &m, int kernel, const Bindings &b,
                   std::array<uint32_t, 3> &grid);

/// Everything a launch needs that the driver does not provide.
struct LaunchPlan {
  Bindings bindings;
  /// For every kernel, in manifest order, whether its `if` holds (true for a
  /// kernel without one).
  std::vector<bool> enabled;
  /// The grid of every kernel, in manifest order; {0, 0, 0} for a kernel
  /// that is not enabled (its grid is not evaluated).
  std::vector<std::array<uint32_t, 3>> grids;
  /// Size in bytes of every workspace buffer, in manifest order; 0 (nothing
  /// to allocate) for a buffer that no launched kernel names.
  std::vector<uint64_t> workspaceBytes;

  /// Whether kernel `k` has no blocks (some grid dimension is 0): launching
  /// it is an error in CUDA, and there is no work, so it is skipped.
  bool isEmpty(size_t k) const {
    return grids[k][0] == 0 || grids[k][1] == 0 || grids[k][2] == 0;
  }
  /// Whether kernel `k` is launched: its condition holds and it has blocks.
  bool launches(size_t k) const { return enabled[k] && !isEmpty(k); }
};

/// Runs every check that precedes a launch: bindTensors (with results and
/// `residentCTAs`, see evaluateDerivedSymbols), checkConstraints, the
/// kernels' conditions (at least one kernel must be enabled), computeGrid,
/// that every i32 scalar parameter fits and that every view has its buffer's
/// element count (ATTUNE_RT_ERROR_TENSOR otherwise) for every enabled
/// kernel, and the sizes of the workspace buffers launched kernels name.
Status planLaunch(const Manifest &m, const attune_rt_tensor *args,
                  int64_t numArgs, const attune_rt_tensor *results,
                  int64_t numResults, LaunchPlan &plan,
                  const std::vector<int64_t> *residentCTAs = nullptr);

/// Whether tensor `tensor` is a checked capture: an argument with an integer
/// dtype (i8, i32, i64) and a manifest `range`. Its values index memory in
/// the kernels (a document id, a position), so a value outside the range
/// would read out of bounds.
bool isCheckedCapture(const Manifest &m, int tensor);

/// The values of a checked capture's `range` [lo, hi) as integers:
/// ceil(lo) <= v <= ceil(hi) - 1, saturated to int64.
struct IntegerRange {
  int64_t min = 0, max = 0;
};
IntegerRange integerRange(const TensorSpec &spec);

/// The range as the manifest gives it, e.g. "[0, 4)".
std::string describeRange(const TensorSpec &spec);

/// Checks the value of every checked capture that is a scalar argument (its
/// `data` holds the value's bits). ATTUNE_RT_ERROR_CAPTURE_RANGE naming the
/// argument, value and range.
Status checkScalarCaptures(const Manifest &m, const attune_rt_tensor *args);

/// Checks `count` elements of checked capture `tensor` (not a scalar), copied
/// to `host` in its dtype, which are elements `first`, `first + 1`, ... of the
/// tensor in row-major order. ATTUNE_RT_ERROR_CAPTURE_RANGE naming the
/// capture, the element's index (as a multi-index into the shape the
/// bindings give) and its value, and the range.
Status checkCaptureValues(const Manifest &m, int tensor, const Bindings &b,
                          const void *host, int64_t first, int64_t count);

/// The parameters of one kernel launch, in the form cuLaunchKernel takes.
struct PackedParams {
  /// One 8-byte slot per kernel parameter: pointers and i64 use all eight
  /// bytes, a narrower scalar its first bytes (host byte order), then zeros.
  std::vector<uint64_t> slots;
  /// How many bytes of each slot the parameter occupies (1, 2, 4 or 8).
  std::vector<uint8_t> sizes;
  /// &slots[i] for every parameter, then a null terminator (the driver reads
  /// only as many as the kernel has).
  std::vector<void *> pointers;
};

/// Packs the parameters of kernel `kernel`. `addresses` holds the device
/// address of every manifest tensor (arguments, results, workspace; for a
/// scalar argument, its value's bits). A `{"tensor": t}` parameter becomes
/// the MLIR memref descriptor fields: allocated pointer, aligned pointer,
/// offset 0, rank sizes, rank strides (contiguous row-major, in elements);
/// the sizes are the parameter's view shape if it has one.
void packParams(const Manifest &m, int kernel, const Bindings &b,
                const std::vector<uint64_t> &addresses, PackedParams &out);

} // namespace attune::rt

#endif // ATTUNE_RUNTIME_LAUNCH_H
