//===- FakeCuda.h - A recording stand-in for libcuda ------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// libAttuneRTFakeCuda.so exports the driver entry points the runtime resolves
// and records what it is asked to do, so the tests can run the C API's whole
// launch path (contexts, module loading, shared-memory opt-in, workspace
// caching, the exact cuLaunchKernel arguments, driver errors) on a machine
// without a GPU. The runtime loads it through $ATTUNE_RT_LIBCUDA.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_RUNTIME_TESTS_FAKECUDA_H
#define ATTUNE_RUNTIME_TESTS_FAKECUDA_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

/// One recorded cuLaunchKernel.
struct FakeLaunch {
  std::string function;
  void *context = nullptr;
  unsigned grid[3] = {0, 0, 0};
  unsigned block[3] = {0, 0, 0};
  unsigned sharedBytes = 0;
  void *stream = nullptr;
  /// The first eight bytes behind every kernelParams entry (the runtime
  /// null-terminates the array and keeps each parameter in an 8-byte slot).
  std::vector<uint64_t> params;
};

/// Everything the fake driver records, and knobs to make calls fail.
struct FakeCudaState {
  // Knobs.
  /// What cuCtxGetCurrent reports; cuCtxSetCurrent changes it.
  void *currentContext = nullptr;
  /// Device ordinal cuPointerGetAttribute reports; its result code.
  int pointerDevice = 0;
  int pointerResult = 0;
  int moduleLoadResult = 0;
  int getFunctionResult = 0;
  int launchResult = 0;
  int allocResult = 0;
  int copyResult = 0;
  int streamSyncResult = 0;
  /// What cuStreamIsCapturing reports (1: capturing into a graph).
  int captureStatus = 0;
  /// Device memory cuMemcpyDtoHAsync reads: base address to contents.
  /// Addresses outside every region read as zeros.
  std::map<uint64_t, std::string> memory;
  int computeMajor = 9, computeMinor = 0;
  int sharedOptin = 232448;
  /// CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, and what
  /// cuOccupancyMaxActiveBlocksPerMultiprocessor reports (any kernel) or,
  /// if nonzero, its result code.
  int multiprocessors = 132;
  int blocksPerMultiprocessor = 2;
  int occupancyResult = 0;

  // Records.
  int inits = 0;
  std::vector<int> retainedDevices;
  std::vector<int> releasedDevices;
  std::vector<std::string> loadedImages;
  int moduleUnloads = 0;
  std::vector<std::string> functionLookups;
  /// (function, attribute, value) for every cuFuncSetAttribute.
  struct Attribute {
    std::string function;
    int attribute;
    int value;
  };
  std::vector<Attribute> attributes;
  /// (function, block size, dynamic shared bytes) for every
  /// cuOccupancyMaxActiveBlocksPerMultiprocessor.
  struct Occupancy {
    std::string function;
    int blockSize;
    size_t sharedBytes;
  };
  std::vector<Occupancy> occupancyQueries;
  std::vector<FakeLaunch> launches;
  std::vector<uint64_t> allocations; ///< sizes
  std::vector<uint64_t> allocatedAddresses;
  std::vector<uint64_t> frees;
  std::vector<void *> streamSyncs;
  /// (source, bytes, stream) of every cuMemcpyDtoHAsync.
  struct Copy {
    uint64_t source;
    uint64_t bytes;
    void *stream;
  };
  std::vector<Copy> copies;
  int contextSyncs = 0;

  /// Forget everything (knobs back to their defaults).
  void reset() { *this = FakeCudaState(); }
};

/// The fake driver's state (one per process).
extern "C" FakeCudaState *fakeCudaState();

// For ctypes (the Python tests): fill device memory cuMemcpyDtoHAsync
// reads (see FakeCudaState::memory), the number of launches, the parameters of
// launch `launch` (returns their count, copies at most `capacity`), its
// stream and its grid.
extern "C" void fakeCudaSetMemory(uint64_t address, const char *bytes,
                                  uint64_t size);
extern "C" int fakeCudaNumLaunches();
extern "C" int fakeCudaLaunchParams(int launch, uint64_t *out, int capacity);
extern "C" uint64_t fakeCudaLaunchStream(int launch);
extern "C" uint64_t fakeCudaLaunchGrid(int launch, int dim);

#endif // ATTUNE_RUNTIME_TESTS_FAKECUDA_H
