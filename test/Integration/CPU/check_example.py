#!/usr/bin/env python3
"""Runs one spec under `attune-run --check` at the awkward sizes every
variant is held to (docs/Testing.md): S = 1, 17, 113 and 1000, Sq != Sk
both ways, a batch of 2, and a fresh seed per size, through every CPU
pipeline (the fused default and the reference). Exits non-zero if any run
fails, printing its output."""

import argparse
import os
import subprocess
import sys

SIZES = [
    "B=1,Sq=1,Sk=1",
    "B=2,Sq=17,Sk=17",
    "B=1,Sq=113,Sk=113",
    "B=1,Sq=1000,Sk=1000",
    "B=2,Sq=17,Sk=113",
    "B=1,Sq=113,Sk=17",
    "B=3,Sq=1,Sk=1000",
]

# ATTUNE_CHECK_SIZES=quick (scripts/sanitize.sh, whose instrumented oracle
# and tools are several times slower) keeps the odd sizes and Sq != Sk both
# ways but drops S = 1000.
QUICK_SIZES = [
    "B=1,Sq=1,Sk=1",
    "B=2,Sq=17,Sk=17",
    "B=2,Sq=17,Sk=113",
    "B=1,Sq=113,Sk=17",
]

PIPELINES = ["fused", "reference"]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("attune_run")
    parser.add_argument("spec")
    parser.add_argument("extra", nargs="*", help="more attune-run flags")
    args = parser.parse_args()
    failures = 0
    quick = os.environ.get("ATTUNE_CHECK_SIZES") == "quick"
    runs = [(pipeline, seed, sizes) for pipeline in PIPELINES
            for seed, sizes in enumerate(QUICK_SIZES if quick else SIZES)]
    for pipeline, seed, sizes in runs:
        cmd = [args.attune_run, args.spec, "--check", "--sizes", sizes,
               "--seed", str(seed), "--pipeline", pipeline] + args.extra
        proc = subprocess.run(cmd, capture_output=True, text=True)
        status = "PASS" if proc.returncode == 0 else "FAIL"
        print(f"{status} {pipeline} {sizes}")
        if proc.returncode != 0:
            failures += 1
            print("  $ " + " ".join(cmd))
            print(proc.stdout + proc.stderr)
    print(f"{len(runs) - failures} of {len(runs)} runs passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
