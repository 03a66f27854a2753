#!/usr/bin/env bash
#===- bench/gpu/ptx_identity.sh - Same PTX from two attunec binaries -------===#
#
# Part of the Attune project.
#
# Compiles every spec with two attunec binaries and diffs the .ptx and
# manifest.json files: the check that a refactoring of the CUDA target
# changes no kernel. No GPU needed (ptxas must be installed: the tile
# search reads its register counts).
#
#   bench/gpu/ptx_identity.sh OLD_ATTUNEC NEW_ATTUNEC OUTDIR
#
# Configurations (each through bench/gpu/build_artifacts.sh, over
# examples/*.mlir and bench/gpu/specs/*.mlir):
#
#   sm90a-bf16   sm_90a, f32 specs retyped to bf16 (wgmma)
#   sm90a-f16    sm_90a, retyped to f16
#   sm90a-sync   sm_90a, bf16, --mma=sync
#   sm80-bf16    sm_80, bf16
#   sm90a-f32    sm_90a, f32 specs as written (the three-plane kernels)
#   headsize     sm_90a, bf16, the head-size sweep of headsize_specs.py
#
# OLD's artifacts go to OUTDIR/<config> and are reused when
# OUTDIR/<config>/.done exists (delete it to regenerate); NEW's go to
# OUTDIR/new/<config>. Prints one line per difference and a summary; exits 1
# if anything differs: a .ptx or manifest.json, a spec that compiles with one
# binary only, or its log (warnings such as spills).
#
# Environment: JOBS (configurations compiled at once, default 1), CONFIGS
# (a space-separated subset of the names above).
#
#===----------------------------------------------------------------------===#

set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ $# -ne 3 ]; then
  echo "usage: $0 OLD_ATTUNEC NEW_ATTUNEC OUTDIR" >&2
  exit 2
fi
OLD=$(realpath "$1")
NEW=$(realpath "$2")
OUT=$(mkdir -p "$3" && realpath "$3")
JOBS=${JOBS:-1}
CONFIGS=${CONFIGS:-sm90a-bf16 sm90a-f16 sm90a-sync sm80-bf16 sm90a-f32 headsize}
for bin in "$OLD" "$NEW"; do
  if [ ! -x "$bin" ]; then
    echo "error: $bin is not an executable" >&2
    exit 2
  fi
done

# The head-size sweep, written once.
SWEEP="$OUT/headsize-specs"
if [ ! -f "$SWEEP/.done" ]; then
  rm -rf "$SWEEP"
  python3 "$ROOT/bench/gpu/headsize_specs.py" "$SWEEP" >/dev/null &&
    touch "$SWEEP/.done" || { echo "error: headsize_specs.py failed" >&2; exit 2; }
fi

# Compiles configuration $2 with binary $1 into directory $3.
compile() {
  local bin=$1 config=$2 dir=$3
  local chip=sm_90a element=--gpu-element-type=bf16 flags=""
  local specs=("$ROOT"/examples/*.mlir "$ROOT"/bench/gpu/specs/*.mlir)
  case $config in
    sm90a-bf16) ;;
    sm90a-f16) element=--gpu-element-type=f16 ;;
    sm90a-sync) flags=--mma=sync ;;
    sm80-bf16) chip=sm_80 ;;
    sm90a-f32) element= ;;
    headsize) specs=("$SWEEP"/*.mlir) ;;
    *) echo "error: unknown configuration '$config'" >&2; return 2 ;;
  esac
  rm -rf "$dir"
  mkdir -p "$dir"
  ATTUNEC=$bin CHIP=$chip GPU_ELEMENT_FLAG=$element ATTUNEC_FLAGS=$flags \
    "$ROOT/bench/gpu/build_artifacts.sh" "$dir" "${specs[@]}" \
    >"$dir/_summary.log" 2>&1
  touch "$dir/.done"
}

# Compiles one configuration with both binaries (the old one unless cached).
both() {
  local config=$1
  if [ ! -f "$OUT/$config/.done" ]; then
    compile "$OLD" "$config" "$OUT/$config"
  fi
  compile "$NEW" "$config" "$OUT/new/$config"
}

running=0
for config in $CONFIGS; do
  both "$config" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

differences=0 files=0 specs=0
report() {
  echo "DIFF $1"
  differences=$((differences + 1))
}
for config in $CONFIGS; do
  ref="$OUT/$config" new="$OUT/new/$config"
  for log in "$ref"/_logs/*.log; do
    name=$(basename "$log" .log)
    specs=$((specs + 1))
    # Logs name the output directory; compare them without it.
    if ! diff -q <(sed "s|$ref/|DIR/|g" "$log") \
                 <(sed "s|$new/|DIR/|g" "$new/_logs/$name.log" 2>/dev/null) \
                 >/dev/null; then
      report "$config/$name: log"
    fi
    if [ -d "$ref/$name" ] && [ ! -d "$new/$name" ]; then
      report "$config/$name: compiled by OLD only"
      continue
    fi
    if [ ! -d "$ref/$name" ] && [ -d "$new/$name" ]; then
      report "$config/$name: compiled by NEW only"
      continue
    fi
    [ -d "$ref/$name" ] || continue
    for file in "$ref/$name"/*.ptx "$ref/$name/manifest.json"; do
      files=$((files + 1))
      if ! cmp -s "$file" "$new/$name/$(basename "$file")"; then
        report "$config/$name/$(basename "$file")"
      fi
    done
  done
done
echo "$specs spec compilations, $files .ptx/manifest.json files compared," \
  "$differences differences"
[ "$differences" -eq 0 ]
