//===- LaunchTest.cpp - Tests of checks, grids and parameters ---*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The driver-free half of a launch: every kind of tensor mismatch is caught
// with a message naming the tensor and dimension, grids follow the manifest
// rules, and kernel parameters are packed exactly as MLIR memref descriptors.
//
//===----------------------------------------------------------------------===//

#include "Launch.h"

#include "TestUtil.h"

#include "gtest/gtest.h"

#include <cstring>

using namespace attune::rt;
using namespace attune::rt::test;

namespace {

class LaunchTest : public ::testing::Test {
protected:
  void SetUp() override {
    Status s = parseManifest(documentMaskManifest(), m);
    ASSERT_TRUE(s.isOk()) << s.message();
  }

  /// Plans a launch of `t`, expecting `code` and (if not OK) `message`.
  void expectPlan(const DocumentMaskTensors &t, int code,
                  const std::string &message = "") {
    std::vector<attune_rt_tensor> args = views(t.args),
                                  results = views(t.results);
    LaunchPlan plan;
    Status s = planLaunch(m, args.data(), args.size(), results.data(),
                          results.size(), plan);
    EXPECT_EQ(s.code(), code) << s.message();
    if (code != ATTUNE_RT_OK) {
      EXPECT_EQ(s.message(), message);
    }
  }

  Manifest m;
};

TEST_F(LaunchTest, ValidTensorsBindEverySymbol) {
  DocumentMaskTensors t;
  std::vector<attune_rt_tensor> args = views(t.args),
                                results = views(t.results);
  LaunchPlan plan;
  Status s = planLaunch(m, args.data(), args.size(), results.data(),
                        results.size(), plan);
  ASSERT_TRUE(s.isOk()) << s.message();
  // Symbols in order of appearance: B, Hq, Sq, Hkv, Sk.
  EXPECT_EQ(plan.bindings.values, (std::vector<int64_t>{2, 8, 130, 2, 77}));
  EXPECT_EQ(plan.bindings.sourceTensor, (std::vector<int>{0, 0, 0, 1, 1}));
  EXPECT_EQ(plan.bindings.sourceDim, (std::vector<int>{0, 1, 2, 1, 2}));
  ASSERT_EQ(plan.grids.size(), 1u);
  // ceildiv(130, 64) = 3 query tiles, Hq = 8, B = 2.
  EXPECT_EQ(plan.grids[0], (std::array<uint32_t, 3>{3, 8, 2}));
  EXPECT_FALSE(plan.isEmpty(0));
  EXPECT_TRUE(plan.workspaceBytes.empty());
}

TEST_F(LaunchTest, WrongNumberOfTensors) {
  DocumentMaskTensors t;
  t.args.resize(3);
  expectPlan(t, ATTUNE_RT_ERROR_TENSOR,
             "expected 5 arguments (q, k, v, q_doc, kv_doc) but got 3");
  t = DocumentMaskTensors();
  t.results.pop_back();
  expectPlan(t, ATTUNE_RT_ERROR_TENSOR,
             "expected 2 results (o, lse) but got 1");
}

TEST_F(LaunchTest, DtypeMismatch) {
  DocumentMaskTensors t;
  t.args[1].dtype = ATTUNE_RT_F16;
  expectPlan(t, ATTUNE_RT_ERROR_TENSOR,
             "argument 'k' has dtype f16 but the manifest expects bf16");
  t = DocumentMaskTensors();
  t.results[1].dtype = 42;
  expectPlan(t, ATTUNE_RT_ERROR_TENSOR,
             "result 'lse' has dtype code 42 (unknown) but the manifest "
             "expects f32");
}

TEST_F(LaunchTest, RankMismatch) {
  DocumentMaskTensors t;
  t.args[0] = Tensor(0x10000, ATTUNE_RT_BF16, {16, 130, 128});
  expectPlan(t, ATTUNE_RT_ERROR_TENSOR,
             "argument 'q' has rank 3 but the manifest expects rank 4 "
             "(shape [B, Hq, Sq, 128])");
}

TEST_F(LaunchTest, StaticDimensionMismatch) {
  DocumentMaskTensors t;
  t.args[2] = Tensor(0x30000, ATTUNE_RT_BF16, {2, 2, 77, 64});
  expectPlan(t, ATTUNE_RT_ERROR_TENSOR,
             "argument 'v' dimension 3 is 64 but the manifest requires 128 "
             "(shape [B, Hkv, Sk, 128])");
}

TEST_F(LaunchTest, SymbolMismatchNamesWhereTheValueCameFrom) {
  DocumentMaskTensors t;
  t.args[2] = Tensor(0x30000, ATTUNE_RT_BF16, {2, 2, 64, 128});
  expectPlan(t, ATTUNE_RT_ERROR_TENSOR,
             "argument 'v' dimension 2 is 64 but symbol 'Sk' is 77 (from "
             "argument 'k' dimension 2)");
  t = DocumentMaskTensors();
  t.args[4] = Tensor(0x50000, ATTUNE_RT_I32, {3, 77});
  expectPlan(t, ATTUNE_RT_ERROR_TENSOR,
             "argument 'kv_doc' dimension 0 is 3 but symbol 'B' is 2 (from "
             "argument 'q' dimension 0)");
  // Results are unified with the arguments too.
  t = DocumentMaskTensors();
  t.results[1] = Tensor(0x70000, ATTUNE_RT_F32, {2, 8, 128});
  expectPlan(t, ATTUNE_RT_ERROR_TENSOR,
             "result 'lse' dimension 2 is 128 but symbol 'Sq' is 130 (from "
             "argument 'q' dimension 2)");
}

TEST_F(LaunchTest, NegativeDimension) {
  DocumentMaskTensors t;
  t.args[3].shape[1] = -1;
  expectPlan(t, ATTUNE_RT_ERROR_TENSOR,
             "argument 'q_doc' dimension 1 is -1 (negative)");
}

TEST_F(LaunchTest, NonContiguousStrides) {
  DocumentMaskTensors t;
  // k as a [B, Sk, Hkv, D] tensor viewed as [B, Hkv, Sk, D].
  t.args[1].strides = {2 * 77 * 128, 128, 2 * 128, 1};
  expectPlan(t, ATTUNE_RT_ERROR_TENSOR,
             "argument 'k' is not contiguous: dimension 2 has stride 256 but "
             "a contiguous row-major tensor of shape [2, 2, 77, 128] has "
             "stride 128 there (the runtime never copies; pass a contiguous "
             "tensor)");
  // A padded row is not contiguous either.
  t = DocumentMaskTensors();
  t.results[1].strides = {8 * 136, 136, 1};
  expectPlan(t, ATTUNE_RT_ERROR_TENSOR,
             "result 'lse' is not contiguous: dimension 1 has stride 136 but a "
             "contiguous row-major tensor of shape [2, 8, 130] has stride 130 "
             "there (the runtime never copies; pass a contiguous tensor)");
}

TEST_F(LaunchTest, StridesThatDoNotMatterAreAccepted) {
  // Dimensions of size 1 may have any stride, a tensor without elements any
  // layout, and no strides at all means contiguous.
  DocumentMaskTensors t(/*b=*/1);
  t.args[0].strides[0] = 12345;
  t.args[1].nullStrides = true;
  expectPlan(t, ATTUNE_RT_OK);
  DocumentMaskTensors empty(2, 8, 2, 130, /*sk=*/0);
  empty.args[1].strides = {7, 7, 7, 7};
  expectPlan(empty, ATTUNE_RT_OK);
}

TEST_F(LaunchTest, Pointers) {
  DocumentMaskTensors t;
  t.args[0].data = 0x10008;
  expectPlan(t, ATTUNE_RT_ERROR_TENSOR,
             "argument 'q' data pointer 0x10008 is not 16-byte aligned");
  t = DocumentMaskTensors();
  t.results[0].data = 0;
  expectPlan(t, ATTUNE_RT_ERROR_TENSOR, "result 'o' has a null data pointer");
  // Without elements a null pointer is fine (PyTorch gives empty tensors
  // one).
  DocumentMaskTensors empty(2, 8, 2, 130, /*sk=*/0);
  empty.args[1].data = empty.args[2].data = empty.args[4].data = 0;
  expectPlan(empty, ATTUNE_RT_OK);
}

TEST_F(LaunchTest, NullShapeArray) {
  DocumentMaskTensors t;
  std::vector<attune_rt_tensor> args = views(t.args),
                                results = views(t.results);
  args[0].shape = nullptr;
  LaunchPlan plan;
  Status s = planLaunch(m, args.data(), args.size(), results.data(),
                        results.size(), plan);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(s.message(), "argument 'q' has rank 4 but no shape array");
  s = planLaunch(m, nullptr, 5, results.data(), results.size(), plan);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_INVALID_ARGUMENT);
}

TEST_F(LaunchTest, ConstraintFailure) {
  DocumentMaskTensors t(2, /*hq=*/6, /*hkv=*/4);
  expectPlan(t, ATTUNE_RT_ERROR_CONSTRAINT,
             "constraint divisible(Hq, Hkv) does not hold: 6 is not a "
             "multiple of 4 (Hq = 6, Hkv = 4)");
  DocumentMaskTensors zero(2, /*hq=*/6, /*hkv=*/0);
  expectPlan(zero, ATTUNE_RT_ERROR_CONSTRAINT,
             "constraint divisible(Hq, Hkv) does not hold: 6 is not a "
             "multiple of 0 (Hq = 6, Hkv = 0)");
}

TEST_F(LaunchTest, ResultShapesFromArguments) {
  DocumentMaskTensors t;
  std::vector<attune_rt_tensor> args = views(t.args);
  Bindings b;
  Status s = bindTensors(m, args.data(), args.size(), nullptr, 0,
                         /*withResults=*/false, b);
  ASSERT_TRUE(s.isOk()) << s.message();
  std::vector<std::vector<int64_t>> shapes;
  s = resultShapes(m, b, shapes);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(shapes, (std::vector<std::vector<int64_t>>{{2, 8, 130, 128},
                                                       {2, 8, 130}}));
}

TEST_F(LaunchTest, GridLimits) {
  // y = Hq above 65535.
  DocumentMaskTensors t(1, /*hq=*/70000, /*hkv=*/1, 64, 64);
  expectPlan(t, ATTUNE_RT_ERROR_UNSUPPORTED,
             "kernel 'document_mask_fwd' grid dimension y is 70000, above "
             "CUDA's limit of 65535 (the shapes are too large for this "
             "kernel)");
  // An empty query sequence leaves nothing to launch.
  DocumentMaskTensors empty(2, 8, 2, /*sq=*/0, 77);
  std::vector<attune_rt_tensor> args = views(empty.args),
                                results = views(empty.results);
  LaunchPlan plan;
  Status s = planLaunch(m, args.data(), args.size(), results.data(),
                        results.size(), plan);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(plan.grids[0], (std::array<uint32_t, 3>{0, 8, 2}));
  EXPECT_TRUE(plan.isEmpty(0));
}

/// A manifest exercising every grid factor form, scalars and workspace.
const char *packingManifest = R"({
  "format": "attune-cuda", "version": 1, "function": "f", "chip": "sm_80",
  "arguments": [{"name": "x", "dtype": "f16", "shape": ["N", "H", 64]},
                {"name": "ids", "dtype": "i64", "shape": ["N"]}],
  "results": [{"name": "y", "dtype": "f32", "shape": ["N", "H"]}],
  "workspace": [{"name": "partial", "dtype": "f32", "shape": [4, "H", "N"]},
                {"name": "flags", "dtype": "i8", "shape": [3]}],
  "kernels": [{
    "name": "k", "cubin": "k.cubin", "block": [256, 1, 1],
    "grid": [[{"ceildiv": ["N", 128]}, 2], [{"ceildiv": [1000, 7]}], ["H", 3]],
    "shared_bytes": 1024,
    "params": [{"scalar": "i32", "symbol": "N"}, {"tensor": "x"},
               {"scalar": "i64", "symbol": "H"}, {"tensor": "y"},
               {"tensor": "partial"}, {"scalar": "i32", "symbol": 5}]
  }]
})";

TEST(Packing, GridFactorsAndWorkspaceSizes) {
  Manifest m;
  ASSERT_TRUE(parseManifest(packingManifest, m).isOk());
  std::vector<Tensor> args = {Tensor(0x1000, ATTUNE_RT_F16, {300, 5, 64}),
                              Tensor(0x2000, ATTUNE_RT_I64, {300})};
  std::vector<Tensor> results = {Tensor(0x3000, ATTUNE_RT_F32, {300, 5})};
  std::vector<attune_rt_tensor> a = views(args), r = views(results);
  LaunchPlan plan;
  Status s = planLaunch(m, a.data(), a.size(), r.data(), r.size(), plan);
  ASSERT_TRUE(s.isOk()) << s.message();
  // x: ceildiv(300, 128) * 2 = 6; y: ceildiv(1000, 7) = 143; z: 5 * 3.
  EXPECT_EQ(plan.grids[0], (std::array<uint32_t, 3>{6, 143, 15}));
  EXPECT_EQ(plan.workspaceBytes,
            (std::vector<uint64_t>{4 * 4 * 5 * 300, 3}));
}

TEST(Packing, MemrefDescriptorsAndScalarsByteForByte) {
  Manifest m;
  ASSERT_TRUE(parseManifest(packingManifest, m).isOk());
  std::vector<Tensor> args = {Tensor(0x1000, ATTUNE_RT_F16, {300, 5, 64}),
                              Tensor(0x2000, ATTUNE_RT_I64, {300})};
  std::vector<Tensor> results = {Tensor(0x3000, ATTUNE_RT_F32, {300, 5})};
  std::vector<attune_rt_tensor> a = views(args), r = views(results);
  LaunchPlan plan;
  ASSERT_TRUE(
      planLaunch(m, a.data(), a.size(), r.data(), r.size(), plan).isOk());
  std::vector<uint64_t> addresses = {0x1000, 0x2000, 0x3000, 0xA000, 0xB000};
  PackedParams p;
  packParams(m, 0, plan.bindings, addresses, p);

  std::vector<uint64_t> expected = {
      300,                  // i32 N
      0x1000, 0x1000, 0,    // x: allocated, aligned, offset
      300, 5, 64,           //    sizes
      320, 64, 1,           //    strides
      5,                    // i64 H
      0x3000, 0x3000, 0,    // y
      300, 5, 5, 1,         //
      0xA000, 0xA000, 0,    // partial [4, H, N]
      4, 5, 300, 1500, 300, 1,
      5};                   // i32 literal
  EXPECT_EQ(p.slots, expected);
  std::vector<uint8_t> sizes(expected.size(), 8);
  sizes.front() = sizes.back() = 4;
  EXPECT_EQ(p.sizes, sizes);
  ASSERT_EQ(p.pointers.size(), expected.size() + 1);
  for (size_t i = 0; i < p.slots.size(); ++i)
    EXPECT_EQ(p.pointers[i], &p.slots[i]);
  EXPECT_EQ(p.pointers.back(), nullptr);

  // The i32 occupies the first four bytes of its slot, the driver reads it
  // as an int32_t.
  int32_t n;
  std::memcpy(&n, p.pointers[0], sizeof(n));
  EXPECT_EQ(n, 300);
  unsigned char bytes[8];
  std::memcpy(bytes, p.pointers[0], 8);
  for (int i = 4; i < 8; ++i)
    EXPECT_EQ(bytes[i], 0);
  // Pointers and i64 values are the eight bytes of the value.
  int64_t h;
  std::memcpy(&h, p.pointers[10], sizeof(h));
  EXPECT_EQ(h, 5);
}

TEST(Packing, ScalarArgumentsByValue) {
  Manifest m;
  Status s = parseManifest(R"({
    "format": "attune-cuda", "version": 1, "function": "f", "chip": "sm_80",
    "arguments": [{"name": "x", "dtype": "f32", "shape": ["N"]},
                  {"name": "scale", "dtype": "f32", "shape": [], "scalar": true},
                  {"name": "half", "dtype": "bf16", "shape": [], "scalar": true},
                  {"name": "window", "dtype": "i64", "shape": [], "scalar": true},
                  {"name": "flag", "dtype": "i8", "shape": [], "scalar": true}],
    "results": [],
    "kernels": [{"name": "k", "cubin": "k.cubin", "block": [32, 1, 1],
                 "grid": [["N"], [], []],
                 "params": [{"tensor": "x"}, {"scalar_arg": "scale"},
                            {"scalar_arg": "half"}, {"scalar_arg": "window"},
                            {"scalar_arg": "flag"}]}]})",
                           m);
  ASSERT_TRUE(s.isOk()) << s.message();
  float scale = 0.125f;
  uint32_t scaleBits;
  std::memcpy(&scaleBits, &scale, 4);
  // Scalars are values: any bits (no alignment or null check on them).
  std::vector<Tensor> args = {Tensor(0x1000, ATTUNE_RT_F32, {8}),
                              Tensor(scaleBits, ATTUNE_RT_F32, {}),
                              Tensor(0x3f80, ATTUNE_RT_BF16, {}),
                              Tensor(uint64_t(-3), ATTUNE_RT_I64, {}),
                              Tensor(0x1ff, ATTUNE_RT_I8, {})};
  std::vector<attune_rt_tensor> a = views(args);
  LaunchPlan plan;
  s = planLaunch(m, a.data(), a.size(), nullptr, 0, plan);
  ASSERT_TRUE(s.isOk()) << s.message();
  std::vector<uint64_t> addresses;
  for (const Tensor &t : args)
    addresses.push_back(t.data);
  PackedParams p;
  packParams(m, 0, plan.bindings, addresses, p);
  EXPECT_EQ(p.slots, (std::vector<uint64_t>{0x1000, 0x1000, 0, 8, 1,
                                            scaleBits, 0x3f80, uint64_t(-3),
                                            0xff}));
  EXPECT_EQ(p.sizes, (std::vector<uint8_t>{8, 8, 8, 8, 8, 4, 2, 8, 1}));
  float readBack;
  std::memcpy(&readBack, p.pointers[5], 4);
  EXPECT_EQ(readBack, 0.125f);

  // A scalar has rank 0 and its dtype is checked like a tensor's.
  args[1] = Tensor(scaleBits, ATTUNE_RT_F16, {});
  a = views(args);
  s = planLaunch(m, a.data(), a.size(), nullptr, 0, plan);
  EXPECT_EQ(s.message(),
            "argument 'scale' has dtype f16 but the manifest expects f32");
  args[1] = Tensor(0x2000, ATTUNE_RT_F32, {1});
  a = views(args);
  s = planLaunch(m, a.data(), a.size(), nullptr, 0, plan);
  EXPECT_EQ(s.message(), "argument 'scale' has rank 1 but the manifest "
                         "expects rank 0 (shape [])");
}

TEST(Packing, I32ScalarOverflowIsAnError) {
  Manifest m;
  ASSERT_TRUE(parseManifest(packingManifest, m).isOk());
  int64_t big = int64_t(1) << 31;
  std::vector<Tensor> args = {Tensor(0x1000, ATTUNE_RT_F16, {big, 0, 64}),
                              Tensor(0x2000, ATTUNE_RT_I64, {big})};
  std::vector<Tensor> results = {Tensor(0x3000, ATTUNE_RT_F32, {big, 0})};
  std::vector<attune_rt_tensor> a = views(args), r = views(results);
  LaunchPlan plan;
  Status s = planLaunch(m, a.data(), a.size(), r.data(), r.size(), plan);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_UNSUPPORTED);
  EXPECT_EQ(s.message(), "kernel 'k' parameter 0 (N = 2147483648) does not "
                         "fit its i32 scalar");
}

} // namespace
