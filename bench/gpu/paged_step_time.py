#!/usr/bin/env python3
#===- bench/gpu/paged_step_time.py - A whole paged decoding step ---------===#
#
# Part of the Attune project.
#
# One decoding step over a paged KV cache on the GPU (issue 14, item 3), at
# the shape (B = 32, Hq = 32, Hkv = 8, D = 128, bf16, pages of 16
# rows, one new token per sequence after L - 1 cached ones), same run:
#
#   step        bench/gpu/paged/bench_paged_decode_step.mlir: rope on Q and
#               the new keys, both appended in place, attention over the
#               pages (one artifact, one call)
#   attention   bench/gpu/paged/bench_paged_decode.mlir on the caches after
#               the append: the step's attention alone
#   torch       the same step in PyTorch eager: rotate_half on Q and the
#               new keys, the rows written into the pages by index_put_,
#               the pages gathered into contiguous K/V, SDPA (enable_gqa)
#
# The step's output and appended caches are compared with PyTorch's.
#
# Run (on the GPU machine, PYTHONPATH=python, the runtime built):
#   python3 bench/gpu/paged_step_time.py --artifacts DIR [--lengths ...]
#
#===----------------------------------------------------------------------===#
import argparse
import sys

import torch
import torch.nn.functional as F

import attune.cuda as acuda

from timing import median_seconds

B, HQ, HKV, D, P, BASE = 32, 32, 8, 128, 16, 500000.0


def rotate(x, pos):
    """Hugging Face's rotate_half rope of x [B, H, S, D] at pos [B, S]."""
    inv = BASE ** (-torch.arange(0, D, 2, device=x.device).double() / D)
    angle = pos.double()[:, None, :, None] * inv            # [B, 1, S, D/2]
    cos = torch.cat([angle.cos(), angle.cos()], -1).float()
    sin = torch.cat([angle.sin(), angle.sin()], -1).float()
    xf = x.float()
    half = torch.cat([-xf[..., D // 2:], xf[..., :D // 2]], -1)
    return (xf * cos + half * sin).to(x.dtype)


def step_inputs(L, seed):
    dev, bf = "cuda", torch.bfloat16
    g = torch.Generator(device=dev).manual_seed(seed)
    M = L // P
    pages = B * M
    q = torch.randn(B, HQ, 1, D, generator=g, device=dev, dtype=bf)
    kn = torch.randn(B, HKV, 1, D, generator=g, device=dev, dtype=bf)
    vn = torch.randn(B, HKV, 1, D, generator=g, device=dev, dtype=bf)
    kc = torch.randn(pages, P, HKV, D, generator=g, device=dev, dtype=bf)
    vc = torch.randn(pages, P, HKV, D, generator=g, device=dev, dtype=bf)
    table = torch.randperm(pages, generator=g, device=dev).view(B, M)
    lens = torch.full((B,), L - 1, device=dev, dtype=torch.int32)
    return q, kn, vn, kc, vc, table.to(torch.int32), lens


def torch_step(q, kn, vn, kc, vc, table, lens):
    """The step in PyTorch, the caches updated in place."""
    pos = lens[:, None].long()                              # [B, 1]
    qr, kr = rotate(q, pos), rotate(kn, pos)
    page = table.long().gather(1, pos // P)[:, 0]           # [B]
    slot = (pos % P)[:, 0]
    kc[page, slot] = kr[:, :, 0, :]
    vc[page, slot] = vn[:, :, 0, :]
    L = table.shape[1] * P
    k = kc[table.long()].reshape(B, L, HKV, D).transpose(1, 2)
    v = vc[table.long()].reshape(B, L, HKV, D).transpose(1, 2)
    j = torch.arange(L, device=q.device)
    mask = (j[None, :] <= lens[:, None])[:, None, None, :]  # [B, 1, 1, L]
    return F.scaled_dot_product_attention(qr, k, v, attn_mask=mask,
                                          enable_gqa=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--lengths", default="4096,8192,16384,32768")
    args = ap.parse_args()
    step = acuda.load(f"{args.artifacts}/bench_paged_decode_step",
                      check_captures=False)
    attention = acuda.load(f"{args.artifacts}/bench_paged_decode",
                           check_captures=False)
    print(f"# {torch.cuda.get_device_name()}, torch {torch.__version__}; "
          f"B={B} Hq={HQ} Hkv={HKV} D={D} P={P} Sq=1 bf16; ms")
    for L in (int(x) for x in args.lengths.split(",")):
        q, kn, vn, kc, vc, table, lens = step_inputs(L, L)
        kc2, vc2 = kc.clone(), vc.clone()
        o = torch.empty(B, HQ, 1, D, device="cuda", dtype=torch.bfloat16)
        step(q, kn, vn, kc, vc, table, lens, out=(o, kc, vc))
        ref = torch_step(q, kn, vn, kc2, vc2, table, lens)
        torch.cuda.synchronize()
        err = float((o.float() - ref.float()).abs().max())
        cache_err = max(float((kc.float() - kc2.float()).abs().max()),
                        float((vc.float() - vc2.float()).abs().max()))
        new_lens = lens + 1
        qr = rotate(q, lens[:, None].long())
        rows = {
            # Appending the same row again each time: the same work.
            "step": lambda: step(q, kn, vn, kc, vc, table, lens,
                                 out=(o, kc, vc)),
            "attention": lambda: attention(qr, kc, vc, table, new_lens,
                                           out=o),
            "torch": lambda: torch_step(q, kn, vn, kc2, vc2, table, lens),
        }
        t = {n: median_seconds(fn, iters=20) for n, fn in rows.items()}
        print(f"L={L}: step {t['step'] * 1e3:.3f}  attention alone "
              f"{t['attention'] * 1e3:.3f} (step - attention "
              f"{(t['step'] - t['attention']) * 1e6:.0f} us)  torch "
              f"{t['torch'] * 1e3:.3f} ({t['torch'] / t['step']:.1f}x)  "
              f"max|err| O {err:.2e}, caches {cache_err:.2e}", flush=True)
        del q, kn, vn, kc, vc, kc2, vc2
        torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
