#!/usr/bin/env python3
#===- bench/gpu/linear_time.py - Kernelised attention, side by side ------===#
#
# Part of the Attune project.
#
# The GPU rows of issue 15, item 5: bench/linear/elu_causal.mlir (elu + 1,
# causal, artifacts elu_causal_c<chunk>) and bench/linear/favor.mlir
# (FAVOR+, r = 64, not causal), bf16 [1, 8, S, 64], timed as whole programs
# (every linalg step). Same run:
#
# - PyTorch eager, the same algorithm (f32 features; causal in chunks of 64
#   with a cumulative sum of the chunk states): a peer and the outputs'
#   check (max |difference|);
# - flash-linear-attention's chunk_linear_attn (Triton) on the same
#   features, when `fla` imports (its feature map applied in PyTorch and
#   timed with it);
# - PyTorch's SDPA, dense (flash; causal for the causal rows): the softmax
#   attention the linear form replaces;
# - a device-to-device copy of the bytes of Q, K, V and O: the traffic
#   bound of an O(S r D) method.
#
# Run (on the GPU machine, PYTHONPATH=python, the runtime built):
#   python3 bench/gpu/linear_time.py --artifacts DIR --sizes 16384,65536 \
#       --chunks 64,128,256 [--profile]
#
#===----------------------------------------------------------------------===#

import argparse
import json
import math

import torch
import torch.nn.functional as F

import attune.cuda as acuda

from timing import median_seconds

H, D, R = 8, 64, 64


def elu1(x):
    return F.elu(x.float()) + 1


def favor_features(x, w, query):
    """FAVOR+ features as docs/LinearAttention.md shifts them."""
    xs = x.float() * (1.0 / math.sqrt(math.sqrt(D)))
    e = xs @ w
    if query:
        return torch.exp(e - e.amax(-1, keepdim=True))
    e = e - 0.5 * (xs * xs).sum(-1, keepdim=True)
    return torch.exp(e - e.amax(dim=(-2, -1), keepdim=True))


def linear_torch(fq, fk, v, causal, chunk=64):
    """O = phi(q) S / phi(q) z in f32; causal in chunks with the chunk
    states' cumulative sum (exclusive) and the masked own chunk."""
    v = v.float()
    if not causal:
        kv = torch.einsum("bhsf,bhse->bhfe", fk, v)
        z = fk.sum(2)
        num = torch.einsum("bhsf,bhfe->bhse", fq, kv)
        den = torch.einsum("bhsf,bhf->bhs", fq, z)
        return (num / den[..., None]).to(torch.bfloat16)
    b, h, s, f = fq.shape
    n = (s + chunk - 1) // chunk
    pad = n * chunk - s
    fq, fk, v = (F.pad(x, (0, 0, 0, pad)) for x in (fq, fk, v))
    fq, fk = (x.view(b, h, n, chunk, f) for x in (fq, fk))
    v = v.view(b, h, n, chunk, -1)
    kv = torch.einsum("bhncf,bhnce->bhnfe", fk, v)
    z = fk.sum(3)
    pkv = kv.cumsum(2) - kv
    pz = z.cumsum(2) - z
    a = torch.einsum("bhnif,bhnjf->bhnij", fq, fk).tril()
    num = torch.einsum("bhnif,bhnfe->bhnie", fq, pkv) + a @ v
    den = torch.einsum("bhnif,bhnf->bhni", fq, pz) + a.sum(-1)
    o = (num / den[..., None]).reshape(b, h, n * chunk, -1)[:, :, :s]
    return o.to(torch.bfloat16)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--sizes", default="16384,65536")
    ap.add_argument("--chunks", default="64,128,256")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args()
    dev = "cuda"
    try:
        from fla.ops.linear_attn import chunk_linear_attn
    except Exception as e:  # a peer that does not install is reported
        chunk_linear_attn = None
        print(json.dumps({"fla_error": str(e).splitlines()[0][:200]}))
    rows = []
    for S in map(int, args.sizes.split(",")):
        g = torch.Generator(device=dev).manual_seed(S)
        q, k, v = (torch.randn(1, H, S, D, generator=g, device=dev)
                   .to(torch.bfloat16) for _ in range(3))
        w = torch.randn(D, R, generator=g, device=dev)
        o = torch.empty_like(q)
        nbytes = 4 * q.numel() * q.element_size()
        src = torch.empty(nbytes, dtype=torch.uint8, device=dev)
        dst = torch.empty_like(src)
        t_copy = median_seconds(lambda: dst.copy_(src))
        t_sdpa = {c: median_seconds(lambda: F.scaled_dot_product_attention(
            q, k, v, is_causal=c), iters=10) for c in (False, True)}
        runs = [(f"elu_causal_c{c}", True, c, None)
                for c in map(int, args.chunks.split(","))]
        runs.append(("favor", False, 0, w))
        for name, causal, chunk, feat in runs:
            fn = acuda.load(f"{args.artifacts}/{name}")
            call = ((lambda: fn(q, k, v, out=(o,))) if feat is None else
                    (lambda: fn(q, k, v, feat, out=(o,))))
            call()
            torch.cuda.synchronize()
            if feat is None:
                fq, fk = elu1(q), elu1(k)
                feats = lambda: (elu1(q), elu1(k))  # noqa: E731
            else:
                fq, fk = favor_features(q, feat, True), \
                    favor_features(k, feat, False)
                feats = lambda: (favor_features(q, feat, True),  # noqa
                                 favor_features(k, feat, False))
            ref = linear_torch(fq, fk, v, causal)
            t = median_seconds(call)
            row = {"S": S, "spec": name, "causal": causal, "chunk": chunk,
                   "attune_ms": t * 1e3,
                   "max_diff_torch": float((o.float() - ref.float())
                                           .abs().max()),
                   "copy_ms": t_copy * 1e3,
                   "copy_fraction": t_copy / t,
                   "sdpa_ms": t_sdpa[causal] * 1e3}
            row["torch_ms"] = median_seconds(
                lambda: linear_torch(*feats(), v, causal), iters=10) * 1e3
            if chunk_linear_attn is not None and causal:
                try:
                    def fla():
                        a, b = feats()
                        return chunk_linear_attn(
                            a.transpose(1, 2).to(torch.bfloat16),
                            b.transpose(1, 2).to(torch.bfloat16),
                            v.transpose(1, 2), scale=1.0, normalize=True)
                    out = fla()
                    out = out[0] if isinstance(out, tuple) else out
                    row["max_diff_fla"] = float(
                        (out.transpose(1, 2).float() - ref.float())
                        .abs().max())
                    row["fla_ms"] = median_seconds(fla, iters=10) * 1e3
                except Exception as e:
                    row["fla_error"] = str(e).splitlines()[0][:200]
            if args.profile:
                from cluster_time import profile
                row["kernels_us"] = profile(call)
            del ref, fq, fk
            torch.cuda.empty_cache()
            print(json.dumps(row), flush=True)
            rows.append(row)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"device": torch.cuda.get_device_name(),
                       "torch": torch.__version__, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
