#!/usr/bin/env python3
#===- bench/gpu/f32_time.py - The f32 path against PyTorch's f32 SDPA -----===#
#
# Part of the Attune project.
#
#===----------------------------------------------------------------------===#
#
# Times, in one run on the GPU, Attune's f32 path (three bf16 planes, six
# mma.sync per product; docs/CUDATarget.md) on examples/dense.mlir (H = 8,
# D = 64) against the same spec retyped to bf16 and against PyTorch SDPA on
# the same f32 inputs (memory-efficient and math backends, TF32 off), and
# prints the f32 path's norm-relative error against a float64 SDPA.
#
#   ATTUNEC=build/bin/attunec: attunec examples/dense.mlir --target=cuda:sm_90a -o F32
#   ... --gpu-element-type=bf16 -o BF16
#   PYTHONPATH=python python3 bench/gpu/f32_time.py F32 BF16
#
#===----------------------------------------------------------------------===#
import sys, torch, attune.cuda as ac
torch.backends.cuda.matmul.allow_tf32 = False
f32 = ac.load(sys.argv[1]); bf = ac.load(sys.argv[2])
def bench(fn, n=20):
    fn(); torch.cuda.synchronize()
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    s.record()
    for _ in range(n): fn()
    e.record(); torch.cuda.synchronize()
    return s.elapsed_time(e) / n
F = torch.nn.functional
from torch.nn.attention import sdpa_kernel, SDPBackend
for B, S in ((16, 1024), (4, 4096)):
    H, D = 8, 64
    q, k, v = (torch.randn(B, H, S, D, device="cuda") for _ in range(3))
    qb, kb, vb = (x.bfloat16() for x in (q, k, v))
    flops = 4 * B * H * S * S * D
    rows = {"attune f32": lambda: f32(q, k, v), "attune bf16": lambda: bf(qb, kb, vb)}
    for name, be in (("sdpa f32 efficient", SDPBackend.EFFICIENT_ATTENTION), ("sdpa f32 math", SDPBackend.MATH)):
        def f(be=be):
            with sdpa_kernel(be):
                return F.scaled_dot_product_attention(q, k, v)
        rows[name] = f
    ref = None
    for name, fn in rows.items():
        try:
            ms = bench(fn)
            print(f"B={B} H={H} S={S} D={D} {name:20s} {ms:8.3f} ms {flops / ms / 1e9:7.1f} TFLOP/s")
        except Exception as ex:
            print(f"{name}: {type(ex).__name__}: {str(ex)[:100]}")
    o = f32(q, k, v); o = o[0] if isinstance(o, tuple) else o; r = F.scaled_dot_product_attention(q.double(), k.double(), v.double())
    print(f"  f32 path vs float64: norm-rel {((o.double() - r).norm() / r.norm()).item():.2e}")
