#!/usr/bin/env python3
"""page_tables.py DIR B PAGES PER_SEQ PAGE_SIZE NEW SEED [shared]: writes DIR/table.npy,
an int32 [B, PER_SEQ] block table whose B * PER_SEQ page ids are distinct
and drawn at random from [0, PAGES) (no page is shared, as attn.append_pages
requires), and DIR/lens.npy, int32 [B] lengths in [0, PER_SEQ * PAGE_SIZE -
NEW] (room for NEW appended rows), the first 0 and the last at the maximum
when B > 1. With `shared` (B > 1), sequence 1 lists the pages of sequence 0
and has its length, so that their appends collide: an invalid table."""

import os
import random
import sys

import int32_npy


def main():
    out, batch, pages, per_seq, page_size, new, seed = (
        sys.argv[1], *map(int, sys.argv[2:8]))
    shared = sys.argv[8:] == ["shared"]
    rng = random.Random(seed)
    table = rng.sample(range(pages), batch * per_seq)
    most = per_seq * page_size - new
    lens = [rng.randint(0, most) for _ in range(batch)]
    if batch > 1:
        lens[0], lens[-1] = 0, most
    if shared:
        table[per_seq:2 * per_seq] = table[:per_seq]
        lens[1] = lens[0]
    os.makedirs(out, exist_ok=True)
    int32_npy.write(os.path.join(out, "table.npy"), (batch, per_seq), table)
    int32_npy.write(os.path.join(out, "lens.npy"), (batch,), lens)


if __name__ == "__main__":
    main()
