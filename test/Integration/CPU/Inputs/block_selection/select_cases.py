#!/usr/bin/env python3
"""select_cases.py write|check|write-random|check-random DIR: inputs of
topk_map.mlir, and the check of the maps attune-run wrote to DIR
(result0.npy ... result4.npy) against docs/BlockSelection.md, computed here
with plain loops in Python floats (sums in order, one division), apart
from the oracle. Without numpy: the lit python may not have it.

`write` makes crafted inputs (B = 1, Sq = 13, Sk = 9, query blocks of 3,
key blocks of 2: 5 query blocks and 5 key blocks, the last of each one
row); `check` also asserts the entries the crafted cases are for.
`write-random` makes random ones at B = 2, Sq = 17, Sk = 23 (Sq < Sk, and
ragged blocks).

The keys, by block (D = 4):
  kb 0: rows (1, 0, 0, 0) twice;
  kb 1 and kb 2: rows (0, 2, 0, 0), exact duplicates: every query block
     scores them alike, and the lower kb (1) ranks first;
  kb 3: a NaN feature: its score is NaN for every query block, never
     selected, but kept when forced (a sink in #3, query block 3's local
     block in #0 and #4);
  kb 4: one row (-inf, 0, 0, 0): the queries' feature 0 is positive, so
     its score is -inf, a candidate ranked last (kept by #2's top_k = 8).
Sq - Sk = 4 > block_q: causally, query block 0 (last = -2) sees no key and
keeps nothing, not even the sink. Query head 0 ranks kb 1 = kb 2 > kb 0 >
kb 4 (but its query block 2 ranks kb 0 first); head 1 ranks kb 0 > kb 1 =
kb 2 > kb 4.
"""

import ast
import math
import os
import random
import struct
import sys

H, HK, D = 2, 1, 4
BQ, BK = 3, 2
# (B, SQ, SK) of each input set.
SIZES = {"write": (1, 13, 9), "write-random": (2, 17, 23)}
B, SQ, SK = SIZES["write"]

# The attributes of topk_map.mlir's results, in order.
MAPS = [
    dict(top_k=1, local=1, sink=1, causal=True),
    dict(top_k=1, local=0, sink=0, causal=False),
    dict(top_k=8, local=0, sink=0, causal=True),
    dict(top_k=0, local=0, sink=4, causal=True),
    dict(top_k=2, local=1, sink=0, causal=False),
]


def inputs():
    """q [B, H, SQ, D] and k [B, HK, SK, D] as nested lists."""
    nan, inf = math.nan, math.inf
    keys = [[1, 0, 0, 0], [1, 0, 0, 0],
            [0, 2, 0, 0], [0, 2, 0, 0],
            [0, 2, 0, 0], [0, 2, 0, 0],
            [0, 0, 3, 0], [0, 0, 1, nan],
            [-inf, 0, 0, 0]]
    head0 = [[1, 1, 0, 0]] * SQ
    head0[6:9] = [[1, 0, 0, 0], [2, 0, 0, 0], [1, 0, 0, 0]]
    head1 = [[2, 0, 1, 0]] * SQ
    q = [[[[float(v) for v in row] for row in head0],
          [[float(v) for v in row] for row in head1]]]
    k = [[[[float(v) for v in row] for row in keys]]]
    return q, k


def random_inputs():
    """Gaussian f32 values (as Python floats), seeded."""
    rng = random.Random(11)
    f32 = lambda: struct.unpack("<f", struct.pack("<f", rng.gauss(0, 1)))[0]
    q = [[[[f32() for _ in range(D)] for _ in range(SQ)] for _ in range(H)]
         for _ in range(B)]
    k = [[[[f32() for _ in range(D)] for _ in range(SK)] for _ in range(HK)]
         for _ in range(B)]
    return q, k


def write_f32(path, shape, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
        "".join("%d, " % s for s in shape))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
        f.write(header.encode())
        f.write(struct.pack("<%df" % len(values), *values))


def read_i8(path):
    with open(path, "rb") as f:
        data = f.read()
    length = data[8] | (data[9] << 8)
    header = ast.literal_eval(data[10:10 + length].decode())
    assert header["descr"] in ("|i1", "<i1"), (path, header)
    assert not header["fortran_order"], (path, header)
    body = data[10 + length:]
    return tuple(header["shape"]), struct.unpack("<%db" % len(body), body)


def expected_map(q, k, top_k, local, sink, causal):
    """docs/BlockSelection.md, "Semantics", with plain loops: [B][H][nQb][nKb]."""
    nqb, nkb = (SQ + BQ - 1) // BQ, (SK + BK - 1) // BK
    group, off = H // HK, SK - SQ
    out = []
    for b in range(B):
        per_head = []
        for h in range(H):
            rows = []
            for qb in range(nqb):
                first_q, end_q = qb * BQ, min(SQ, (qb + 1) * BQ)
                qsum = [0.0] * D
                for d in range(D):
                    for i in range(first_q, end_q):
                        qsum[d] += q[b][h][i][d]
                last = end_q - 1 + off
                keep = [0] * nkb
                candidates = []
                for kb in range(nkb):
                    first_k, end_k = kb * BK, min(SK, (kb + 1) * BK)
                    ksum = [0.0] * D
                    for d in range(D):
                        for j in range(first_k, end_k):
                            ksum[d] += k[b][h // group][j][d]
                    dot = 0.0
                    for d in range(D):
                        dot += qsum[d] * ksum[d]
                    score = dot / ((end_q - first_q) * (end_k - first_k))
                    eligible = not causal or kb * BK <= last
                    diag = last // BK if last >= 0 else None
                    forced = eligible and (
                        kb < sink or
                        (last >= 0 and diag - local < kb <= diag))
                    if forced:
                        keep[kb] = 1
                    elif eligible and not math.isnan(score):
                        candidates.append((score, kb))
                # Larger score first, then lower kb: the first top_k.
                for _ in range(min(top_k, len(candidates))):
                    best = None
                    for c in candidates:
                        if best is None or c[0] > best[0] or (
                                c[0] == best[0] and c[1] < best[1]):
                            best = c
                    candidates.remove(best)
                    keep[best[1]] = 1
                rows.append(keep)
            per_head.append(rows)
        out.append(per_head)
    return out


# Entries the crafted inputs are for: (map, head, query block) -> the row
# the documented semantics give. A failure here means the inputs no longer
# exercise the cases, whatever the compiled maps are.
CASES = {
    # Ties: kb 1 and kb 2 score alike; top_k = 1 keeps kb 1.
    (1, 0, 0): [0, 1, 0, 0, 0],
    # Head 1: kb 0 first, then the tie: kb 1, not kb 2; kb 3 (NaN) is
    # query block 3's local block.
    (4, 1, 3): [1, 1, 0, 1, 0],
    # Causal, Sq - Sk >= block_q: query block 0 sees no key.
    (0, 0, 0): [0, 0, 0, 0, 0],
    (2, 1, 0): [0, 0, 0, 0, 0],
    (3, 0, 0): [0, 0, 0, 0, 0],
    # The NaN block forced: the local block of query block 3 (diag 3) ...
    (0, 0, 3): [1, 1, 0, 1, 0],
    # ... and a sink (sink = 4), where eligible.
    (3, 1, 3): [1, 1, 1, 1, 0],
    (3, 1, 4): [1, 1, 1, 1, 0],
    (3, 1, 2): [1, 1, 1, 0, 0],
    # top_k = 8 > 4 candidates: all of them, the -inf block too, never
    # the NaN block.
    (2, 0, 4): [1, 1, 1, 0, 1],
    (2, 1, 1): [1, 0, 0, 0, 0],
    # Not causal: the NaN block is never selected.
    (1, 1, 4): [1, 0, 0, 0, 0],
    # Query block 2 of head 0 ranks kb 0 first.
    (1, 0, 2): [1, 0, 0, 0, 0],
}


def main():
    global B, SQ, SK
    mode, out = sys.argv[1], sys.argv[2]
    crafted = mode in ("write", "check")
    B, SQ, SK = SIZES["write" if crafted else "write-random"]
    q, k = inputs() if crafted else random_inputs()
    if mode.startswith("write"):
        os.makedirs(out, exist_ok=True)
        write_f32(os.path.join(out, "q.npy"), (B, H, SQ, D),
                  [v for b in q for h in b for row in h for v in row])
        write_f32(os.path.join(out, "k.npy"), (B, HK, SK, D),
                  [v for b in k for h in b for row in h for v in row])
        return 0
    failures = []
    nqb, nkb = (SQ + BQ - 1) // BQ, (SK + BK - 1) // BK
    for idx, attrs in enumerate(MAPS):
        want = expected_map(q, k, **attrs)
        for (m, h, qb), row in CASES.items() if crafted else ():
            if m == idx and want[0][h][qb] != row:
                failures.append(f"inputs: map #{m} head {h} query block "
                                f"{qb} is {want[0][h][qb]} by the "
                                f"semantics, the case expects {row}")
        shape, got = read_i8(os.path.join(out, f"result{idx}.npy"))
        if shape != (B, H, nqb, nkb):
            failures.append(f"map #{idx}: shape {shape}, expected "
                            f"{(B, H, nqb, nkb)}")
            continue
        for b in range(B):
            for h in range(H):
                for qb in range(nqb):
                    at = ((b * H + h) * nqb + qb) * nkb
                    row = list(got[at:at + nkb])
                    if row != want[b][h][qb]:
                        failures.append(
                            f"map #{idx} [{b}, {h}, {qb}]: {row}, expected "
                            f"{want[b][h][qb]}")
    print("\n".join(failures) if failures else "maps as documented")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
