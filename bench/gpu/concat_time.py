#!/usr/bin/env python3
#===- bench/gpu/concat_time.py - Fused memory concat vs concat-then-attend -===#
#
# Part of the Attune project.
#
# Transformer-XL's memory on the GPU, same run, bf16 artifacts of
# examples/transformer_xl_memory.mlir (K and V read from the memory and the
# segment by the kernel's loads) and bench/gpu/specs/xl_concatenated_d64.mlir
# (the same mask on K and V the caller concatenated):
#
#   fused      transformer_xl_memory(q, k, v, k_mem, v_mem)
#   unfused    torch.cat of K and V, then xl_concatenated_d64 on the copies
#   plain      xl_concatenated_d64 on already concatenated K and V (no copy)
#
# Useful FLOPs count kept pairs only (query i sees M + i + 1 keys).
# Run (on the GPU machine, PYTHONPATH=python, the runtime built):
#   python3 bench/gpu/concat_time.py --artifacts DIR [--sizes 1024,4096]
#
#===----------------------------------------------------------------------===#

import argparse
import sys

import torch

import attune.cuda as acuda
from timing import median_seconds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--sizes", default="1024,4096",
                    help="S values: Sq = M = S")
    ap.add_argument("--batch", type=int, default=4)
    args = ap.parse_args()
    fused = acuda.load(f"{args.artifacts}/transformer_xl_memory")
    plain = acuda.load(f"{args.artifacts}/xl_concatenated_d64")
    dev, bf = "cuda", torch.bfloat16
    H, D, B = 8, 64, args.batch
    print(f"# {torch.cuda.get_device_name()}, B={B} H={H} D={D}, bf16; "
          "ms (TFLOP/s of kept pairs)")
    for S in (int(s) for s in args.sizes.split(",")):
        M = S
        g = torch.Generator(device=dev).manual_seed(S)
        q, k, v, km, vm = (torch.randn(B, H, n, D, generator=g, device=dev,
                                       dtype=bf) for n in (S, S, S, M, M))
        o = torch.empty(B, H, S, D, device=dev, dtype=bf)
        o2 = torch.empty_like(o)
        kc, vc = torch.cat([km, k], 2), torch.cat([vm, v], 2)
        fused(q, k, v, km, vm, out=o)
        plain(q, kc, vc, out=o2)
        torch.cuda.synchronize()
        err = float((o.float() - o2.float()).abs().max())
        pairs = S * (M + 1) + S * (S - 1) / 2
        flops = 4.0 * B * H * D * pairs
        rows = {
            "fused": lambda: fused(q, k, v, km, vm, out=o),
            "unfused": lambda: plain(q, torch.cat([km, k], 2),
                                     torch.cat([vm, v], 2), out=o2),
            "plain": lambda: plain(q, kc, vc, out=o2),
        }
        t = {name: median_seconds(fn) for name, fn in rows.items()}
        cells = "  ".join(f"{n} {t[n] * 1e3:.3f} ({flops / t[n] / 1e12:.0f})"
                          for n in rows)
        print(f"S=M={S}: {cells}  fused/unfused {t['unfused'] / t['fused']:.3f}x"
              f"  fused/plain {t['plain'] / t['fused']:.3f}x  "
              f"max|fused-plain| {err:.2e}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
