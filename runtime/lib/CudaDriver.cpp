//===- CudaDriver.cpp - The CUDA driver API, loaded at run time -*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"

#include <cstdlib>
#include <dlfcn.h>

using namespace attune::rt;
using namespace attune::rt::cuda;

std::string Driver::describe(CUresult result) const {
  const char *name = nullptr, *text = nullptr;
  if (cuGetErrorName(result, &name) != CUDA_SUCCESS || !name)
    name = "unknown CUDA error";
  if (cuGetErrorString(result, &text) != CUDA_SUCCESS || !text)
    text = "no description";
  return cat(name, " (", result, "): ", text);
}

Status Driver::check(CUresult result, const std::string &what) const {
  if (result == CUDA_SUCCESS)
    return Status::ok();
  return Status::error(ATTUNE_RT_ERROR_DRIVER,
                       cat(what, " failed: ", describe(result)));
}

/// Resolves `name` into `fn`; false if the library lacks it.
template <typename Fn>
static bool resolve(void *library, const char *name, Fn &fn) {
  fn = reinterpret_cast<Fn>(dlsym(library, name));
  return fn != nullptr;
}

/// Loads the library and every entry point once.
static Status loadDriver(Driver &d) {
  const char *override = std::getenv("ATTUNE_RT_LIBCUDA");
  const char *path = override && *override ? override : "libcuda.so.1";
  // Never closed: kernels and contexts outlive any one module.
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *reason = dlerror();
    return Status::error(ATTUNE_RT_ERROR_DRIVER,
                         cat("cannot load the CUDA driver '", path, "': ",
                             reason ? reason : "unknown reason",
                             " (is an NVIDIA driver installed?)"));
  }
  const char *missing = nullptr;
#define ATTUNE_RESOLVE(field, symbol)                                          \
  if (!missing && !resolve(library, symbol, d.field))                          \
    missing = symbol;
  ATTUNE_RESOLVE(cuInit, "cuInit")
  ATTUNE_RESOLVE(cuGetErrorName, "cuGetErrorName")
  ATTUNE_RESOLVE(cuGetErrorString, "cuGetErrorString")
  ATTUNE_RESOLVE(cuCtxGetCurrent, "cuCtxGetCurrent")
  ATTUNE_RESOLVE(cuCtxSetCurrent, "cuCtxSetCurrent")
  ATTUNE_RESOLVE(cuCtxGetDevice, "cuCtxGetDevice")
  ATTUNE_RESOLVE(cuCtxSynchronize, "cuCtxSynchronize")
  ATTUNE_RESOLVE(cuDeviceGet, "cuDeviceGet")
  ATTUNE_RESOLVE(cuDeviceGetAttribute, "cuDeviceGetAttribute")
  ATTUNE_RESOLVE(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain")
  ATTUNE_RESOLVE(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2")
  ATTUNE_RESOLVE(cuPointerGetAttribute, "cuPointerGetAttribute")
  ATTUNE_RESOLVE(cuModuleLoadData, "cuModuleLoadData")
  ATTUNE_RESOLVE(cuModuleUnload, "cuModuleUnload")
  ATTUNE_RESOLVE(cuModuleGetFunction, "cuModuleGetFunction")
  ATTUNE_RESOLVE(cuFuncSetAttribute, "cuFuncSetAttribute")
  ATTUNE_RESOLVE(cuOccupancyMaxActiveBlocksPerMultiprocessor,
                 "cuOccupancyMaxActiveBlocksPerMultiprocessor")
  ATTUNE_RESOLVE(cuLaunchKernel, "cuLaunchKernel")
  ATTUNE_RESOLVE(cuMemAlloc, "cuMemAlloc_v2")
  ATTUNE_RESOLVE(cuMemFree, "cuMemFree_v2")
  ATTUNE_RESOLVE(cuStreamSynchronize, "cuStreamSynchronize")
  ATTUNE_RESOLVE(cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2")
  ATTUNE_RESOLVE(cuStreamIsCapturing, "cuStreamIsCapturing")
#undef ATTUNE_RESOLVE
  if (missing)
    return Status::error(ATTUNE_RT_ERROR_DRIVER,
                         cat("the CUDA driver '", path, "' has no entry point ",
                             missing, " (the driver is too old)"));
  return d.check(d.cuInit(0), "cuInit");
}

Status attune::rt::cuda::getDriver(const Driver *&driver) {
  // A function-local static: loaded once, thread-safely; a failure is
  // remembered (retrying dlopen or cuInit would fail the same way).
  static Driver instance;
  static Status loaded = loadDriver(instance);
  driver = loaded.isOk() ? &instance : nullptr;
  return loaded;
}
