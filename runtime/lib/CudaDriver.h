//===- CudaDriver.h - The CUDA driver API, loaded at run time ---*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The runtime must build without the CUDA toolkit and load on machines
// without a GPU (CI), so it declares the few driver types and entry points it
// uses and resolves them from libcuda.so.1 with dlopen/dlsym on first use.
// Versioned entry points are looked up by their current names (_v2), which is
// what cuda.h's macros map the plain names to.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_RUNTIME_CUDADRIVER_H
#define ATTUNE_RUNTIME_CUDADRIVER_H

#include "Status.h"

#include <cstddef>
#include <string>

namespace attune::rt::cuda {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr int CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL = 9;
constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
constexpr int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;

/// Dynamic shared memory a kernel may use without opting in.
constexpr unsigned defaultSharedLimit = 48 * 1024;

/// The driver entry points the runtime calls.
struct Driver {
  CUresult (*cuInit)(unsigned flags);
  CUresult (*cuGetErrorName)(CUresult error, const char **str);
  CUresult (*cuGetErrorString)(CUresult error, const char **str);
  CUresult (*cuCtxGetCurrent)(CUcontext *ctx);
  CUresult (*cuCtxSetCurrent)(CUcontext ctx);
  CUresult (*cuCtxGetDevice)(CUdevice *device);
  CUresult (*cuCtxSynchronize)();
  CUresult (*cuDeviceGet)(CUdevice *device, int ordinal);
  CUresult (*cuDeviceGetAttribute)(int *value, int attribute,
                                   CUdevice device);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *ctx, CUdevice device);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice device);
  CUresult (*cuPointerGetAttribute)(void *data, int attribute,
                                    CUdeviceptr ptr);
  CUresult (*cuModuleLoadData)(CUmodule *module, const void *image);
  CUresult (*cuModuleUnload)(CUmodule module);
  CUresult (*cuModuleGetFunction)(CUfunction *function, CUmodule module,
                                  const char *name);
  CUresult (*cuFuncSetAttribute)(CUfunction function, int attribute,
                                 int value);
  CUresult (*cuOccupancyMaxActiveBlocksPerMultiprocessor)(
      int *numBlocks, CUfunction function, int blockSize,
      size_t dynamicSharedBytes);
  CUresult (*cuLaunchKernel)(CUfunction function, unsigned gridX,
                             unsigned gridY, unsigned gridZ, unsigned blockX,
                             unsigned blockY, unsigned blockZ,
                             unsigned sharedBytes, CUstream stream,
                             void **params, void **extra);
  CUresult (*cuMemAlloc)(CUdeviceptr *ptr, size_t bytes);
  CUresult (*cuMemFree)(CUdeviceptr ptr);
  CUresult (*cuStreamSynchronize)(CUstream stream);
  CUresult (*cuMemcpyDtoHAsync)(void *dst, CUdeviceptr src, size_t bytes,
                                CUstream stream);
  /// `status` is a CUstreamCaptureStatus (0: the stream is not capturing).
  CUresult (*cuStreamIsCapturing)(CUstream stream, int *status);

  /// "CUDA_ERROR_NAME: the driver's description".
  std::string describe(CUresult result) const;

  /// OK for CUDA_SUCCESS, otherwise ATTUNE_RT_ERROR_DRIVER with
  /// "<what> failed: <describe(result)>".
  Status check(CUresult result, const std::string &what) const;
};

/// Returns the process-wide driver, loading it and calling cuInit(0) the
/// first time. The library is $ATTUNE_RT_LIBCUDA if set (tests point it at a
/// fake driver), else libcuda.so.1. Fails with ATTUNE_RT_ERROR_DRIVER if the
/// library, an entry point or cuInit fails.
Status getDriver(const Driver *&driver);

} // namespace attune::rt::cuda

#endif // ATTUNE_RUNTIME_CUDADRIVER_H
