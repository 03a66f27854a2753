//===- Npy.h - Reading and writing NumPy .npy files -------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The subset of the .npy format (version 1.0/2.0/3.0, C order, little
// endian) that attune-run exchanges: arrays of f64, f32, f16, i64, i32, i16,
// i8, u8 and bool.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_RUNNER_NPY_H
#define ATTUNE_RUNNER_NPY_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace attune::runner {

/// A dense C-order array as stored in a .npy file.
struct NpyArray {
  /// NumPy's type string without the byte order, e.g. "f4", "f2", "i8", "b1".
  std::string dtype;
  std::vector<int64_t> shape;
  /// Raw little-endian element bytes.
  std::vector<char> bytes;

  /// Bytes per element of `dtype`.
  size_t elementSize() const;
  /// The product of `shape`, which must not overflow (readNpy checks).
  int64_t numElements() const;
  /// The product of `shape`, or nullopt if it overflows int64.
  std::optional<int64_t> checkedNumElements() const;
};

/// Reads `path`. Errors name the file and what is wrong with it. Without
/// `withData`, `bytes` stays empty (the header and the data's size are
/// still checked): enough to learn a shape.
llvm::Expected<NpyArray> readNpy(llvm::StringRef path, bool withData = true);

/// Writes `array` to `path` (format version 1.0).
llvm::Error writeNpy(llvm::StringRef path, const NpyArray &array);

} // namespace attune::runner

#endif // ATTUNE_RUNNER_NPY_H
