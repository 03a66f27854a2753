#!/usr/bin/env python3
"""write_npy.py OUT.npy DTYPE SHAPE VALUES [NBYTES | nan@K]: writes a .npy
file of dtype DTYPE ('<i4' or '<f4') and SHAPE ("2,3") holding VALUES
("1,-2,0.5" repeated to fill the shape); with nan@K element K is NaN; with
NBYTES the data is that many zero bytes whatever the shape says (for
hostile files)."""

import struct
import sys


def main():
    path, dtype, shape = sys.argv[1:4]
    dims = [int(d) for d in shape.split(",") if d]
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        dtype, "".join("%d, " % d for d in dims))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    extra = sys.argv[5] if len(sys.argv) > 5 else ""
    if extra and not extra.startswith("nan@"):
        data = b"\0" * int(sys.argv[5])
    else:
        count = 1
        for d in dims:
            count *= d
        values = [float(x) for x in sys.argv[4].split(",")]
        values = (values * (count // len(values) + 1))[:count]
        if extra:
            values[int(extra[4:])] = float("nan")
        code = {"<i4": "i", "<f4": "f"}[dtype]
        if code == "i":
            values = [int(x) for x in values]
        data = struct.pack("<%d%s" % (count, code), *values)
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
        f.write(header.encode())
        f.write(data)


if __name__ == "__main__":
    main()
