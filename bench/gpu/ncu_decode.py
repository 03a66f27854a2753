#!/usr/bin/env python3
#===- bench/gpu/ncu_decode.py - Decode kernels for Nsight Compute -------===#
#
# Part of the Attune project.
#
# One paged decode and one contiguous decode of bench/gpu/paged_time.py
# (B = 32, Hq = 32, Hkv = 8, D = 128, bf16, pages of 16, Sq = 1) and one
# SDPA call on the contiguous K/V, after warm-up, between
# cudaProfilerStart and cudaProfilerStop: the program Nsight Compute
# profiles to compare the decode kernels with SDPA's.
#
# Run (on the GPU machine, PYTHONPATH=python, the runtime built), from
# bench/gpu:
#   ncu --clock-control none --profile-from-start off --section SpeedOfLight
#       --section Occupancy --section LaunchStats
#       python3 ncu_decode.py --artifacts DIR [--length 4096]
#

import argparse

import torch
import torch.nn.functional as F

import attune.cuda as acuda
from paged_time import B, D, HQ, paged_inputs


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--artifacts", required=True,
                    help="directory with bench_paged_decode and "
                    "bench_contiguous_decode")
    ap.add_argument("--length", type=int, default=4096)
    args = ap.parse_args()
    paged = acuda.load(f"{args.artifacts}/bench_paged_decode",
                       check_captures=False)
    contiguous = acuda.load(f"{args.artifacts}/bench_contiguous_decode",
                            check_captures=False)
    q, k, v, kc, vc, table, lens = paged_inputs(args.length, args.length)
    o = torch.empty(B, HQ, 1, D, device="cuda", dtype=torch.bfloat16)
    o2 = torch.empty_like(o)

    def calls():
        paged(q, kc, vc, table, lens, out=o)
        contiguous(q, k, v, lens, out=o2)
        F.scaled_dot_product_attention(q, k, v, enable_gqa=True)

    for _ in range(3):
        calls()
    torch.cuda.synchronize()
    torch.cuda.cudart().cudaProfilerStart()
    calls()
    torch.cuda.synchronize()
    torch.cuda.cudart().cudaProfilerStop()


if __name__ == "__main__":
    main()
