#!/usr/bin/env python3
#===- bench/gpu/segmented_time.py - Segmented attention cost vs dense -----===#
#
# Part of the Attune project.
#
# Segmented attention on the GPU (issue 14, item 7), same run: bf16
# artifacts of examples/block_diagonal.mlir (segments of 32 tokens,
# i / 32 == j / 32) and examples/dense.mlir (no mask) at B = 4, H = 8,
# D = 64 and growing S. The mask analysis empties the tiles off the
# diagonal, so the segmented cost must grow linearly in S while the dense
# one grows quadratically. Useful FLOPs count kept pairs only (S * 32 per
# head for segments, S^2 for dense). The outputs are compared with a
# segment-by-segment SDPA.
#
# Run (on the GPU machine, PYTHONPATH=python, the runtime built):
#   python3 bench/gpu/segmented_time.py --artifacts DIR [--sizes 1024,16384]
#
#===----------------------------------------------------------------------===#

import argparse
import sys

import torch
import torch.nn.functional as F

import attune.cuda as acuda

from timing import median_seconds

SEG = 32


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--sizes", default="1024,4096,16384")
    args = ap.parse_args()
    segmented = acuda.load(f"{args.artifacts}/block_diagonal")
    dense = acuda.load(f"{args.artifacts}/dense")
    dev, bf = "cuda", torch.bfloat16
    B, H, D = 4, 8, 64
    print(f"# {torch.cuda.get_device_name()}, B={B} H={H} D={D} segments of "
          f"{SEG}, bf16; ms (TFLOP/s of kept pairs)")
    base = None
    for S in (int(s) for s in args.sizes.split(",")):
        g = torch.Generator(device=dev).manual_seed(S)
        q, k, v = (torch.randn(B, H, S, D, generator=g, device=dev, dtype=bf)
                   for _ in range(3))
        o = torch.empty_like(q)
        segmented(q, k, v, out=o)
        # Segment by segment: [B, H, S / 32, 32, D] batches of 32 tokens.
        n = S // SEG

        def split(x):
            return x.view(B, H, n, SEG, D)
        ref = F.scaled_dot_product_attention(split(q), split(k), split(v))
        err = float((o.float() - ref.reshape(B, H, S, D).float()).abs().max())
        t_seg = median_seconds(lambda: segmented(q, k, v, out=o), iters=30)
        # examples/dense.mlir also returns lse (B H S floats: noise here).
        lse = torch.empty(B, H, S, device=dev, dtype=torch.float32)
        t_dense = median_seconds(lambda: dense(q, k, v, out=(o, lse)),
                                 iters=30)
        f_seg = 4.0 * B * H * D * S * SEG
        f_dense = 4.0 * B * H * D * S * S
        per_token = t_seg / S
        base = base or per_token
        print(f"S={S}: segmented {t_seg * 1e3:.3f} "
              f"({f_seg / t_seg / 1e12:.1f})"
              f"  dense {t_dense * 1e3:.3f} ({f_dense / t_dense / 1e12:.0f})"
              f"  dense/segmented {t_dense / t_seg:.1f}x  segmented time per "
              f"token vs the first size {per_token / base:.2f}  max|err| "
              f"{err:.2e}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
