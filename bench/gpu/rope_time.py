#!/usr/bin/env python3
#===- bench/gpu/rope_time.py - RoPE then attention, side by side -----------===#
#
# Part of the Attune project.
#
# RoPE on the GPU (issue 14's row): Q and K rotated (Llama 3: half pairing,
# base 500000), then causal attention, B = 2, H = 16, S = 8192, D = 128,
# bf16, same run:
#
#   attune rope   bench/gpu/rope/bench_rope_causal_d128.mlir: the rope
#                 kernels write rotated Q and K to workspaces, then the
#                 attention kernel (one artifact, one call)
#   plain         bench/gpu/specs/bench_causal_d128.mlir on unrotated
#                 inputs: the attention alone
#   torch rotate + attune   Hugging Face's rotate_half in PyTorch (eager),
#                 then the plain artifact: rotate, then attend
#   torch rotate + sdpa     the same rotation, then SDPA (is_causal)
#
# Work counts the kept pairs (S (S + 1) / 2 per head). The outputs are
# compared with torch rotate + SDPA.
#
# Run (on the GPU machine, PYTHONPATH=python, the runtime built):
#   python3 bench/gpu/rope_time.py --rope DIR --plain DIR [--seq 8192]
#
#===----------------------------------------------------------------------===#

import argparse

import torch
import torch.nn.functional as F

import attune.cuda as acuda
from timing import median_seconds

B, H, D, BASE = 2, 16, 128, 500000.0


def rotate(x, cos, sin):
    """Hugging Face's apply_rotary_pos_emb for one tensor [B, H, S, D]."""
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return (x * cos + rotated * sin).to(x.dtype)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rope", required=True, help="artifact directory of "
                    "bench_rope_causal_d128")
    ap.add_argument("--plain", required=True, help="artifact directory of "
                    "bench_causal_d128")
    ap.add_argument("--seq", type=int, default=8192)
    args = ap.parse_args()
    dev, bf, S = "cuda", torch.bfloat16, args.seq
    g = torch.Generator(device=dev).manual_seed(0)
    q, k, v = (torch.randn(B, H, S, D, generator=g, device=dev, dtype=bf)
               for _ in range(3))
    inv = BASE ** (-torch.arange(0, D, 2, device=dev, dtype=torch.float64)
                   / D)
    angle = torch.arange(S, device=dev, dtype=torch.float64)[:, None] * inv
    angle = torch.cat([angle, angle], dim=-1)
    cos, sin = angle.cos().to(bf), angle.sin().to(bf)
    rope = acuda.load(args.rope)
    plain = acuda.load(args.plain)
    o = torch.empty_like(q)
    ref = F.scaled_dot_product_attention(rotate(q, cos, sin),
                                         rotate(k, cos, sin), v,
                                         is_causal=True)
    rope(q, k, v, out=o)
    err = float((o.float() - ref.float()).abs().max())
    flops = 4.0 * B * H * D * S * (S + 1) / 2
    rows = [
        ("attune rope", lambda: rope(q, k, v, out=o)),
        ("plain (no rotation)", lambda: plain(q, k, v, out=o)),
        ("torch rotate + attune",
         lambda: plain(rotate(q, cos, sin), rotate(k, cos, sin), v, out=o)),
        ("torch rotate + sdpa",
         lambda: F.scaled_dot_product_attention(
             rotate(q, cos, sin), rotate(k, cos, sin), v, is_causal=True)),
    ]
    print(f"# {torch.cuda.get_device_name()}, torch {torch.__version__}; "
          f"B={B} H={H} S={S} D={D} causal bf16; ms (TFLOP/s of kept pairs)")
    times = [(name, median_seconds(fn)) for name, fn in rows]
    base = times[0][1]
    for name, t in times:
        print(f"{name:24s} {t * 1e3:8.3f} ms  {flops / t / 1e12:6.1f}  "
              f"time / attune rope {t / base:.2f}", flush=True)
    print(f"max|err| attune rope vs torch rotate + sdpa: {err:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
