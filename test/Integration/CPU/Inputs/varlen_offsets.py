#!/usr/bin/env python3
"""varlen_offsets.py [--first F] OUT.npy TOTAL L0 L1 ...: writes int32
cu_seqlens [F, F + L0, F + L0 + L1, ...] (F = 0 by default) for sequences
of the given lengths, checking that they fit TOTAL packed rows (the rest,
if any, belongs to no sequence)."""

import sys

import int32_npy


def main():
    args = sys.argv[1:]
    first = 0
    if args[0] == "--first":
        first, args = int(args[1]), args[2:]
    path, total, lengths = args[0], int(args[1]), [int(x) for x in args[2:]]
    offsets = [first]
    for n in lengths:
        offsets.append(offsets[-1] + n)
    if offsets[-1] > total:
        sys.exit("lengths sum to %d > %d rows" % (offsets[-1], total))
    int32_npy.write(path, (len(offsets),), offsets)

if __name__ == "__main__":
    main()
