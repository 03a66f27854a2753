#!/usr/bin/env python3
#===- bench/gpu/sweep_table.py - The head-size sweep as a table -----------===#
#
# Part of the Attune project.
#
# Reads the JSON of `run.py --sizes fa` over the head-size sweep's artifacts
# (bench/gpu/headsize_specs.py) and prints, per head size, the checks passed
# and the worst norm-relative error of each variant over all sizes and
# results (O and, for GQA, lse), as markdown for bench/RESULTS.md.
#
#   python3 bench/gpu/sweep_table.py hs90.json [more.json ...]
#
#===----------------------------------------------------------------------===#

import json
import re
import sys
from collections import defaultdict

NAME = re.compile(r"hs_(dense|causal|gqa|score)_d(\d+)(?:_dv(\d+))?")


def main():
    if len(sys.argv) < 2:
        sys.exit(f"usage: {sys.argv[0]} RUN.json ...")
    for path in sys.argv[1:]:
        run = json.load(open(path))
        cells = defaultdict(lambda: [0, 0, 0.0])  # (D, variant): pass, n, worst
        for c in run["checks"]:
            m = NAME.match(c["artifact"])
            if not m:
                continue
            kind, d, dv = m.group(1), int(m.group(2)), m.group(3)
            key = (d, kind if dv is None else f"dv={dv}")
            cell = cells[key]
            cell[0] += bool(c["ok"])
            cell[1] += 1
            for r in c.get("results", []):
                cell[2] = max(cell[2], r.get("rel_err") or 0.0)
        kinds = sorted({k for _, k in cells},
                       key=lambda k: (k.startswith("dv"), k))
        print(f"`{path}` ({run.get('date', '?')}): passed / checks, worst "
              "norm-relative error\n")
        print("| D | " + " | ".join(kinds) + " |")
        print("| --: |" + " --- |" * len(kinds))
        for d in sorted({d for d, _ in cells}):
            row = []
            for k in kinds:
                if (d, k) not in cells:
                    row.append("")
                    continue
                ok, n, worst = cells[(d, k)]
                row.append(f"{ok}/{n} {worst:.1e}" if ok == n else
                           f"**{ok}/{n}** {worst:.1e}")
            print(f"| {d} | " + " | ".join(row) + " |")
        total = sum(c[1] for c in cells.values())
        good = sum(c[0] for c in cells.values())
        print(f"\n{good} of {total} checks passed.\n")


if __name__ == "__main__":
    main()
