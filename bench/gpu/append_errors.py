#!/usr/bin/env python3
#===- bench/gpu/append_errors.py - Bad page tables on a GPU ---------------===#
#
# Part of the Attune project.
#
# On the GPU machine: the in-place append of a program (docs/PagedKV.md,
# "CUDA") refuses what the CPU target refuses, as a failed launch (a
# device-side assertion), never as a silently misplaced row: a page listed
# by two sequences that both append to it, a length that leaves no room
# for the new rows, a page id outside the cache. Each case runs in a
# process of its own (an assertion ends the CUDA context); a valid table
# runs and appends. Prints ALL OK or exits 1.
#
#   PYTHONPATH=$PWD/python python3 bench/gpu/append_errors.py \
#       build-gpu/paged_decode_step
#
#===----------------------------------------------------------------------===#
import subprocess
import sys

CASE = r"""
import sys, torch
import attune.cuda as cuda
m = cuda.load(sys.argv[1])
case = sys.argv[2]
g = torch.Generator(device="cuda").manual_seed(0)
B, Sq = 3, 4
def rnd(*shape):
    return torch.randn(shape, generator=g, device="cuda").to(torch.bfloat16)
q, kn, vn = rnd(B, 4, Sq, 64), rnd(B, 2, Sq, 64), rnd(B, 2, Sq, 64)
kc, vc = rnd(24, 5, 2, 64), rnd(24, 5, 2, 64)
table = torch.arange(18, dtype=torch.int32, device="cuda").reshape(B, 6)
lens = torch.tensor([0, 7, 26], dtype=torch.int32, device="cuda")
if case == "shared":
    table[1] = table[0]
    lens[1] = lens[0]
elif case == "long":
    lens[2] = 27
elif case == "page":
    table[1, 1] = 24
m.capture_checks = False  # the device-side checks are what is tested
before = kc.clone()
o, k2, v2 = m(q, kn, vn, kc, vc, table, lens)
torch.cuda.synchronize()
assert k2 is kc and v2 is vc
changed = int((kc != before).any(-1).any(-1).sum())
assert changed == B * Sq, changed  # the new rows, nothing else
print(f"ran: {changed} of the cache's 120 rows changed")
"""

EXPECT = {
    "valid": None,
    "shared": "two rows are written to the same row of a page",
    "long": "a length plus the new rows exceeds",
    "page": "a page id in block_table is outside the cache",
}


def main():
    artifact = sys.argv[1]
    ok = True
    for case, message in EXPECT.items():
        p = subprocess.run([sys.executable, "-c", CASE, artifact, case],
                           capture_output=True, text=True, timeout=300)
        out = p.stdout + p.stderr
        if message is None:
            good = p.returncode == 0 and "ran:" in out
        else:
            # The assertion's message goes to the device's stdout; the
            # launch (or the next synchronisation) fails.
            good = p.returncode != 0 and ("device-side assert" in out or
                                          message in out)
        tail = " | ".join(out.strip().splitlines()[-2:])
        print(f"{'OK  ' if good else 'BAD '} {case}: rc={p.returncode} "
              f"{'assert message seen' if message and message in out else ''}"
              f" {tail[:300]}")
        ok &= good
    print("ALL OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
