/*===- attune_rt.h - C API of the Attune CUDA runtime -------------*- C -*-===//
 *
 * Part of the Attune project.
 *
 *===----------------------------------------------------------------------===//
 *
 * Loads a CUDA artifact directory written by `attunec --target=cuda:<chip>`
 * (manifest.json + cubins, see docs/CUDAArtifacts.md) and launches its
 * kernels on tensors the caller owns. Plain C, so that ctypes and other FFIs
 * can bind it; the library has no MLIR, LLVM or CUDA-toolkit dependency and
 * finds the CUDA driver (libcuda.so.1) at run time.
 *
 * Errors: every function that can fail returns an attune_rt_status; anything
 * but ATTUNE_RT_OK leaves a message naming the tensor and dimension at fault
 * in attune_rt_last_error() (per thread). A launch whose checks fail launches
 * nothing.
 *
 *===----------------------------------------------------------------------===*/

#ifndef ATTUNE_RT_H
#define ATTUNE_RT_H

#include <stdint.h>

#if defined(_WIN32)
#define ATTUNE_RT_API __declspec(dllexport)
#else
#define ATTUNE_RT_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/// Status codes. Every failing call also sets attune_rt_last_error().
typedef enum attune_rt_status {
  ATTUNE_RT_OK = 0,
  /// A null handle, a null array with a nonzero count, an index out of range.
  ATTUNE_RT_ERROR_INVALID_ARGUMENT = 1,
  /// A file of the artifact directory cannot be read.
  ATTUNE_RT_ERROR_IO = 2,
  /// manifest.json is not valid JSON or not a valid version-1 manifest.
  ATTUNE_RT_ERROR_MANIFEST = 3,
  /// A tensor does not match the manifest: count, dtype, rank, a static
  /// dimension, a symbol, contiguity, a null or misaligned pointer.
  ATTUNE_RT_ERROR_TENSOR = 4,
  /// A manifest constraint (e.g. divisible) does not hold for these shapes.
  ATTUNE_RT_ERROR_CONSTRAINT = 5,
  /// The shapes are valid but exceed what CUDA can launch (grid limits,
  /// sizes overflowing 64 bits, a scalar that does not fit i32).
  ATTUNE_RT_ERROR_UNSUPPORTED = 6,
  /// The CUDA driver could not be loaded or a driver call failed; the message
  /// carries the driver's own error name and text.
  ATTUNE_RT_ERROR_DRIVER = 7,
  /// The runtime ran out of host memory.
  ATTUNE_RT_ERROR_OUT_OF_MEMORY = 8,
  /// A bug in the runtime (an unexpected C++ exception); no exception ever
  /// crosses the C API.
  ATTUNE_RT_ERROR_INTERNAL = 9,
  /// An integer capture (an argument with a manifest `range`) holds a value
  /// outside its range; the message names the capture, the element index,
  /// the value and the range. See attune_rt_set_capture_checks.
  ATTUNE_RT_ERROR_CAPTURE_RANGE = 10
} attune_rt_status;

/// Element types; the codes are stable.
typedef enum attune_rt_dtype {
  ATTUNE_RT_F32 = 0,
  ATTUNE_RT_F16 = 1,
  ATTUNE_RT_BF16 = 2,
  ATTUNE_RT_I8 = 3,
  ATTUNE_RT_I32 = 4,
  ATTUNE_RT_I64 = 5,
  /// Workspaces of f64 values (bucket-id scores, docs/Hashing.md).
  ATTUNE_RT_F64 = 6
} attune_rt_dtype;

/// Which list of the manifest a tensor query refers to.
typedef enum attune_rt_tensor_kind {
  ATTUNE_RT_ARGUMENT = 0,
  ATTUNE_RT_RESULT = 1,
  ATTUNE_RT_WORKSPACE = 2
} attune_rt_tensor_kind;

/// A caller's tensor: a device address and its logical layout. The runtime
/// reads `shape` and `strides` only during the call.
///
/// A scalar argument (attune_rt_tensor_is_scalar; rank 0) is passed by value:
/// `data` holds the value's bits zero-extended (an f32 as its IEEE bits in
/// the low 32 bits, an f16/bf16 in the low 16, an integer in two's
/// complement truncated to its width), `shape` and `strides` are unused.
typedef struct attune_rt_tensor {
  /// Device address (a CUdeviceptr); 16-byte aligned, non-null unless the
  /// tensor has no elements. For a scalar argument, its value (see above).
  uint64_t data;
  /// An attune_rt_dtype.
  int32_t dtype;
  /// Number of dimensions; `shape` and `strides` have `rank` entries.
  int32_t rank;
  /// Size of every dimension.
  const int64_t *shape;
  /// Stride of every dimension in elements, or NULL for contiguous
  /// row-major. Must describe a contiguous row-major tensor (strides of
  /// dimensions of size 1 are ignored): the runtime never copies.
  const int64_t *strides;
} attune_rt_tensor;

/// A loaded artifact directory.
typedef struct attune_rt_module attune_rt_module;

/// The message of the most recent failure on this thread ("" if none). Valid
/// until the next failing call on this thread.
ATTUNE_RT_API const char *attune_rt_last_error(void);

/// The manifest spelling of a dtype ("f32", "bf16", ...), or NULL if `dtype`
/// is not an attune_rt_dtype.
ATTUNE_RT_API const char *attune_rt_dtype_name(int32_t dtype);

/// Size in bytes of one element of `dtype`, or 0 if it is not a dtype.
ATTUNE_RT_API int32_t attune_rt_dtype_size(int32_t dtype);

/// Loads the artifact directory `dir`: parses and validates manifest.json
/// and reads every cubin. Touches no GPU: the CUDA module is loaded into a
/// context on the first launch there. On success stores a new module in
/// `*module`; on failure stores NULL.
ATTUNE_RT_API int attune_rt_load(const char *dir, attune_rt_module **module);

/// Unloads `module` (its CUDA modules and workspace buffers in every context
/// it was launched in) and frees it. Synchronizes those contexts first so no
/// kernel still uses a freed workspace. NULL is a no-op.
ATTUNE_RT_API void attune_rt_unload(attune_rt_module *module);

/// The manifest's `function` name.
ATTUNE_RT_API const char *attune_rt_function(const attune_rt_module *module);

/// The manifest's `chip` (e.g. "sm_90a").
ATTUNE_RT_API const char *attune_rt_chip(const attune_rt_module *module);

/// Number of arguments, results or workspace buffers (an
/// attune_rt_tensor_kind); -1 for a bad module or kind.
ATTUNE_RT_API int32_t attune_rt_num_tensors(const attune_rt_module *module,
                                            int32_t kind);

/// Name of tensor `index` of `kind`, or NULL if out of range.
ATTUNE_RT_API const char *attune_rt_tensor_name(const attune_rt_module *module,
                                                int32_t kind, int32_t index);

/// attune_rt_dtype of tensor `index` of `kind`, or -1 if out of range.
ATTUNE_RT_API int32_t attune_rt_tensor_dtype(const attune_rt_module *module,
                                             int32_t kind, int32_t index);

/// Rank of tensor `index` of `kind`, or -1 if out of range.
ATTUNE_RT_API int32_t attune_rt_tensor_rank(const attune_rt_module *module,
                                            int32_t kind, int32_t index);

/// Dimension `dim` of tensor `index` of `kind`: its static size, or -1 if it
/// is a symbol (see attune_rt_tensor_dim_symbol) or out of range.
ATTUNE_RT_API int64_t attune_rt_tensor_dim(const attune_rt_module *module,
                                           int32_t kind, int32_t index,
                                           int32_t dim);

/// The symbol of dimension `dim` of tensor `index` of `kind`, or NULL if the
/// dimension is static or out of range.
ATTUNE_RT_API const char *
attune_rt_tensor_dim_symbol(const attune_rt_module *module, int32_t kind,
                            int32_t index, int32_t dim);

/// 1 if argument `index` is a scalar argument (manifest `"scalar": true`,
/// passed by value), 0 otherwise.
ATTUNE_RT_API int attune_rt_tensor_is_scalar(const attune_rt_module *module,
                                             int32_t kind, int32_t index);

/// The manifest's optional `range` [lo, hi) of tensor `index` of `kind`:
/// returns 1 and stores it if present, 0 otherwise.
ATTUNE_RT_API int attune_rt_tensor_range(const attune_rt_module *module,
                                         int32_t kind, int32_t index,
                                         double *lo, double *hi);

/// The argument a result is written in place into (manifest
/// `"in_place_of"`, e.g. a paged KV cache appended to): its index among the
/// arguments, or -1 if result `index` is a buffer of its own or out of range.
/// The caller passes that argument's buffer as the result.
ATTUNE_RT_API int32_t attune_rt_result_in_place_of(
    const attune_rt_module *module, int32_t index);

/// Checks `args` (all arguments, in manifest order) and computes the shape of
/// every result from them: the dimensions of result 0, then of result 1, ...
/// into `dims` (`capacity` entries, at least the sum of the result ranks).
/// Also checks every constraint whose symbols the arguments determine. Fails
/// if a result dimension uses a symbol no argument has.
ATTUNE_RT_API int attune_rt_result_shapes(attune_rt_module *module,
                                          const attune_rt_tensor *args,
                                          int64_t num_args, int64_t *dims,
                                          int64_t capacity);

/// Runs every check attune_rt_launch runs before touching the GPU (counts,
/// dtypes, shapes and symbols, contiguity, pointers, constraints, launch
/// limits) without launching.
ATTUNE_RT_API int attune_rt_check(attune_rt_module *module,
                                  const attune_rt_tensor *args,
                                  int64_t num_args,
                                  const attune_rt_tensor *results,
                                  int64_t num_results);

/// Checks the tensors (as attune_rt_check, then the capture ranges, see
/// attune_rt_set_capture_checks) and, if they pass, launches the kernels in
/// manifest order on `stream` (a CUstream; NULL is the legacy
/// default stream). Uses the calling thread's current CUDA context; without
/// one, retains and makes current the primary context of the device that owns
/// the first non-null tensor pointer (what PyTorch uses). Asynchronous: errors
/// of the kernels themselves surface on the stream later. Launches of one
/// module are serialized by a lock; workspace buffers are cached per
/// (context, stream), so concurrent launches on different streams do not
/// share scratch memory.
ATTUNE_RT_API int attune_rt_launch(attune_rt_module *module,
                                   const attune_rt_tensor *args,
                                   int64_t num_args,
                                   const attune_rt_tensor *results,
                                   int64_t num_results, void *stream);

/// Turns the range checks of integer captures on (`enabled` nonzero, the
/// default) or off for `module`. A capture is an argument with dtype i8, i32
/// or i64 and a manifest `range` [lo, hi); its values index memory in the
/// kernels, so one outside the range would read out of bounds. With checks
/// on, attune_rt_launch copies every such tensor to the host (on the launch
/// stream, after the work queued there) and synchronizes the stream before
/// launching, and fails with ATTUNE_RT_ERROR_CAPTURE_RANGE naming the
/// capture, the element, its value and the range; a scalar capture's value
/// is checked directly. That costs a copy and a stream synchronization per
/// launch, so benchmarks whose captures are known to be in range turn it off;
/// so must CUDA graph capture (a launch on a capturing stream with checks on
/// fails with ATTUNE_RT_ERROR_UNSUPPORTED rather than break the capture).
/// A module starts with checks off if the environment variable
/// ATTUNE_RT_UNCHECKED_CAPTURES is set (to anything but "" or "0") when it is
/// loaded. attune_rt_check never reads device memory, so it does not check
/// ranges.
ATTUNE_RT_API int attune_rt_set_capture_checks(attune_rt_module *module,
                                               int enabled);

/// 1 if `module` checks capture ranges, 0 if not, -1 for a null module.
ATTUNE_RT_API int attune_rt_capture_checks(const attune_rt_module *module);

#ifdef __cplusplus
} // extern "C"
#endif

#endif /* ATTUNE_RT_H */
