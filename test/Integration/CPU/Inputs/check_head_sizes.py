#!/usr/bin/env python3
"""Checks the fused CPU kernel at many head sizes against the float64 oracle.

For each head size D (or D:Dv, when the value head size differs) it writes a
spec of the given kind and runs `attune-run --check` on it at some of the
awkward sizes (S = 1, 17, 113, Sq != Sk both ways). To keep CI time small a
head size runs `--per-dim` of them, rotating through the list so that every
size is met across the head sizes; `--per-dim 0` runs all of them (a full
sweep). Kinds:

  dense   no mask; O and lse
  causal  strictly causal minus row 5 (j < i, i != 5): rows 0 and 5 are fully
          masked (O = 0, lse = -inf, checked exactly)
  score   a soft-cap score region (tanh, evaluated on vectors)
  gqa     4 query heads share 2 key/value heads, with a causal mask

Exits non-zero if any run fails, printing its output."""

import argparse
import os
import subprocess
import sys
import tempfile

SIZES = [
    "B=1,Sq=1,Sk=1",
    "B=2,Sq=17,Sk=17",
    "B=1,Sq=113,Sk=113",
    "B=2,Sq=17,Sk=113",
    "B=1,Sq=113,Sk=17",
]

MASKS = {
    "dense": "",
    "causal": """
    mask(%b, %h, %i, %j) {
      %c5 = arith.constant 5 : index
      %before = arith.cmpi ult, %j, %i : index
      %not5 = arith.cmpi ne, %i, %c5 : index
      %keep = arith.andi %before, %not5 : i1
      attn.yield %keep : i1
    }""",
    "score": """
    score(%s, %b, %h, %i, %j) {
      %cap = arith.constant 2.0 : f32
      %x = arith.divf %s, %cap : f32
      %t = math.tanh %x : f32
      %r = arith.mulf %t, %cap : f32
      attn.yield %r : f32
    }""",
    "gqa": """
    mask(%b, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }""",
}


def spec(kind, d, dv):
    hq, hkv = (4, 2) if kind == "gqa" else (2, 2)
    q = f"tensor<?x{hq}x?x{d}xf32>"
    k = f"tensor<?x{hkv}x?x{d}xf32>"
    v = f"tensor<?x{hkv}x?x{dv}xf32>"
    o = f"tensor<?x{hq}x?x{dv}xf32>"
    lse = f"tensor<?x{hq}x?xf32>"
    return f"""func.func @head_size(%q: {q}, %k: {k}, %v: {v}) -> ({o}, {lse}) {{
  %o, %lse = attn.attention ins(%q, %k, %v : {q}, {k}, {v}) -> {o}, {lse}{MASKS[kind]}
  return %o, %lse : {o}, {lse}
}}
"""


def parse_dims(text):
    dims = []
    for item in text.split(","):
        d, _, dv = item.partition(":")
        dims.append((int(d), int(dv or d)))
    return dims


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("attune_run")
    parser.add_argument("kind", choices=sorted(MASKS))
    parser.add_argument("dims", help="head sizes: D or D:Dv, comma-separated")
    parser.add_argument("--per-dim", type=int, default=2,
                        help="sizes per head size (0: all)")
    parser.add_argument("--vector-width", type=int, default=0,
                        help="attune-run --vector-width (0: the host's)")
    args = parser.parse_args()
    runs = []
    for n, (d, dv) in enumerate(parse_dims(args.dims)):
        count = args.per_dim or len(SIZES)
        for k in range(count):
            runs.append((d, dv, SIZES[(n * count + k) % len(SIZES)]))
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed, (d, dv, sizes) in enumerate(runs):
            path = os.path.join(tmp, f"{args.kind}_{d}_{dv}.mlir")
            if not os.path.exists(path):
                with open(path, "w") as f:
                    f.write(spec(args.kind, d, dv))
            cmd = [args.attune_run, path, "--check", "--sizes", sizes,
                   "--seed", str(seed),
                   f"--vector-width={args.vector_width}"]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            ok = proc.returncode == 0 and proc.stdout.count("PASS") == 2
            print(f"{'PASS' if ok else 'FAIL'} {args.kind} D={d} Dv={dv} "
                  f"{sizes}")
            if not ok:
                failures += 1
                print("  $ " + " ".join(cmd))
                print(spec(args.kind, d, dv) + proc.stdout + proc.stderr)
    print(f"{len(runs) - failures} of {len(runs)} runs passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
