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

# The showcase: grouped-query causal attention with ALiBi, sliding window
# and soft-capping in one op. Compile it for this CPU, run it on random
# data, check it against the float64 oracle, and time it.
spec="$ATTUNE_ROOT/examples/combined.mlir"
echo "== showcase: $spec"
sed -n '1,/^$/p' "$spec"
"$ATTUNE_BUILD/bin/attune-run" "$spec" --sizes B=2,Sq=512,Sk=512 --check --bench
