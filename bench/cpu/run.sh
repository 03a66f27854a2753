#!/usr/bin/env bash
#===- bench/cpu/run.sh - Attune CPU attention benchmark, one command -----===#
#
# Part of the Attune project.
#
#   bench/cpu/run.sh [--quick] [--pipelines reference,fused] [run.py options]
#
# Installs Debian's libopenblas-dev when missing (a benchmark-only
# dependency: the main build and CI never need it), builds the OpenBLAS
# baselines with bench/cpu/Makefile into bench/cpu/build/, then runs run.py:
# sgemm ceiling, unfused OpenBLAS attention, Attune's pipelines through
# build/bin/attune-run, and PyTorch SDPA if torch imports. Prints a table and
# writes bench/cpu/results.json. Attune itself must already be built
# (scripts/setup.sh); ATTUNE_RUN or --attune-run picks another attune-run.
#
#===----------------------------------------------------------------------===#
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

PACKAGES=(libopenblas-dev g++ make python3)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "bench/cpu: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

make -s -C "$HERE"
exec python3 "$HERE/run.py" "$@"
