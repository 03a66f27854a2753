#!/usr/bin/env bash
#===- bench/gpu/build_artifacts.sh - Compile the GPU benchmark artifacts ---===#
#
# Part of the Attune project.
#
# Compiles every examples/*.mlir and bench/gpu/specs/*.mlir (or the specs
# given after OUTDIR) with
#
#   build/bin/attunec SPEC --target=cuda:$CHIP -o OUTDIR/<name>
#
# into one artifact directory per spec (docs/CUDAArtifacts.md), the input of
# bench/gpu/run.py. The GPU kernels take bf16/f16 Q/K/V, so specs whose Q,
# K and V are f32 (most examples) get $GPU_ELEMENT_FLAG (default
# --gpu-element-type=bf16: attunec retypes Q/K/V/O to bf16; set it empty to
# compile them as written). Specs already in bf16/f16 are compiled as is.
#
# Keeps going when a spec fails; logs go to OUTDIR/_logs/<name>.log; the
# summary lists every spec that failed. Exits 1 if any failed.
#
#   bench/gpu/build_artifacts.sh build-artifacts
#   CHIP=sm_80 bench/gpu/build_artifacts.sh build-artifacts-sm80
#   bench/gpu/build_artifacts.sh build-artifacts examples/causal.mlir
#
# Environment: ATTUNEC (default build/bin/attunec), CHIP (default sm_90a),
# GPU_ELEMENT_FLAG, ATTUNEC_FLAGS (extra flags for every spec).
#
#===----------------------------------------------------------------------===#

set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ $# -lt 1 ]; then
  echo "usage: $0 OUTDIR [SPEC.mlir ...]" >&2
  exit 2
fi
OUT=$1
shift
ATTUNEC=${ATTUNEC:-$ROOT/build/bin/attunec}
CHIP=${CHIP:-sm_90a}
GPU_ELEMENT_FLAG=${GPU_ELEMENT_FLAG---gpu-element-type=bf16}
read -r -a EXTRA <<< "${ATTUNEC_FLAGS:-}"

if [ ! -x "$ATTUNEC" ]; then
  echo "error: $ATTUNEC not found; build the project first (scripts/setup.sh)" >&2
  exit 2
fi
if [ $# -gt 0 ]; then
  SPECS=("$@")
else
  SPECS=("$ROOT"/examples/*.mlir "$ROOT"/bench/gpu/specs/*.mlir)
fi

mkdir -p "$OUT/_logs"
ok=()
failed=()
skipped=0
for spec in "${SPECS[@]}"; do
  name=$(basename "$spec" .mlir)
  # Examples the CUDA target refuses (functions with ops around attention,
  # docs/CUDATarget.md) say so in their header.
  if grep -q 'Targets: CPU only' "$spec"; then
    echo "skip $name (Targets: CPU only)"
    skipped=$((skipped + 1))
    continue
  fi
  dir="$OUT/$name"
  log="$OUT/_logs/$name.log"
  rm -rf "$dir"  # never leave a stale artifact behind a failed compile
  flags=(--target="cuda:$CHIP")
  # Q/K/V element type: the spec's own when it is bf16/f16, else retype.
  if ! grep -qE 'x(bf16|f16)>' "$spec" && [ -n "$GPU_ELEMENT_FLAG" ]; then
    flags+=("$GPU_ELEMENT_FLAG")
  fi
  start=$(date +%s.%N)
  # A program of several steps (docs/CUDATarget.md, "Programs") is not
  # retyped: its linalg steps keep the spec's types, so it is compiled as
  # written.
  compiled=0
  if "$ATTUNEC" "$spec" "${flags[@]}" "${EXTRA[@]}" -o "$dir" >"$log" 2>&1; then
    compiled=1
  elif grep -q 'is a program of several steps' "$log"; then
    flags=(--target="cuda:$CHIP")
    echo "(a program: compiled as written, without $GPU_ELEMENT_FLAG)" >"$log"
    "$ATTUNEC" "$spec" "${flags[@]}" "${EXTRA[@]}" -o "$dir" >>"$log" 2>&1 &&
      compiled=1
  fi
  if [ "$compiled" = 1 ]; then
    missing=""
    [ -f "$dir/manifest.json" ] || missing+=" manifest.json"
    [ -f "$dir/spec.mlir" ] || missing+=" spec.mlir"
    ls "$dir"/*.cubin >/dev/null 2>&1 || missing+=" *.cubin"
    if [ -n "$missing" ]; then
      echo "FAIL $name: attunec succeeded but wrote no$missing" | tee -a "$log"
      failed+=("$name")
      continue
    fi
    secs=$(echo "$(date +%s.%N) - $start" | bc 2>/dev/null || echo "?")
    echo "ok   $name (${flags[*]}, ${secs}s)"
    ok+=("$name")
  else
    echo "FAIL $name (${flags[*]}): $(grep -m1 -i 'error' "$log" || tail -n1 "$log")"
    failed+=("$name")
  fi
done

echo "${#ok[@]} of $((${#SPECS[@]} - skipped)) specs compiled into $OUT" \
  "($skipped CPU-only skipped)"
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed (logs in $OUT/_logs): ${failed[*]}"
  exit 1
fi
