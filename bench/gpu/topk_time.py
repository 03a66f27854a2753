#!/usr/bin/env python3
#===- bench/gpu/topk_time.py - Learned block sparsity, side by side ------===#
#
# Part of the Attune project.
#
# The GPU rows of issue 15, item 4: bench/topk/nsa_causal.mlir (NSA / MoBA
# selection: blocks of 64, top_k best key blocks + 1 sink + 1 local,
# causal, bf16, B = 1, 8 heads of 64) compiled once per top_k (artifacts
# nsa_causal_k<top_k>), timed as a whole program (the gate's linalg steps
# and the block-sparse attention) at each S. Same run:
#
# - the block map computed in PyTorch from the same definition (f64 block
#   sums and scores, torch.topk; docs/BlockSelection.md), so that the kept
#   (i, j) pairs are counted (useful work: 2 * (D + Dv) flops each);
# - FlexAttention given that map as a BlockMask: create_block_mask with a
#   mask_mod reading the map and the causal mask, then flex_attention
#   (torch.compile'd); timed with and without create_block_mask, without the
#   map's computation (Attune's time includes its gate);
# - PyTorch's SDPA, dense causal (flash): what the sparsity saves;
# - the outputs of Attune and FlexAttention compared (max |difference|).
#
# Run (on the GPU machine, PYTHONPATH=python, the runtime built):
#   python3 bench/gpu/topk_time.py --artifacts DIR --sizes 16384,65536 \
#       --top-k 4,16,32 [--profile] [--no-flex]
#
#===----------------------------------------------------------------------===#

import argparse
import json

import torch
import torch.nn.functional as F

import attune.cuda as acuda

from timing import median_seconds

H, D, BLOCK, LOCAL, SINK = 8, 64, 64, 1, 1


def block_map(q, k, top_k):
    """The map of attn.topk_blocks (causal, Sq = Sk = S) in PyTorch: f64
    block sums, scores divided by the rows, forced sink and local blocks,
    the top_k best other eligible blocks (ties to the lower block: torch.topk
    on exact scores; random inputs have none). [1, H, n, n] bool."""
    S = q.shape[2]
    n = (S + BLOCK - 1) // BLOCK
    pad = n * BLOCK - S

    def sums(x):
        x = F.pad(x.double(), (0, 0, 0, pad))
        return x.reshape(1, H, n, BLOCK, D).sum(3)

    rows = torch.full((n,), float(BLOCK), dtype=torch.float64, device=q.device)
    rows[-1] = S - (n - 1) * BLOCK
    scores = sums(q) @ sums(k).transpose(-1, -2) / (rows[:, None] * rows[None])
    blk = torch.arange(n, device=q.device)      # qb down, kb across
    last = torch.clamp((blk + 1) * BLOCK, max=S) - 1
    eligible = (blk[None, :] * BLOCK) <= last[:, None]
    diag = last // BLOCK
    forced = eligible & ((blk[None, :] < SINK) |
                         ((blk[None, :] <= diag[:, None]) &
                          (blk[None, :] > diag[:, None] - LOCAL)))
    cand = eligible & ~forced
    scores = scores.masked_fill(~cand, float("-inf"))
    keep = forced.expand(1, H, n, n).clone()
    kk = min(top_k, n)
    if kk:
        vals, idx = scores.topk(kk, dim=-1)
        chosen = torch.zeros_like(keep)
        chosen.scatter_(-1, idx, vals > float("-inf"))
        keep |= chosen
    return keep


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--sizes", default="16384,65536")
    ap.add_argument("--top-k", default="4,16,32")
    ap.add_argument("--sdpa-max-s", type=int, default=65536)
    ap.add_argument("--no-flex", action="store_true")
    ap.add_argument("--profile", action="store_true",
                    help="each kernel's CUDA time of one Attune call")
    ap.add_argument("--out")
    args = ap.parse_args()
    dev = "cuda"
    rows = []
    flex = None
    if not args.no_flex:
        from torch.nn.attention.flex_attention import (create_block_mask,
                                                       flex_attention)
        flex = torch.compile(flex_attention)
    for S in map(int, args.sizes.split(",")):
        g = torch.Generator(device=dev).manual_seed(S)
        q, k, v = (torch.randn(1, H, S, D, generator=g, device=dev)
                   .to(torch.bfloat16) for _ in range(3))
        o = torch.empty_like(q)
        dense_pairs = H * S * (S + 1) // 2
        if S <= args.sdpa_max_s:
            t_sdpa = median_seconds(lambda: F.scaled_dot_product_attention(
                q, k, v, is_causal=True), iters=10)
        for top_k in map(int, args.top_k.split(",")):
            fn = acuda.load(f"{args.artifacts}/nsa_causal_k{top_k}")
            fn(q, k, v, out=(o,))
            torch.cuda.synchronize()
            keep = block_map(q, k, top_k)
            # Kept pairs: a block below the diagonal is whole (rows x
            # columns), the diagonal one a causal triangle (Sq = Sk).
            n = keep.shape[-1]
            count = torch.full((n,), BLOCK, dtype=torch.int64, device=dev)
            count[-1] = S - (n - 1) * BLOCK
            blk = torch.arange(n, device=dev)
            per = torch.where(blk[None, :] < blk[:, None],
                              count[:, None] * count[None, :],
                              torch.diag(count * (count + 1) // 2))
            pairs = int((keep[0].long() * per).sum())
            flops = 2.0 * 2 * D * pairs
            t = median_seconds(lambda: fn(q, k, v, out=(o,)))
            row = {"S": S, "top_k": top_k, "kept_blocks_frac":
                   float(keep.float().mean()),
                   "kept_pairs_frac": pairs / dense_pairs,
                   "attune_ms": t * 1e3,
                   "attune_useful_tflops": flops / t * 1e-12}
            if S <= args.sdpa_max_s:
                row.update(sdpa_causal_ms=t_sdpa * 1e3,
                           sdpa_useful_tflops=2.0 * 2 * D * dense_pairs /
                           t_sdpa * 1e-12)
            if args.profile:
                from cluster_time import profile
                row["kernels_us"] = profile(lambda: fn(q, k, v, out=(o,)))
            if flex is not None:
                km = keep[0]

                def mask_mod(b, h, qi, kj):
                    return km[h, qi // BLOCK, kj // BLOCK] & (kj <= qi)

                # FlexAttention's kernels take blocks of 128 (its default):
                # the mask_mod keeps the 64-blocks within them. Compiled,
                # so that no S x S mask is materialised.
                def build():
                    return create_block_mask(mask_mod, 1, H, S, S,
                                             device=dev, _compile=True)
                try:
                    bm = build()
                    ref = flex(q, k, v, block_mask=bm)
                    row["max_diff_flex"] = float((o.float() - ref.float())
                                                 .abs().max())
                    t_f = median_seconds(lambda: flex(q, k, v,
                                                      block_mask=bm))
                    t_b = median_seconds(build, iters=5)
                    row.update(flex_ms=t_f * 1e3, flex_mask_ms=t_b * 1e3,
                               flex_useful_tflops=flops / t_f * 1e-12)
                    del bm, ref
                except Exception as e:  # a peer's failure is reported
                    row["flex_error"] = str(e).splitlines()[0][:200]
            del keep
            torch.cuda.empty_cache()
            print(json.dumps(row), flush=True)
            rows.append(row)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"device": torch.cuda.get_device_name(),
                       "torch": torch.__version__, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
