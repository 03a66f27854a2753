#!/usr/bin/env python3
"""sorted_ids.py OUT.npy B S DOCS SEED: writes an int32 [B, S] array of
document ids, each row S positions split at DOCS-1 seeded random cuts into
DOCS contiguous documents (ids 0..DOCS-1), as a packed batch of documents."""

import random
import sys

import int32_npy


def main():
    path, batch, seq, docs, seed = sys.argv[1], *map(int, sys.argv[2:])
    rng = random.Random(seed)
    rows = []
    for _ in range(batch):
        cuts = sorted(rng.sample(range(1, seq), docs - 1)) if seq > docs else []
        rows.extend(sum(1 for c in cuts if c <= i) for i in range(seq))
    int32_npy.write(path, (batch, seq), rows)

if __name__ == "__main__":
    main()
