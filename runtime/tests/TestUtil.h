//===- TestUtil.h - Helpers shared by the runtime tests ---------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_RUNTIME_TESTS_TESTUTIL_H
#define ATTUNE_RUNTIME_TESTS_TESTUTIL_H

#include "attune_rt.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace attune::rt::test {

/// A caller tensor that owns its shape and strides.
struct Tensor {
  uint64_t data = 0;
  int32_t dtype = ATTUNE_RT_F32;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;
  bool nullStrides = false;

  Tensor() = default;
  /// A contiguous tensor at `data`.
  Tensor(uint64_t data, int32_t dtype, std::vector<int64_t> shape)
      : data(data), dtype(dtype), shape(std::move(shape)) {
    strides.assign(this->shape.size(), 1);
    // Wrapping: tests pass shapes whose element count overflows on purpose
    // (the runtime must report it; these strides are then never looked at).
    for (size_t d = this->shape.size(); d-- > 1;)
      strides[d - 1] =
          static_cast<int64_t>(static_cast<uint64_t>(strides[d]) *
                               static_cast<uint64_t>(this->shape[d]));
  }

  attune_rt_tensor view() const {
    return {data, dtype, static_cast<int32_t>(shape.size()), shape.data(),
            nullStrides ? nullptr : strides.data()};
  }
};

/// Views of `tensors`, valid while they live.
inline std::vector<attune_rt_tensor> views(const std::vector<Tensor> &tensors) {
  std::vector<attune_rt_tensor> out;
  for (const Tensor &t : tensors)
    out.push_back(t.view());
  return out;
}

/// A split-KV decode pair whose split count follows the device: `ctas` CTAs
/// of `split` fit on it at once, shared by the B batch entries (at most one
/// split per 64 keys); `moreSymbols` is appended to its "symbols".
inline std::string residentManifest(const std::string &moreSymbols = "") {
  return R"({
  "format": "attune-cuda", "version": 1, "function": "decode", "chip": "sm_90a",
  "arguments": [{"name": "q", "dtype": "f16", "shape": ["B", 64]},
                {"name": "k", "dtype": "f16", "shape": ["B", "Sk", 64]}],
  "results": [{"name": "o", "dtype": "f16", "shape": ["B", 64]}],
  "symbols": [{"name": "ctas", "resident_ctas": "split"},
              {"name": "splits",
               "value": {"max": [{"min": [{"floordiv": ["ctas", "B"]},
                                          {"ceildiv": ["Sk", 64]}]}, 1]}})" +
         moreSymbols + R"(],
  "workspace": [{"name": "partial", "dtype": "f32",
                 "shape": ["B", "splits", 64]}],
  "kernels": [
    {"name": "split", "cubin": "split.cubin", "block": [128, 2, 1],
     "grid": [["splits"], ["B"], []], "shared_bytes": 2048,
     "params": [{"tensor": "q"}, {"tensor": "k"}, {"tensor": "partial"},
                {"scalar": "i32", "symbol": "splits"}]},
    {"name": "combine", "cubin": "combine.cubin", "block": [64, 1, 1],
     "grid": [["B"], [], []],
     "params": [{"tensor": "partial"}, {"tensor": "o"},
                {"scalar": "i32", "symbol": "splits"}]}
  ]
})";
}

/// A fresh directory under $TMPDIR, removed with its files at destruction.
class TempDir {
public:
  TempDir() {
    const char *base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") +
                          "/attune-rt-test-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (mkdtemp(buffer.data()))
      path_ = buffer.data();
  }
  ~TempDir() {
    for (const std::string &file : files_)
      std::remove((path_ + "/" + file).c_str());
    std::remove(path_.c_str());
  }

  /// Removes `name` (a file, link, FIFO or empty directory the test made in
  /// the directory) with the directory.
  void track(const std::string &name) { files_.push_back(name); }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  const std::string &path() const { return path_; }

  /// Writes `contents` to `name` inside the directory.
  void write(const std::string &name, const std::string &contents) {
    std::FILE *f = std::fopen((path_ + "/" + name).c_str(), "wb");
    if (!f)
      return;
    std::fwrite(contents.data(), 1, contents.size(), f);
    std::fclose(f);
    files_.push_back(name);
  }

private:
  std::string path_;
  std::vector<std::string> files_;
};

/// The manifest of docs/CUDAArtifacts.md with symbolic head counts (the
/// example's constraint names Hq and Hkv). Kept in Inputs/document_mask.
inline const char *documentMaskManifest() {
  return R"({
  "format": "attune-cuda", "version": 1,
  "function": "document_mask",
  "chip": "sm_90a",
  "arguments": [
    {"name": "q", "dtype": "bf16", "shape": ["B", "Hq", "Sq", 128]},
    {"name": "k", "dtype": "bf16", "shape": ["B", "Hkv", "Sk", 128]},
    {"name": "v", "dtype": "bf16", "shape": ["B", "Hkv", "Sk", 128]},
    {"name": "q_doc", "dtype": "i32", "shape": ["B", "Sq"], "range": [0, 4]},
    {"name": "kv_doc", "dtype": "i32", "shape": ["B", "Sk"], "range": [0, 4]}
  ],
  "results": [
    {"name": "o", "dtype": "bf16", "shape": ["B", "Hq", "Sq", 128]},
    {"name": "lse", "dtype": "f32", "shape": ["B", "Hq", "Sq"]}
  ],
  "constraints": [{"divisible": ["Hq", "Hkv"]}],
  "workspace": [],
  "kernels": [
    {
      "name": "document_mask_fwd",
      "cubin": "document_mask_fwd.cubin",
      "ptx": "document_mask_fwd.ptx",
      "block": [128, 1, 1],
      "grid": [[{"ceildiv": ["Sq", 64]}], ["Hq"], ["B"]],
      "shared_bytes": 81920,
      "tile_sizes": [64, 64], "registers": 168, "spill_bytes": 0,
      "params": [{"tensor": "q"}, {"tensor": "k"}, {"tensor": "v"},
                 {"tensor": "q_doc"}, {"tensor": "kv_doc"},
                 {"tensor": "o"}, {"tensor": "lse"}]
    }
  ]
})";
}

/// Arguments and results for documentMaskManifest(): B=2, Hq=8, Hkv=2,
/// Sq=130, Sk=77, at distinct 256-byte aligned addresses.
struct DocumentMaskTensors {
  std::vector<Tensor> args, results;

  DocumentMaskTensors(int64_t b = 2, int64_t hq = 8, int64_t hkv = 2,
                      int64_t sq = 130, int64_t sk = 77) {
    args = {Tensor(0x10000, ATTUNE_RT_BF16, {b, hq, sq, 128}),
            Tensor(0x20000, ATTUNE_RT_BF16, {b, hkv, sk, 128}),
            Tensor(0x30000, ATTUNE_RT_BF16, {b, hkv, sk, 128}),
            Tensor(0x40000, ATTUNE_RT_I32, {b, sq}),
            Tensor(0x50000, ATTUNE_RT_I32, {b, sk})};
    results = {Tensor(0x60000, ATTUNE_RT_BF16, {b, hq, sq, 128}),
               Tensor(0x70000, ATTUNE_RT_F32, {b, hq, sq})};
  }
};

} // namespace attune::rt::test

#endif // ATTUNE_RUNTIME_TESTS_TESTUTIL_H
