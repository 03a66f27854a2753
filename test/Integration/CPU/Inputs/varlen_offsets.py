#!/usr/bin/env python3
"""varlen_offsets.py OUT.npy TOTAL L0 L1 ...: writes int32 cu_seqlens
[0, L0, L0 + L1, ...] for sequences of the given lengths, checking that
they fit TOTAL packed rows (the rest, if any, belongs to no sequence)."""

import sys

import int32_npy


def main():
    path, total, lengths = sys.argv[1], int(sys.argv[2]), [
        int(x) for x in sys.argv[3:]]
    offsets = [0]
    for n in lengths:
        offsets.append(offsets[-1] + n)
    if offsets[-1] > total:
        sys.exit("lengths sum to %d > %d rows" % (offsets[-1], total))
    int32_npy.write(path, (len(offsets),), offsets)

if __name__ == "__main__":
    main()
