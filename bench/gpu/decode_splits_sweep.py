#!/usr/bin/env python3
#===- bench/gpu/decode_splits_sweep.py - Split counts of the decode kernel -===#
#
# Part of the Attune project.
#
# Times the paged decode of bench/gpu/paged_time.py (B sequences of L
# tokens, Hq = 32, Hkv = 8, D = 128, bf16, pages of 16) with the split-KV
# decode kernel's split count fixed to each of a list of values, by copying
# the artifact with its manifest's `decode_splits` replaced by the number,
# next to the artifact as compiled ("auto") and SDPA, all in one process.
# With --profile, also prints each kernel's CUDA time of one call (torch
# profiler) for the artifact as compiled and for SDPA.
#
# Run (on the GPU machine, PYTHONPATH=python, the runtime built), from
# bench/gpu:
#   python3 decode_splits_sweep.py --artifacts DIR --batch 32
#       --lengths 4096,32768 --splits 1,2,3,4,6,8 [--profile]
#
#===----------------------------------------------------------------------===#

import argparse
import json
import os
import shutil
import tempfile

import torch
import torch.nn.functional as F

import attune.cuda as acuda
import paged_time
from timing import median_seconds


def with_splits(src, splits, root):
    """A copy of artifact `src` whose decode_splits is `splits`."""
    dst = os.path.join(root, f"splits{splits}")
    shutil.copytree(src, dst)
    path = os.path.join(dst, "manifest.json")
    with open(path) as f:
        manifest = json.load(f)
    for symbol in manifest["symbols"]:
        if symbol["name"] == "decode_splits":
            symbol["value"] = splits
    with open(path, "w") as f:
        json.dump(manifest, f)
    return dst


def profile(name, fn):
    fn()
    torch.cuda.synchronize()
    with torch.profiler.profile(
            activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        for _ in range(5):
            fn()
        torch.cuda.synchronize()
    for event in prof.key_averages():
        if event.device_time_total > 0:
            print(f"  profile {name}: {event.key[:60]} "
                  f"{event.device_time_total / event.count:.1f} us x "
                  f"{event.count // 5}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lengths", default="4096,32768")
    ap.add_argument("--splits", default="1,2,3,4,6,8,16")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    paged_time.B = args.batch
    src = f"{args.artifacts}/bench_paged_decode"
    root = tempfile.mkdtemp()
    kernels = {"auto": acuda.load(src, check_captures=False)}
    for s in (int(x) for x in args.splits.split(",")):
        kernels[str(s)] = acuda.load(with_splits(src, s, root),
                                     check_captures=False)
    print(f"# {torch.cuda.get_device_name()}; B={args.batch} Hq=32 Hkv=8 "
          f"D=128 P=16 Sq=1 bf16; paged ms (GB/s of K+V)")
    for L in (int(x) for x in args.lengths.split(",")):
        q, k, v, kc, vc, table, lens = paged_time.paged_inputs(L, L)
        ref = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
        kv_bytes = 2 * k.numel() * k.element_size()
        cells = []
        for name, kernel in kernels.items():
            o = torch.full_like(ref, float("nan"))
            kernel(q, kc, vc, table, lens, out=o)
            torch.cuda.synchronize()
            err = float((o.float() - ref.float()).abs().max())
            assert err < 3e-2, f"splits {name}: max|err| {err}"
            t = median_seconds(
                lambda: kernel(q, kc, vc, table, lens, out=o), iters=30)
            cells.append(f"{name} {t * 1e3:.3f} ({kv_bytes / t / 1e9:.0f})")
        t = median_seconds(
            lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
            iters=30)
        cells.append(f"sdpa {t * 1e3:.3f} ({kv_bytes / t / 1e9:.0f})")
        print(f"L={L}: " + "  ".join(cells), flush=True)
        if args.profile:
            o = torch.empty_like(ref)
            profile("attune", lambda: kernels["auto"](q, kc, vc, table, lens,
                                                      out=o))
            profile("sdpa", lambda: F.scaled_dot_product_attention(
                q, k, v, enable_gqa=True))
        del q, k, v, kc, vc


if __name__ == "__main__":
    main()
