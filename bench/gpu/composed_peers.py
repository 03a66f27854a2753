#!/usr/bin/env python3
"""The peers' side of issue 14's GPU rows (the composed family), timed on
the GPU machine with PyTorch alone, so that the CUDA lowerings of RoPE,
paged KV and varlen have their numbers to beat when they land:

  rope     S = 8192, D = 128, Hq = 32 on Hkv = 8, causal, bf16: plain SDPA,
           and "rotate, then attend" (the rotation by torch ops, Llama's
           halves convention, then SDPA).
  decode   B = 32, Hq = 32, Hkv = 8, D = 128, L = 4k ... 32k: SDPA on
           contiguous K/V (GQA); the same K/V held as 16-token pages in
           random order with a block table, gathered by torch indexing and
           then attended by SDPA (what a framework without a paged kernel
           does; timed together); and the copy bandwidth of K.
  varlen   16 sequences of random lengths summing to 32768, H = 16, D =
           128, causal per sequence: FlexAttention with a document mask,
           with and without `create_block_mask`.

Prints one line per row and writes JSON to $OUT/composed_peers.json.
Run: python3 bench/gpu/composed_peers.py
Not run on a GPU yet (written 2026-12-05; no device could be started).
"""
import json
import os
import random

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.attention.flex_attention import create_block_mask, flex_attention

OUT = os.environ.get("OUT", ".")
DEV = "cuda"
BF16 = torch.bfloat16
res = {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
       "rows": []}
print(res["device"], torch.__version__, flush=True)


def bench(fn, iters=20, warm=3):
    """Median seconds of `fn` over `iters` CUDA-event-timed calls."""
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    for s, e in zip(starts, ends):
        s.record()
        fn()
        e.record()
    torch.cuda.synchronize()
    times = sorted(s.elapsed_time(e) for s, e in zip(starts, ends))
    return times[len(times) // 2] / 1e3


def row(group, name, seconds, **extra):
    r = dict(group=group, name=name, ms=seconds * 1e3, **extra)
    res["rows"].append(r)
    more = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in extra.items())
    print(f"{group:7s} {name:44s} {seconds * 1e3:9.3f} ms  {more}",
          flush=True)


def sdpa(q, k, v, causal):
    with sdpa_kernel([SDPBackend.CUDNN_ATTENTION,
                      SDPBackend.FLASH_ATTENTION]):
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal,
                                              enable_gqa=True)


flex = torch.compile(flex_attention, dynamic=False)

# RoPE: plain against rotate-then-attend.
S, D, HQ, HKV = 8192, 128, 32, 8
q = torch.randn(1, HQ, S, D, device=DEV, dtype=BF16)
k = torch.randn(1, HKV, S, D, device=DEV, dtype=BF16)
v = torch.randn(1, HKV, S, D, device=DEV, dtype=BF16)
pos = torch.arange(S, device=DEV, dtype=torch.float32)
theta = 500000.0 ** (-torch.arange(0, D, 2, device=DEV).float() / D)
ang = pos[:, None] * theta[None, :]
cos = torch.cat([ang.cos(), ang.cos()], -1).to(BF16)
sin = torch.cat([ang.sin(), ang.sin()], -1).to(BF16)


def rotate(x):
    x1, x2 = x[..., : D // 2], x[..., D // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


useful = 4 * HQ * S * (S + 1) / 2 * D
t = bench(lambda: sdpa(q, k, v, True))
row("rope", "plain SDPA causal", t, tflops=useful / t / 1e12)
t = bench(lambda: sdpa(rotate(q), rotate(k), v, True))
row("rope", "rotate (torch ops) then SDPA causal", t,
    tflops=useful / t / 1e12)

# Paged decode.
B, HQ, HKV, D, P = 32, 32, 8, 128, 16
for L in (4096, 8192, 16384, 32768):
    qd = torch.randn(B, HQ, 1, D, device=DEV, dtype=BF16)
    kc = torch.randn(B, HKV, L, D, device=DEV, dtype=BF16)
    vc = torch.randn(B, HKV, L, D, device=DEV, dtype=BF16)
    kv_bytes = 2 * kc.numel() * kc.element_size()
    t = bench(lambda: sdpa(qd, kc, vc, False))
    row("decode", f"SDPA contiguous L={L}", t, GBps=kv_bytes / t / 1e9)
    t = bench(lambda: kc.clone())
    row("decode", f"copy of K (read + write) L={L}", t,
        GBps=2 * kc.numel() * kc.element_size() / t / 1e9)
    # A cache of pages in random order and the table that finds them.
    pages = B * L // P
    perm = torch.randperm(pages, device=DEV)
    table = perm.view(B, L // P)
    kpages = torch.empty(pages, P, HKV, D, device=DEV, dtype=BF16)
    vpages = torch.empty_like(kpages)
    kpages[table.flatten()] = kc.view(B, HKV, L // P, P, D).permute(
        0, 2, 3, 1, 4).reshape(pages, P, HKV, D)
    vpages[table.flatten()] = vc.view(B, HKV, L // P, P, D).permute(
        0, 2, 3, 1, 4).reshape(pages, P, HKV, D)

    def gathered():
        kg = kpages[table].reshape(B, L, HKV, D).transpose(1, 2)
        vg = vpages[table].reshape(B, L, HKV, D).transpose(1, 2)
        return sdpa(qd, kg, vg, False)

    t = bench(gathered)
    row("decode", f"gather pages + SDPA L={L}", t, GBps=kv_bytes / t / 1e9)
    del kc, vc, kpages, vpages

# Varlen prefill: 16 sequences summing to 32768, a document mask.
random.seed(0)
cuts = sorted(random.sample(range(1, 32768), 15))
lengths = [b - a for a, b in zip([0] + cuts, cuts + [32768])]
doc = torch.repeat_interleave(torch.arange(16, device=DEV),
                              torch.tensor(lengths, device=DEV))
T, H, D = 32768, 16, 128
qv, kv_, vv = (torch.randn(1, H, T, D, device=DEV, dtype=BF16)
               for _ in range(3))


def document(b, h, qi, ki):
    return (doc[qi] == doc[ki]) & (qi >= ki)


useful = sum(4 * H * n * (n + 1) / 2 * D for n in lengths)
mask = create_block_mask(document, None, None, T, T, device=DEV)
t = bench(lambda: flex(qv, kv_, vv, block_mask=mask))
row("varlen", "FlexAttention, document mask (mask prebuilt)", t,
    tflops=useful / t / 1e12, lengths=str(lengths))
t = bench(lambda: flex(
    qv, kv_, vv,
    block_mask=create_block_mask(document, None, None, T, T, device=DEV)))
row("varlen", "FlexAttention + create_block_mask", t,
    tflops=useful / t / 1e12)

with open(os.path.join(OUT, "composed_peers.json"), "w") as f:
    json.dump(res, f, indent=1)
