#!/usr/bin/env bash
#===- scripts/setup.sh - Install dependencies, configure and build -------===#
#
# Idempotent: installs only missing Debian packages (running `apt-get update`
# first when it must install anything), configures build/ once with Ninja
# against LLVM/MLIR 22 (a Release build that keeps Attune's asserts), then
# builds. Meant to be sourced or run by
# scripts/showcase.sh and scripts/test.sh; runs as root on a fresh Debian
# machine (sudo is used when present and needed).
#
#===----------------------------------------------------------------------===#
set -euo pipefail

ATTUNE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ATTUNE_BUILD="${ATTUNE_BUILD:-$ATTUNE_ROOT/build}"
LLVM_PREFIX=/usr/lib/llvm-22

# Everything the build and tests need. Benchmarks add their own.
source "$ATTUNE_ROOT/scripts/packages.sh"
ensure_packages setup cmake ninja-build g++ python3 python3-psutil git \
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools \
  libgtest-dev libomp-22-dev zlib1g-dev libzstd-dev

if [[ ! -f "$ATTUNE_BUILD/build.ninja" ]]; then
  cmake -G Ninja -S "$ATTUNE_ROOT" -B "$ATTUNE_BUILD" \
    -DCMAKE_BUILD_TYPE=Release -DATTUNE_ENABLE_ASSERTIONS=ON \
    -DMLIR_DIR="$LLVM_PREFIX/lib/cmake/mlir" \
    -DLLVM_DIR="$LLVM_PREFIX/lib/cmake/llvm"
fi
cmake --build "$ATTUNE_BUILD" "$@"
