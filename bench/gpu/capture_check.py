#!/usr/bin/env python3
#===- bench/gpu/capture_check.py - The capture-range contract on a GPU ---===#
#
# Part of the Attune project.
#
# On the GPU machine: builds a one-kernel artifact (capture_check/ids_kernel.cu,
# y = ids, with `range` [0, 8) on ids) and checks the runtime's capture range
# contract (docs/CUDAArtifacts.md): in-range ids launch; an out-of-range id is
# ATTUNE_RT_ERROR_CAPTURE_RANGE naming the element; a value written late on a
# side stream is seen (the copy is stream-ordered); unchecked launches run;
# CUDA-graph capture is refused with checks on and replays with them off; and
# the per-launch cost of the check. Prints ALL OK or exits 1.
#
#   ATTUNE_RT_LIB=build-rt/libattune_rt.so PYTHONPATH=python \
#       python3 bench/gpu/capture_check.py
#
#===----------------------------------------------------------------------===#
import json, os, subprocess, sys, tempfile, time
import torch
import attune.cuda as cuda

d = tempfile.mkdtemp()
subprocess.check_call(["nvcc", "-cubin", "-arch=sm_90", "-o",
                       os.path.join(d, "fwd.cubin"),
                       os.path.join(os.path.dirname(__file__), "capture_check",
                                    "ids_kernel.cu")])
json.dump({"format": "attune-cuda", "version": 1, "function": "f",
           "chip": "sm_90",
           "arguments": [{"name": "ids", "dtype": "i32", "shape": ["N"],
                          "range": [0, 8]}],
           "results": [{"name": "y", "dtype": "f32", "shape": ["N"]}],
           "kernels": [{"name": "fwd", "cubin": "fwd.cubin",
                        "block": [256, 1, 1],
                        "grid": [[{"ceildiv": ["N", 256]}], [], []],
                        "params": [{"tensor": "ids"}, {"tensor": "y"}]}]},
          open(os.path.join(d, "manifest.json"), "w"))
m = cuda.load(d)
n = 1 << 16
ids = torch.randint(0, 8, (n,), dtype=torch.int32, device="cuda")
y = m(ids)
torch.cuda.synchronize()
assert torch.equal(y, ids.float()), "in range: wrong result"
print("1 in range: launched, y == ids")

bad = ids.clone(); bad[12345] = 8
try:
    m(bad); print("2 FAIL: no error"); sys.exit(1)
except cuda.Error as e:
    assert e.status == cuda.ERROR_CAPTURE_RANGE, e
    print("2 out of range:", e)

# Written on a non-blocking side stream just before the launch there.
s = torch.cuda.Stream()
with torch.cuda.stream(s):
    late = ids.clone()
    torch.cuda._sleep(50_000_000)  # ~tens of ms of GPU spin before the write
    late[n - 1] = -3
try:
    m(late, stream=s); print("3 FAIL: stale copy, no error"); sys.exit(1)
except cuda.Error as e:
    print("3 stream-ordered:", e)
torch.cuda.synchronize()

m.capture_checks = False
y = m(bad); torch.cuda.synchronize()
print("4 unchecked: launched, y[12345] =", y[12345].item())
m.capture_checks = True

# CUDA graph capture: refused with checks on, fine with them off.
g = torch.cuda.CUDAGraph()
out = torch.empty(n, device="cuda")
torch.cuda.synchronize()
try:
    with torch.cuda.graph(g):
        m(ids, out=out)
    print("5 FAIL: graph capture accepted with checks on"); sys.exit(1)
except Exception as e:  # noqa: BLE001
    print("5 graph capture with checks:", type(e).__name__, str(e)[:160])
m.capture_checks = False
g = torch.cuda.CUDAGraph()
out.zero_()
with torch.cuda.graph(g):
    m(ids, out=out)
g.replay(); torch.cuda.synchronize()
assert torch.equal(out, ids.float())
print("5 graph capture unchecked: replay ok")

# Cost of the check per launch.
for checks in (True, False):
    m.capture_checks = checks
    for _ in range(10): m(ids, out=out)
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(200): m(ids, out=out)
    torch.cuda.synchronize()
    print(f"6 checks={checks}: {(time.perf_counter() - t) / 200 * 1e6:.1f} us "
          f"per launch ({n} i32 ids)")
print("ALL OK")
