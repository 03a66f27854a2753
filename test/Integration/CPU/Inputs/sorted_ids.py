#!/usr/bin/env python3
"""sorted_ids.py OUT.npy B S DOCS SEED: writes an int32 [B, S] array of
document ids, each row S positions split at DOCS-1 seeded random cuts into
DOCS contiguous documents (ids 0..DOCS-1), as a packed batch of documents."""

import random
import struct
import sys


def main():
    path, batch, seq, docs, seed = sys.argv[1], *map(int, sys.argv[2:])
    rng = random.Random(seed)
    rows = []
    for _ in range(batch):
        cuts = sorted(rng.sample(range(1, seq), docs - 1)) if seq > docs else []
        rows.extend(sum(1 for c in cuts if c <= i) for i in range(seq))
    header = "{'descr': '<i4', 'fortran_order': False, 'shape': (%d, %d), }" % (
        batch, seq)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
        f.write(header.encode())
        f.write(struct.pack("<%di" % len(rows), *rows))


if __name__ == "__main__":
    main()
