#!/usr/bin/env bash
#===- scripts/test.sh - Set up, build and run every test -----------------===#
#
# Sets everything up (scripts/setup.sh), builds every target and runs all
# tests through ctest (lit suite, GoogleTest unit tests, doc checks), ending
# with a one-line summary. CI (.ci/run) runs exactly this.
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
ctest --test-dir "$ATTUNE_BUILD" --output-on-failure -j "$(nproc)" \
  2>&1 | tee "$ATTUNE_BUILD/ctest.log" || status=$?
summary=$(grep -E "tests passed|tests failed" "$ATTUNE_BUILD/ctest.log" | tail -n 1)
if [[ $status -eq 0 ]]; then
  echo "ATTUNE TESTS PASSED: $summary"
else
  echo "ATTUNE TESTS FAILED: $summary"
fi
exit $status
