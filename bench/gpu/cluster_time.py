#!/usr/bin/env python3
#===- bench/gpu/cluster_time.py - Bucketed attention, sorted or masked ----===#
#
# Part of the Attune project.
#
# The GPU side of bench/cpu/clustered (issue 15, item 3): the specs
# bench/cpu/clustered/reformer_shared.mlir (shared-QK LSH, 32 buckets,
# causal with the self-mask) and routing16.mlir (16 centroids, Q and K routed
# separately), bf16, 8 heads of 64, B = 1, compiled twice: as is (attunec
# clusters them: sort by bucket, permute, block-sparse attention,
# un-permute) and with --cluster=false (the masked kernel over every tile).
# Same run: PyTorch's SDPA with the same mask as a dense additive bias
# (built from the ids the artifacts return; the self-mask as -1e5 on the
# diagonal), the peer a user has without a block-sparse kernel. The outputs of the two artifacts and SDPA are
# compared (max |difference|); useful work counts the pairs the mask keeps
# (2 (D + Dv) flops each). Times are medians of CUDA events over the whole
# program (hashing, sort, permutes, attention).
#
# Run (on the GPU machine, PYTHONPATH=python, the runtime built):
#   python3 bench/gpu/cluster_time.py --artifacts DIR --sizes 4096,16384
# where DIR holds reformer_shared, routing16 (clustered) and
# reformer_shared_masked, routing16_masked (--cluster=false).
#
#===----------------------------------------------------------------------===#

import argparse
import json

import torch
import torch.nn.functional as F

import attune.cuda as acuda

from timing import median_seconds

H, D = 8, 64


def inputs(name, S, dev):
    g = torch.Generator(device=dev).manual_seed(S)
    bf = torch.bfloat16
    if name == "reformer_shared":
        qk = torch.randn(1, H, S, D, generator=g, device=dev).to(bf)
        v = torch.randn(1, H, S, D, generator=g, device=dev).to(bf)
        rot = torch.randn(1, H, D, 16, generator=g, device=dev)
        o = torch.empty_like(qk)
        ids = torch.empty(1, 1, H, S, dtype=torch.int32, device=dev)
        return (qk, v, rot), (o, ids)
    q, k, v = (torch.randn(1, H, S, D, generator=g, device=dev).to(bf)
               for _ in range(3))
    mu = torch.randn(H, 16, D, generator=g, device=dev)
    o = torch.empty_like(q)
    qc = torch.empty(1, H, S, dtype=torch.int32, device=dev)
    kc = torch.empty_like(qc)
    return (q, k, v, mu), (o, qc, kc)


def mask_of(name, outs, S, dev):
    if name == "reformer_shared":
        x = outs[1][0, 0]                                    # [H, S]
        keep = x[:, :, None] == x[:, None, :]
        return keep & torch.ones(S, S, dtype=torch.bool, device=dev).tril()
    return outs[1][0][:, :, None] == outs[2][0][:, None, :]


def kept_pairs(name, outs):
    """The (i, j) the mask keeps, counted per bucket (no S x S mask): the
    Reformer's n (n + 1) / 2 per bucket of n positions (causal within it),
    routing's |bucket_q| |bucket_k| per centroid."""
    if name == "reformer_shared":
        x = outs[1][0, 0].long()                             # [H, S]
        pairs = 0
        for h in range(x.shape[0]):
            n = torch.bincount(x[h])
            pairs += int((n * (n + 1) // 2).sum())
        return pairs
    q, k = outs[1][0].long(), outs[2][0].long()
    pairs = 0
    for h in range(q.shape[0]):
        m = int(max(q[h].max(), k[h].max())) + 1
        pairs += int((torch.bincount(q[h], minlength=m) *
                      torch.bincount(k[h], minlength=m)).sum())
    return pairs


def sdpa_args(name, args):
    if name == "reformer_shared":
        return args[0], args[0], args[1]
    return args[0], args[1], args[2]


def profile(fn):
    """{kernel name: CUDA microseconds} of one call of `fn`, the largest
    first."""
    from torch.profiler import ProfilerActivity, profile as run_profile
    fn()
    torch.cuda.synchronize()
    with run_profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    times = {}
    for e in prof.events():
        if e.device_type == torch.autograd.DeviceType.CUDA:
            times[e.name] = times.get(e.name, 0.0) + e.device_time
    return dict(sorted(times.items(), key=lambda kv: -kv[1]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--sizes", default="4096,16384")
    ap.add_argument("--sdpa-max-s", type=int, default=16384)
    ap.add_argument("--out")
    ap.add_argument("--profile", action="store_true",
                    help="also print each kernel's CUDA time (torch "
                    "profiler) of one clustered call per size")
    args = ap.parse_args()
    dev = "cuda"
    rows = []
    for name in ("reformer_shared", "routing16"):
        clustered = acuda.load(f"{args.artifacts}/{name}")
        masked = acuda.load(f"{args.artifacts}/{name}_masked")
        for S in map(int, args.sizes.split(",")):
            ins, outs = inputs(name, S, dev)
            outs_m = tuple(torch.empty_like(t) for t in outs)
            clustered(*ins, out=outs)
            masked(*ins, out=outs_m)
            torch.cuda.synchronize()
            same_ids = all(torch.equal(a, b) for a, b in zip(outs[1:],
                                                              outs_m[1:]))
            diff = float((outs[0].float() - outs_m[0].float()).abs().max())
            pairs = kept_pairs(name, outs)
            flops = 2.0 * 2 * D * pairs
            row = {"spec": name, "S": S, "kept": pairs / (H * S * S),
                   "ids_equal": same_ids, "max_diff_masked": diff,
                   "useful_gflop": flops * 1e-9}
            t_c = median_seconds(lambda: clustered(*ins, out=outs))
            t_m = median_seconds(lambda: masked(*ins, out=outs_m))
            if args.profile:
                row["kernels_us"] = profile(lambda: clustered(*ins, out=outs))
            row.update(clustered_ms=t_c * 1e3, masked_ms=t_m * 1e3,
                       clustered_tflops=flops / t_c * 1e-12,
                       masked_tflops=flops / t_m * 1e-12)
            if S <= args.sdpa_max_s:
                mask = mask_of(name, outs, S, dev)
                if int(mask.sum()) != pairs:
                    raise SystemExit(f"{name} S={S}: pairs miscounted")
                q, k, v = sdpa_args(name, ins)
                # The mask as an additive bias; the Reformer's self-mask
                # (a score of -1e5 at i == j) as -1e5: either way exp
                # underflows to 0 unless the key is the row's only one.
                m = torch.zeros(mask.shape, dtype=q.dtype, device=dev)
                m.masked_fill_(~mask, float("-inf"))
                if name == "reformer_shared":
                    m.diagonal(dim1=1, dim2=2).masked_fill_(
                        mask.diagonal(dim1=1, dim2=2), -1e5)
                m = m[None]
                # SDPA gives NaN on a fully masked row where Attune gives 0.
                ref = F.scaled_dot_product_attention(q, k, v, attn_mask=m)
                ref = torch.nan_to_num(ref.float(), nan=0.0)
                row["max_diff_sdpa"] = float(
                    (outs[0].float() - ref).abs().max())
                del ref
                t_s = median_seconds(
                    lambda: F.scaled_dot_product_attention(q, k, v,
                                                           attn_mask=m),
                    iters=5)
                row.update(sdpa_ms=t_s * 1e3,
                           sdpa_tflops=flops / t_s * 1e-12)
                del mask, m
            torch.cuda.empty_cache()
            print(json.dumps(row), flush=True)
            rows.append(row)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"device": torch.cuda.get_device_name(),
                       "torch": torch.__version__, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
