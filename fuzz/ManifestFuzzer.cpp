//===- ManifestFuzzer.cpp - Fuzz the runtime's manifest loader --*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Feeds the input to the runtime's JSON parser and manifest validator
// (runtime/lib), and describes every tensor, symbol and condition of a
// manifest that validates, as the launcher's messages do. A crash, a hang or
// a sanitizer report is a finding; an error status must carry a message.
//
//===----------------------------------------------------------------------===//

#include "Json.h"
#include "Manifest.h"

#include <cstdio>
#include <cstdlib>
#include <string_view>

using namespace attune::rt;

static void check(bool ok, const char *what) {
  if (ok)
    return;
  std::fprintf(stderr, "attune-fuzz-manifest: %s\n", what);
  std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  JsonValue value;
  std::string error;
  if (!parseJson(text, value, error))
    check(!error.empty(), "parseJson failed without a message");

  Manifest manifest;
  Status status = parseManifest(text, manifest);
  if (!status.isOk()) {
    check(!status.message().empty(), "parseManifest failed without a message");
    return 0;
  }
  for (int t = 0; t < int(manifest.tensors.size()); ++t) {
    (void)manifest.describeTensor(t);
    (void)manifest.describeShape(t);
  }
  for (const KernelSpec &kernel : manifest.kernels)
    if (kernel.condition)
      (void)manifest.describe(*kernel.condition);
  return 0;
}
