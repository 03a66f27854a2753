#!/usr/bin/env bash
#===- scripts/test.sh - Set up, build and run every test -----------------===#
#
# Sets everything up (scripts/setup.sh), builds every target and runs all
# tests through ctest (lit suite, GoogleTest unit tests, doc checks, with
# assertions on), then the same tests built by clang under ASan/UBSan
# (scripts/sanitize.sh, into build-san/) and every fuzz target for
# ATTUNE_FUZZ_SECONDS (default 60) seconds each (scripts/fuzz.sh), ending
# with a one-line summary. CI (.ci/run) runs exactly this.
# ATTUNE_SANITIZE_TESTS=0 skips the last two steps (docs/Testing.md).
#
#===----------------------------------------------------------------------===#
set -euo pipefail
ATTUNE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ATTUNE_BUILD="${ATTUNE_BUILD:-$ATTUNE_ROOT/build}"
"$ATTUNE_ROOT/scripts/setup.sh"

# The CUDA target's cubin tests need ptxas (CUDA toolkit; no GPU).
ptxas="${ATTUNE_PTXAS:-/usr/local/cuda/bin/ptxas}"
if [[ ! -x "$ptxas" ]]; then
  echo "note: no ptxas at $ptxas: the CUDA cubin tests are unsupported" \
       "(set ATTUNE_PTXAS or install the CUDA toolkit)"
fi

status=0
start=$SECONDS
ctest --test-dir "$ATTUNE_BUILD" --output-on-failure -j "$(nproc)" \
  2>&1 | tee "$ATTUNE_BUILD/ctest.log" || status=$?
summary=$(grep -E "tests passed|tests failed" "$ATTUNE_BUILD/ctest.log" | tail -n 1)
times="ctest $((SECONDS - start))s"

# Sanitizers and fuzzing: they install clang through scripts/packages.sh.
if [[ "${ATTUNE_SANITIZE_TESTS:-1}" != 0 ]]; then
  start=$SECONDS
  "$ATTUNE_ROOT/scripts/sanitize.sh" || { status=1; summary+="; sanitizer tests failed"; }
  times+=", sanitizers $((SECONDS - start))s"
  start=$SECONDS
  "$ATTUNE_ROOT/scripts/fuzz.sh" || { status=1; summary+="; fuzzing found a crash"; }
  times+=", fuzzing $((SECONDS - start))s"
fi
echo "test.sh times: $times"
if [[ $status -eq 0 ]]; then
  echo "ATTUNE TESTS PASSED: $summary"
else
  echo "ATTUNE TESTS FAILED: $summary"
fi
exit $status
