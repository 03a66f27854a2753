//===- FakeCuda.cpp - A recording stand-in for libcuda ----------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Handles are small integers cast to pointers: a context is 0x1000 + device,
// a module 0x2000 + its index, a function 0x3000 + its index. Every entry
// point has exactly the type CudaDriver.h declares, since the runtime calls
// it through that pointer type (-fsanitize=function checks).
//
//===----------------------------------------------------------------------===//

#include "FakeCuda.h"

#include "CudaDriver.h"

#include <cstring>

using namespace attune::rt::cuda;

#define FAKE_API extern "C" __attribute__((visibility("default")))

static FakeCudaState state;
static std::vector<std::string> functionNames;

FAKE_API FakeCudaState *fakeCudaState() { return &state; }

template <typename Handle = void *>
static Handle handle(uintptr_t base, size_t index) {
  return reinterpret_cast<Handle>(base + index);
}

FAKE_API CUresult cuInit(unsigned) {
  ++state.inits;
  return 0;
}

/// The driver errors the tests provoke: code, name, description.
struct FakeError {
  int code;
  const char *name, *text;
};
static constexpr FakeError fakeErrors[] = {
    {1, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {209, "CUDA_ERROR_NO_BINARY_FOR_GPU",
     "no kernel image is available for execution on the device"},
    {500, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
};

/// Sets `*str` to the name or text of `error`; 1 (invalid value) if unknown.
static int describeError(int error, const char **str, bool name) {
  for (const FakeError &known : fakeErrors)
    if (known.code == error) {
      *str = name ? known.name : known.text;
      return 0;
    }
  *str = nullptr;
  return 1;
}

FAKE_API CUresult cuGetErrorName(CUresult error, const char **str) {
  return describeError(error, str, /*name=*/true);
}

FAKE_API CUresult cuGetErrorString(CUresult error, const char **str) {
  return describeError(error, str, /*name=*/false);
}

FAKE_API CUresult cuCtxGetCurrent(CUcontext *ctx) {
  *ctx = static_cast<CUcontext>(state.currentContext);
  return 0;
}

FAKE_API CUresult cuCtxSetCurrent(CUcontext ctx) {
  state.currentContext = ctx;
  return 0;
}

FAKE_API CUresult cuCtxGetDevice(CUdevice *device) {
  if (!state.currentContext)
    return 201;
  *device = static_cast<int>(reinterpret_cast<uintptr_t>(state.currentContext) -
                             0x1000);
  return 0;
}

FAKE_API CUresult cuCtxSynchronize() {
  ++state.contextSyncs;
  return 0;
}

FAKE_API CUresult cuDeviceGet(CUdevice *device, int ordinal) {
  *device = ordinal;
  return 0;
}

FAKE_API CUresult cuDeviceGetAttribute(int *value, int attribute, CUdevice) {
  switch (attribute) {
  case 75:
    *value = state.computeMajor;
    return 0;
  case 76:
    *value = state.computeMinor;
    return 0;
  case 97:
    *value = state.sharedOptin;
    return 0;
  case 16:
    *value = state.multiprocessors;
    return 0;
  }
  return 1;
}

FAKE_API CUresult cuDevicePrimaryCtxRetain(CUcontext *ctx, CUdevice device) {
  state.retainedDevices.push_back(device);
  *ctx = handle<CUcontext>(0x1000, device);
  return 0;
}

FAKE_API CUresult cuDevicePrimaryCtxRelease_v2(CUdevice device) {
  state.releasedDevices.push_back(device);
  return 0;
}

FAKE_API CUresult cuPointerGetAttribute(void *data, int attribute,
                                        CUdeviceptr) {
  if (state.pointerResult)
    return state.pointerResult;
  if (attribute != 9)
    return 1;
  *static_cast<int *>(data) = state.pointerDevice;
  return 0;
}

FAKE_API CUresult cuModuleLoadData(CUmodule *module, const void *image) {
  if (state.moduleLoadResult)
    return state.moduleLoadResult;
  state.loadedImages.emplace_back(static_cast<const char *>(image));
  *module = handle<CUmodule>(0x2000, state.loadedImages.size());
  return 0;
}

FAKE_API CUresult cuModuleUnload(CUmodule) {
  ++state.moduleUnloads;
  return 0;
}

FAKE_API CUresult cuModuleGetFunction(CUfunction *function, CUmodule,
                                      const char *name) {
  state.functionLookups.emplace_back(name);
  if (state.getFunctionResult)
    return state.getFunctionResult;
  functionNames.emplace_back(name);
  *function = handle<CUfunction>(0x3000, functionNames.size() - 1);
  return 0;
}

static std::string functionName(CUfunction function) {
  size_t index = reinterpret_cast<uintptr_t>(function) - 0x3000;
  return index < functionNames.size() ? functionNames[index] : "?";
}

FAKE_API CUresult cuFuncSetAttribute(CUfunction function, int attribute,
                                     int value) {
  state.attributes.push_back({functionName(function), attribute, value});
  return 0;
}

FAKE_API CUresult cuOccupancyMaxActiveBlocksPerMultiprocessor(
    int *numBlocks, CUfunction function, int blockSize, size_t sharedBytes) {
  state.occupancyQueries.push_back(
      {functionName(function), blockSize, sharedBytes});
  if (state.occupancyResult)
    return state.occupancyResult;
  *numBlocks = state.blocksPerMultiprocessor;
  return 0;
}

FAKE_API CUresult cuLaunchKernel(CUfunction function, unsigned gx, unsigned gy,
                                 unsigned gz, unsigned bx, unsigned by,
                                 unsigned bz, unsigned shared, CUstream stream,
                                 void **params, void **extra) {
  if (state.launchResult)
    return state.launchResult;
  FakeLaunch launch;
  launch.function = functionName(function);
  launch.context = state.currentContext;
  launch.grid[0] = gx, launch.grid[1] = gy, launch.grid[2] = gz;
  launch.block[0] = bx, launch.block[1] = by, launch.block[2] = bz;
  launch.sharedBytes = shared;
  launch.stream = stream;
  for (void **p = params; p && *p; ++p) {
    uint64_t slot;
    std::memcpy(&slot, *p, sizeof(slot));
    launch.params.push_back(slot);
  }
  state.launches.push_back(launch);
  return extra ? 1 : 0;
}

FAKE_API CUresult cuMemAlloc_v2(CUdeviceptr *ptr, size_t bytes) {
  if (state.allocResult)
    return state.allocResult;
  state.allocations.push_back(bytes);
  *ptr = 0x7000000000ull + 0x100000000ull * state.allocations.size();
  state.allocatedAddresses.push_back(*ptr);
  return 0;
}

FAKE_API CUresult cuMemFree_v2(CUdeviceptr ptr) {
  state.frees.push_back(ptr);
  return 0;
}

FAKE_API CUresult cuStreamSynchronize(CUstream stream) {
  state.streamSyncs.push_back(stream);
  return state.streamSyncResult;
}

FAKE_API CUresult cuStreamIsCapturing(CUstream, int *status) {
  *status = state.captureStatus;
  return 0;
}

FAKE_API CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t bytes,
                                       CUstream stream) {
  if (state.copyResult)
    return state.copyResult;
  state.copies.push_back({src, bytes, stream});
  // Device memory a test filled, else zeros.
  for (const auto &[base, contents] : state.memory)
    if (src >= base && src - base + bytes <= contents.size()) {
      std::memcpy(dst, contents.data() + (src - base), bytes);
      return 0;
    }
  std::memset(dst, 0, bytes);
  return 0;
}

// Plain-C views of the records, for the Python tests (ctypes).

FAKE_API void fakeCudaSetMemory(uint64_t address, const char *bytes,
                                uint64_t size) {
  state.memory[address] = std::string(bytes, size);
}

FAKE_API int fakeCudaNumLaunches() {
  return static_cast<int>(state.launches.size());
}

FAKE_API int fakeCudaLaunchParams(int launch, uint64_t *out, int capacity) {
  if (launch < 0 || launch >= static_cast<int>(state.launches.size()))
    return -1;
  const std::vector<uint64_t> &params = state.launches[launch].params;
  for (int i = 0; i < capacity && i < static_cast<int>(params.size()); ++i)
    out[i] = params[i];
  return static_cast<int>(params.size());
}

FAKE_API uint64_t fakeCudaLaunchStream(int launch) {
  if (launch < 0 || launch >= static_cast<int>(state.launches.size()))
    return ~0ull;
  return reinterpret_cast<uintptr_t>(state.launches[launch].stream);
}

FAKE_API uint64_t fakeCudaLaunchGrid(int launch, int dim) {
  if (launch < 0 || launch >= static_cast<int>(state.launches.size()) ||
      dim < 0 || dim > 2)
    return ~0ull;
  return state.launches[launch].grid[dim];
}
