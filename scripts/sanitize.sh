#!/usr/bin/env bash
#===- scripts/sanitize.sh - Build with ASan/UBSan and run the tests ------===#
#
# Configures build-san/ with clang, assertions and
# ATTUNE_SANITIZE="address;undefined" (plus the libFuzzer coverage
# instrumentation, so scripts/fuzz.sh reuses the same build), builds what the
# tests need and runs, under AddressSanitizer (with LeakSanitizer) and
# UndefinedBehaviorSanitizer:
#   * the GoogleTest unit tests (unittests/) and the runtime's tests
#     (runtime/tests, against the fake libcuda);
#   * the whole lit suite, which runs the integration checks of every example
#     (test/Integration, test/Examples) through the sanitized tools.
# Any sanitizer report fails the run: reports abort the process (so the test
# fails) and are also collected under build-san/sanitizer-logs/, which must
# stay empty. Usage:
#   scripts/sanitize.sh [--build-only]
# Environment: ATTUNE_SAN_BUILD (default build-san/), ATTUNE_SAN_JOBS
# (parallel compile jobs, default: the number of cores).
#
#===----------------------------------------------------------------------===#
set -euo pipefail
ATTUNE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${ATTUNE_SAN_BUILD:-$ATTUNE_ROOT/build-san}"
JOBS="${ATTUNE_SAN_JOBS:-$(nproc)}"
LLVM_PREFIX=/usr/lib/llvm-22

source "$ATTUNE_ROOT/scripts/packages.sh"
ensure_packages sanitize cmake ninja-build python3 clang-22 libclang-rt-22-dev \
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools libgtest-dev \
  libomp-22-dev zlib1g-dev libzstd-dev

if [[ ! -f "$BUILD/build.ninja" ]]; then
  launcher=()
  command -v ccache >/dev/null &&
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  cmake -G Ninja -S "$ATTUNE_ROOT" -B "$BUILD" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 "${launcher[@]}" \
    -DMLIR_DIR="$LLVM_PREFIX/lib/cmake/mlir" \
    -DLLVM_DIR="$LLVM_PREFIX/lib/cmake/llvm" \
    -DATTUNE_ENABLE_ASSERTIONS=ON \
    "-DATTUNE_SANITIZE=address;undefined" \
    -DATTUNE_BUILD_FUZZERS=ON
fi
# Only what the tests run (no docs); the fuzzers run their seeds in ctest.
cmake --build "$BUILD" -j "$JOBS" --target attune-opt attune-run attunec \
  AttuneUnitTests AttuneRTTests AttuneRTFakeCuda AttuneRT AttuneFuzzers
[[ "${1:-}" == "--build-only" ]] && exit 0

# shellcheck source=scripts/sanitizer-env.sh
source "$ATTUNE_ROOT/scripts/sanitizer-env.sh" "$BUILD/sanitizer-logs"

# The CPU integration checks at fewer sizes (no S = 1000), every example.
export ATTUNE_CHECK_SIZES=quick

status=0
# The doc checks compare generated files, not code: build/ runs them.
ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS" \
  -E "^docs-up-to-date|^AttuneRT[.]python" \
  2>&1 | tee "$BUILD/ctest.log" || status=$?
# The Python layer loads the sanitized libattune_rt.so into an
# uninstrumented python3, so the ASan runtime is preloaded; CPython's own
# allocations at exit are not Attune's leaks.
asan_rt=$(clang++-22 -print-file-name=libclang_rt.asan-x86_64.so)
LD_PRELOAD="$asan_rt" ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" \
  ctest --test-dir "$BUILD" --output-on-failure -R "^AttuneRT[.]python" \
  2>&1 | tee "$BUILD/ctest-python.log" || status=$?
if ! check_sanitizer_logs; then
  status=1
fi
summary=$(grep -E "tests passed|tests failed" "$BUILD/ctest.log" | tail -n 1)
if [[ $status -eq 0 ]]; then
  echo "ATTUNE SANITIZER TESTS PASSED: $summary, no sanitizer reports"
else
  echo "ATTUNE SANITIZER TESTS FAILED: $summary"
fi
exit $status
