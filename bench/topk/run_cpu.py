#!/usr/bin/env python3
#===- bench/topk/run_cpu.py - Learned block sparsity on the CPU ----------===#
#
# Part of the Attune project.
#
# Times nsa_causal.mlir (NSA / MoBA selection: blocks of 64, top_k best key
# blocks + 1 sink + 1 local, causal, bf16, 8 heads of 64) with attune-run
# for each top_k, next to:
#
# - the gate alone (the spec returning the map instead of O): its share;
# - the same spec with every eligible block forced (local = 2^31 - 1,
#   top_k = 0): dense causal attention through the same mask machinery,
#   what the selection saves;
# - PyTorch's CPU SDPA given the kept (i, j) as a dense boolean mask (what a
#   user writes without a block-sparse kernel), up to --torch-max-s.
#
# Useful work counts the kept pairs (2 * (D + Dv) flops each), read from
# the map the gate returns for the timed inputs (attune-run's seed 0).
# Prints one JSON line per (S, top_k) and a table.
#
#   python3 bench/topk/run_cpu.py build/bin/attune-run --sizes 8192,32768
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
HEADS, HEAD_SIZE, BLOCK = 8, 64, 64


def variant(text, top_k=None, dense=False, gate=False):
    """The spec with another top_k, every eligible block forced (dense), or
    returning the map instead of O (gate)."""
    if top_k is not None:
        text = text.replace("top_k = 16", f"top_k = {top_k}")
    if dense:
        text = text.replace("top_k = 16", "top_k = 0").replace(
            "local = 1", "local = 2147483647")
    if gate:
        # The function up to the gate, returning the map (an unused
        # attention would still be compiled and run).
        text = text[:text.index("  %c2 = arith.constant 2")].replace(
            "-> tensor<?x8x?x64xbf16> {", "-> tensor<?x8x?x?xi8> {", 1)
        text += "  return %keep : tensor<?x8x?x?xi8>\n}\n"
        # Without the attention, the sizes are named on the arguments.
        for arg, seq in (("%q", "Sq"), ("%k", "Sk"), ("%v", "Sk")):
            text = text.replace(
                f"{arg}: tensor<?x8x?x64xbf16>",
                f"{arg}: tensor<?x8x?x64xbf16> {{attn.dims = "
                f"[\"B\", 8, \"{seq}\", 64]}}", 1)
    return text


def attune(attune_run, spec, s, threads, repeats, out=None):
    """attune-run --bench --json on `spec` (text); its report."""
    with tempfile.NamedTemporaryFile("w", suffix=".mlir", delete=False) as f:
        f.write(spec)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cmd = [attune_run, f.name, "--sizes", f"B=1,Sq={s},Sk={s}", "--bench",
           "--repeats", str(repeats), "--json"]
    if out:
        cmd += ["--output-dir", out]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    os.unlink(f.name)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def kept_pairs(keep, s):
    """The (h, i, j) a map [1, H, n, n] keeps with the causal mask: a block
    below the diagonal whole, the diagonal one a triangle (Sq = Sk)."""
    n = keep.shape[-1]
    rows = np.full(n, BLOCK, dtype=np.int64)
    rows[-1] = s - (n - 1) * BLOCK
    blk = np.arange(n)
    per = np.where(blk[None, :] < blk[:, None], rows[:, None] * rows[None],
                   np.diag(rows * (rows + 1) // 2))
    return int((keep[0].astype(np.int64) * per).sum())


def torch_sdpa(keep, s, threads, repeats):
    """Median ms of torch SDPA with the map and the causal mask as a dense
    boolean mask, bf16, or None."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None
    torch.set_num_threads(threads)
    m = torch.from_numpy(keep[0] != 0)
    m = m.repeat_interleave(BLOCK, 1).repeat_interleave(BLOCK, 2)[:, :s, :s]
    m &= torch.ones(s, s, dtype=torch.bool).tril()
    q, k, v = (torch.rand(1, HEADS, s, HEAD_SIZE, dtype=torch.bfloat16)
               for _ in range(3))
    times = []
    with torch.inference_mode():
        F.scaled_dot_product_attention(q, k, v, attn_mask=m[None])
        for _ in range(repeats):
            start = time.perf_counter()
            F.scaled_dot_product_attention(q, k, v, attn_mask=m[None])
            times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3, torch.__version__


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("attune_run")
    parser.add_argument("--sizes", default="8192")
    parser.add_argument("--top-k", default="4,16")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--torch-max-s", type=int, default=8192)
    args = parser.parse_args()
    with open(os.path.join(HERE, "nsa_causal.mlir")) as f:
        text = f.read()
    rows = []
    for s in map(int, args.sizes.split(",")):
        dense_ms = attune(args.attune_run, variant(text, dense=True), s,
                          args.threads, args.repeats)["bench"]["median_ms"]
        dense_flops = 2.0 * 2 * HEAD_SIZE * HEADS * s * (s + 1) / 2
        for top_k in map(int, args.top_k.split(",")):
            with tempfile.TemporaryDirectory() as out:
                gate = attune(args.attune_run, variant(text, top_k, gate=True),
                              s, args.threads, args.repeats, out)
                keep = np.load(os.path.join(out, "result0.npy"))
            pairs = kept_pairs(keep, s)
            flops = 2.0 * 2 * HEAD_SIZE * pairs
            ms = attune(args.attune_run, variant(text, top_k), s,
                        args.threads, args.repeats)["bench"]["median_ms"]
            row = {"S": s, "top_k": top_k,
                   "kept_pairs_frac": flops / dense_flops,
                   "attune_ms": ms, "gate_ms": gate["bench"]["median_ms"],
                   "useful_gflops": flops / ms * 1e-6,
                   "dense_causal_ms": dense_ms,
                   "dense_gflops": dense_flops / dense_ms * 1e-6}
            peer = (torch_sdpa(keep, s, args.threads, args.repeats)
                    if s <= args.torch_max_s else None)
            if peer:
                row["sdpa_masked_ms"], row["torch"] = peer
            print(json.dumps(row), flush=True)
            rows.append(row)
    print(f"\n{'S':>6} {'top_k':>5} {'kept':>6} {'attune ms':>10} "
          f"{'gate ms':>8} {'dense ms':>9} {'SDPA ms':>9} {'useful GF/s':>11}")
    for r in rows:
        sdpa = (f"{r['sdpa_masked_ms']:9.1f}" if "sdpa_masked_ms" in r
                else f"{'-':>9}")
        print(f"{r['S']:6d} {r['top_k']:5d} {r['kept_pairs_frac']:6.3f} "
              f"{r['attune_ms']:10.1f} {r['gate_ms']:8.1f} "
              f"{r['dense_causal_ms']:9.1f} {sdpa} {r['useful_gflops']:11.1f}")


if __name__ == "__main__":
    main()
