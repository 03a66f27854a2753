#!/usr/bin/env python3
#===- bench/gpu/varlen_time.py - Varlen prefill vs FlexAttention ----------===#
#
# Part of the Attune project.
#
# Varlen prefill on the GPU (issue 14's row): 16 sequences of random
# lengths summing to T = 32768 tokens, H = 16, D = 128 (hidden 2048), bf16,
# causal within each sequence, same run:
#
#   attune     bench/gpu/varlen/bench_varlen_causal.mlir: attn.unpack /
#              attn.pack fused into the kernel's loads and stores
#   flex       FlexAttention on the packed [1, H, T, D] sequence with a
#              document mask (torch.compile'd), alone and counting
#              create_block_mask (which a varlen batch pays every step)
#   sdpa       torch SDPA sequence by sequence (is_causal), a loop of 16
#
# Work counts the kept pairs only: sum over sequences of l (l + 1) / 2.
# Every output is compared with the SDPA loop's.
#
# Run (on the GPU machine, PYTHONPATH=python, the runtime built):
#   python3 bench/gpu/varlen_time.py --artifacts DIR [--total 32768]
#
#===----------------------------------------------------------------------===#

import argparse

import torch
import torch.nn.functional as F

import attune.cuda as acuda
from timing import median_seconds

NSEQ, H, D = 16, 16, 128


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--total", type=int, default=32768)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    dev, bf, T = "cuda", torch.bfloat16, args.total
    g = torch.Generator(device="cpu").manual_seed(args.seed)
    cuts = torch.randperm(T - 1, generator=g)[:NSEQ - 1].sort().values + 1
    cu = torch.cat([torch.tensor([0]), cuts, torch.tensor([T])])
    lens = (cu[1:] - cu[:-1]).tolist()
    cu_dev = cu.to(dev, torch.int32)
    gd = torch.Generator(device=dev).manual_seed(args.seed)
    q, k, v = (torch.randn(T, H, D, generator=gd, device=dev, dtype=bf)
               for _ in range(3))
    pairs = sum(n * (n + 1) // 2 for n in lens)
    flops = 4.0 * H * D * pairs
    print(f"# {torch.cuda.get_device_name()}, torch {torch.__version__}; "
          f"{NSEQ} sequences, T={T} (lengths {min(lens)}..{max(lens)}), "
          f"H={H} D={D} causal bf16; ms (TFLOP/s of kept pairs)")

    attune = acuda.load(f"{args.artifacts}/bench_varlen_causal")
    o = torch.empty_like(q)

    def ours():
        attune(q, k, v, cu_dev, out=o)

    def sdpa_loop(out):
        for lo, hi in zip(cu.tolist(), cu.tolist()[1:]):
            x = [t[lo:hi].transpose(0, 1)[None] for t in (q, k, v)]
            out[lo:hi] = F.scaled_dot_product_attention(
                *x, is_causal=True)[0].transpose(0, 1)
    ref = torch.empty_like(q)
    sdpa_loop(ref)
    ours()
    err = float((o.float() - ref.float()).abs().max())

    from torch.nn.attention.flex_attention import (create_block_mask,
                                                   flex_attention)
    flex = torch.compile(flex_attention, dynamic=False)
    doc = torch.repeat_interleave(torch.arange(NSEQ, device=dev),
                                  torch.tensor(lens, device=dev))

    def mask_mod(b, h, qi, ki):
        return (doc[qi] == doc[ki]) & (ki <= qi)

    def make_mask():
        return create_block_mask(mask_mod, 1, 1, T, T, device=dev)
    bm = make_mask()
    q4, k4, v4 = (t.transpose(0, 1)[None] for t in (q, k, v))
    fo = flex(q4, k4, v4, block_mask=bm)[0].transpose(0, 1)
    ferr = float((fo.float() - ref.float()).abs().max())

    rows = [("attune", median_seconds(ours)),
            ("flex", median_seconds(lambda: flex(q4, k4, v4, block_mask=bm))),
            ("create_block_mask", median_seconds(make_mask)),
            ("flex + create_block_mask",
             median_seconds(lambda: flex(q4, k4, v4, block_mask=make_mask()))),
            ("sdpa loop", median_seconds(lambda: sdpa_loop(ref)))]
    base = rows[0][1]
    for name, t in rows:
        print(f"{name:26s} {t * 1e3:8.3f} ms  {flops / t / 1e12:6.1f}  "
              f"attune speed-up {t / base:.2f}x", flush=True)
    print(f"max|err| vs SDPA loop: attune {err:.2e}, flex {ferr:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
