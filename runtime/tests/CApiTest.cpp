//===- CApiTest.cpp - Tests of the C API against a fake driver --*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Runs attune_rt.h end to end with libAttuneRTFakeCuda.so standing in for
// libcuda.so.1: what reaches cuLaunchKernel, when modules are loaded and
// shared memory opted in, how contexts and workspaces are handled, how driver
// errors read, and that a failed check makes no driver call at all.
//
//===----------------------------------------------------------------------===//

#include "attune_rt.h"

#include "FakeCuda.h"
#include "TestUtil.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <string>
#include <vector>

using namespace attune::rt::test;

namespace {

/// Two kernels, a workspace, a scalar; the second kernel needs no opt-in.
const char *twoKernelManifest = R"({
  "format": "attune-cuda", "version": 1, "function": "two", "chip": "sm_80",
  "arguments": [{"name": "x", "dtype": "f32", "shape": ["N", 32]}],
  "results": [{"name": "y", "dtype": "f32", "shape": ["N"]}],
  "workspace": [{"name": "partial", "dtype": "f32", "shape": ["N", 4]}],
  "kernels": [
    {"name": "split", "cubin": "split.cubin", "block": [64, 2, 1],
     "grid": [[{"ceildiv": ["N", 16]}], [4], []], "shared_bytes": 65536,
     "params": [{"tensor": "x"}, {"tensor": "partial"}]},
    {"name": "combine", "cubin": "combine.cubin", "block": [32, 1, 1],
     "grid": [["N"], [], []], "shared_bytes": 49152,
     "params": [{"tensor": "partial"}, {"tensor": "y"},
                {"scalar": "i32", "symbol": "N"}]}
  ]
})";

/// Split K/V + combine (through a workspace) for Sq <= 16, the normal kernel
/// otherwise; `fwd` is left out with `withFwd` false.
std::string conditionalManifest(bool withFwd = true) {
  std::string json = R"({
  "format": "attune-cuda", "version": 1, "function": "decode", "chip": "sm_80",
  "arguments": [{"name": "q", "dtype": "f16", "shape": ["H", "Sq", 64]},
                {"name": "k", "dtype": "f16", "shape": ["H", "Sk", 64]}],
  "results": [{"name": "o", "dtype": "f16", "shape": ["H", "Sq", 64]}],
  "workspace": [{"name": "partial", "dtype": "f32", "shape": ["H", "Sq", 8, 64]}],
  "kernels": [
    {"name": "split", "cubin": "split.cubin", "block": [128, 1, 1],
     "grid": [[8], ["H"], []], "if": {"le": ["Sq", 16]},
     "params": [{"tensor": "q"}, {"tensor": "k"}, {"tensor": "partial"}]},
    {"name": "combine", "cubin": "combine.cubin", "block": [64, 1, 1],
     "grid": [["Sq"], ["H"], []], "if": {"le": ["Sq", 16]},
     "params": [{"tensor": "partial"}, {"tensor": "o"}]})";
  if (withFwd)
    json += R"(,
    {"name": "fwd", "cubin": "fwd.cubin", "block": [128, 1, 1],
     "grid": [[{"ceildiv": ["Sq", 64]}], ["H"], []], "if": {"gt": ["Sq", 16]},
     "params": [{"tensor": "q"}, {"tensor": "k"}, {"tensor": "o"}]})";
  return json + "]}";
}

class CApiTest : public ::testing::Test {
protected:
  void SetUp() override {
    // The runtime loads the driver once per process, from here.
    setenv("ATTUNE_RT_LIBCUDA", ATTUNE_RT_FAKE_CUDA, 1);
    fake = fakeCudaState();
    fake->reset();
    // A context is current, as under PyTorch.
    fake->currentContext = reinterpret_cast<void *>(0x1000);
  }

  void TearDown() override {
    attune_rt_unload(module);
  }

  /// Loads a module from a directory holding `manifest` and fake cubins.
  void load(const std::string &manifest) {
    dir.write("manifest.json", manifest);
    for (const char *cubin : {"split", "combine", "fwd", "document_mask_fwd"})
      dir.write(std::string(cubin) + ".cubin", std::string("cubin:") + cubin);
    ASSERT_EQ(attune_rt_load(dir.path().c_str(), &module), ATTUNE_RT_OK)
        << attune_rt_last_error();
  }

  /// Launches the two-kernel module with N rows on `stream`.
  int launchTwo(int64_t n, void *stream) {
    Tensor x(0x100000, ATTUNE_RT_F32, {n, 32}), y(0x200000, ATTUNE_RT_F32, {n});
    attune_rt_tensor a = x.view(), r = y.view();
    return attune_rt_launch(module, &a, 1, &r, 1, stream);
  }

  /// Launches conditionalManifest() with H = 4 heads and `sq` queries.
  int launchDecode(int64_t sq) {
    Tensor q(0x100000, ATTUNE_RT_F16, {4, sq, 64}),
        k(0x200000, ATTUNE_RT_F16, {4, 300, 64}),
        o(0x300000, ATTUNE_RT_F16, {4, sq, 64});
    attune_rt_tensor a[2] = {q.view(), k.view()}, r = o.view();
    return attune_rt_launch(module, a, 2, &r, 1, nullptr);
  }

  /// The names of the kernels launched so far, in order.
  std::vector<std::string> launched() const {
    std::vector<std::string> names;
    for (const FakeLaunch &l : fake->launches)
      names.push_back(l.function);
    return names;
  }

  FakeCudaState *fake = nullptr;
  TempDir dir;
  attune_rt_module *module = nullptr;
};

TEST_F(CApiTest, LoadErrorsAreReportedNotCrashes) {
  attune_rt_module *m = reinterpret_cast<attune_rt_module *>(0x1);
  EXPECT_EQ(attune_rt_load("/nonexistent/artifacts", &m), ATTUNE_RT_ERROR_IO);
  EXPECT_EQ(m, nullptr);
  EXPECT_STREQ(attune_rt_last_error(),
               "cannot open artifact directory '/nonexistent/artifacts': No "
               "such file or directory");
  EXPECT_EQ(attune_rt_load(nullptr, &m), ATTUNE_RT_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(attune_rt_load("x", nullptr), ATTUNE_RT_ERROR_INVALID_ARGUMENT);

  dir.write("manifest.json", "{\"format\": \"attune-cuda\", \"version\": 1,");
  EXPECT_EQ(attune_rt_load(dir.path().c_str(), &m), ATTUNE_RT_ERROR_MANIFEST);
  EXPECT_EQ(std::string(attune_rt_last_error()),
            dir.path() + "/manifest.json: invalid JSON: line 1, column 40: "
                         "expected a string key");
  // Null modules are rejected, not dereferenced.
  attune_rt_unload(nullptr);
  EXPECT_EQ(attune_rt_launch(nullptr, nullptr, 0, nullptr, 0, nullptr),
            ATTUNE_RT_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(attune_rt_num_tensors(nullptr, ATTUNE_RT_ARGUMENT), -1);
}

TEST_F(CApiTest, Queries) {
  load(documentMaskManifest());
  EXPECT_STREQ(attune_rt_function(module), "document_mask");
  EXPECT_STREQ(attune_rt_chip(module), "sm_90a");
  EXPECT_EQ(attune_rt_num_tensors(module, ATTUNE_RT_ARGUMENT), 5);
  EXPECT_EQ(attune_rt_num_tensors(module, ATTUNE_RT_RESULT), 2);
  EXPECT_EQ(attune_rt_num_tensors(module, ATTUNE_RT_WORKSPACE), 0);
  EXPECT_EQ(attune_rt_num_tensors(module, 7), -1);
  EXPECT_STREQ(attune_rt_tensor_name(module, ATTUNE_RT_ARGUMENT, 3), "q_doc");
  EXPECT_STREQ(attune_rt_tensor_name(module, ATTUNE_RT_RESULT, 1), "lse");
  EXPECT_EQ(attune_rt_tensor_name(module, ATTUNE_RT_RESULT, 2), nullptr);
  EXPECT_EQ(attune_rt_tensor_dtype(module, ATTUNE_RT_ARGUMENT, 0),
            ATTUNE_RT_BF16);
  EXPECT_EQ(attune_rt_tensor_dtype(module, ATTUNE_RT_RESULT, 1), ATTUNE_RT_F32);
  EXPECT_EQ(attune_rt_tensor_rank(module, ATTUNE_RT_RESULT, 1), 3);
  EXPECT_EQ(attune_rt_tensor_dim(module, ATTUNE_RT_ARGUMENT, 0, 3), 128);
  EXPECT_EQ(attune_rt_tensor_dim(module, ATTUNE_RT_ARGUMENT, 0, 2), -1);
  EXPECT_STREQ(attune_rt_tensor_dim_symbol(module, ATTUNE_RT_ARGUMENT, 0, 2),
               "Sq");
  EXPECT_EQ(attune_rt_tensor_dim_symbol(module, ATTUNE_RT_ARGUMENT, 0, 3),
            nullptr);
  EXPECT_EQ(attune_rt_tensor_dim_symbol(module, ATTUNE_RT_ARGUMENT, 0, 4),
            nullptr);
  double lo = -1, hi = -1;
  EXPECT_EQ(attune_rt_tensor_range(module, ATTUNE_RT_ARGUMENT, 4, &lo, &hi), 1);
  EXPECT_EQ(lo, 0);
  EXPECT_EQ(hi, 4);
  EXPECT_EQ(attune_rt_tensor_range(module, ATTUNE_RT_ARGUMENT, 0, &lo, &hi), 0);
  EXPECT_EQ(attune_rt_tensor_is_scalar(module, ATTUNE_RT_ARGUMENT, 0), 0);
  EXPECT_EQ(attune_rt_result_in_place_of(module, 0), -1);
  EXPECT_EQ(attune_rt_result_in_place_of(module, 2), -1);
  EXPECT_STREQ(attune_rt_dtype_name(ATTUNE_RT_BF16), "bf16");
  EXPECT_EQ(attune_rt_dtype_name(7), nullptr);
  EXPECT_EQ(attune_rt_dtype_size(ATTUNE_RT_I64), 8);
  EXPECT_EQ(attune_rt_dtype_size(ATTUNE_RT_F64), 8);
  EXPECT_STREQ(attune_rt_dtype_name(ATTUNE_RT_F64), "f64");
  EXPECT_EQ(attune_rt_dtype_size(-1), 0);
}

TEST_F(CApiTest, ResultShapes) {
  load(documentMaskManifest());
  DocumentMaskTensors t;
  std::vector<attune_rt_tensor> args = views(t.args);
  int64_t dims[7] = {};
  ASSERT_EQ(attune_rt_result_shapes(module, args.data(), args.size(), dims, 7),
            ATTUNE_RT_OK)
      << attune_rt_last_error();
  EXPECT_EQ(std::vector<int64_t>(dims, dims + 7),
            (std::vector<int64_t>{2, 8, 130, 128, 2, 8, 130}));
  EXPECT_EQ(attune_rt_result_shapes(module, args.data(), args.size(), dims, 6),
            ATTUNE_RT_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attune_rt_last_error(),
               "room for 6 result dimensions, need 7");
  // Argument errors and constraints come first.
  DocumentMaskTensors bad(2, 6, 4);
  args = views(bad.args);
  EXPECT_EQ(attune_rt_result_shapes(module, args.data(), args.size(), dims, 7),
            ATTUNE_RT_ERROR_CONSTRAINT);
  EXPECT_EQ(attune_rt_result_shapes(module, args.data(), 2, dims, 7),
            ATTUNE_RT_ERROR_TENSOR);
  EXPECT_STREQ(attune_rt_last_error(),
               "expected 5 arguments (q, k, v, q_doc, kv_doc) but got 2");
}

TEST_F(CApiTest, ResultSymbolNotFromArguments) {
  load(R"({"format": "attune-cuda", "version": 1, "function": "f",
    "chip": "sm_80",
    "arguments": [{"name": "x", "dtype": "f32", "shape": ["N"]}],
    "results": [{"name": "y", "dtype": "f32", "shape": ["N", "M"]}],
    "kernels": [{"name": "split", "cubin": "split.cubin", "block": [1, 1, 1],
                 "grid": [[], [], []], "params": []}]})");
  Tensor x(0x1000, ATTUNE_RT_F32, {4});
  attune_rt_tensor a = x.view();
  int64_t dims[2];
  EXPECT_EQ(attune_rt_result_shapes(module, &a, 1, dims, 2),
            ATTUNE_RT_ERROR_TENSOR);
  EXPECT_STREQ(attune_rt_last_error(),
               "result 'y' dimension 1 is symbol 'M', which no argument "
               "determines; pass the results explicitly");
}

TEST_F(CApiTest, LaunchPassesExactlyWhatTheManifestSays) {
  load(documentMaskManifest());
  DocumentMaskTensors t;
  std::vector<attune_rt_tensor> args = views(t.args),
                                results = views(t.results);
  void *stream = reinterpret_cast<void *>(0x5555);
  ASSERT_EQ(attune_rt_launch(module, args.data(), args.size(), results.data(),
                             results.size(), stream),
            ATTUNE_RT_OK)
      << attune_rt_last_error();

  EXPECT_EQ(fake->loadedImages,
            (std::vector<std::string>{"cubin:document_mask_fwd"}));
  EXPECT_EQ(fake->functionLookups,
            (std::vector<std::string>{"document_mask_fwd"}));
  // 81920 > 48 KiB: opted in before the launch.
  ASSERT_EQ(fake->attributes.size(), 1u);
  EXPECT_EQ(fake->attributes[0].function, "document_mask_fwd");
  EXPECT_EQ(fake->attributes[0].attribute, 8);
  EXPECT_EQ(fake->attributes[0].value, 81920);
  EXPECT_TRUE(fake->retainedDevices.empty());

  ASSERT_EQ(fake->launches.size(), 1u);
  const FakeLaunch &l = fake->launches[0];
  EXPECT_EQ(l.function, "document_mask_fwd");
  EXPECT_EQ(l.context, reinterpret_cast<void *>(0x1000));
  EXPECT_EQ(std::vector<unsigned>(l.grid, l.grid + 3),
            (std::vector<unsigned>{3, 8, 2}));
  EXPECT_EQ(std::vector<unsigned>(l.block, l.block + 3),
            (std::vector<unsigned>{128, 1, 1}));
  EXPECT_EQ(l.sharedBytes, 81920u);
  EXPECT_EQ(l.stream, stream);
  std::vector<uint64_t> expected;
  auto memref = [&](uint64_t ptr, std::vector<uint64_t> sizes) {
    expected.insert(expected.end(), {ptr, ptr, 0});
    expected.insert(expected.end(), sizes.begin(), sizes.end());
    std::vector<uint64_t> strides(sizes.size(), 1);
    for (size_t d = sizes.size(); d-- > 1;)
      strides[d - 1] = strides[d] * sizes[d];
    expected.insert(expected.end(), strides.begin(), strides.end());
  };
  memref(0x10000, {2, 8, 130, 128});
  memref(0x20000, {2, 2, 77, 128});
  memref(0x30000, {2, 2, 77, 128});
  memref(0x40000, {2, 130});
  memref(0x50000, {2, 77});
  memref(0x60000, {2, 8, 130, 128});
  memref(0x70000, {2, 8, 130});
  EXPECT_EQ(l.params, expected);
  EXPECT_EQ(l.params.size(), 4u * 11 + 2 * 7 + 9);

  // A second launch reuses the loaded module.
  ASSERT_EQ(attune_rt_launch(module, args.data(), args.size(), results.data(),
                             results.size(), stream),
            ATTUNE_RT_OK);
  EXPECT_EQ(fake->loadedImages.size(), 1u);
  EXPECT_EQ(fake->attributes.size(), 1u);
  EXPECT_EQ(fake->launches.size(), 2u);
}

TEST_F(CApiTest, FailedChecksMakeNoDriverCall) {
  load(documentMaskManifest());
  DocumentMaskTensors t;
  t.args[1] = Tensor(0x20000, ATTUNE_RT_BF16, {2, 2, 64, 128}); // Sk != v's
  std::vector<attune_rt_tensor> args = views(t.args),
                                results = views(t.results);
  EXPECT_EQ(attune_rt_launch(module, args.data(), args.size(), results.data(),
                             results.size(), nullptr),
            ATTUNE_RT_ERROR_TENSOR);
  EXPECT_STREQ(attune_rt_last_error(),
               "argument 'v' dimension 2 is 77 but symbol 'Sk' is 64 (from "
               "argument 'k' dimension 2)");
  EXPECT_EQ(attune_rt_check(module, args.data(), args.size(), results.data(),
                            results.size()),
            ATTUNE_RT_ERROR_TENSOR);
  EXPECT_TRUE(fake->loadedImages.empty());
  EXPECT_TRUE(fake->launches.empty());
  EXPECT_TRUE(fake->allocations.empty());
}

TEST_F(CApiTest, KernelsInOrderWithCachedWorkspace) {
  load(twoKernelManifest);
  void *s1 = reinterpret_cast<void *>(0x51), *s2 = reinterpret_cast<void *>(0x52);
  ASSERT_EQ(launchTwo(100, s1), ATTUNE_RT_OK) << attune_rt_last_error();
  ASSERT_EQ(fake->launches.size(), 2u);
  EXPECT_EQ(fake->launches[0].function, "split");
  EXPECT_EQ(fake->launches[1].function, "combine");
  EXPECT_EQ(fake->loadedImages,
            (std::vector<std::string>{"cubin:split", "cubin:combine"}));
  // Only the kernel above 48 KiB opts in.
  ASSERT_EQ(fake->attributes.size(), 1u);
  EXPECT_EQ(fake->attributes[0].function, "split");
  EXPECT_EQ(fake->attributes[0].value, 65536);
  // 100 * 4 floats, rounded up to 256 bytes.
  ASSERT_EQ(fake->allocations, (std::vector<uint64_t>{1792}));
  uint64_t ws = fake->allocatedAddresses[0];
  EXPECT_EQ(fake->launches[0].params,
            (std::vector<uint64_t>{0x100000, 0x100000, 0, 100, 32, 32, 1, ws,
                                   ws, 0, 100, 4, 4, 1}));
  EXPECT_EQ(fake->launches[1].params,
            (std::vector<uint64_t>{ws, ws, 0, 100, 4, 4, 1, 0x200000,
                                   0x200000, 0, 100, 1, 100}));
  EXPECT_EQ(std::vector<unsigned>(fake->launches[0].grid,
                                  fake->launches[0].grid + 3),
            (std::vector<unsigned>{7, 4, 1}));
  EXPECT_EQ(fake->launches[1].grid[0], 100u);

  // Same stream, smaller: reused. Another stream: its own buffer.
  ASSERT_EQ(launchTwo(50, s1), ATTUNE_RT_OK);
  EXPECT_EQ(fake->allocations.size(), 1u);
  ASSERT_EQ(launchTwo(50, s2), ATTUNE_RT_OK);
  EXPECT_EQ(fake->allocations.size(), 2u);
  EXPECT_TRUE(fake->streamSyncs.empty());
  // Same stream, larger: wait for the stream, free, allocate.
  ASSERT_EQ(launchTwo(1000, s1), ATTUNE_RT_OK);
  EXPECT_EQ(fake->streamSyncs, (std::vector<void *>{s1}));
  EXPECT_EQ(fake->frees, (std::vector<uint64_t>{ws}));
  EXPECT_EQ(fake->allocations.back(), 16128u);
  EXPECT_EQ(fake->launches.back().params.back(), 1000u);

  // Unloading synchronizes the context, frees both buffers, unloads both
  // modules.
  attune_rt_unload(module);
  module = nullptr;
  EXPECT_EQ(fake->contextSyncs, 1);
  EXPECT_EQ(fake->frees.size(), 3u);
  EXPECT_EQ(fake->moduleUnloads, 2);
}

TEST_F(CApiTest, EmptyGridsLaunchNothing) {
  load(twoKernelManifest);
  ASSERT_EQ(launchTwo(0, nullptr), ATTUNE_RT_OK) << attune_rt_last_error();
  EXPECT_TRUE(fake->launches.empty());
  EXPECT_TRUE(fake->loadedImages.empty());
}

TEST_F(CApiTest, WithoutContextRetainsThePrimaryContextOfTheTensorsDevice) {
  load(twoKernelManifest);
  fake->currentContext = nullptr;
  fake->pointerDevice = 1;
  ASSERT_EQ(launchTwo(10, nullptr), ATTUNE_RT_OK) << attune_rt_last_error();
  EXPECT_EQ(fake->retainedDevices, (std::vector<int>{1}));
  EXPECT_EQ(fake->currentContext, reinterpret_cast<void *>(0x1001));
  EXPECT_EQ(fake->launches.at(0).context, reinterpret_cast<void *>(0x1001));
  // Retained once per module, released on unload.
  fake->currentContext = nullptr;
  ASSERT_EQ(launchTwo(10, nullptr), ATTUNE_RT_OK);
  EXPECT_EQ(fake->retainedDevices.size(), 1u);
  EXPECT_EQ(fake->loadedImages.size(), 2u);
  attune_rt_unload(module);
  module = nullptr;
  EXPECT_EQ(fake->releasedDevices, (std::vector<int>{1}));

  // A pointer the driver does not know.
  load(twoKernelManifest);
  fake->currentContext = nullptr;
  fake->pointerResult = 1;
  EXPECT_EQ(launchTwo(10, nullptr), ATTUNE_RT_ERROR_DRIVER);
  EXPECT_STREQ(attune_rt_last_error(),
               "no CUDA context is current; finding the device of argument "
               "'x' (is it a device pointer?): cuPointerGetAttribute failed: "
               "CUDA_ERROR_INVALID_VALUE (1): invalid argument");
}

TEST_F(CApiTest, DriverErrorsCarryTheDriversText) {
  load(documentMaskManifest());
  DocumentMaskTensors t;
  std::vector<attune_rt_tensor> args = views(t.args),
                                results = views(t.results);
  auto launch = [&] {
    return attune_rt_launch(module, args.data(), args.size(), results.data(),
                            results.size(), nullptr);
  };

  fake->computeMajor = 8;
  fake->moduleLoadResult = 209;
  EXPECT_EQ(launch(), ATTUNE_RT_ERROR_DRIVER);
  EXPECT_STREQ(attune_rt_last_error(),
               "loading 'document_mask_fwd.cubin' (compiled for sm_90a) on "
               "device 0 (sm_80): cuModuleLoadData failed: "
               "CUDA_ERROR_NO_BINARY_FOR_GPU (209): no kernel image is "
               "available for execution on the device");
  EXPECT_TRUE(fake->launches.empty());

  fake->moduleLoadResult = 0;
  fake->getFunctionResult = 500;
  EXPECT_EQ(launch(), ATTUNE_RT_ERROR_DRIVER);
  EXPECT_STREQ(attune_rt_last_error(),
               "finding kernel 'document_mask_fwd' in "
               "'document_mask_fwd.cubin': cuModuleGetFunction failed: "
               "CUDA_ERROR_NOT_FOUND (500): named symbol not found");
  EXPECT_EQ(fake->moduleUnloads, 1);

  fake->getFunctionResult = 0;
  fake->sharedOptin = 65536;
  EXPECT_EQ(launch(), ATTUNE_RT_ERROR_UNSUPPORTED);
  EXPECT_STREQ(attune_rt_last_error(),
               "kernel 'document_mask_fwd' needs 81920 bytes of shared memory "
               "per block but device 0 (sm_80) allows at most 65536 (compiled "
               "for sm_90a)");

  fake->sharedOptin = 232448;
  fake->launchResult = 1;
  EXPECT_EQ(launch(), ATTUNE_RT_ERROR_DRIVER);
  EXPECT_STREQ(attune_rt_last_error(),
               "launching kernel 'document_mask_fwd' (grid [3, 8, 2], block "
               "[128, 1, 1], 81920 bytes of shared memory, 67 parameters): "
               "cuLaunchKernel failed: CUDA_ERROR_INVALID_VALUE (1): invalid "
               "argument");

  fake->launchResult = 0;
  EXPECT_EQ(launch(), ATTUNE_RT_OK) << attune_rt_last_error();
}

TEST_F(CApiTest, WorkspaceAllocationFailure) {
  load(twoKernelManifest);
  fake->allocResult = 2;
  EXPECT_EQ(launchTwo(100, nullptr), ATTUNE_RT_ERROR_DRIVER);
  EXPECT_STREQ(attune_rt_last_error(),
               "allocating 1792 bytes for workspace 'partial': cuMemAlloc "
               "failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory");
  EXPECT_TRUE(fake->launches.empty());
  fake->allocResult = 0;
  EXPECT_EQ(launchTwo(100, nullptr), ATTUNE_RT_OK);
}

TEST_F(CApiTest, ConditionsSelectTheKernelsLaunched) {
  load(conditionalManifest());
  // Sq = 100 > 16: the normal kernel only, and no workspace (only the split
  // path names it). Every kernel is loaded on the first launch all the same.
  ASSERT_EQ(launchDecode(100), ATTUNE_RT_OK) << attune_rt_last_error();
  EXPECT_EQ(launched(), (std::vector<std::string>{"fwd"}));
  EXPECT_EQ(fake->functionLookups,
            (std::vector<std::string>{"split", "combine", "fwd"}));
  EXPECT_TRUE(fake->allocations.empty());
  EXPECT_EQ(std::vector<unsigned>(fake->launches[0].grid,
                                  fake->launches[0].grid + 3),
            (std::vector<unsigned>{2, 4, 1}));
  EXPECT_EQ(fake->launches[0].params,
            (std::vector<uint64_t>{0x100000, 0x100000, 0, 4, 100, 64, 6400,
                                   64, 1, 0x200000, 0x200000, 0, 4, 300, 64,
                                   19200, 64, 1, 0x300000, 0x300000, 0, 4,
                                   100, 64, 6400, 64, 1}));

  // Sq = 8 and the boundary 16: split then combine, sharing `partial`.
  fake->launches.clear();
  ASSERT_EQ(launchDecode(8), ATTUNE_RT_OK) << attune_rt_last_error();
  EXPECT_EQ(launched(), (std::vector<std::string>{"split", "combine"}));
  // 4 * 8 * 8 * 64 floats.
  ASSERT_EQ(fake->allocations, (std::vector<uint64_t>{65536}));
  uint64_t ws = fake->allocatedAddresses[0];
  EXPECT_EQ(fake->launches[0].params.at(18), ws);
  EXPECT_EQ(fake->launches[1].params.at(0), ws);
  EXPECT_EQ(fake->launches[1].grid[0], 8u);
  fake->launches.clear();
  ASSERT_EQ(launchDecode(16), ATTUNE_RT_OK) << attune_rt_last_error();
  EXPECT_EQ(launched(), (std::vector<std::string>{"split", "combine"}));
  EXPECT_EQ(fake->launches[1].grid[0], 16u);
  EXPECT_EQ(fake->allocations.back(), 131072u);

  // Sq = 17: the normal kernel again; the cached workspace is left alone.
  fake->launches.clear();
  size_t allocations = fake->allocations.size();
  ASSERT_EQ(launchDecode(17), ATTUNE_RT_OK) << attune_rt_last_error();
  EXPECT_EQ(launched(), (std::vector<std::string>{"fwd"}));
  EXPECT_EQ(fake->allocations.size(), allocations);
  EXPECT_EQ(fake->loadedImages.size(), 3u);
}

TEST_F(CApiTest, NoConditionHoldsMakesNoDriverCall) {
  load(conditionalManifest(/*withFwd=*/false));
  EXPECT_EQ(launchDecode(17), ATTUNE_RT_ERROR_UNSUPPORTED);
  EXPECT_STREQ(attune_rt_last_error(),
               "no kernel's condition holds for these shapes, so nothing "
               "would compute the results (kernel 'split' runs if Sq <= 16 "
               "(Sq = 17); kernel 'combine' runs if Sq <= 16 (Sq = 17))");
  EXPECT_TRUE(fake->loadedImages.empty());
  EXPECT_TRUE(fake->launches.empty());
  EXPECT_TRUE(fake->allocations.empty());
  ASSERT_EQ(launchDecode(1), ATTUNE_RT_OK) << attune_rt_last_error();
  EXPECT_EQ(launched(), (std::vector<std::string>{"split", "combine"}));
}

/// A merge of two halves through a workspace sized by derived symbols and
/// seen by `merge` through a view.
const char *derivedManifest = R"({
  "format": "attune-cuda", "version": 1, "function": "merge", "chip": "sm_80",
  "arguments": [{"name": "x", "dtype": "f32", "shape": ["B", "S", 8]}],
  "results": [{"name": "y", "dtype": "f32", "shape": ["B", "S", 8]}],
  "symbols": [{"name": "s0", "value": {"mul": ["S", 4]}},
              {"name": "half", "value": {"sub": [{"floordiv": ["S", 2]}, 1]}}],
  "workspace": [{"name": "partial", "dtype": "f32", "shape": ["B", "s0"]}],
  "kernels": [
    {"name": "split", "cubin": "split.cubin", "block": [32, 1, 1],
     "grid": [["half"], ["B"], []], "if": {"gt": ["half", 0]},
     "params": [{"tensor": "x"}, {"tensor": "partial"}]},
    {"name": "combine", "cubin": "combine.cubin", "block": [32, 1, 1],
     "grid": [[{"ceildiv": ["s0", 64]}], [], []],
     "params": [{"tensor": "partial", "shape": ["B", "S", 4]},
                {"tensor": "y", "shape": ["s0", 4]},
                {"scalar": "i64", "symbol": "half"}]}
  ]
})";

TEST_F(CApiTest, DerivedSymbolsSizeWorkspacesAndViewsReachTheKernel) {
  load(derivedManifest);
  EXPECT_STREQ(attune_rt_tensor_dim_symbol(module, ATTUNE_RT_WORKSPACE, 0, 1),
               "s0");
  auto launchMerge = [&](int64_t b, int64_t s) {
    Tensor x(0x100000, ATTUNE_RT_F32, {b, s, 8}),
        y(0x200000, ATTUNE_RT_F32, {b, s, 8});
    attune_rt_tensor a = x.view(), r = y.view();
    return attune_rt_launch(module, &a, 1, &r, 1, nullptr);
  };
  // B = 2, S = 10: s0 = 40, half = 4.
  ASSERT_EQ(launchMerge(2, 10), ATTUNE_RT_OK) << attune_rt_last_error();
  EXPECT_EQ(launched(), (std::vector<std::string>{"split", "combine"}));
  // 2 * 40 floats, rounded up to 256 bytes.
  ASSERT_EQ(fake->allocations, (std::vector<uint64_t>{512}));
  uint64_t ws = fake->allocatedAddresses[0];
  EXPECT_EQ(
      std::vector<unsigned>(fake->launches[0].grid, fake->launches[0].grid + 3),
      (std::vector<unsigned>{4, 2, 1}));
  EXPECT_EQ(fake->launches[0].params,
            (std::vector<uint64_t>{0x100000, 0x100000, 0, 2, 10, 8, 80, 8, 1,
                                   ws, ws, 0, 2, 40, 40, 1}));
  EXPECT_EQ(fake->launches[1].grid[0], 1u);
  EXPECT_EQ(
      fake->launches[1].params,
      (std::vector<uint64_t>{ws, ws, 0, 2, 10, 4, 40, 4, 1,      // [B, S, 4]
                             0x200000, 0x200000, 0, 40, 4, 4, 1, // [s0, 4]
                             4}));

  // S = 2: half = 0, so `split` is skipped.
  fake->launches.clear();
  ASSERT_EQ(launchMerge(2, 2), ATTUNE_RT_OK) << attune_rt_last_error();
  EXPECT_EQ(launched(), (std::vector<std::string>{"combine"}));

  // S = 1: half = -1; B = 3, S = 10: y as [s0, 4] has 160 elements of 240.
  // Neither makes a driver call.
  fake->reset();
  fake->currentContext = reinterpret_cast<void *>(0x1000);
  EXPECT_EQ(launchMerge(2, 1), ATTUNE_RT_ERROR_TENSOR);
  EXPECT_STREQ(attune_rt_last_error(),
               "derived symbol 'half' = floordiv(S, 2) - 1 is -1 for S = 1, "
               "but a symbol cannot be negative (these shapes do not suit the "
               "artifact)");
  EXPECT_EQ(launchMerge(3, 10), ATTUNE_RT_ERROR_TENSOR);
  EXPECT_STREQ(attune_rt_last_error(),
               "kernel 'combine' parameter 1 views result 'y' [B, S, 8] = [3, "
               "10, 8] (240 elements) as [s0, 4] = [40, 4] (160 elements), but "
               "a view must have as many elements as its buffer");
  EXPECT_TRUE(fake->launches.empty());
  EXPECT_TRUE(fake->allocations.empty());
  EXPECT_TRUE(fake->loadedImages.empty());

  // attune_rt_check and attune_rt_result_shapes evaluate them too.
  Tensor x(0x100000, ATTUNE_RT_F32, {2, 1, 8}),
      y(0x200000, ATTUNE_RT_F32, {2, 1, 8});
  attune_rt_tensor a = x.view(), r = y.view();
  EXPECT_EQ(attune_rt_check(module, &a, 1, &r, 1), ATTUNE_RT_ERROR_TENSOR);
  int64_t dims[3];
  EXPECT_EQ(attune_rt_result_shapes(module, &a, 1, dims, 3),
            ATTUNE_RT_ERROR_TENSOR);
  x = Tensor(0x100000, ATTUNE_RT_F32, {2, 6, 8});
  a = x.view();
  ASSERT_EQ(attune_rt_result_shapes(module, &a, 1, dims, 3), ATTUNE_RT_OK)
      << attune_rt_last_error();
  EXPECT_EQ(std::vector<int64_t>(dims, dims + 3),
            (std::vector<int64_t>{2, 6, 8}));
}

/// The grid of launch `i`.
std::vector<unsigned> gridOf(const FakeCudaState &fake, size_t i) {
  const FakeLaunch &l = fake.launches.at(i);
  return std::vector<unsigned>(l.grid, l.grid + 3);
}

TEST_F(CApiTest, ResidentCTAsFollowTheDevice) {
  load(residentManifest());
  fake->multiprocessors = 132;
  fake->blocksPerMultiprocessor = 2;
  auto launchDecode = [&](int64_t b, int64_t sk, int32_t dtype) {
    Tensor q(0x100000, dtype, {b, 64}), k(0x200000, ATTUNE_RT_F16, {b, sk, 64}),
        o(0x300000, ATTUNE_RT_F16, {b, 64});
    attune_rt_tensor a[2] = {q.view(), k.view()}, r = o.view();
    return attune_rt_launch(module, a, 2, &r, 1, nullptr);
  };
  // A tensor error still comes before any driver call.
  EXPECT_EQ(launchDecode(4, 8192, ATTUNE_RT_F32), ATTUNE_RT_ERROR_TENSOR);
  EXPECT_STREQ(attune_rt_last_error(),
               "argument 'q' has dtype f32 but the manifest expects f16");
  EXPECT_TRUE(fake->loadedImages.empty());
  EXPECT_TRUE(fake->occupancyQueries.empty());

  // 132 multiprocessors x 2 CTAs = 264 for B = 4: 66 splits.
  ASSERT_EQ(launchDecode(4, 8192, ATTUNE_RT_F16), ATTUNE_RT_OK)
      << attune_rt_last_error();
  ASSERT_EQ(fake->occupancyQueries.size(), 1u);
  EXPECT_EQ(fake->occupancyQueries[0].function, "split");
  EXPECT_EQ(fake->occupancyQueries[0].blockSize, 256);
  EXPECT_EQ(fake->occupancyQueries[0].sharedBytes, 2048u);
  ASSERT_EQ(fake->launches.size(), 2u);
  EXPECT_EQ(gridOf(*fake, 0), (std::vector<unsigned>{66, 4, 1}));
  EXPECT_EQ(fake->launches[0].params.back(), 66u);
  EXPECT_EQ(fake->allocations, (std::vector<uint64_t>{4 * 4 * 66 * 64}));

  // Once per context: the same device is not asked again.
  fake->launches.clear();
  fake->multiprocessors = 10;
  ASSERT_EQ(launchDecode(8, 8192, ATTUNE_RT_F16), ATTUNE_RT_OK)
      << attune_rt_last_error();
  EXPECT_EQ(fake->occupancyQueries.size(), 1u);
  EXPECT_EQ(gridOf(*fake, 0), (std::vector<unsigned>{33, 8, 1}));

  // Another device (10 x 3 = 30 CTAs): 7 splits for B = 4.
  fake->launches.clear();
  fake->blocksPerMultiprocessor = 3;
  fake->currentContext = reinterpret_cast<void *>(0x1001);
  ASSERT_EQ(launchDecode(4, 8192, ATTUNE_RT_F16), ATTUNE_RT_OK)
      << attune_rt_last_error();
  EXPECT_EQ(fake->occupancyQueries.size(), 2u);
  EXPECT_EQ(gridOf(*fake, 0), (std::vector<unsigned>{7, 4, 1}));

  // A kernel that fits no multiprocessor still counts 1.
  attune_rt_unload(module);
  module = nullptr;
  fake->reset();
  fake->currentContext = reinterpret_cast<void *>(0x1000);
  fake->blocksPerMultiprocessor = 0;
  load(residentManifest());
  ASSERT_EQ(launchDecode(4, 8192, ATTUNE_RT_F16), ATTUNE_RT_OK)
      << attune_rt_last_error();
  EXPECT_EQ(gridOf(*fake, 0), (std::vector<unsigned>{1, 4, 1}));
}

TEST_F(CApiTest, ResidentCTAsWithoutADeviceAreOne) {
  // attune_rt_check and attune_rt_result_shapes have no device: ctas = 1,
  // so `per_cta` divides by 0 there, but not at a launch.
  load(residentManifest(R"(,
              {"name": "per_cta", "value": {"ceildiv": ["Sk", {"sub": ["ctas", 1]}]}})"));
  Tensor q(0x100000, ATTUNE_RT_F16, {4, 64}),
      k(0x200000, ATTUNE_RT_F16, {4, 100, 64}),
      o(0x300000, ATTUNE_RT_F16, {4, 64});
  attune_rt_tensor a[2] = {q.view(), k.view()}, r = o.view();
  const char *message =
      "derived symbol 'per_cta' = ceildiv(Sk, ctas - 1) divides by ctas - 1 "
      "= 0 for Sk = 100, ctas = 1, but a divisor must be at least 1 (these "
      "shapes do not suit the artifact)";
  EXPECT_EQ(attune_rt_check(module, a, 2, &r, 1), ATTUNE_RT_ERROR_TENSOR);
  EXPECT_STREQ(attune_rt_last_error(), message);
  int64_t dims[2];
  EXPECT_EQ(attune_rt_result_shapes(module, a, 2, dims, 2),
            ATTUNE_RT_ERROR_TENSOR);
  EXPECT_STREQ(attune_rt_last_error(), message);
  EXPECT_TRUE(fake->loadedImages.empty());
  ASSERT_EQ(attune_rt_launch(module, a, 2, &r, 1, nullptr), ATTUNE_RT_OK)
      << attune_rt_last_error();
  // 264 CTAs for B = 4, at most ceildiv(100, 64) = 2 splits.
  EXPECT_EQ(gridOf(*fake, 0), (std::vector<unsigned>{2, 4, 1}));

  // Without per_cta both pass: splits = max(floordiv(1, 4), 1) = 1.
  attune_rt_unload(module);
  module = nullptr;
  load(residentManifest());
  EXPECT_EQ(attune_rt_check(module, a, 2, &r, 1), ATTUNE_RT_OK)
      << attune_rt_last_error();
  ASSERT_EQ(attune_rt_result_shapes(module, a, 2, dims, 2), ATTUNE_RT_OK);
  EXPECT_EQ(std::vector<int64_t>(dims, dims + 2),
            (std::vector<int64_t>{4, 64}));
}

TEST_F(CApiTest, ResidentCTAsErrorsAfterLoading) {
  load(residentManifest());
  auto launchDecode = [&](int64_t b) {
    Tensor q(b ? 0x100000 : 0, ATTUNE_RT_F16, {b, 64}),
        k(0x200000, ATTUNE_RT_F16, {b, 100, 64}),
        o(b ? 0x300000 : 0, ATTUNE_RT_F16, {b, 64});
    attune_rt_tensor a[2] = {q.view(), k.view()}, r = o.view();
    return attune_rt_launch(module, a, 2, &r, 1, nullptr);
  };
  // The occupancy query fails: the modules loaded are unloaded.
  fake->occupancyResult = 500;
  EXPECT_EQ(launchDecode(4), ATTUNE_RT_ERROR_DRIVER);
  EXPECT_STREQ(attune_rt_last_error(),
               "computing symbol 'ctas' (the resident CTAs of kernel "
               "'split'): cuOccupancyMaxActiveBlocksPerMultiprocessor failed: "
               "CUDA_ERROR_NOT_FOUND (500): named symbol not found");
  EXPECT_EQ(fake->moduleUnloads, 2);
  EXPECT_TRUE(fake->launches.empty());

  // B = 0: floordiv(ctas, B) divides by 0, found once the device's count is
  // known (the module is loaded by then), and nothing is launched.
  fake->occupancyResult = 0;
  EXPECT_EQ(launchDecode(0), ATTUNE_RT_ERROR_TENSOR);
  EXPECT_STREQ(attune_rt_last_error(),
               "derived symbol 'splits' = max(min(floordiv(ctas, B), "
               "ceildiv(Sk, 64)), 1) divides by B = 0 for ctas = 264, B = 0, "
               "Sk = 100, but a divisor must be at least 1 (these shapes do "
               "not suit the artifact)");
  EXPECT_EQ(fake->loadedImages.size(), 4u);
  EXPECT_TRUE(fake->launches.empty());
  EXPECT_TRUE(fake->allocations.empty());
}

TEST_F(CApiTest, MalformedConditionIsALoadError) {
  std::string json = conditionalManifest();
  size_t at = json.find(R"("le")");
  json.replace(at, 4, R"("ne")");
  dir.write("manifest.json", json);
  attune_rt_module *m = nullptr;
  EXPECT_EQ(attune_rt_load(dir.path().c_str(), &m), ATTUNE_RT_ERROR_MANIFEST);
  EXPECT_EQ(m, nullptr);
  EXPECT_EQ(std::string(attune_rt_last_error()),
            dir.path() + "/manifest.json: kernels[0].if: unknown comparison "
                         "\"ne\" (this runtime knows \"lt\", \"le\", "
                         "\"gt\", \"ge\" and \"eq\")");
}

} // namespace

namespace {

/// `values` as the bytes of i32 device memory.
std::string int32Bytes(const std::vector<int32_t> &values) {
  return std::string(reinterpret_cast<const char *>(values.data()),
                     values.size() * sizeof(int32_t));
}

// Integer captures index memory in the kernels: an id outside the declared
// range used to be launched on and read wild memory.
TEST_F(CApiTest, CaptureRangesAreCheckedBeforeLaunching) {
  load(documentMaskManifest());
  EXPECT_EQ(attune_rt_capture_checks(module), 1);
  DocumentMaskTensors t; // q_doc [2, 130] at 0x40000, kv_doc [2, 77]
  std::vector<int32_t> qDoc(260, 3);
  qDoc[135] = 9;
  fake->memory[0x40000] = int32Bytes(qDoc);
  std::vector<attune_rt_tensor> args = views(t.args),
                                results = views(t.results);
  void *stream = reinterpret_cast<void *>(0x5555);
  EXPECT_EQ(attune_rt_launch(module, args.data(), args.size(), results.data(),
                             results.size(), stream),
            ATTUNE_RT_ERROR_CAPTURE_RANGE);
  EXPECT_STREQ(attune_rt_last_error(),
               "argument 'q_doc' element [1, 5] is 9, outside its range "
               "[0, 4) (a capture's values are checked before every launch; "
               "see attune_rt_set_capture_checks)");
  EXPECT_TRUE(fake->launches.empty());
  // Both captures copied on the launch stream, then one synchronization.
  ASSERT_EQ(fake->copies.size(), 2u);
  EXPECT_EQ(fake->copies[0].source, 0x40000u);
  EXPECT_EQ(fake->copies[0].bytes, 260u * 4);
  EXPECT_EQ(fake->copies[0].stream, stream);
  EXPECT_EQ(fake->copies[1].source, 0x50000u);
  EXPECT_EQ(fake->copies[1].bytes, 154u * 4);
  EXPECT_EQ(fake->streamSyncs, std::vector<void *>{stream});
  // attune_rt_check reads no device memory.
  EXPECT_EQ(attune_rt_check(module, args.data(), args.size(), results.data(),
                            results.size()),
            ATTUNE_RT_OK);

  std::vector<int32_t> kvDoc(154, 0);
  kvDoc[153] = -1;
  fake->memory[0x50000] = int32Bytes(kvDoc);
  qDoc[135] = 3;
  fake->memory[0x40000] = int32Bytes(qDoc);
  EXPECT_EQ(attune_rt_launch(module, args.data(), args.size(), results.data(),
                             results.size(), stream),
            ATTUNE_RT_ERROR_CAPTURE_RANGE);
  EXPECT_NE(std::string(attune_rt_last_error())
                .find("argument 'kv_doc' element [1, 76] is -1, outside its "
                      "range [0, 4)"),
            std::string::npos)
      << attune_rt_last_error();

  kvDoc[153] = 3;
  fake->memory[0x50000] = int32Bytes(kvDoc);
  EXPECT_EQ(attune_rt_launch(module, args.data(), args.size(), results.data(),
                             results.size(), stream),
            ATTUNE_RT_OK)
      << attune_rt_last_error();
  EXPECT_EQ(fake->launches.size(), 1u);

  // A failed copy is a driver error, and nothing is launched.
  fake->copyResult = 1;
  EXPECT_EQ(attune_rt_launch(module, args.data(), args.size(), results.data(),
                             results.size(), stream),
            ATTUNE_RT_ERROR_DRIVER);
  EXPECT_STREQ(attune_rt_last_error(),
               "copying argument 'q_doc' to check its range: "
               "cuMemcpyDtoHAsync failed: CUDA_ERROR_INVALID_VALUE (1): "
               "invalid argument");
  EXPECT_EQ(fake->launches.size(), 1u);

  // Under CUDA graph capture the check cannot synchronize: an error that
  // says how to launch, before any copy.
  fake->copyResult = 0;
  fake->captureStatus = 1;
  size_t copies = fake->copies.size();
  EXPECT_EQ(attune_rt_launch(module, args.data(), args.size(), results.data(),
                             results.size(), stream),
            ATTUNE_RT_ERROR_UNSUPPORTED);
  EXPECT_STREQ(attune_rt_last_error(),
               "the stream is being captured into a CUDA graph, and checking "
               "the captures' ranges needs a stream synchronization; turn the "
               "checks off for graph capture "
               "(attune_rt_set_capture_checks(module, 0))");
  EXPECT_EQ(fake->copies.size(), copies);
  EXPECT_EQ(attune_rt_set_capture_checks(module, 0), ATTUNE_RT_OK);
  EXPECT_EQ(attune_rt_launch(module, args.data(), args.size(), results.data(),
                             results.size(), stream),
            ATTUNE_RT_OK);
  EXPECT_EQ(fake->launches.size(), 2u);
}

TEST_F(CApiTest, CaptureChecksCanBeTurnedOff) {
  load(documentMaskManifest());
  DocumentMaskTensors t;
  std::vector<int32_t> qDoc(260, 100);
  fake->memory[0x40000] = int32Bytes(qDoc);
  std::vector<attune_rt_tensor> args = views(t.args),
                                results = views(t.results);
  EXPECT_EQ(attune_rt_set_capture_checks(module, 0), ATTUNE_RT_OK);
  EXPECT_EQ(attune_rt_capture_checks(module), 0);
  EXPECT_EQ(attune_rt_launch(module, args.data(), args.size(), results.data(),
                             results.size(), nullptr),
            ATTUNE_RT_OK)
      << attune_rt_last_error();
  EXPECT_EQ(fake->launches.size(), 1u);
  EXPECT_TRUE(fake->copies.empty());
  EXPECT_TRUE(fake->streamSyncs.empty());
  EXPECT_EQ(attune_rt_set_capture_checks(module, 1), ATTUNE_RT_OK);
  EXPECT_EQ(attune_rt_launch(module, args.data(), args.size(), results.data(),
                             results.size(), nullptr),
            ATTUNE_RT_ERROR_CAPTURE_RANGE);
  EXPECT_EQ(attune_rt_set_capture_checks(nullptr, 0),
            ATTUNE_RT_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(attune_rt_capture_checks(nullptr), -1);

  // The environment sets a module's default when it is loaded.
  for (auto [value, checks] :
       {std::pair<const char *, int>{"1", 0}, {"yes", 0}, {"0", 1}, {"", 1}}) {
    setenv("ATTUNE_RT_UNCHECKED_CAPTURES", value, 1);
    attune_rt_module *other = nullptr;
    int status = attune_rt_load(dir.path().c_str(), &other);
    unsetenv("ATTUNE_RT_UNCHECKED_CAPTURES");
    ASSERT_EQ(status, ATTUNE_RT_OK) << attune_rt_last_error();
    EXPECT_EQ(attune_rt_capture_checks(other), checks) << value;
    attune_rt_unload(other);
  }
}

// A capture above the host staging buffer (64 MiB) is checked in pieces.
TEST_F(CApiTest, LargeCapturesAreCheckedInPieces) {
  load(R"({
  "format": "attune-cuda", "version": 1, "function": "f", "chip": "sm_80",
  "arguments": [{"name": "ids", "dtype": "i32", "shape": ["N"],
                 "range": [0, 10]}],
  "results": [{"name": "y", "dtype": "f32", "shape": ["N"]}],
  "kernels": [{"name": "fwd", "cubin": "fwd.cubin", "block": [32, 1, 1],
               "grid": [[{"ceildiv": ["N", 1024]}], [], []],
               "params": [{"tensor": "ids"}, {"tensor": "y"}]}]})");
  constexpr int64_t n = 20000000, piece = (64 << 20) / 4;
  const uint64_t base = 0x100000000ull;
  std::vector<int32_t> tail(n - piece, 9);
  tail[19000000 - piece] = 10;
  fake->memory[base + 4 * piece] = int32Bytes(tail);
  Tensor ids(base, ATTUNE_RT_I32, {n}), y(0x900000000ull, ATTUNE_RT_F32, {n});
  attune_rt_tensor a = ids.view(), r = y.view();
  EXPECT_EQ(attune_rt_launch(module, &a, 1, &r, 1, nullptr),
            ATTUNE_RT_ERROR_CAPTURE_RANGE);
  EXPECT_NE(std::string(attune_rt_last_error())
                .find("argument 'ids' element [19000000] is 10, outside its "
                      "range [0, 10)"),
            std::string::npos)
      << attune_rt_last_error();
  ASSERT_EQ(fake->copies.size(), 2u);
  EXPECT_EQ(fake->copies[0].bytes, 4u * piece);
  EXPECT_EQ(fake->copies[1].source, base + 4 * piece);
  EXPECT_EQ(fake->copies[1].bytes, 4u * (n - piece));
  EXPECT_EQ(fake->streamSyncs.size(), 2u);
}

} // namespace
