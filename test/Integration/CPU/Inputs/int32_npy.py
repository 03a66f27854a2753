#!/usr/bin/env python3
"""write(path, shape, values): an int32 .npy file without numpy, for the
input generators of the CPU integration tests (page_tables.py,
sorted_ids.py, varlen_offsets.py)."""

import struct


def write(path, shape, values):
    header = "{'descr': '<i4', 'fortran_order': False, 'shape': (%s), }" % (
        "".join("%d, " % s for s in shape))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
        f.write(header.encode())
        f.write(struct.pack("<%di" % len(values), *values))
