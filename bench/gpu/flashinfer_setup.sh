#!/usr/bin/env bash
#===- bench/gpu/flashinfer_setup.sh - Unpack the FlashInfer peer bundle ---===#
#
# Part of the Attune project.
#
# Makes FlashInfer's paged decode (flashinfer.decode.
# BatchDecodeWithPagedKVCacheWrapper) usable as a benchmark peer on a GPU
# machine without internet: unpacks the bundle that
# bench/gpu/flashinfer_bundle.sh makes on a machine with PyPI access (a
# trimmed flashinfer 0.7.4 plus apache-tvm-ffi 0.1.15.post2 for CPython
# 3.10-3.13) into build-flashinfer/ (git-ignored), writes
# build-flashinfer/env.sh and runs a smoke test: import the wrapper and,
# when a GPU is present, one tiny bf16 decode (32 query / 8 KV heads,
# head_dim 128, page 16, NHD) checked against torch SDPA. The bundle
# carries that decode module prebuilt for sm_90a (flashinfer/data/aot/), so
# the test runs with FLASHINFER_DISABLE_JIT=1 and proves no compile is
# needed; other decode configurations still JIT-compile with nvcc from the
# carried headers.
#
#   PYTHON=venv/bin/python bench/gpu/flashinfer_bundle.sh bundle.tar.gz  # with PyPI
#   bench/gpu/flashinfer_setup.sh /path/to/bundle.tar.gz                 # GPU machine
#   . build-flashinfer/env.sh     # then run the benchmark
#
# Exits nonzero, with the reason, if unpacking or the smoke test fails.
# Environment: PYTHON (default python3), FI_SMOKE_ALLOW_JIT=1 lets the smoke
# test compile the module instead of requiring the prebuilt one.
#
#===----------------------------------------------------------------------===#

set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ $# -ne 1 ] || [ ! -f "$1" ]; then
  echo "usage: $0 BUNDLE.tar.gz" >&2
  exit 2
fi
BUNDLE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
PYTHON=${PYTHON:-python3}
DEST=$ROOT/build-flashinfer

# The bundle's top folder is build-flashinfer/; drop a stale copy first.
rm -rf "$DEST/site"
if ! tar xf "$BUNDLE" -C "$ROOT"; then
  echo "error: could not unpack $BUNDLE into $ROOT" >&2
  exit 1
fi
if [ ! -d "$DEST/site/flashinfer" ] || [ ! -d "$DEST/site/tvm_ffi" ]; then
  echo "error: $BUNDLE did not contain build-flashinfer/site/{flashinfer,tvm_ffi}" >&2
  exit 1
fi
mkdir -p "$DEST/ws"

cat >"$DEST/env.sh" <<EOF
# Source this file (written by bench/gpu/flashinfer_setup.sh).
export PYTHONPATH="$DEST/site\${PYTHONPATH:+:\$PYTHONPATH}"
# JIT cache, generated sources and locks go here, not to ~/.cache.
export FLASHINFER_WORKSPACE_BASE="$DEST/ws"
# H100/H200; only used if another decode configuration must be JIT-compiled.
export FLASHINFER_CUDA_ARCH_LIST="\${FLASHINFER_CUDA_ARCH_LIST:-9.0a}"
EOF
echo "wrote $DEST/env.sh:"
sed -n '2,$p' "$DEST/env.sh" | grep '^export'

# shellcheck source=/dev/null
. "$DEST/env.sh"
if [ "${FI_SMOKE_ALLOW_JIT:-0}" != 1 ]; then
  export FLASHINFER_DISABLE_JIT=1
fi

timeout 300 "$PYTHON" - <<'PYEOF'
import math, os, sys, time

t0 = time.time()

def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)

try:
    import torch
    import flashinfer
    from flashinfer.decode import BatchDecodeWithPagedKVCacheWrapper
except Exception as e:  # noqa: BLE001
    fail(f"import: {type(e).__name__}: {e}")
print(f"flashinfer {flashinfer.__version__} from {os.path.dirname(flashinfer.__file__)}; "
      f"torch {torch.__version__}; python {sys.version.split()[0]}; "
      f"import {time.time() - t0:.1f}s")
if not torch.cuda.is_available():
    print("no GPU: import checked only")
    sys.exit(0)

try:
    dev = torch.device("cuda")
    print("device:", torch.cuda.get_device_name(dev), torch.cuda.get_device_capability(dev))
    torch.manual_seed(0)
    H, KVH, D, P = 32, 8, 128, 16
    kv_lens = [1, 17, 100, 16, 33]
    pages = [(n + P - 1) // P for n in kv_lens]
    num_pages = sum(pages) + 3
    perm = torch.randperm(num_pages)[: sum(pages)]
    indptr = torch.tensor([sum(pages[:i]) for i in range(len(pages) + 1)], dtype=torch.int32, device=dev)
    indices = perm.to(torch.int32).to(dev)
    last = torch.tensor([(n - 1) % P + 1 for n in kv_lens], dtype=torch.int32, device=dev)
    bf = torch.bfloat16
    k_cache = torch.randn(num_pages, P, KVH, D, dtype=bf, device=dev)
    v_cache = torch.randn(num_pages, P, KVH, D, dtype=bf, device=dev)
    q = torch.randn(len(kv_lens), H, D, dtype=bf, device=dev)

    ws = torch.empty(128 * 1024 * 1024, dtype=torch.uint8, device=dev)
    w = BatchDecodeWithPagedKVCacheWrapper(ws, "NHD")
    w.plan(indptr, indices, last, H, KVH, D, P, pos_encoding_mode="NONE",
           q_data_type=bf, kv_data_type=bf)
    o = w.run(q, (k_cache, v_cache))
    torch.cuda.synchronize()
except Exception as e:  # noqa: BLE001
    hint = ""
    if "JIT" in str(e):
        hint = " (the prebuilt module was not used; FI_SMOKE_ALLOW_JIT=1 allows a compile)"
    fail(f"decode: {type(e).__name__}: {e}{hint}")

worst, bad = 0.0, False
for b, n in enumerate(kv_lens):
    rows = indices[indptr[b]: indptr[b + 1]].long()
    k = k_cache[rows].reshape(-1, KVH, D)[:n].float()
    v = v_cache[rows].reshape(-1, KVH, D)[:n].float()
    ref = torch.nn.functional.scaled_dot_product_attention(
        q[b].float().view(1, H, 1, D), k.transpose(0, 1)[None], v.transpose(0, 1)[None],
        enable_gqa=True).view(H, D)
    err = (o[b].float() - ref).abs()
    worst = max(worst, err.max().item())
    bad = bad or bool((err > 2e-2 + 2e-2 * ref.abs()).any())
print(f"backend {w.resolved_backend}; max |flashinfer - sdpa| = {worst:.3e}; "
      f"total {time.time() - t0:.1f}s")
if bad or not math.isfinite(worst):
    fail(f"decode output differs from torch SDPA (max abs {worst:.3e}; "
         "tolerance 2e-2 + 2e-2 * |sdpa|)")
print("OK")
PYEOF
rc=$?
if [ $rc -ne 0 ]; then
  [ $rc -eq 124 ] && echo "FAIL: smoke test timed out (300 s)"
  echo "smoke test failed (exit $rc)" >&2
  exit 1
fi
echo "use: . $DEST/env.sh"
