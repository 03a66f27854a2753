#!/usr/bin/env python3
#===- bench/cpu/clustered/run.py - Bucketed attention, sorted or masked ---===#
#
# Part of the Attune project.
#
# Times the bucketed attention specs of this folder with attune-run, with
# attn-cluster (the default: rows sorted by bucket, tiles of different
# buckets skipped) and without it (--cluster=false: the masked kernel
# visits every tile the mask's bucket ranges touch), next to PyTorch's CPU
# SDPA given the same mask as a dense boolean tensor (what a user writes
# today without a block-sparse kernel). Useful work counts the pairs the
# mask keeps: 2 * (D + Dv) flops per kept (b, h, i, j), read from the ids
# the specs return (same seed as the timed runs). Prints one JSON line per
# (spec, S) and a table.
#
#   python3 bench/cpu/clustered/run.py build/bin/attune-run [--sizes 8192]
#
#===----------------------------------------------------------------------===#

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
HEADS, HEAD_SIZE = 8, 64


def attune(attune_run, spec, s, extra, threads, repeats):
    """Runs attune-run --bench --json; returns its report."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cmd = [attune_run, spec, "--sizes", f"B=1,Sq={s},Sk={s}", "--bench",
           "--repeats", str(repeats), "--json"] + extra
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ids_of(attune_run, spec, s):
    """The ids the spec returns at seed 0 (the timed runs' inputs)."""
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([attune_run, spec, "--sizes", f"B=1,Sq={s},Sk={s}",
                        "--output-dir", out], check=True,
                       capture_output=True)
        files = sorted(f for f in os.listdir(out) if f != "result0.npy")
        return [np.load(os.path.join(out, f)) for f in files]


def mask_of(name, ids):
    """The boolean mask [H, S, S] of the spec (batch 1)."""
    if name == "reformer_shared":
        x = ids[0][0, 0]  # [H, S]
        keep = x[:, :, None] == x[:, None, :]
        s = x.shape[-1]
        return keep & np.tri(s, dtype=bool)[None]
    q, k = ids[0][0], ids[1][0]
    return q[:, :, None] == k[:, None, :]


def torch_sdpa(mask, threads, repeats):
    """Median ms of torch SDPA with the dense mask, bf16, or None."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None
    torch.set_num_threads(threads)
    h, s, _ = mask.shape
    q, k, v = (torch.rand(1, h, s, HEAD_SIZE, dtype=torch.bfloat16)
               for _ in range(3))
    m = torch.from_numpy(mask)[None]
    times = []
    with torch.inference_mode():
        F.scaled_dot_product_attention(q, k, v, attn_mask=m)
        for _ in range(repeats):
            start = time.perf_counter()
            F.scaled_dot_product_attention(q, k, v, attn_mask=m)
            times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3, torch.__version__


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("attune_run")
    parser.add_argument("--sizes", default="4096,8192")
    parser.add_argument("--specs", default="reformer_shared,routing16")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--torch-max-s", type=int, default=16384,
                        help="largest S given to SDPA (its dense mask and "
                        "scores grow as S^2)")
    args = parser.parse_args()
    rows = []
    for name in args.specs.split(","):
        spec = os.path.join(HERE, f"{name}.mlir")
        for s in map(int, args.sizes.split(",")):
            mask = mask_of(name, ids_of(args.attune_run, spec, s))
            pairs = int(mask.sum())
            flops = 2.0 * 2 * HEAD_SIZE * pairs
            row = {"spec": name, "S": s, "kept": pairs / mask.size,
                   "useful_gflop": flops * 1e-9}
            for label, extra in (("clustered", []),
                                 ("masked", ["--cluster=false"])):
                ms = attune(args.attune_run, spec, s, extra, args.threads,
                            args.repeats)["bench"]["median_ms"]
                row[f"{label}_ms"] = ms
                row[f"{label}_gflops"] = flops / ms * 1e-6
            peer = (torch_sdpa(mask, args.threads, args.repeats)
                    if s <= args.torch_max_s else None)
            if peer:
                row["sdpa_ms"], row["torch"] = peer
                row["sdpa_gflops"] = flops / peer[0] * 1e-6
            del mask
            print(json.dumps(row), flush=True)
            rows.append(row)
    print(f"\n{'spec':16} {'S':>6} {'kept':>7} {'clustered ms':>13} "
          f"{'masked ms':>10} {'SDPA ms':>9} {'useful GFLOP/s':>15}")
    for r in rows:
        sdpa = f"{r['sdpa_ms']:9.1f}" if "sdpa_ms" in r else f"{'-':>9}"
        print(f"{r['spec']:16} {r['S']:6d} {r['kept']:7.4f} "
              f"{r['clustered_ms']:13.1f} {r['masked_ms']:10.1f} {sdpa} "
              f"{r['clustered_gflops']:15.1f}")


if __name__ == "__main__":
    main()
