//===- CApiExceptionTest.cpp - No exception crosses the C API ---*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Replaces the global operator new with one that can be told to throw
// std::bad_alloc at its n-th call, then makes every allocation of a load and
// of a launch fail in turn: each must come back as
// ATTUNE_RT_ERROR_OUT_OF_MEMORY (an uncaught exception would abort the
// caller, e.g. Python) and leave the module usable.
//
//===----------------------------------------------------------------------===//

#include "attune_rt.h"

#include "FakeCuda.h"
#include "TestUtil.h"

#include "gtest/gtest.h"

#include <atomic>
#include <cstdlib>
#include <new>

using namespace attune::rt::test;

/// Allocations left before the one that fails; -1: none fails.
static std::atomic<long> allocationsBeforeFailure{-1};

void *operator new(std::size_t size) {
  if (allocationsBeforeFailure.load() >= 0 &&
      allocationsBeforeFailure.fetch_sub(1) == 0)
    throw std::bad_alloc();
  if (void *p = std::malloc(size ? size : 1))
    return p;
  throw std::bad_alloc();
}
// The matching deletes (GCC cannot see that they pair with the new above).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wunknown-warning-option"
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void *p) noexcept { std::free(p); }
void operator delete(void *p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace {

/// Runs `call` with allocation `n` failing, for n = 0, 1, ... until it
/// succeeds; every failure must be ATTUNE_RT_ERROR_OUT_OF_MEMORY. Returns
/// how many failed.
template <typename Call> int failEachAllocation(Call call) {
  for (long n = 0; n < 100000; ++n) {
    allocationsBeforeFailure = n;
    int status = call();
    bool injected = allocationsBeforeFailure.load() < 0;
    allocationsBeforeFailure = -1;
    if (status == ATTUNE_RT_OK) {
      EXPECT_FALSE(injected) << "allocation " << n << " failed unnoticed";
      return static_cast<int>(n);
    }
    EXPECT_EQ(status, ATTUNE_RT_ERROR_OUT_OF_MEMORY)
        << "allocation " << n << ": " << attune_rt_last_error();
    EXPECT_STREQ(attune_rt_last_error(), "out of memory");
  }
  ADD_FAILURE() << "never succeeded";
  return 0;
}

const char *workspaceManifest = R"({
  "format": "attune-cuda", "version": 1, "function": "two", "chip": "sm_80",
  "arguments": [{"name": "x", "dtype": "f32", "shape": ["N", 32]},
                {"name": "ids", "dtype": "i32", "shape": ["N"],
                 "range": [0, 4]}],
  "results": [{"name": "y", "dtype": "f32", "shape": ["N"]}],
  "workspace": [{"name": "partial", "dtype": "f32", "shape": ["N", 4]}],
  "kernels": [
    {"name": "split", "cubin": "split.cubin", "block": [64, 2, 1],
     "grid": [[{"ceildiv": ["N", 16]}], [4], []], "shared_bytes": 65536,
     "params": [{"tensor": "x"}, {"tensor": "ids"}, {"tensor": "partial"}]},
    {"name": "combine", "cubin": "combine.cubin", "block": [32, 1, 1],
     "grid": [["N"], [], []],
     "params": [{"tensor": "partial"}, {"tensor": "y"},
                {"scalar": "i32", "symbol": "N"}]}
  ]
})";

TEST(CApiException, OutOfMemoryIsAStatusNotAnAbort) {
  setenv("ATTUNE_RT_LIBCUDA", ATTUNE_RT_FAKE_CUDA, 1);
  FakeCudaState *fake = fakeCudaState();
  fake->reset();
  fake->currentContext = reinterpret_cast<void *>(0x1000);
  TempDir dir;
  dir.write("manifest.json", workspaceManifest);
  dir.write("split.cubin", "cubin:split");
  dir.write("combine.cubin", "cubin:combine");

  attune_rt_module *module = nullptr;
  int failures = failEachAllocation([&] {
    int status = attune_rt_load(dir.path().c_str(), &module);
    EXPECT_EQ(status == ATTUNE_RT_OK, module != nullptr);
    return status;
  });
  EXPECT_GT(failures, 20);
  ASSERT_NE(module, nullptr);

  Tensor x(0x100000, ATTUNE_RT_F32, {100, 32}),
      ids(0x200000, ATTUNE_RT_I32, {100}), y(0x300000, ATTUNE_RT_F32, {100});
  attune_rt_tensor args[2] = {x.view(), ids.view()}, result = y.view();
  failures = failEachAllocation(
      [&] { return attune_rt_launch(module, args, 2, &result, 1, nullptr); });
  EXPECT_GT(failures, 10);
  // The module is still whole: a launch on another stream, then unload.
  EXPECT_EQ(attune_rt_launch(module, args, 2, &result, 1,
                             reinterpret_cast<void *>(0x42)),
            ATTUNE_RT_OK)
      << attune_rt_last_error();
  int64_t dims[1];
  failures = failEachAllocation(
      [&] { return attune_rt_result_shapes(module, args, 2, dims, 1); });
  EXPECT_EQ(dims[0], 100);
  failures = failEachAllocation(
      [&] { return attune_rt_check(module, args, 2, &result, 1); });
  attune_rt_unload(module);
}

TEST(CApiException, OutOfMemoryWhilePlanningOnTheDevice) {
  // A resident_ctas symbol: the plan is made after the module is loaded.
  setenv("ATTUNE_RT_LIBCUDA", ATTUNE_RT_FAKE_CUDA, 1);
  FakeCudaState *fake = fakeCudaState();
  fake->reset();
  fake->currentContext = reinterpret_cast<void *>(0x1000);
  TempDir dir;
  std::string json = workspaceManifest;
  json.insert(json.find(R"(  "workspace")"),
              R"(  "symbols": [{"name": "ctas", "resident_ctas": "split"},
              {"name": "per", "value": {"ceildiv": ["N", "ctas"]}}],
)");
  json.replace(json.find(R"([4], [])"), 7, R"(["per"], [])");
  dir.write("manifest.json", json);
  dir.write("split.cubin", "cubin:split");
  dir.write("combine.cubin", "cubin:combine");
  attune_rt_module *module = nullptr;
  ASSERT_EQ(attune_rt_load(dir.path().c_str(), &module), ATTUNE_RT_OK)
      << attune_rt_last_error();

  Tensor x(0x100000, ATTUNE_RT_F32, {100, 32}),
      ids(0x200000, ATTUNE_RT_I32, {100}), y(0x300000, ATTUNE_RT_F32, {100});
  attune_rt_tensor args[2] = {x.view(), ids.view()}, result = y.view();
  int failures = failEachAllocation(
      [&] { return attune_rt_launch(module, args, 2, &result, 1, nullptr); });
  EXPECT_GT(failures, 10);
  // Loaded once, whichever allocation failed: 132 x 2 CTAs, so per = 1.
  ASSERT_FALSE(fake->launches.empty());
  EXPECT_EQ(fake->launches.back().grid[1], 1u);
  EXPECT_EQ(fake->moduleUnloads + 2,
            static_cast<int>(fake->loadedImages.size()));
  attune_rt_unload(module);
}

} // namespace
