#!/usr/bin/env python3
#===- bench/gpu/long_check.py - Sequences past the k-tile class table -----===#
#
# Part of the Attune project.
#
#===----------------------------------------------------------------------===#
#
# Masked kernels classify up to 2048 k-tiles per CTA into a shared-memory
# table and the rest on the fly (docs/CUDATarget.md); run.py's sizes stay
# inside the table. This checks the causal and sliding-window benchmark
# artifacts (bench_causal_d128, bench_window: H = 16, D = 128, bf16) at one
# long S against float32 references: SDPA's memory-efficient causal kernel,
# and the window computed per chunk of queries with an explicit mask. Exits
# 1 when an error exceeds 1e-2 (norm-relative) or the output has a NaN.
#
#   PYTHONPATH=python python3 bench/gpu/long_check.py build-artifacts 104017
#
#===----------------------------------------------------------------------===#
import os, sys, torch, attune.cuda

artifacts, S = sys.argv[1], int(sys.argv[2])
H, D, W, CHUNK = 16, 128, 1024, 2048
torch.manual_seed(0)
q, k, v = (torch.randn(1, H, S, D, device="cuda", dtype=torch.bfloat16)
           for _ in range(3))
qf, kf, vf = q.float(), k.float(), v.float()
sdpa = torch.nn.functional.scaled_dot_product_attention


def run(name):
    o = attune.cuda.load(os.path.join(artifacts, name))(q, k, v)
    return (o[0] if isinstance(o, (tuple, list)) else o).float()


def report(what, o, num, den):
    rel, nans = (num / den) ** 0.5, torch.isnan(o).sum().item()
    ok = rel <= 1e-2 and nans == 0
    print(f"{'PASS' if ok else 'FAIL'} {what} S={S}: rel_err {rel:.2e}, "
          f"NaN {nans}")
    return ok


o = run("bench_causal_d128")
ref = sdpa(qf, kf, vf, is_causal=True)
ok = report("causal", o, ((o - ref) ** 2).sum().item(), (ref ** 2).sum().item())
del ref

o = run("bench_window")
num = den = 0.0
for q0 in range(0, S, CHUNK):
    q1, k0 = min(S, q0 + CHUNK), max(0, q0 - W + 1)
    i = torch.arange(q0, q1, device="cuda")[:, None]
    j = torch.arange(k0, q1, device="cuda")[None, :]
    r = sdpa(qf[:, :, q0:q1], kf[:, :, k0:q1], vf[:, :, k0:q1],
             attn_mask=(j <= i) & (i < j + W))
    num += ((o[:, :, q0:q1] - r) ** 2).sum().item()
    den += (r ** 2).sum().item()
ok = report("window 1024", o, num, den) and ok
sys.exit(0 if ok else 1)
