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

source "$HERE/../../scripts/packages.sh"
ensure_packages bench/cpu libopenblas-dev g++ make python3

make -s -C "$HERE"
exec python3 "$HERE/run.py" "$@"
