#!/usr/bin/env python3
#===- bench/gpu/program_time.py - Programs vs the same work done densely --===#
#
# Part of the Attune project.
#
# Hierarchical and cascade attention on the GPU (issue 14, item 5), same
# run: the f32 artifacts of examples/hierarchical.mlir and
# examples/cascade.mlir (CUDA programs, docs/CUDATarget.md "Programs") vs
# the same computation done densely with PyTorch's SDPA in f32:
#
# - hierarchical: attention over [K; the means of blocks of 16 keys] with
#   the example's mask (a window of 64 recent keys, the blocks wholly before
#   it), as one dense [S, S + S/16] masked attention;
# - cascade: every request attends to [the shared prefix; its own keys]
#   (mask j < P or j - P <= i), the prefix copied per request, as FlashInfer
#   compares cascade inference with batch attention.
#
# Linformer (item 6): the f32 artifact of examples/linformer.mlir against
# the same computation in PyTorch (the projections as matmuls, then SDPA
# over the k = 32 projected keys) and against dense SDPA over all S keys,
# which Linformer approximates.
#
# Outputs are compared (max |error|), then timed (median of CUDA events).
#
# Run (on the GPU machine, PYTHONPATH=python, the runtime built):
#   python3 bench/gpu/program_time.py --artifacts DIR
#
#===----------------------------------------------------------------------===#

import argparse
import sys

import torch
import torch.nn.functional as F

import attune.cuda as acuda

from timing import median_seconds


def hierarchical(module, S, dev):
    B, H, D, W, L = 1, 4, 64, 64, 16
    g = torch.Generator(device=dev).manual_seed(S)
    q, k, v = (torch.randn(B, H, S, D, generator=g, device=dev)
               for _ in range(3))
    o = torch.empty_like(q)
    lse = torch.empty(B, H, S, device=dev)
    module(q, k, v, out=(o, lse))
    n = S // L
    kp = k[:, :, :n * L].reshape(B, H, n, L, D).mean(3)
    vp = v[:, :, :n * L].reshape(B, H, n, L, D).mean(3)
    i = torch.arange(S, device=dev)[:, None]
    j = torch.arange(S, device=dev)[None, :]
    c = torch.arange(n, device=dev)[None, :]
    mask = torch.cat([(j <= i) & (j + W > i), L * c + L + W - 1 <= i], 1)
    kk, vv = torch.cat([k, kp], 2), torch.cat([v, vp], 2)

    def dense():
        return F.scaled_dot_product_attention(q, kk, vv, attn_mask=mask)
    err = float((o - dense()).abs().max())
    t_prog = median_seconds(lambda: module(q, k, v, out=(o, lse)))
    t_dense = median_seconds(dense)
    print(f"hierarchical S={S} (B={B} H={H} D={D}, f32): program "
          f"{t_prog * 1e3:.3f} ms, dense SDPA {t_dense * 1e3:.3f} ms, "
          f"{t_dense / t_prog:.1f}x; max|err| {err:.1e}", flush=True)


def cascade(module, P, Sq, dev):
    R, Hq, Hkv, D = 4, 8, 2, 64
    g = torch.Generator(device=dev).manual_seed(P + Sq)
    q = torch.randn(R, Sq, Hq, D, generator=g, device=dev)
    k, v = (torch.randn(R, Sq, Hkv, D, generator=g, device=dev)
            for _ in range(2))
    kp, vp = (torch.randn(1, P, Hkv, D, generator=g, device=dev)
              for _ in range(2))
    o = torch.empty_like(q)
    lse = torch.empty(R, Hq, Sq, device=dev)
    module(q, k, v, kp, vp, out=(o, lse))
    i = torch.arange(Sq, device=dev)[:, None]
    j = torch.arange(P + Sq, device=dev)[None, :]
    mask = (j < P) | (j - P <= i)

    def dense():
        # The prefix copied per request, [prefix; suffix] per request.
        kk = torch.cat([kp.expand(R, -1, -1, -1), k], 1).transpose(1, 2)
        vv = torch.cat([vp.expand(R, -1, -1, -1), v], 1).transpose(1, 2)
        return F.scaled_dot_product_attention(
            q.transpose(1, 2), kk, vv, attn_mask=mask,
            enable_gqa=True).transpose(1, 2)
    err = float((o - dense()).abs().max())
    t_prog = median_seconds(lambda: module(q, k, v, kp, vp, out=(o, lse)))
    t_dense = median_seconds(dense)
    print(f"cascade P={P} Sq={Sq} (4 requests, Hq={Hq} Hkv={Hkv} D={D}, "
          f"f32): program {t_prog * 1e3:.3f} ms, dense SDPA "
          f"{t_dense * 1e3:.3f} ms, {t_dense / t_prog:.1f}x; max|err| "
          f"{err:.1e}", flush=True)


def linformer(module, S, dev):
    B, H, D, K = 1, 8, 64, 32
    g = torch.Generator(device=dev).manual_seed(S)
    q, k, v = (torch.randn(B, H, S, D, generator=g, device=dev)
               for _ in range(3))
    e, f = (torch.randn(K, S, generator=g, device=dev) / S ** 0.5
            for _ in range(2))
    o = torch.empty_like(q)
    module(q, k, v, e, f, out=o)

    def same():
        # The same computation: the projections as matmuls, then SDPA over
        # the K projected keys.
        return F.scaled_dot_product_attention(q, e @ k, f @ v)

    def dense():
        # What Linformer approximates: attention over all S keys.
        return F.scaled_dot_product_attention(q, k, v)
    err = float((o - same()).abs().max())
    t_prog = median_seconds(lambda: module(q, k, v, e, f, out=o))
    t_same = median_seconds(same)
    t_dense = median_seconds(dense)
    print(f"linformer S={S} (B={B} H={H} D={D} k={K}, f32): program "
          f"{t_prog * 1e3:.3f} ms, torch matmul + SDPA {t_same * 1e3:.3f} ms "
          f"({t_same / t_prog:.2f}x), dense SDPA over S keys "
          f"{t_dense * 1e3:.3f} ms ({t_dense / t_prog:.1f}x); max|err| "
          f"{err:.1e}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--artifacts", required=True)
    args = ap.parse_args()
    dev = "cuda"
    print(f"# {torch.cuda.get_device_name()}, torch {torch.__version__}")
    hier = acuda.load(f"{args.artifacts}/hierarchical")
    for S in (4096, 16384):
        hierarchical(hier, S, dev)
    casc = acuda.load(f"{args.artifacts}/cascade")
    for P, Sq in ((4096, 256), (16384, 256), (16384, 1024)):
        cascade(casc, P, Sq, dev)
    lin = acuda.load(f"{args.artifacts}/linformer")
    for S in (4096, 16384, 65536):
        linformer(lin, S, dev)
    return 0


if __name__ == "__main__":
    sys.exit(main())
