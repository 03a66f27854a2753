#!/usr/bin/env python3
"""ties.py write DIR | check DIR: inputs of hash_ids.mlir (B = 1, Sk = 6)
whose ids are ties or undefined scores, and the ids docs/Hashing.md gives
them (the lowest index among the largest scores; NaN ignored; 0 when none
is above -inf). Rows, per head: 0 zeros (every LSH score 0 or -0: bucket
0), 1 equal to centroid 1, which centroid 3 duplicates (centroid 1), 2 a
NaN feature (bucket 0, centroid 0), 3 an infinite feature (the scores are
inf, -inf or NaN: the first +inf), 4-5 random."""

import ast
import math
import os
import random
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import int32_npy  # noqa: E402

H, S, D, HALF, K = 2, 6, 8, 3, 4


def write_f32(path, shape, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
        "".join("%d, " % s for s in shape))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
        f.write(header.encode())
        f.write(struct.pack("<%df" % len(values), *values))


def read_i32(path):
    with open(path, "rb") as f:
        data = f.read()
    length = data[8] | (data[9] << 8)
    header = ast.literal_eval(data[10:10 + length].decode())
    assert header["descr"] == "<i4", (path, header)
    body = data[10 + length:]
    return header["shape"], struct.unpack("<%di" % (len(body) // 4), body)


def inputs():
    rng = random.Random(7)
    gauss = lambda: float(struct.unpack("<f", struct.pack("<f", rng.gauss(0, 1)))[0])
    mu = [[[gauss() for _ in range(D)] for _ in range(K)] for _ in range(H)]
    for h in range(H):
        mu[h][3] = list(mu[h][1])
    rot = [[gauss() for _ in range(HALF)] for _ in range(D)]
    rot = [rot, [[gauss() for _ in range(HALF)] for _ in range(D)]]
    # The infinite row: +inf in feature 0 only, so score c is
    # inf * rot[0][c] (+-inf) plus finite terms.
    x = []
    for h in range(H):
        rows = [[0.0] * D, list(mu[h][1]), [gauss() for _ in range(D)],
                [math.inf] + [0.0] * (D - 1),
                [gauss() for _ in range(D)], [gauss() for _ in range(D)]]
        rows[2][5] = math.nan
        x.append(rows)
    return x, rot, mu


def main():
    mode, out = sys.argv[1], sys.argv[2]
    x, rot, mu = inputs()
    if mode == "write":
        os.makedirs(out, exist_ok=True)
        write_f32(os.path.join(out, "x.npy"), (1, H, S, D),
                  [v for h in x for row in h for v in row])
        write_f32(os.path.join(out, "rot.npy"), (2, 1, D, HALF),
                  [v for r in rot for row in r for v in row])
        write_f32(os.path.join(out, "mu.npy"), (H, K, D),
                  [v for h in mu for c in h for v in c])
        return 0
    (_, lsh), (_, near) = (read_i32(os.path.join(out, "result0.npy")),
                           read_i32(os.path.join(out, "result1.npy")))
    failures = []
    for h in range(H):
        for r in range(2):
            at = lambda s: lsh[(r * H + h) * S + s]
            if at(0) != 0:
                failures.append(f"zero row, head {h} round {r}: {at(0)}")
            if at(2) != 0:
                failures.append(f"NaN row, head {h} round {r}: {at(2)}")
            # Row 3's scores: +inf for c with rot[r][0][c] > 0 (index c),
            # and for c with rot < 0 the negation (index c + HALF).
            signs = [rot[r][0][c] > 0 for c in range(HALF)]
            want = min([c for c in range(HALF) if signs[c]] +
                       [c + HALF for c in range(HALF) if not signs[c]])
            if at(3) != want:
                failures.append(f"inf row, head {h} round {r}: {at(3)}, "
                                f"expected {want}")
        if near[h * S + 1] != 1:
            failures.append(f"duplicated centroid, head {h}: "
                            f"{near[h * S + 1]}")
        if near[h * S + 2] != 0:
            failures.append(f"NaN row centroid, head {h}: {near[h * S + 2]}")
    print("\n".join(failures) if failures else "ties as documented")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
