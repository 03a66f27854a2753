#===- scripts/sanitizer-env.sh - Options for sanitized runs --------------===#
#
# Sourced by scripts/sanitize.sh and scripts/fuzz.sh with a log directory:
#   source scripts/sanitizer-env.sh LOGDIR
# Every report aborts the process (so a test that expects a failure exit
# code still fails on one) and is also written to LOGDIR/<tool>.<pid>;
# check_sanitizer_logs prints them and fails if there are any.
# scripts/lsan.supp lists the leaks of the installed LLVM/MLIR libraries
# that are not Attune's to fix; none of Attune's own code may be listed.
#
#===----------------------------------------------------------------------===#
ATTUNE_SAN_LOGS="$1"
rm -rf "$ATTUNE_SAN_LOGS"
mkdir -p "$ATTUNE_SAN_LOGS"
_attune_scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:check_initialization_order=1:log_path=$ATTUNE_SAN_LOGS/asan"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$ATTUNE_SAN_LOGS/ubsan"
export LSAN_OPTIONS="suppressions=$_attune_scripts/lsan.supp:print_suppressions=0"
# lit passes *SAN_OPTIONS through to the tests by default.

check_sanitizer_logs() {
  local logs
  logs=$(find "$ATTUNE_SAN_LOGS" -type f | sort)
  [[ -z "$logs" ]] && return 0
  echo "sanitizer reports ($(echo "$logs" | wc -l)):"
  local f
  for f in $logs; do
    echo "==> $f"
    head -n 60 "$f"
  done
  return 1
}
