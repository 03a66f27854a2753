//===- AttuneRT.cpp - C API of the Attune CUDA runtime ----------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The C API over the manifest, the checks of Launch.h and the driver: a
// module loads its cubins into a context on its first launch there, caches
// workspace buffers per (context, stream), and launches the kernels whose
// conditions hold in manifest order. Every check runs before the first driver
// call, except, for a manifest with `resident_ctas` symbols, those after the
// tensors' own: the plan then needs the module loaded on the device.
//
//===----------------------------------------------------------------------===//

#include "attune_rt.h"

#include "CudaDriver.h"
#include "Launch.h"
#include "Manifest.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string_view>

using namespace attune::rt;
using namespace attune::rt::cuda;

namespace {

/// Workspace buffers cached for one stream.
struct Workspace {
  CUstream stream = nullptr;
  std::vector<CUdeviceptr> buffers;
  std::vector<uint64_t> capacity;
};

/// The module's state in one CUDA context.
struct LoadedContext {
  CUcontext context = nullptr;
  /// One CUDA module per distinct cubin file.
  std::vector<CUmodule> modules;
  /// One function per manifest kernel.
  std::vector<CUfunction> functions;
  /// For each manifest kernel, how many of its CTAs the device holds at once
  /// (multiprocessors times cuOccupancyMaxActiveBlocksPerMultiprocessor, at
  /// least 1), the values of `resident_ctas` symbols; 0 for a kernel none
  /// names (not queried).
  std::vector<int64_t> residentCTAs;
  std::vector<Workspace> workspaces;
};

} // namespace

struct attune_rt_module {
  Manifest manifest;
  /// Whether launches check the values of integer captures against their
  /// `range` (attune_rt_set_capture_checks).
  std::atomic<bool> checkCaptures{true};
  /// Serializes launches (they share the per-context state and workspaces).
  std::mutex mutex;
  std::vector<std::unique_ptr<LoadedContext>> contexts;
  /// Primary contexts this module retained, released on unload.
  std::vector<std::pair<CUdevice, CUcontext>> retained;
};

/// The message of the most recent failure on this thread; `lastErrorFixed`
/// instead when there was no memory to store it.
static thread_local std::string lastError;
static thread_local const char *lastErrorFixed = nullptr;

static int fail(const Status &status) {
  try {
    lastError = status.message();
    lastErrorFixed = nullptr;
  } catch (...) {
    lastErrorFixed = "out of memory (while storing an error message)";
  }
  return status.code();
}

static int fail(int code, std::string message) {
  return fail(Status::error(code, std::move(message)));
}

/// "sm_80", from the device of the current context, for messages.
static std::string currentChip(const Driver &d) {
  CUdevice device;
  int major = 0, minor = 0;
  if (d.cuCtxGetDevice(&device) != CUDA_SUCCESS ||
      d.cuDeviceGetAttribute(&major,
                             CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                             device) != CUDA_SUCCESS ||
      d.cuDeviceGetAttribute(&minor,
                             CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                             device) != CUDA_SUCCESS)
    return "an unknown device";
  return cat("device ", device, " (sm_", major, minor, ")");
}

/// Makes sure a context is current: the caller's, or else the primary
/// context of the device owning the first non-null tensor pointer.
static Status ensureContext(attune_rt_module &module, const Driver &d,
                            const std::vector<uint64_t> &addresses,
                            CUcontext &context) {
  context = nullptr;
  if (Status s = d.check(d.cuCtxGetCurrent(&context), "cuCtxGetCurrent");
      !s.isOk())
    return s;
  if (context)
    return Status::ok();

  const Manifest &m = module.manifest;
  int tensor = -1;
  for (int i = 0; i < m.numArguments + m.numResults && tensor < 0; ++i)
    if (addresses[i] && !m.tensors[i].scalar)
      tensor = i;
  if (tensor < 0)
    return Status::error(ATTUNE_RT_ERROR_DRIVER,
                         "no CUDA context is current and no tensor has a "
                         "device pointer to find the device from");
  int ordinal = -1;
  if (Status s = d.check(
          d.cuPointerGetAttribute(&ordinal, CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL,
                                  addresses[tensor]),
          cat("no CUDA context is current; finding the device of ",
              m.describeTensor(tensor), " (is it a device pointer?): "
                                        "cuPointerGetAttribute"));
      !s.isOk())
    return s;
  CUdevice device;
  if (Status s = d.check(d.cuDeviceGet(&device, ordinal), "cuDeviceGet");
      !s.isOk())
    return s;
  for (auto &[dev, ctx] : module.retained)
    if (dev == device)
      context = ctx;
  if (!context) {
    if (Status s = d.check(d.cuDevicePrimaryCtxRetain(&context, device),
                           cat("retaining the primary context of device ",
                               ordinal, ": cuDevicePrimaryCtxRetain"));
        !s.isOk())
      return s;
    module.retained.emplace_back(device, context);
  }
  return d.check(d.cuCtxSetCurrent(context), "cuCtxSetCurrent");
}

static void unloadModules(const Driver &d, LoadedContext &loaded) {
  for (CUmodule mod : loaded.modules)
    (void)d.cuModuleUnload(mod);
  loaded.modules.clear();
}

/// Fills `loaded.residentCTAs` (already sized, zeros) for the kernels
/// `resident_ctas` symbols name, on the device of the current context (after
/// any shared-memory opt-in, which the occupancy depends on). Allocates only
/// for an error message.
static Status computeResidentCTAs(const Manifest &m, const Driver &d,
                                  LoadedContext &loaded) {
  int multiprocessors = 0;
  bool queried = false;
  for (const SymbolInfo &symbol : m.symbols) {
    if (!symbol.isResidentCTAs())
      continue;
    int k = symbol.expr[0].kernel;
    if (loaded.residentCTAs[k])
      continue;
    const KernelSpec &kernel = m.kernels[k];
    if (!queried) {
      CUdevice device;
      CUresult r = d.cuCtxGetDevice(&device);
      if (r == CUDA_SUCCESS)
        r = d.cuDeviceGetAttribute(
            &multiprocessors, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
      if (r != CUDA_SUCCESS)
        return Status::error(
            ATTUNE_RT_ERROR_DRIVER,
            cat("computing symbol '", symbol.name,
                "': querying the device's multiprocessor count failed: ",
                d.describe(r)));
      queried = true;
    }
    int perMultiprocessor = 0;
    int threads =
        static_cast<int>(kernel.block[0] * kernel.block[1] * kernel.block[2]);
    CUresult r = d.cuOccupancyMaxActiveBlocksPerMultiprocessor(
        &perMultiprocessor, loaded.functions[k], threads, kernel.sharedBytes);
    if (r != CUDA_SUCCESS)
      return Status::error(
          ATTUNE_RT_ERROR_DRIVER,
          cat("computing symbol '", symbol.name,
              "' (the resident CTAs of kernel '", kernel.name,
              "'): cuOccupancyMaxActiveBlocksPerMultiprocessor failed: ",
              d.describe(r)));
    // A kernel that fits no multiprocessor fails at launch; 1 keeps the
    // symbols that divide by this count defined until then.
    loaded.residentCTAs[k] =
        std::max<int64_t>(int64_t(multiprocessors) * perMultiprocessor, 1);
  }
  return Status::ok();
}

/// Returns the module's state in the current `context`, loading the cubins,
/// opting in to large shared memory and computing the resident CTAs the
/// first time.
static Status loadInto(attune_rt_module &module, const Driver &d,
                       CUcontext context, LoadedContext *&out) {
  for (auto &loaded : module.contexts)
    if (loaded->context == context) {
      out = loaded.get();
      return Status::ok();
    }

  const Manifest &m = module.manifest;
  auto loaded = std::make_unique<LoadedContext>();
  loaded->context = context;
  // Every way out but success unloads what was loaded, std::bad_alloc
  // included; the lists are sized first so that no module loaded is left
  // out of them by a failed allocation.
  struct Unloader {
    const Driver &d;
    LoadedContext *loaded;
    ~Unloader() {
      if (loaded)
        unloadModules(d, *loaded);
    }
  } unloader{d, loaded.get()};
  loaded->modules.reserve(m.kernels.size());
  loaded->functions.reserve(m.kernels.size());
  module.contexts.reserve(module.contexts.size() + 1);
  bool needsDevice = m.needsDevice();
  if (needsDevice)
    loaded->residentCTAs.assign(m.kernels.size(), 0);
  std::map<std::string, CUmodule> byFile;
  for (const KernelSpec &kernel : m.kernels) {
    CUmodule &mod = byFile[kernel.cubinFile];
    if (!mod) {
      CUresult r = d.cuModuleLoadData(&mod, kernel.cubin->data());
      if (r != CUDA_SUCCESS)
        return Status::error(ATTUNE_RT_ERROR_DRIVER,
                             cat("loading '", kernel.cubinFile,
                                 "' (compiled for ", m.chip, ") on ",
                                 currentChip(d),
                                 ": cuModuleLoadData failed: ", d.describe(r)));
      loaded->modules.push_back(mod);
    }
    CUfunction function;
    CUresult r = d.cuModuleGetFunction(&function, mod, kernel.name.c_str());
    if (r != CUDA_SUCCESS)
      return Status::error(
          ATTUNE_RT_ERROR_DRIVER,
          cat("finding kernel '", kernel.name, "' in '", kernel.cubinFile,
              "': cuModuleGetFunction failed: ", d.describe(r)));
    if (kernel.sharedBytes > defaultSharedLimit) {
      CUdevice device;
      int limit = 0;
      if (d.cuCtxGetDevice(&device) == CUDA_SUCCESS &&
          d.cuDeviceGetAttribute(
              &limit, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
              device) == CUDA_SUCCESS &&
          limit > 0 && kernel.sharedBytes > static_cast<unsigned>(limit))
        return Status::error(
            ATTUNE_RT_ERROR_UNSUPPORTED,
            cat("kernel '", kernel.name, "' needs ", kernel.sharedBytes,
                " bytes of shared memory per block but ", currentChip(d),
                " allows at most ", limit, " (compiled for ", m.chip, ")"));
      r = d.cuFuncSetAttribute(function,
                               CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                               static_cast<int>(kernel.sharedBytes));
      if (r != CUDA_SUCCESS)
        return Status::error(
            ATTUNE_RT_ERROR_DRIVER,
            cat("allowing kernel '", kernel.name, "' ", kernel.sharedBytes,
                " bytes of shared memory: cuFuncSetAttribute failed: ",
                d.describe(r)));
    }
    loaded->functions.push_back(function);
  }
  if (needsDevice)
    if (Status s = computeResidentCTAs(m, d, *loaded); !s.isOk())
      return s;
  out = loaded.get();
  module.contexts.push_back(std::move(loaded));
  unloader.loaded = nullptr;
  return Status::ok();
}

/// Stores the workspace addresses for `stream` in `addresses` (after the
/// arguments and results), growing the cached buffers as needed.
static Status prepareWorkspace(const Manifest &m, const Driver &d,
                               LoadedContext &loaded, CUstream stream,
                               const std::vector<uint64_t> &bytes,
                               std::vector<uint64_t> &addresses) {
  if (bytes.empty())
    return Status::ok();
  Workspace *ws = nullptr;
  for (Workspace &w : loaded.workspaces)
    if (w.stream == stream)
      ws = &w;
  if (!ws) {
    // Built whole before it is added: an allocation failure must not leave
    // a Workspace with too few buffers behind.
    Workspace fresh;
    fresh.stream = stream;
    fresh.buffers.assign(bytes.size(), 0);
    fresh.capacity.assign(bytes.size(), 0);
    loaded.workspaces.push_back(std::move(fresh));
    ws = &loaded.workspaces.back();
  }
  bool synchronized = false;
  int first = m.firstOf(TensorRole::Workspace);
  for (size_t w = 0; w < bytes.size(); ++w) {
    if (bytes[w] > ws->capacity[w]) {
      if (ws->buffers[w]) {
        // Earlier launches on this stream may still use the old buffer.
        if (!synchronized)
          if (Status s = d.check(d.cuStreamSynchronize(stream),
                                 "cuStreamSynchronize");
              !s.isOk())
            return s;
        synchronized = true;
        (void)d.cuMemFree(ws->buffers[w]);
        ws->buffers[w] = 0;
        ws->capacity[w] = 0;
      }
      uint64_t rounded = (bytes[w] + 255) / 256 * 256;
      CUdeviceptr ptr = 0;
      if (Status s = d.check(d.cuMemAlloc(&ptr, rounded),
                             cat("allocating ", rounded, " bytes for ",
                                 m.describeTensor(first + w),
                                 ": cuMemAlloc"));
          !s.isOk())
        return s;
      ws->buffers[w] = ptr;
      ws->capacity[w] = rounded;
    }
    addresses[first + w] = bytes[w] ? ws->buffers[w] : 0;
  }
  return Status::ok();
}

/// Host memory for capture values in flight: larger captures are checked a
/// piece at a time.
constexpr size_t captureStagingBytes = 64 << 20;

/// Copies every checked tensor capture to the host (on `stream`, after the
/// work already queued there, which may be what writes it) and checks each
/// element against the capture's range. One synchronization per
/// captureStagingBytes of captures. (A copy into pageable memory returns
/// only once it is done, so no copy is left writing into `staging` when an
/// error returns early.)
static Status checkTensorCaptures(const Manifest &m, const Driver &d,
                                  const LaunchPlan &plan,
                                  const std::vector<uint64_t> &addresses,
                                  CUstream stream) {
  struct Piece {
    int tensor;
    int64_t first, count;
    size_t offset;
  };
  bool any = false;
  for (int t = 0; t < m.numArguments; ++t)
    any |= isCheckedCapture(m, t) && !m.tensors[t].scalar;
  if (!any)
    return Status::ok();
  // Synchronizing a stream that is being captured into a CUDA graph would
  // invalidate the capture; and a graph replays without checks anyway.
  int capturing = 0;
  if (Status s = d.check(d.cuStreamIsCapturing(stream, &capturing),
                         "checking the captures' ranges: cuStreamIsCapturing");
      !s.isOk())
    return s;
  if (capturing)
    return Status::error(
        ATTUNE_RT_ERROR_UNSUPPORTED,
        "the stream is being captured into a CUDA graph, and checking the "
        "captures' ranges needs a stream synchronization; turn the checks off "
        "for graph capture (attune_rt_set_capture_checks(module, 0))");
  std::vector<Piece> pieces;
  std::vector<char> staging;
  size_t used = 0;
  auto flush = [&]() -> Status {
    if (pieces.empty())
      return Status::ok();
    if (Status s = d.check(d.cuStreamSynchronize(stream),
                           "checking the captures' ranges: "
                           "cuStreamSynchronize");
        !s.isOk())
      return s;
    for (const Piece &p : pieces)
      if (Status s =
              checkCaptureValues(m, p.tensor, plan.bindings,
                                 staging.data() + p.offset, p.first, p.count);
          !s.isOk())
        return s;
    pieces.clear();
    used = 0;
    return Status::ok();
  };
  // The element count of every checked tensor capture, and their bytes.
  std::vector<int64_t> elements(m.numArguments, 0);
  uint64_t total = 0;
  for (int t = 0; t < m.numArguments; ++t) {
    if (!isCheckedCapture(m, t) || m.tensors[t].scalar)
      continue;
    // bindTensors checked that the element count fits int64.
    elements[t] = 1;
    for (int64_t size : shapeOf(m, t, plan.bindings))
      elements[t] *= size;
    if (elements[t] > std::numeric_limits<int64_t>::max() / 8)
      return Status::error(
          ATTUNE_RT_ERROR_UNSUPPORTED,
          cat(m.describeTensor(t), " has more than 2^60 elements"));
    total += static_cast<uint64_t>(elements[t]) *
             static_cast<uint64_t>(dtypeSize(m.tensors[t].dtype));
    total = std::min<uint64_t>(total, captureStagingBytes);
  }
  staging.resize(static_cast<size_t>(total));
  for (int t = 0; t < m.numArguments; ++t) {
    int64_t size = dtypeSize(m.tensors[t].dtype);
    for (int64_t first = 0; first < elements[t];) {
      int64_t room = static_cast<int64_t>(staging.size() - used) / size;
      if (room == 0) {
        if (Status s = flush(); !s.isOk())
          return s;
        continue;
      }
      int64_t count = std::min(room, elements[t] - first);
      size_t bytes = static_cast<size_t>(count * size);
      if (Status s = d.check(d.cuMemcpyDtoHAsync(staging.data() + used,
                                                 addresses[t] + first * size,
                                                 bytes, stream),
                             cat("copying ", m.describeTensor(t),
                                 " to check its range: cuMemcpyDtoHAsync"));
          !s.isOk())
        return s;
      pieces.push_back({t, first, count, used});
      used += bytes;
      first += count;
    }
  }
  return flush();
}

static Status launch(attune_rt_module &module, const attune_rt_tensor *args,
                     int64_t numArgs, const attune_rt_tensor *results,
                     int64_t numResults, CUstream stream) {
  const Manifest &m = module.manifest;
  auto anyWork = [&](const LaunchPlan &plan) {
    for (size_t k = 0; k < m.kernels.size(); ++k)
      if (plan.launches(k))
        return true;
    return false;
  };
  // With `resident_ctas` symbols the plan depends on the device, so it is
  // made once the module is loaded in the context; the tensors themselves
  // are still checked before any driver call.
  bool needsDevice = m.needsDevice();
  LaunchPlan plan;
  if (!needsDevice) {
    if (Status s = planLaunch(m, args, numArgs, results, numResults, plan);
        !s.isOk())
      return s;
    if (!anyWork(plan))
      return Status::ok();
  } else if (Status s = checkTensors(m, args, numArgs, results, numResults,
                                     /*withResults=*/true, plan.bindings);
             !s.isOk()) {
    return s;
  }
  bool checkCaptures = module.checkCaptures;
  if (checkCaptures)
    if (Status s = checkScalarCaptures(m, args); !s.isOk())
      return s;

  const Driver *d;
  if (Status s = getDriver(d); !s.isOk())
    return s;
  std::vector<uint64_t> addresses(m.tensors.size(), 0);
  for (int i = 0; i < m.numArguments; ++i)
    addresses[i] = args[i].data;
  for (int i = 0; i < m.numResults; ++i)
    addresses[m.numArguments + i] = results[i].data;

  CUcontext context;
  if (Status s = ensureContext(module, *d, addresses, context); !s.isOk())
    return s;
  LoadedContext *loaded = nullptr;
  if (needsDevice) {
    if (Status s = loadInto(module, *d, context, loaded); !s.isOk())
      return s;
    if (Status s = planLaunch(m, args, numArgs, results, numResults, plan,
                              &loaded->residentCTAs);
        !s.isOk())
      return s;
    if (!anyWork(plan))
      return Status::ok();
  }
  if (checkCaptures)
    if (Status s = checkTensorCaptures(m, *d, plan, addresses, stream);
        !s.isOk())
      return s;
  if (!loaded)
    if (Status s = loadInto(module, *d, context, loaded); !s.isOk())
      return s;
  if (Status s = prepareWorkspace(m, *d, *loaded, stream, plan.workspaceBytes,
                                  addresses);
      !s.isOk())
    return s;

  PackedParams params;
  for (size_t k = 0; k < m.kernels.size(); ++k) {
    // Kernels whose condition does not hold, and empty grids.
    if (!plan.launches(k))
      continue;
    const KernelSpec &kernel = m.kernels[k];
    const std::array<uint32_t, 3> &grid = plan.grids[k];
    packParams(m, static_cast<int>(k), plan.bindings, addresses, params);
    CUresult r = d->cuLaunchKernel(
        loaded->functions[k], grid[0], grid[1], grid[2], kernel.block[0],
        kernel.block[1], kernel.block[2], kernel.sharedBytes, stream,
        params.pointers.data(), nullptr);
    if (r != CUDA_SUCCESS)
      return Status::error(
          ATTUNE_RT_ERROR_DRIVER,
          cat("launching kernel '", kernel.name, "' (grid [", grid[0], ", ",
              grid[1], ", ", grid[2], "], block [", kernel.block[0], ", ",
              kernel.block[1], ", ", kernel.block[2], "], ",
              kernel.sharedBytes, " bytes of shared memory, ",
              params.sizes.size(), " parameters): cuLaunchKernel failed: ",
              d->describe(r)));
  }
  return Status::ok();
}

/// Runs `body` (returning an attune_rt_status) so that no exception crosses
/// the C API: running out of memory is ATTUNE_RT_ERROR_OUT_OF_MEMORY, any
/// other exception ATTUNE_RT_ERROR_INTERNAL.
template <typename Body> static int guarded(const char *function, Body body) {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    lastErrorFixed = "out of memory";
    return ATTUNE_RT_ERROR_OUT_OF_MEMORY;
  } catch (const std::exception &e) {
    return fail(ATTUNE_RT_ERROR_INTERNAL,
                cat("internal error in ", function, ": ", e.what()));
  } catch (...) {
    lastErrorFixed = "internal error: an unknown exception";
    return ATTUNE_RT_ERROR_INTERNAL;
  }
}

/// The manifest tensor `index` of `kind`, or -1.
static int tensorIndex(const attune_rt_module *module, int32_t kind,
                       int32_t index) {
  if (!module || kind < ATTUNE_RT_ARGUMENT || kind > ATTUNE_RT_WORKSPACE)
    return -1;
  TensorRole role = static_cast<TensorRole>(kind);
  if (index < 0 || index >= module->manifest.countOf(role))
    return -1;
  return module->manifest.firstOf(role) + index;
}

extern "C" {

const char *attune_rt_last_error(void) {
  return lastErrorFixed ? lastErrorFixed : lastError.c_str();
}

const char *attune_rt_dtype_name(int32_t dtype) {
  if (dtype < ATTUNE_RT_F32 || dtype > ATTUNE_RT_F64)
    return nullptr;
  return dtypeName(static_cast<DType>(dtype));
}

int32_t attune_rt_dtype_size(int32_t dtype) {
  if (dtype < ATTUNE_RT_F32 || dtype > ATTUNE_RT_F64)
    return 0;
  return static_cast<int32_t>(dtypeSize(static_cast<DType>(dtype)));
}

int attune_rt_load(const char *dir, attune_rt_module **module) {
  return guarded("attune_rt_load", [&] {
    if (!module)
      return fail(ATTUNE_RT_ERROR_INVALID_ARGUMENT, "null module out-pointer");
    *module = nullptr;
    if (!dir || !*dir)
      return fail(ATTUNE_RT_ERROR_INVALID_ARGUMENT,
                  "empty artifact directory path");
    auto loaded = std::make_unique<attune_rt_module>();
    if (Status s = loadManifest(dir, loaded->manifest); !s.isOk())
      return fail(s);
    const char *unchecked = std::getenv("ATTUNE_RT_UNCHECKED_CAPTURES");
    loaded->checkCaptures =
        !unchecked || !*unchecked || std::string_view(unchecked) == "0";
    *module = loaded.release();
    return static_cast<int>(ATTUNE_RT_OK);
  });
}

void attune_rt_unload(attune_rt_module *module) {
  if (!module)
    return;
  const Driver *d;
  // Nothing to report an error to: the module is freed whatever happens.
  (void)guarded("attune_rt_unload", [&] {
    if (module->contexts.empty() && module->retained.empty())
      return static_cast<int>(ATTUNE_RT_OK);
    if (getDriver(d).isOk()) {
      // Errors are ignored: at process exit the driver may already be
      // shutting down, and there is nobody to report them to.
      CUcontext saved = nullptr;
      (void)d->cuCtxGetCurrent(&saved);
      for (auto &loaded : module->contexts) {
        if (d->cuCtxSetCurrent(loaded->context) != CUDA_SUCCESS)
          continue;
        // No kernel may still use a workspace buffer or module we free.
        (void)d->cuCtxSynchronize();
        for (Workspace &ws : loaded->workspaces)
          for (CUdeviceptr ptr : ws.buffers)
            if (ptr)
              (void)d->cuMemFree(ptr);
        unloadModules(*d, *loaded);
      }
      (void)d->cuCtxSetCurrent(saved);
      for (auto &[device, context] : module->retained)
        (void)d->cuDevicePrimaryCtxRelease(device);
    }
    return static_cast<int>(ATTUNE_RT_OK);
  });
  delete module;
}

const char *attune_rt_function(const attune_rt_module *module) {
  return module ? module->manifest.function.c_str() : nullptr;
}

const char *attune_rt_chip(const attune_rt_module *module) {
  return module ? module->manifest.chip.c_str() : nullptr;
}

int32_t attune_rt_num_tensors(const attune_rt_module *module, int32_t kind) {
  if (!module || kind < ATTUNE_RT_ARGUMENT || kind > ATTUNE_RT_WORKSPACE)
    return -1;
  return module->manifest.countOf(static_cast<TensorRole>(kind));
}

const char *attune_rt_tensor_name(const attune_rt_module *module, int32_t kind,
                                  int32_t index) {
  int t = tensorIndex(module, kind, index);
  return t < 0 ? nullptr : module->manifest.tensors[t].name.c_str();
}

int32_t attune_rt_tensor_dtype(const attune_rt_module *module, int32_t kind,
                               int32_t index) {
  int t = tensorIndex(module, kind, index);
  return t < 0 ? -1 : static_cast<int32_t>(module->manifest.tensors[t].dtype);
}

int32_t attune_rt_tensor_rank(const attune_rt_module *module, int32_t kind,
                              int32_t index) {
  int t = tensorIndex(module, kind, index);
  return t < 0 ? -1
               : static_cast<int32_t>(module->manifest.tensors[t].shape.size());
}

/// Dimension `dim` of tensor `index` of `kind`, or null.
static const DimExpr *dimOf(const attune_rt_module *module, int32_t kind,
                            int32_t index, int32_t dim) {
  int t = tensorIndex(module, kind, index);
  if (t < 0)
    return nullptr;
  const std::vector<DimExpr> &shape = module->manifest.tensors[t].shape;
  if (dim < 0 || dim >= static_cast<int32_t>(shape.size()))
    return nullptr;
  return &shape[dim];
}

int64_t attune_rt_tensor_dim(const attune_rt_module *module, int32_t kind,
                             int32_t index, int32_t dim) {
  const DimExpr *d = dimOf(module, kind, index, dim);
  return !d || d->isSymbol() ? -1 : d->value;
}

const char *attune_rt_tensor_dim_symbol(const attune_rt_module *module,
                                        int32_t kind, int32_t index,
                                        int32_t dim) {
  const DimExpr *d = dimOf(module, kind, index, dim);
  return d && d->isSymbol() ? module->manifest.symbols[d->symbol].name.c_str()
                            : nullptr;
}

int attune_rt_tensor_is_scalar(const attune_rt_module *module, int32_t kind,
                               int32_t index) {
  int t = tensorIndex(module, kind, index);
  return t >= 0 && module->manifest.tensors[t].scalar;
}

int attune_rt_tensor_range(const attune_rt_module *module, int32_t kind,
                           int32_t index, double *lo, double *hi) {
  int t = tensorIndex(module, kind, index);
  if (t < 0 || !module->manifest.tensors[t].hasRange)
    return 0;
  if (lo)
    *lo = module->manifest.tensors[t].rangeLo;
  if (hi)
    *hi = module->manifest.tensors[t].rangeHi;
  return 1;
}

int32_t attune_rt_result_in_place_of(const attune_rt_module *module,
                                     int32_t index) {
  int t = tensorIndex(module, ATTUNE_RT_RESULT, index);
  return t < 0 ? -1 : module->manifest.tensors[t].inPlaceOf;
}

int attune_rt_result_shapes(attune_rt_module *module,
                            const attune_rt_tensor *args, int64_t num_args,
                            int64_t *dims, int64_t capacity) {
  return guarded("attune_rt_result_shapes", [&] {
    if (!module)
      return fail(ATTUNE_RT_ERROR_INVALID_ARGUMENT, "null module");
    const Manifest &m = module->manifest;
    Bindings b;
    if (Status s = bindTensors(m, args, num_args, nullptr, 0,
                               /*withResults=*/false, b);
        !s.isOk())
      return fail(s);
    if (Status s = checkConstraints(m, b, /*skipUnbound=*/true); !s.isOk())
      return fail(s);
    std::vector<std::vector<int64_t>> shapes;
    if (Status s = resultShapes(m, b, shapes); !s.isOk())
      return fail(s);
    int64_t total = 0;
    for (const auto &shape : shapes)
      total += static_cast<int64_t>(shape.size());
    if (capacity < total || (total > 0 && !dims))
      return fail(
          ATTUNE_RT_ERROR_INVALID_ARGUMENT,
          cat("room for ", capacity, " result dimensions, need ", total));
    for (const auto &shape : shapes)
      for (int64_t size : shape)
        *dims++ = size;
    return static_cast<int>(ATTUNE_RT_OK);
  });
}

int attune_rt_check(attune_rt_module *module, const attune_rt_tensor *args,
                    int64_t num_args, const attune_rt_tensor *results,
                    int64_t num_results) {
  return guarded("attune_rt_check", [&] {
    if (!module)
      return fail(ATTUNE_RT_ERROR_INVALID_ARGUMENT, "null module");
    LaunchPlan plan;
    if (Status s = planLaunch(module->manifest, args, num_args, results,
                              num_results, plan);
        !s.isOk())
      return fail(s);
    return static_cast<int>(ATTUNE_RT_OK);
  });
}

int attune_rt_launch(attune_rt_module *module, const attune_rt_tensor *args,
                     int64_t num_args, const attune_rt_tensor *results,
                     int64_t num_results, void *stream) {
  return guarded("attune_rt_launch", [&] {
    if (!module)
      return fail(ATTUNE_RT_ERROR_INVALID_ARGUMENT, "null module");
    std::lock_guard<std::mutex> lock(module->mutex);
    if (Status s = launch(*module, args, num_args, results, num_results,
                          static_cast<CUstream>(stream));
        !s.isOk())
      return fail(s);
    return static_cast<int>(ATTUNE_RT_OK);
  });
}

int attune_rt_set_capture_checks(attune_rt_module *module, int enabled) {
  return guarded("attune_rt_set_capture_checks", [&] {
    if (!module)
      return fail(ATTUNE_RT_ERROR_INVALID_ARGUMENT, "null module");
    module->checkCaptures = enabled != 0;
    return static_cast<int>(ATTUNE_RT_OK);
  });
}

int attune_rt_capture_checks(const attune_rt_module *module) {
  return module ? static_cast<int>(module->checkCaptures.load()) : -1;
}

} // extern "C"
