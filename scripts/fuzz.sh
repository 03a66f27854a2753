#!/usr/bin/env bash
#===- scripts/fuzz.sh - Run every libFuzzer target for a bounded time ----===#
#
# Builds the fuzz targets of fuzz/ in the sanitized clang build that
# scripts/sanitize.sh configures (build-san/) and runs each one for
# ATTUNE_FUZZ_SECONDS (default 60) seconds, from its seed corpus
# (examples/ for the spec fuzzers, fuzz/corpus/<target>/ and the dictionary
# fuzz/<target>.dict for the others) and
# the corpus earlier runs grew (build-san/fuzz-corpus/<target>/). Any crash,
# sanitizer report, timeout (ATTUNE_FUZZ_TIMEOUT seconds for one input,
# default 30) or out-of-memory fails the run; libFuzzer saves the input
# under fuzz/findings/<target>-crash-<sha1> (docs/Testing.md says how to
# reproduce and minimise it). Usage:
#   scripts/fuzz.sh [TARGET...]      (default: parse cpu cuda npy manifest)
#
#===----------------------------------------------------------------------===#
set -euo pipefail
ATTUNE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${ATTUNE_SAN_BUILD:-$ATTUNE_ROOT/build-san}"
SECONDS_EACH="${ATTUNE_FUZZ_SECONDS:-60}"
TIMEOUT="${ATTUNE_FUZZ_TIMEOUT:-30}"
FINDINGS="$ATTUNE_ROOT/fuzz/findings"
targets=("$@")
((${#targets[@]})) || targets=(parse cpu cuda npy manifest)

"$ATTUNE_ROOT/scripts/sanitize.sh" --build-only
fuzzers=()
for t in "${targets[@]}"; do fuzzers+=("attune-fuzz-$t"); done
cmake --build "$BUILD" -j "${ATTUNE_SAN_JOBS:-$(nproc)}" --target "${fuzzers[@]}"

# As in scripts/sanitize.sh, but reports go to the fuzzer's log, where
# libFuzzer prints them next to the input that caused them.
source "$ATTUNE_ROOT/scripts/sanitizer-env.sh" "$BUILD/fuzz-sanitizer-logs"
export ASAN_OPTIONS="${ASAN_OPTIONS%:log_path=*}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS%:log_path=*}"

seeds_of() {
  case "$1" in
    parse|cpu|cuda) echo "$ATTUNE_ROOT/examples" ;;
    *) echo "$ATTUNE_ROOT/fuzz/corpus/$1" ;;
  esac
}

mkdir -p "$FINDINGS"
status=0
summary=()
for t in "${targets[@]}"; do
  corpus="$BUILD/fuzz-corpus/$t"
  log="$BUILD/fuzz-$t.log"
  mkdir -p "$corpus"
  echo "fuzz: attune-fuzz-$t for ${SECONDS_EACH}s (log: $log)"
  dict=()
  [[ -f "$ATTUNE_ROOT/fuzz/$t.dict" ]] && dict=(-dict="$ATTUNE_ROOT/fuzz/$t.dict")
  rc=0
  "$BUILD/bin/attune-fuzz-$t" "${dict[@]}" -max_total_time="$SECONDS_EACH" \
    -timeout="$TIMEOUT" -rss_limit_mb=4096 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$FINDINGS/$t-" \
    "$corpus" "$(seeds_of "$t")" >"$log" 2>&1 || rc=$?
  # Only for the summary line: a log without the stats (a crash before
  # libFuzzer printed them) must not end the script under pipefail; the
  # verdict is rc.
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" |
            grep -o '[0-9]*$' || true)
  if [[ $rc -eq 0 ]]; then
    summary+=("$t: ${execs:-?} inputs, no crash")
  else
    status=1
    artifact=$(grep -o "Test unit written to .*" "$log" | tail -n 1 |
                 sed 's/Test unit written to //' || true)
    summary+=("$t: CRASH after ${execs:-?} inputs: ${artifact:-see $log}")
    # The report's header and stack (the shadow-byte map after them says
    # little), then the input libFuzzer saved: what CI's log must show.
    sed -n '/ERROR: \|runtime error\|attune-fuzz: \|deadly signal/,/^$/p' "$log" |
      head -n 60
    grep -A 6 "^MS: " "$log" | tail -n 7
  fi
done
printf 'fuzz: %s\n' "${summary[@]}"
if [[ $status -eq 0 ]]; then
  echo "ATTUNE FUZZING PASSED (${SECONDS_EACH}s per target)"
else
  echo "ATTUNE FUZZING FAILED: reproduce with $BUILD/bin/attune-fuzz-<target> <input>"
fi
exit $status
