//===- NpyFuzzer.cpp - Fuzz the .npy reader ---------------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// readNpy reads a path, so each input is written to one temporary file. An
// array it accepts must hold exactly numElements * elementSize bytes and
// survive writeNpy + readNpy unchanged.
//
//===----------------------------------------------------------------------===//

#include "attune/Runner/Npy.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace attune::runner;

/// A temporary file name, removed at exit.
static std::string tempPath(const char *suffix) {
  llvm::SmallString<128> path;
  if (llvm::sys::fs::createTemporaryFile("attune-fuzz-npy", suffix, path)) {
    llvm::errs() << "attune-fuzz-npy: cannot create a temporary file\n";
    std::abort();
  }
  return std::string(path);
}

static void check(bool ok, const char *what) {
  if (ok)
    return;
  llvm::errs() << "attune-fuzz-npy: " << what << "\n";
  std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const std::string input = tempPath("in.npy");
  static const std::string output = tempPath("out.npy");
  static const int cleanup = std::atexit([] {
    std::remove(input.c_str());
    std::remove(output.c_str());
  });
  (void)cleanup;
  {
    std::FILE *file = std::fopen(input.c_str(), "wb");
    check(file, "cannot write the input file");
    std::fwrite(data, 1, size, file);
    std::fclose(file);
  }
  llvm::Expected<NpyArray> array = readNpy(input);
  if (!array) {
    std::string message = llvm::toString(array.takeError());
    check(!message.empty(), "readNpy failed without a message");
    return 0;
  }
  check(array->bytes.size() ==
            size_t(array->numElements()) * array->elementSize(),
        "an accepted array's data size differs from its shape");
  check(!writeNpy(output, *array), "writeNpy failed on an accepted array");
  llvm::Expected<NpyArray> back = readNpy(output);
  check(bool(back), "readNpy rejects what writeNpy wrote");
  check(back->dtype == array->dtype && back->shape == array->shape &&
            back->bytes == array->bytes,
        "writeNpy + readNpy changed the array");
  return 0;
}
