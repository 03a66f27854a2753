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
#include <limits>

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
  // `flags` is named by no kernel, so it needs no memory.
  EXPECT_EQ(plan.workspaceBytes,
            (std::vector<uint64_t>{4 * 4 * 5 * 300, 0}));
  EXPECT_EQ(plan.enabled, (std::vector<bool>{true}));
  EXPECT_TRUE(plan.launches(0));
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

/// A decode-style pair for short query sequences (split K/V, then combine
/// through a workspace) and the normal kernel for the others.
const char *conditionalManifest = R"({
  "format": "attune-cuda", "version": 1, "function": "f", "chip": "sm_80",
  "arguments": [{"name": "q", "dtype": "f16", "shape": ["H", "Sq", 64]},
                {"name": "k", "dtype": "f16", "shape": ["H", "Sk", 64]}],
  "results": [{"name": "o", "dtype": "f16", "shape": ["H", "Sq", 64]}],
  "workspace": [{"name": "partial", "dtype": "f32", "shape": ["H", "Sq", 8, 64]},
                {"name": "scratch", "dtype": "f32", "shape": ["Sq", 64]}],
  "kernels": [
    {"name": "split", "cubin": "split.cubin", "block": [128, 1, 1],
     "grid": [[8], ["H"], []], "if": {"le": ["Sq", 16]},
     "params": [{"tensor": "q"}, {"tensor": "k"}, {"tensor": "partial"}]},
    {"name": "combine", "cubin": "combine.cubin", "block": [64, 1, 1],
     "grid": [["Sq"], ["H"], []], "if": {"le": ["Sq", 16]},
     "params": [{"tensor": "partial"}, {"tensor": "o"}]},
    {"name": "fwd", "cubin": "fwd.cubin", "block": [128, 1, 1],
     "grid": [[{"ceildiv": ["Sq", 64]}, "H"], [], []], "if": {"gt": ["Sq", 16]},
     "params": [{"tensor": "q"}, {"tensor": "k"}, {"tensor": "o"},
                {"tensor": "scratch"}, {"scalar": "i32", "symbol": "Sk"}]}
  ]
})";

/// Plans a launch of conditionalManifest with the given sizes.
Status planConditional(const Manifest &m, int64_t h, int64_t sq, int64_t sk,
                       LaunchPlan &plan) {
  std::vector<Tensor> args = {Tensor(0x1000, ATTUNE_RT_F16, {h, sq, 64}),
                              Tensor(0x2000, ATTUNE_RT_F16, {h, sk, 64})};
  std::vector<Tensor> results = {Tensor(0x3000, ATTUNE_RT_F16, {h, sq, 64})};
  std::vector<attune_rt_tensor> a = views(args), r = views(results);
  return planLaunch(m, a.data(), a.size(), r.data(), r.size(), plan);
}

TEST(Conditions, EveryComparison) {
  Bindings b;
  b.values = {16};
  b.sourceTensor = {0};
  b.sourceDim = {0};
  b.bound = {true};
  DimExpr sq, c15, c16, c17;
  sq.symbol = 0;
  c15.value = 15;
  c16.value = 16;
  c17.value = 17;
  auto holds = [&](Condition::Op op, DimExpr lhs, DimExpr rhs) {
    return conditionHolds(Condition{op, lhs, rhs}, b);
  };
  using Op = Condition::Op;
  // Sq = 16 against 15, 16, 17.
  EXPECT_EQ((std::vector<bool>{holds(Op::Lt, sq, c15), holds(Op::Lt, sq, c16),
                               holds(Op::Lt, sq, c17)}),
            (std::vector<bool>{false, false, true}));
  EXPECT_EQ((std::vector<bool>{holds(Op::Le, sq, c15), holds(Op::Le, sq, c16),
                               holds(Op::Le, sq, c17)}),
            (std::vector<bool>{false, true, true}));
  EXPECT_EQ((std::vector<bool>{holds(Op::Gt, sq, c15), holds(Op::Gt, sq, c16),
                               holds(Op::Gt, sq, c17)}),
            (std::vector<bool>{true, false, false}));
  EXPECT_EQ((std::vector<bool>{holds(Op::Ge, sq, c15), holds(Op::Ge, sq, c16),
                               holds(Op::Ge, sq, c17)}),
            (std::vector<bool>{true, true, false}));
  EXPECT_EQ((std::vector<bool>{holds(Op::Eq, sq, c15), holds(Op::Eq, sq, c16),
                               holds(Op::Eq, sq, c17)}),
            (std::vector<bool>{false, true, false}));
  // Integers on the left, symbols on the right.
  EXPECT_TRUE(holds(Op::Lt, c15, sq));
  EXPECT_FALSE(holds(Op::Gt, c15, sq));
  EXPECT_TRUE(holds(Op::Eq, sq, sq));
}

TEST(Conditions, OnlyKernelsWhoseConditionHoldsAreEnabled) {
  Manifest m;
  Status s = parseManifest(conditionalManifest, m);
  ASSERT_TRUE(s.isOk()) << s.message();
  LaunchPlan plan;
  // Sq = 8 and the boundary 16: split + combine, through `partial`.
  for (int64_t sq : {8, 16}) {
    s = planConditional(m, 4, sq, 1000, plan);
    ASSERT_TRUE(s.isOk()) << s.message();
    EXPECT_EQ(plan.enabled, (std::vector<bool>{true, true, false})) << sq;
    EXPECT_EQ(plan.grids[0], (std::array<uint32_t, 3>{8, 4, 1}));
    EXPECT_EQ(plan.grids[1], (std::array<uint32_t, 3>{uint32_t(sq), 4, 1}));
    EXPECT_EQ(plan.grids[2], (std::array<uint32_t, 3>{0, 0, 0}));
    EXPECT_TRUE(plan.launches(0) && plan.launches(1));
    EXPECT_FALSE(plan.launches(2));
    // `scratch` is named only by the kernel that does not run.
    EXPECT_EQ(plan.workspaceBytes,
              (std::vector<uint64_t>{uint64_t(4 * 4 * sq * 8 * 64), 0}));
  }
  // Sq = 17: the normal kernel and its workspace only.
  s = planConditional(m, 4, 17, 1000, plan);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(plan.enabled, (std::vector<bool>{false, false, true}));
  EXPECT_FALSE(plan.launches(0) || plan.launches(1));
  EXPECT_TRUE(plan.launches(2));
  EXPECT_EQ(plan.grids[2], (std::array<uint32_t, 3>{4, 1, 1}));
  EXPECT_EQ(plan.workspaceBytes, (std::vector<uint64_t>{0, 4 * 17 * 64}));
  // Enabled but empty: nothing launches and no workspace is sized.
  s = planConditional(m, 0, 8, 1000, plan);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(plan.enabled, (std::vector<bool>{true, true, false}));
  EXPECT_FALSE(plan.launches(0) || plan.launches(1) || plan.launches(2));
  EXPECT_EQ(plan.workspaceBytes, (std::vector<uint64_t>{0, 0}));
}

TEST(Conditions, KernelsThatDoNotRunAreNotChecked) {
  Manifest m;
  Status s = parseManifest(conditionalManifest, m);
  ASSERT_TRUE(s.isOk()) << s.message();
  LaunchPlan plan;
  // Sk does not fit fwd's i32 scalar; fwd does not run for Sq = 1.
  int64_t bigSk = int64_t(1) << 31;
  s = planConditional(m, 1, 1, bigSk, plan);
  EXPECT_TRUE(s.isOk()) << s.message();
  s = planConditional(m, 1, 17, bigSk, plan);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_UNSUPPORTED);
  EXPECT_EQ(s.message(), "kernel 'fwd' parameter 4 (Sk = 2147483648) does "
                         "not fit its i32 scalar");
  // H = 70000 is too many CTAs in y for split, not in x for fwd.
  s = planConditional(m, 70000, 17, 1, plan);
  EXPECT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(plan.grids[2], (std::array<uint32_t, 3>{70000, 1, 1}));
  s = planConditional(m, 70000, 16, 1, plan);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_UNSUPPORTED);
  EXPECT_EQ(s.message(), "kernel 'split' grid dimension y is 70000, above "
                         "CUDA's limit of 65535 (the shapes are too large "
                         "for this kernel)");
}

TEST(Conditions, NoKernelEnabledIsAnError) {
  // Only the short-sequence path: a long sequence has no kernel.
  std::string json = conditionalManifest;
  size_t fwd = json.find(R"(,
    {"name": "fwd")");
  ASSERT_NE(fwd, std::string::npos);
  json.erase(fwd, json.find("\n  ]", fwd) - fwd);
  Manifest m;
  Status s = parseManifest(json, m);
  ASSERT_TRUE(s.isOk()) << s.message();
  ASSERT_EQ(m.kernels.size(), 2u);
  LaunchPlan plan;
  s = planConditional(m, 4, 17, 100, plan);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_UNSUPPORTED);
  EXPECT_EQ(s.message(),
            "no kernel's condition holds for these shapes, so nothing would "
            "compute the results (kernel 'split' runs if Sq <= 16 (Sq = 17); "
            "kernel 'combine' runs if Sq <= 16 (Sq = 17))");
  EXPECT_TRUE(planConditional(m, 4, 16, 100, plan).isOk());
}

/// Derived symbols used by a workspace shape, grids, conditions, a
/// constraint, scalars and views: `small` runs while s0 = 4 Sq <= 64,
/// `large` otherwise.
const char *derivedManifest = R"({
  "format": "attune-cuda", "version": 1, "function": "f", "chip": "sm_80",
  "arguments": [{"name": "q", "dtype": "f16", "shape": ["B", "Sq", 64]},
                {"name": "k", "dtype": "f16", "shape": ["B", "Sk", 64]}],
  "results": [{"name": "o", "dtype": "f32", "shape": ["B", "Sq", 64]}],
  "symbols": [{"name": "s0", "value": {"mul": ["Sq", 4]}},
              {"name": "rows", "value": {"mul": ["B", "Sq"]}},
              {"name": "extra", "value": {"sub": ["Sk", "Sq"]}},
              {"name": "tiles", "value": {"ceildiv": ["s0", 64]}}],
  "constraints": [{"divisible": ["rows", 2]}],
  "workspace": [{"name": "partial", "dtype": "f32", "shape": ["B", "s0", 16]}],
  "kernels": [
    {"name": "small", "cubin": "k.cubin", "block": [64, 1, 1],
     "if": {"le": ["s0", 64]},
     "grid": [["tiles"], [{"ceildiv": ["s0", 32]}], ["B"]],
     "params": [{"tensor": "q", "shape": ["rows", 64]},
                {"tensor": "partial", "shape": ["B", "Sq", 4, 16]},
                {"scalar": "i64", "symbol": "extra"}]},
    {"name": "large", "cubin": "k.cubin", "block": [64, 1, 1],
     "if": {"gt": ["s0", 64]},
     "grid": [["tiles"], ["B"], []],
     "params": [{"tensor": "partial"}, {"tensor": "o", "shape": ["rows", 64]},
                {"scalar": "i32", "symbol": "s0"}]}
  ]
})";

/// derivedManifest with `from` replaced by `to`.
std::string derivedWith(const std::string &from, const std::string &to) {
  std::string json = derivedManifest;
  size_t at = json.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? json : json.replace(at, from.size(), to);
}

/// Plans a launch of `m` (a derivedManifest) with the given sizes.
Status planDerived(const Manifest &m, int64_t b, int64_t sq, int64_t sk,
                   LaunchPlan &plan) {
  std::vector<Tensor> args = {Tensor(0x1000, ATTUNE_RT_F16, {b, sq, 64}),
                              Tensor(0x2000, ATTUNE_RT_F16, {b, sk, 64})};
  std::vector<Tensor> results = {Tensor(0x3000, ATTUNE_RT_F32, {b, sq, 64})};
  std::vector<attune_rt_tensor> a = views(args), r = views(results);
  return planLaunch(m, a.data(), a.size(), r.data(), r.size(), plan);
}

TEST(DerivedSymbols, SizeTheWorkspaceAndDriveGridsAndConditions) {
  Manifest m;
  ASSERT_TRUE(parseManifest(derivedManifest, m).isOk());
  LaunchPlan plan;
  // B = 2, Sq = 10, Sk = 12: s0 = 40, rows = 20, extra = 2, tiles = 1.
  Status s = planDerived(m, 2, 10, 12, plan);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(plan.bindings.values,
            (std::vector<int64_t>{2, 10, 12, 40, 20, 2, 1}));
  EXPECT_EQ(plan.bindings.bound, std::vector<bool>(7, true));
  EXPECT_EQ(plan.bindings.sourceTensor,
            (std::vector<int>{0, 0, 1, -1, -1, -1, -1}));
  EXPECT_EQ(plan.enabled, (std::vector<bool>{true, false}));
  // [tiles, ceildiv(s0, 32), B].
  EXPECT_EQ(plan.grids[0], (std::array<uint32_t, 3>{1, 2, 2}));
  // f32 [B, s0, 16].
  EXPECT_EQ(plan.workspaceBytes, (std::vector<uint64_t>{4 * 2 * 40 * 16}));

  // Sq = 20: s0 = 80 > 64, the other kernel, tiles = 2.
  s = planDerived(m, 2, 20, 20, plan);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(plan.enabled, (std::vector<bool>{false, true}));
  EXPECT_EQ(plan.grids[1], (std::array<uint32_t, 3>{2, 2, 1}));
  EXPECT_EQ(plan.workspaceBytes, (std::vector<uint64_t>{4 * 2 * 80 * 16}));

  // A constraint on a derived symbol: rows = 1 * 9 is odd.
  s = planDerived(m, 1, 9, 9, plan);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_CONSTRAINT);
  EXPECT_EQ(s.message(), "constraint divisible(rows, 2) does not hold: 9 is "
                         "not a multiple of 2 (rows = 9)");
}

TEST(DerivedSymbols, InPlaceResultsAreTheArgumentsBuffer) {
  // o written in place into q: the caller passes q's buffer as o.
  Manifest m;
  Status parsed = parseManifest(
      derivedWith(R"({"name": "o", "dtype": "f32", "shape": ["B", "Sq", 64]})",
                  R"({"name": "o", "dtype": "f16", "shape": ["B", "Sq", 64],
                      "in_place_of": "q"})"),
      m);
  ASSERT_TRUE(parsed.isOk()) << parsed.message();
  ASSERT_EQ(m.tensors[2].inPlaceOf, 0);
  auto plan = [&](uint64_t result) {
    std::vector<Tensor> args = {Tensor(0x1000, ATTUNE_RT_F16, {2, 10, 64}),
                                Tensor(0x2000, ATTUNE_RT_F16, {2, 12, 64})};
    std::vector<Tensor> results = {Tensor(result, ATTUNE_RT_F16, {2, 10, 64})};
    std::vector<attune_rt_tensor> a = views(args), r = views(results);
    LaunchPlan p;
    return planLaunch(m, a.data(), a.size(), r.data(), r.size(), p);
  };
  EXPECT_TRUE(plan(0x1000).isOk());
  Status s = plan(0x3000);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_TENSOR);
  EXPECT_EQ(s.message(),
            "result 'o' is written in place into argument 'q': pass that "
            "argument's buffer as the result (got 0x3000, the argument is "
            "0x1000)");
}

TEST(DerivedSymbols, ViewsPassTheirSizesAndContiguousStrides) {
  Manifest m;
  ASSERT_TRUE(parseManifest(derivedManifest, m).isOk());
  LaunchPlan plan;
  ASSERT_TRUE(planDerived(m, 2, 10, 12, plan).isOk());
  std::vector<uint64_t> addresses = {0x1000, 0x2000, 0x3000, 0xA000};
  PackedParams p;
  packParams(m, 0, plan.bindings, addresses, p);
  EXPECT_EQ(p.slots, (std::vector<uint64_t>{
                         0x1000, 0x1000, 0,            // q [B, Sq, 64] viewed
                         20, 64, 64, 1,                //   as [rows, 64]
                         0xA000, 0xA000, 0,            // partial [B, s0, 16]
                         2, 10, 4, 16, 640, 64, 16, 1, // as [B, Sq, 4, 16]
                         2}));                         // i64 extra
  ASSERT_TRUE(planDerived(m, 2, 20, 20, plan).isOk());
  packParams(m, 1, plan.bindings, addresses, p);
  EXPECT_EQ(p.slots, (std::vector<uint64_t>{
                         0xA000, 0xA000, 0, 2, 80, 16, 1280, 16, 1, // own
                         0x3000, 0x3000, 0, 40, 64, 64, 1, // o as [rows, 64]
                         80}));                            // i32 s0
  EXPECT_EQ(p.sizes.back(), 4);
}

TEST(DerivedSymbols, ViewElementCountMustMatchItsBuffer) {
  Manifest m;
  // k is [B, Sk, 64]; [rows, 64] holds B * Sq * 64 elements.
  ASSERT_TRUE(parseManifest(derivedWith(R"({"tensor": "q", "shape")",
                                        R"({"tensor": "k", "shape")"),
                            m)
                  .isOk());
  LaunchPlan plan;
  EXPECT_TRUE(planDerived(m, 2, 10, 10, plan).isOk());
  Status s = planDerived(m, 2, 10, 12, plan);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_TENSOR);
  EXPECT_EQ(s.message(),
            "kernel 'small' parameter 0 views argument 'k' [B, Sk, 64] = "
            "[2, 12, 64] (1536 elements) as [rows, 64] = [20, 64] (1280 "
            "elements), but a view must have as many elements as its buffer");

  // A view of more than 2^63 elements.
  ASSERT_TRUE(
      parseManifest(derivedWith(R"({"tensor": "o", "shape": ["rows", 64]})",
                                R"({"tensor": "o", "shape": ["rows",
                                           4611686018427387904, 4]})"),
                    m)
          .isOk());
  s = planDerived(m, 2, 20, 20, plan);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_TENSOR);
  EXPECT_EQ(s.message(),
            "kernel 'large' parameter 1 views result 'o' [B, Sq, 64] = [2, "
            "20, 64] (2560 elements) as [rows, 4611686018427387904, 4] = [40, "
            "4611686018427387904, 4] (more than 2^63 elements), but a view "
            "must have as many elements as its buffer");
  // ... which is not checked while its kernel does not run.
  EXPECT_TRUE(planDerived(m, 2, 10, 10, plan).isOk());

  // Empty buffers match empty views.
  ASSERT_TRUE(parseManifest(derivedManifest, m).isOk());
  EXPECT_TRUE(planDerived(m, 0, 10, 10, plan).isOk());
}

TEST(DerivedSymbols, NegativeOrOverflowingValuesAreErrors) {
  Manifest m;
  ASSERT_TRUE(parseManifest(derivedManifest, m).isOk());
  LaunchPlan plan;
  Status s = planDerived(m, 2, 10, 8, plan);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_TENSOR);
  EXPECT_EQ(s.message(),
            "derived symbol 'extra' = Sk - Sq is -2 for Sk = 8, Sq = 10, but "
            "a symbol cannot be negative (these shapes do not suit the "
            "artifact)");

  ASSERT_TRUE(
      parseManifest(derivedWith(R"({"mul": ["Sq", 4]})",
                                R"({"mul": ["Sq", 4611686018427387904]})"),
                    m)
          .isOk());
  s = planDerived(m, 2, 10, 12, plan);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_UNSUPPORTED);
  EXPECT_EQ(s.message(), "derived symbol 's0' = Sq * 4611686018427387904 "
                         "overflows int64 for Sq = 10");
  // 2 * 2^62 overflows too, 1 * 2^62 does not (then tiles = 2^56).
  s = planDerived(m, 2, 2, 12, plan);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_UNSUPPORTED);
  s = planDerived(m, 2, 1, 12, plan);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_UNSUPPORTED);
  EXPECT_EQ(s.message(), "kernel 'large' grid dimension x is "
                         "72057594037927936, above CUDA's limit of 2147483647 "
                         "(the shapes are too large for this kernel)");
}

TEST(DerivedSymbols, EveryOperationRoundsAsDocumented) {
  // x [N] and y [N, R], with `symbols` and a constraint on r1.
  auto manifest = [](const std::string &symbols) {
    return R"({
    "format": "attune-cuda", "version": 1, "function": "f", "chip": "sm_80",
    "arguments": [{"name": "x", "dtype": "f32", "shape": ["N"]}],
    "results": [{"name": "y", "dtype": "f32", "shape": ["N", "R"]}],
    "symbols": )" +
           symbols + R"(,
    "constraints": [{"divisible": ["r1", 3]}],
    "kernels": [{"name": "k", "cubin": "k.cubin", "block": [1, 1, 1],
                 "grid": [[], [], []], "params": []}]})";
  };
  Manifest m;
  Status s = parseManifest(manifest(R"([
      {"name": "neg", "value": {"sub": ["N", 10]}},
      {"name": "r1", "value": {"add": ["R", "neg"]}}])"),
                           m);
  ASSERT_TRUE(s.isOk()) << s.message();
  // A derived symbol must not be negative, even one that only serves other
  // expressions.
  Tensor x(0x1000, ATTUNE_RT_F32, {3});
  attune_rt_tensor a = x.view();
  Bindings b;
  s = bindTensors(m, &a, 1, nullptr, 0, /*withResults=*/false, b);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_TENSOR);
  EXPECT_EQ(s.message(), "derived symbol 'neg' = N - 10 is -7 for N = 3, but "
                         "a symbol cannot be negative (these shapes do not "
                         "suit the artifact)");

  // Values inside an expression may be negative.
  std::string json = manifest(R"([
      {"name": "fd", "value": {"add": [{"floordiv": [{"sub": ["N", 10]}, 2]},
                                       10]}},
      {"name": "cd", "value": {"add": [{"ceildiv": [{"sub": ["N", 10]}, 2]},
                                       10]}},
      {"name": "fdp", "value": {"floordiv": ["N", 2]}},
      {"name": "cdp", "value": {"ceildiv": ["N", 2]}},
      {"name": "lo", "value": {"min": ["N", 2]}},
      {"name": "hi", "value": {"max": ["N", 5]}},
      {"name": "prod", "value": {"mul": [{"add": ["N", 1]}, "hi"]}},
      {"name": "lit", "value": 7},
      {"name": "pos", "value": {"max": [{"sub": ["N", 10]}, 0]}},
      {"name": "r1", "value": {"add": ["R", "lit"]}}])");
  ASSERT_TRUE(parseManifest(json, m).isOk());
  s = bindTensors(m, &a, 1, nullptr, 0, /*withResults=*/false, b);
  ASSERT_TRUE(s.isOk()) << s.message();
  // N = 3: floordiv(-7, 2) = -4, ceildiv(-7, 2) = -3 (towards -inf, +inf).
  std::vector<int64_t> values(b.values.begin() + 2, b.values.end() - 1);
  EXPECT_EQ(values, (std::vector<int64_t>{6, 7, 1, 2, 2, 5, 20, 7, 0}));
  // Without the results, R and r1, which uses it, stay unbound.
  EXPECT_FALSE(b.isBound(1));  // R
  EXPECT_FALSE(b.isBound(11)); // r1
  // So its constraint is skipped until the results are known.
  EXPECT_TRUE(checkConstraints(m, b, /*skipUnbound=*/true).isOk());

  Tensor y(0x2000, ATTUNE_RT_F32, {3, 4});
  attune_rt_tensor r = y.view();
  s = bindTensors(m, &a, 1, &r, 1, /*withResults=*/true, b);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(b.values[11], 11);
  s = checkConstraints(m, b, /*skipUnbound=*/false);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_CONSTRAINT);
  EXPECT_EQ(s.message(), "constraint divisible(r1, 3) does not hold: 11 is "
                         "not a multiple of 3 (r1 = 11)");
}

TEST(DerivedSymbols, DivisorsThatAreExpressionsMustBePositive) {
  Manifest m;
  Status s = parseManifest(R"({
    "format": "attune-cuda", "version": 1, "function": "f", "chip": "sm_80",
    "arguments": [{"name": "x", "dtype": "f32", "shape": ["N"]}],
    "results": [{"name": "y", "dtype": "f32", "shape": ["N"]}],
    "symbols": [
      {"name": "fd", "value": {"add": [{"floordiv": [{"sub": ["N", 14]},
                                                     {"sub": ["N", 4]}]},
                                       5]}},
      {"name": "cd", "value": {"add": [{"ceildiv": [{"sub": ["N", 14]},
                                                    {"sub": ["N", 4]}]},
                                       5]}},
      {"name": "per", "value": {"floordiv": [100, "fd"]}}],
    "kernels": [{"name": "k", "cubin": "k.cubin", "block": [1, 1, 1],
                 "grid": [["per"], [], []], "params": []}]})",
                           m);
  ASSERT_TRUE(s.isOk()) << s.message();
  auto bind = [&](int64_t n, Bindings &b) {
    Tensor x(0x1000, ATTUNE_RT_F32, {n});
    attune_rt_tensor a = x.view();
    return bindTensors(m, &a, 1, nullptr, 0, /*withResults=*/false, b);
  };
  // N = 7: floordiv(-7, 3) = -3 and ceildiv(-7, 3) = -2, as with literals;
  // per = floordiv(100, 2).
  Bindings b;
  s = bind(7, b);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(std::vector<int64_t>(b.values.begin() + 1, b.values.end()),
            (std::vector<int64_t>{2, 3, 50}));

  // A divisor of 0 or below fails, naming the symbol, the divisor and its
  // value.
  s = bind(4, b);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_TENSOR);
  EXPECT_EQ(s.message(),
            "derived symbol 'fd' = floordiv(N - 14, N - 4) + 5 divides by "
            "N - 4 = 0 for N = 4, but a divisor must be at least 1 (these "
            "shapes do not suit the artifact)");
  s = bind(2, b);
  EXPECT_EQ(s.message(),
            "derived symbol 'fd' = floordiv(N - 14, N - 4) + 5 divides by "
            "N - 4 = -2 for N = 2, but a divisor must be at least 1 (these "
            "shapes do not suit the artifact)");
  // N = 19: fd = floordiv(5, 15) + 5 = 5, so per = 20.
  ASSERT_TRUE(bind(19, b).isOk());
  EXPECT_EQ(b.values[3], 20);

  // A symbol as the divisor, 0 for empty tensors, in a full plan.
  ASSERT_TRUE(parseManifest(
                  R"({
    "format": "attune-cuda", "version": 1, "function": "f", "chip": "sm_80",
    "arguments": [{"name": "x", "dtype": "f32", "shape": ["N"]}],
    "results": [{"name": "y", "dtype": "f32", "shape": ["N"]}],
    "symbols": [{"name": "per", "value": {"ceildiv": [100, "N"]}}],
    "kernels": [{"name": "k", "cubin": "k.cubin", "block": [1, 1, 1],
                 "grid": [["per"], [], []], "params": []}]})",
                  m)
                  .isOk());
  Tensor x(0, ATTUNE_RT_F32, {0});
  Tensor y(0, ATTUNE_RT_F32, {0});
  attune_rt_tensor a = x.view(), r = y.view();
  LaunchPlan plan;
  s = planLaunch(m, &a, 1, &r, 1, plan);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_TENSOR);
  EXPECT_EQ(s.message(), "derived symbol 'per' = ceildiv(100, N) divides by "
                         "N = 0 for N = 0, but a divisor must be at least 1 "
                         "(these shapes do not suit the artifact)");
}

TEST(ResidentCTAs, WithoutADeviceTheyAreOne) {
  Manifest m;
  Status s = parseManifest(residentManifest(), m);
  ASSERT_TRUE(s.isOk()) << s.message();
  auto plan = [&](int64_t b, int64_t sk, LaunchPlan &p,
                  const std::vector<int64_t> *resident) {
    std::vector<Tensor> args = {Tensor(0x1000, ATTUNE_RT_F16, {b, 64}),
                                Tensor(0x2000, ATTUNE_RT_F16, {b, sk, 64})};
    std::vector<Tensor> results = {Tensor(0x3000, ATTUNE_RT_F16, {b, 64})};
    std::vector<attune_rt_tensor> a = views(args), r = views(results);
    return planLaunch(m, a.data(), a.size(), r.data(), r.size(), p, resident);
  };
  // B, Sk, ctas, splits.
  LaunchPlan p;
  ASSERT_TRUE(plan(4, 4096, p, nullptr).isOk());
  EXPECT_EQ(p.bindings.values, (std::vector<int64_t>{4, 4096, 1, 1}));
  EXPECT_EQ(p.grids[0], (std::array<uint32_t, 3>{1, 4, 1}));

  // With the device's counts (one per kernel): 264 / 4 = 66 splits, at most
  // ceildiv(Sk, 64).
  std::vector<int64_t> resident = {264, 0};
  ASSERT_TRUE(plan(4, 8192, p, &resident).isOk());
  EXPECT_EQ(p.bindings.values, (std::vector<int64_t>{4, 8192, 264, 66}));
  EXPECT_EQ(p.grids[0], (std::array<uint32_t, 3>{66, 4, 1}));
  EXPECT_EQ(p.workspaceBytes, (std::vector<uint64_t>{4 * 4 * 66 * 64}));
  ASSERT_TRUE(plan(4, 300, p, &resident).isOk());
  EXPECT_EQ(p.bindings.values[3], 5);
  // A count below 1 is taken as 1.
  resident = {0, 0};
  ASSERT_TRUE(plan(4, 4096, p, &resident).isOk());
  EXPECT_EQ(p.bindings.values[2], 1);

  // attune_rt_result_shapes's path: no device, no results.
  Tensor q(0x1000, ATTUNE_RT_F16, {4, 64}),
      k(0x2000, ATTUNE_RT_F16, {4, 9, 64});
  attune_rt_tensor a[2] = {q.view(), k.view()};
  Bindings b;
  ASSERT_TRUE(
      bindTensors(m, a, 2, nullptr, 0, /*withResults=*/false, b).isOk());
  EXPECT_EQ(b.values, (std::vector<int64_t>{4, 9, 1, 1}));
  // checkTensors alone leaves the derived symbols unbound.
  s = checkTensors(m, a, 2, nullptr, 0, /*withResults=*/false, b);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(b.bound, (std::vector<bool>{true, true, false, false}));
}

} // namespace

namespace {

/// A spec with range [lo, hi).
TensorSpec ranged(double lo, double hi) {
  TensorSpec spec;
  spec.dtype = DType::I32;
  spec.hasRange = true;
  spec.rangeLo = lo;
  spec.rangeHi = hi;
  return spec;
}

TEST(Captures, IntegerRanges) {
  IntegerRange r = integerRange(ranged(0, 4));
  EXPECT_EQ(r.min, 0);
  EXPECT_EQ(r.max, 3);
  r = integerRange(ranged(-1.5, 2.5));
  EXPECT_EQ(r.min, -1);
  EXPECT_EQ(r.max, 2);
  r = integerRange(ranged(0.2, 0.8)); // no integer at all
  EXPECT_GT(r.min, r.max);
  r = integerRange(ranged(-1e300, 1e300));
  EXPECT_EQ(r.min, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(r.max, std::numeric_limits<int64_t>::max());
  r = integerRange(ranged(-1e300, -1e299));
  EXPECT_GT(r.min, r.max);
  EXPECT_EQ(describeRange(ranged(0, 4)), "[0, 4)");
  EXPECT_EQ(describeRange(ranged(-1.5, 1e6)), "[-1.5, 1000000)");
}

TEST(Captures, WhichArgumentsAreChecked) {
  Manifest m;
  Status s = parseManifest(documentMaskManifest(), m);
  ASSERT_TRUE(s.isOk()) << s.message();
  std::vector<bool> checked;
  for (int t = 0; t < static_cast<int>(m.tensors.size()); ++t)
    checked.push_back(isCheckedCapture(m, t));
  // q, k, v, q_doc, kv_doc, o, lse.
  EXPECT_EQ(checked,
            (std::vector<bool>{false, false, false, true, true, false, false}));
}

TEST(Captures, ValuesOutsideTheRangeNameTheElement) {
  Manifest m;
  Status s = parseManifest(documentMaskManifest(), m);
  ASSERT_TRUE(s.isOk()) << s.message();
  DocumentMaskTensors t; // q_doc is [2, 130]
  std::vector<attune_rt_tensor> args = views(t.args),
                                results = views(t.results);
  LaunchPlan plan;
  ASSERT_TRUE(planLaunch(m, args.data(), args.size(), results.data(),
                         results.size(), plan)
                  .isOk());
  std::vector<int32_t> ids(260, 3);
  EXPECT_TRUE(
      checkCaptureValues(m, 3, plan.bindings, ids.data(), 0, 260).isOk());
  ids[135] = 4;
  s = checkCaptureValues(m, 3, plan.bindings, ids.data(), 0, 260);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_CAPTURE_RANGE);
  EXPECT_EQ(s.message(),
            "argument 'q_doc' element [1, 5] is 4, outside its range [0, 4) "
            "(a capture's values are checked before every launch; see "
            "attune_rt_set_capture_checks)");
  // A piece starting at element 100: ids[35] is element 135.
  ids[135] = 3;
  ids[35] = -7;
  s = checkCaptureValues(m, 3, plan.bindings, ids.data(), 100, 160);
  EXPECT_NE(s.message().find("element [1, 5] is -7"), std::string::npos)
      << s.message();
}

TEST(Captures, ScalarCapturesAreCheckedByValue) {
  Manifest m;
  Status s = parseManifest(R"({
    "format": "attune-cuda", "version": 1, "function": "f", "chip": "sm_80",
    "arguments": [
      {"name": "x", "dtype": "f32", "shape": ["N"]},
      {"name": "window", "dtype": "i8", "shape": [], "scalar": true,
       "range": [-4, 100]},
      {"name": "scale", "dtype": "f32", "shape": [], "scalar": true,
       "range": [0, 1]}],
    "results": [{"name": "y", "dtype": "f32", "shape": ["N"]}],
    "kernels": [{"name": "k", "cubin": "k.cubin", "block": [32, 1, 1],
                 "grid": [["N"], [], []], "params": []}]})",
                           m);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_TRUE(isCheckedCapture(m, 1));
  EXPECT_FALSE(isCheckedCapture(m, 2)); // floats are not
  attune_rt_tensor args[3] = {};
  args[1].data = 0xFC;       // -4 as i8 bits
  args[2].data = 0x40000000; // 2.0f: out of [0, 1), not checked
  EXPECT_TRUE(checkScalarCaptures(m, args).isOk());
  args[1].data = 0xFB; // -5
  s = checkScalarCaptures(m, args);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_CAPTURE_RANGE);
  EXPECT_EQ(s.message(),
            "argument 'window' is -5, outside its range [-4, 100)");
  args[1].data = 100;
  EXPECT_EQ(checkScalarCaptures(m, args).message(),
            "argument 'window' is 100, outside its range [-4, 100)");
}

} // namespace
