#!/usr/bin/env python3
"""compare_npy.py A.npy B.npy TOL: exits non-zero unless both files hold
float32 arrays of one shape whose elements differ by at most TOL."""

import ast
import struct
import sys


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", path
    length = data[8] | (data[9] << 8)
    header = ast.literal_eval(data[10:10 + length].decode())
    assert header["descr"] == "<f4", (path, header)
    body = data[10 + length:]
    return header["shape"], struct.unpack(f"<{len(body) // 4}f", body)


def main():
    (shape_a, a), (shape_b, b) = load(sys.argv[1]), load(sys.argv[2])
    tol = float(sys.argv[3])
    if shape_a != shape_b:
        print(f"shape mismatch: {shape_a} vs {shape_b}")
        return 1
    worst = max(abs(x - y) for x, y in zip(a, b))
    print(f"max abs difference {worst:.3e} over {len(a)} elements")
    return 0 if worst <= tol else 1


if __name__ == "__main__":
    sys.exit(main())
