#!/usr/bin/env bash
#===- bench/gpu/flashinfer_bundle.sh - Make the FlashInfer peer bundle ---===#
#
# Part of the Attune project.
#
# Makes the bundle that bench/gpu/flashinfer_setup.sh unpacks on the offline
# GPU machine: FlashInfer's paged decode (BatchDecodeWithPagedKVCacheWrapper)
# with its bf16 / head_dim 128 / no-RoPE decode module prebuilt for sm_90a.
# Runs on a machine with PyPI access and CUDA 13, no GPU needed:
#
#   1. pip download --no-deps the pinned wheels (sha256-checked):
#      flashinfer-python 0.7.4 (py3-none-any) and apache-tvm-ffi
#      0.1.15.post2 for cp310, cp311, cp312 and cp313 (manylinux_2_28 x86_64);
#   2. keeps of flashinfer/ only what bench/gpu/flashinfer_keep.txt lists (the
#      modules `import flashinfer` loads, the decode sources, the JIT
#      headers); keeps tvm_ffi/ from the cp312 wheel (with its dist-info)
#      minus its build sources (3rdparty/, src/, cython/), plus the other
#      three wheels' core.cpython-3XX-x86_64-linux-gnu.so;
#   3. JIT-builds the decode module from that trimmed tree with flashinfer's
#      own ninja build (gen_batch_decode_module(bf16, bf16, bf16, int32, 128,
#      128, posenc 0, no SWA, no logits cap), FLASHINFER_CUDA_ARCH_LIST=9.0a)
#      and puts the .so at flashinfer/data/aot/<URI>/<URI>.so, where
#      flashinfer looks for prebuilt modules;
#   4. writes build-flashinfer/{MANIFEST.txt,site/} into OUT.tar.gz.
#
#   PYTHON=/path/to/venv/bin/python bench/gpu/flashinfer_bundle.sh OUT.tar.gz
#
# About 1.5 min here (the compile ~50 s on one job). Exits nonzero, with the reason,
# at the first step that fails; OUT.tar.gz is written only on success.
# Environment: PYTHON (default python3): CPython 3.10-3.13 with pip, and with
# torch importable (flashinfer imports it; any CUDA 13 build, no GPU needed),
# plus flashinfer's own dependencies (numpy, jinja2, packaging, requests,
# tqdm, tabulate, click, einops, nvidia-ml-py, cuda-bindings, ninja), e.g. a
# venv with torch 2.11.0+cu130 and those; CUDA_HOME (default
# /usr/local/cuda, nvcc 13.x); MAX_JOBS (ninja jobs, default 1); KEEP_WORK=1
# keeps the temporary directory.
#
#===----------------------------------------------------------------------===#

set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ $# -ne 1 ]; then
  echo "usage: $0 OUT.tar.gz" >&2
  exit 2
fi
OUT_DIR=$(dirname "$1")
if [ ! -d "$OUT_DIR" ]; then
  echo "error: no directory $OUT_DIR for $1" >&2
  exit 2
fi
OUT=$(cd "$OUT_DIR" && pwd)/$(basename "$1")
PYTHON=${PYTHON:-python3}
KEEP=$HERE/flashinfer_keep.txt
export CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
export MAX_JOBS=${MAX_JOBS:-1}

FI_VERSION=0.7.4
FI_WHEEL=flashinfer_python-0.7.4-py3-none-any.whl
FI_SHA256=a051a62e09a2738e8b0de47a1944fd2f0f3eff01b728b662141ea660cb09dd32
TVM_VERSION=0.1.15.post2
TVM_PYS=(310 311 312 313)
TVM_BASE=312   # the wheel whose tvm_ffi/ and dist-info are kept whole
declare -A TVM_SHA256=(
  [310]=f39ed18bdf7e0aead59050186174f1626a476897a10680a5be3f5270bd1ef968
  [311]=8ecebe749834f6ac0f2693d5964acf9ac75d0bc26e6ba64c46eb7ab00ea50fac
  [312]=059eed9bfc94bcd41650fb8eefde74040a1bc7e7b1a6f0a8ff897b02b118875b
  [313]=eae72eb5bcbbddbc68d54eb6c16af860c628ca2f2b02cc4af2693e01a8186f73
)
tvm_wheel() {
  echo "apache_tvm_ffi-$TVM_VERSION-cp$1-cp$1-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl"
}
# flashinfer.jit.get_batch_decode_uri(bf16, bf16, bf16, int32, 128, 128, 0,
# False, False); checked against flashinfer's own value below.
URI=batch_decode_with_kv_cache_dtype_q_bf16_dtype_kv_bf16_dtype_o_bf16_dtype_idx_i32_head_dim_qk_128_head_dim_vo_128_posenc_0_use_swa_False_use_logits_cap_False

die() {
  echo "error: $*" >&2
  exit 1
}
step() {
  echo "== $* ($(date +%T))"
}

# -- 0. Tools ----------------------------------------------------------------
[ -f "$KEEP" ] || die "keep list $KEEP not found"
for tool in unzip sha256sum tar gzip; do
  command -v "$tool" >/dev/null || die "'$tool' is not installed"
done
NVCC=$CUDA_HOME/bin/nvcc
[ -x "$NVCC" ] || die "no nvcc at $NVCC (set CUDA_HOME)"
NVCC_VERSION=$("$NVCC" --version | sed -n 's/.*release [0-9.]*, V\([0-9.]*\).*/\1/p')
case "$NVCC_VERSION" in
  13.*) ;;
  *) die "$NVCC is version '${NVCC_VERSION:-unknown}', need CUDA 13 (the GPU machine's torch is cu130)" ;;
esac
"$PYTHON" - <<'PYEOF' || die "$PYTHON cannot build the bundle (see above)"
import sys
if sys.implementation.name != "cpython" or not (3, 10) <= sys.version_info[:2] <= (3, 13):
    sys.exit(f"need CPython 3.10-3.13 (the tvm_ffi wheels carried), got {sys.version.split()[0]}")
try:
    import pip  # noqa: F401
except ImportError:
    sys.exit("pip is not installed for this Python")
try:
    import torch  # noqa: F401
except Exception as e:  # noqa: BLE001
    sys.exit(f"torch is not importable ({type(e).__name__}: {e}); flashinfer's import needs it")
for mod in ("jinja2", "numpy"):
    try:
        __import__(mod)
    except ImportError:
        sys.exit(f"{mod} is not installed (flashinfer's JIT build needs it)")
PYEOF
PY_TAG=$("$PYTHON" -c 'import sys; print("%d%d" % sys.version_info[:2])')
# flashinfer runs `ninja` and `c++` from PATH; prefer the Python's own ninja.
PATH=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH
command -v ninja >/dev/null || die "no ninja on PATH or next to $PYTHON (pip install ninja)"
command -v "${CXX:-c++}" >/dev/null || die "no C++ compiler '${CXX:-c++}' on PATH"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/flashinfer-bundle.XXXXXX")
if [ "${KEEP_WORK:-0}" = 1 ]; then
  echo "work directory (kept): $WORK"
else
  trap 'rm -rf "$WORK"' EXIT
fi
DL=$WORK/dl
TOP=$WORK/pkg/build-flashinfer
SITE=$TOP/site
mkdir -p "$DL" "$WORK/unpack" "$SITE"

# -- 1. Download -------------------------------------------------------------
check_wheel() {  # FILE SHA256
  [ -f "$DL/$1" ] || die "pip download did not produce $1 (files: $(cd "$DL" && echo *))"
  echo "$2  $DL/$1" | sha256sum --check --status ||
    die "$1 has sha256 $(sha256sum "$DL/$1" | cut -d' ' -f1), expected $2"
}
step "downloading flashinfer-python==$FI_VERSION"
"$PYTHON" -m pip download --no-deps --only-binary=:all: --dest "$DL" \
  "flashinfer-python==$FI_VERSION" ||
  die "pip download flashinfer-python==$FI_VERSION failed"
check_wheel "$FI_WHEEL" "$FI_SHA256"
for py in "${TVM_PYS[@]}"; do
  step "downloading apache-tvm-ffi==$TVM_VERSION for cp$py"
  "$PYTHON" -m pip download --no-deps --only-binary=:all: --dest "$DL" \
    --platform manylinux_2_28_x86_64 --implementation cp \
    --python-version "${py:0:1}.${py:1}" --abi "cp$py" \
    "apache-tvm-ffi==$TVM_VERSION" ||
    die "pip download apache-tvm-ffi==$TVM_VERSION (cp$py) failed"
  check_wheel "$(tvm_wheel "$py")" "${TVM_SHA256[$py]}"
done

# -- 2. Unpack and trim ------------------------------------------------------
step "unpacking and trimming"
FI_UNPACK=$WORK/unpack/flashinfer
unzip -q "$DL/$FI_WHEEL" -d "$FI_UNPACK" || die "could not unzip $FI_WHEEL"
KEEP_LIST=$WORK/keep.txt
sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$KEEP" >"$KEEP_LIST"
while IFS= read -r entry; do
  case "$entry" in
    flashinfer/*) ;;
    *) die "$KEEP: '$entry' is not under flashinfer/" ;;
  esac
  if [ "${entry%/}" != "$entry" ]; then
    [ -d "$FI_UNPACK/$entry" ] || die "$KEEP: folder $entry is not in $FI_WHEEL"
  else
    [ -f "$FI_UNPACK/$entry" ] || die "$KEEP: $entry is not in $FI_WHEEL"
  fi
done <"$KEEP_LIST"
tar -C "$FI_UNPACK" -cf - -T "$KEEP_LIST" | tar -C "$SITE" -xf - ||
  die "could not copy the kept flashinfer files"
NUM_MODULES=$(grep -c '\.py$' "$KEEP_LIST")

for py in "${TVM_PYS[@]}"; do
  unzip -q "$DL/$(tvm_wheel "$py")" -d "$WORK/unpack/tvm$py" ||
    die "could not unzip $(tvm_wheel "$py")"
done
BASE=$WORK/unpack/tvm$TVM_BASE
cp -a "$BASE/tvm_ffi" "$BASE/apache_tvm_ffi-$TVM_VERSION.dist-info" "$SITE/" ||
  die "could not copy tvm_ffi"
rm -rf "$SITE/tvm_ffi/3rdparty" "$SITE/tvm_ffi/src" "$SITE/tvm_ffi/cython"
for py in "${TVM_PYS[@]}"; do
  so=tvm_ffi/core.cpython-$py-x86_64-linux-gnu.so
  [ -f "$WORK/unpack/tvm$py/$so" ] || die "$(tvm_wheel "$py") has no $so"
  cp -a "$WORK/unpack/tvm$py/$so" "$SITE/$so"
done
[ -f "$SITE/tvm_ffi/core.cpython-$PY_TAG-x86_64-linux-gnu.so" ] ||
  die "no tvm_ffi core module for this Python (cp$PY_TAG)"

# -- 3. Prebuild the decode module -------------------------------------------
step "compiling the decode module for sm_90a (nvcc $NVCC_VERSION, MAX_JOBS=$MAX_JOBS)"
(
  cd "$WORK" &&
  env -u FLASHINFER_DISABLE_JIT -u FLASHINFER_NVCC -u FLASHINFER_EXTRA_CUDAFLAGS \
    -u FLASHINFER_EXTRA_CFLAGS -u FLASHINFER_EXTRA_LDFLAGS -u FLASHINFER_NVCC_THREADS \
    PYTHONPATH="$SITE" PYTHONNOUSERSITE=1 PYTHONDONTWRITEBYTECODE=1 \
    FLASHINFER_WORKSPACE_BASE="$WORK/ws" FLASHINFER_CUDA_ARCH_LIST=9.0a \
    "$PYTHON" - "$SITE" "$URI" "$WORK/so_path" <<'PYEOF'
import os, sys, time
site, want_uri, out = sys.argv[1], sys.argv[2], sys.argv[3]
import torch
import flashinfer
from flashinfer.jit import gen_batch_decode_module, get_batch_decode_uri
if not flashinfer.__file__.startswith(site):
    sys.exit(f"imported flashinfer from {flashinfer.__file__}, not from {site}")
args = (torch.bfloat16, torch.bfloat16, torch.bfloat16, torch.int32, 128, 128, 0, False, False)
uri = get_batch_decode_uri(*args)
if uri != want_uri:
    sys.exit(f"flashinfer names the module {uri}, expected {want_uri}")
spec = gen_batch_decode_module(*args)
t = time.time()
spec.build(verbose=True)
print(f"built in {time.time() - t:.0f} s")
path = str(spec.jit_library_path)
if not os.path.isfile(path):
    sys.exit(f"the build did not produce {path}")
open(out, "w").write(path)
PYEOF
) || die "the decode module did not compile (flashinfer's log: $WORK/ws/.cache/flashinfer/; KEEP_WORK=1 keeps it)"
SO=$(cat "$WORK/so_path")
mkdir -p "$SITE/flashinfer/data/aot/$URI"
cp "$SO" "$SITE/flashinfer/data/aot/$URI/$URI.so"
chmod 755 "$SITE/flashinfer/data/aot/$URI/$URI.so"

# -- 4. Write the bundle -----------------------------------------------------
step "writing $OUT"
find "$SITE" -name __pycache__ -type d -prune -exec rm -rf {} +
cat >"$TOP/MANIFEST.txt" <<EOF
FlashInfer decode peer bundle (made offline; unpack at the repository root, see bench/gpu/flashinfer_setup.sh)
site/flashinfer   flashinfer-python $FI_VERSION (py3-none-any wheel, git $(sed -n 's/^__git_commit__ = "\(.\{8\}\).*/\1/p' "$SITE/flashinfer/_build_meta.py")), trimmed to the
                  $NUM_MODULES modules that 'import flashinfer' loads; data/ holds the decode
                  csrc templates, data/include and data/cccl (JIT headers), and
                  data/aot/$URI/$URI.so (prebuilt, nvcc $NVCC_VERSION, -gencode arch=compute_90a,code=sm_90a)
site/tvm_ffi      apache-tvm-ffi $TVM_VERSION (manylinux_2_28 x86_64 wheels, core.*.so for cp310..cp313;
                  3rdparty/, src/, cython/ build sources dropped)
Not carried (absent on the GPU machine, imports guarded in flashinfer): nvidia-cutlass-dsl, nvidia-cudnn-frontend,
cuda-tile, nccl4py, nccl-extensions. Needed from the machine: torch, numpy, jinja2, typing-extensions, einops,
packaging, requests, tqdm, tabulate, click, nvidia-ml-py, cuda-bindings/cuda-pathfinder, ninja, nvcc (JIT only).
EOF
tar -C "$WORK/pkg" --sort=name --owner=0 --group=0 --numeric-owner \
  -cf - build-flashinfer | gzip -n >"$OUT.tmp" || die "could not write $OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "wrote $OUT ($(du -h "$OUT" | cut -f1), $(tar tzf "$OUT" | wc -l) entries; $NUM_MODULES flashinfer modules)"
echo "on the GPU machine: bench/gpu/flashinfer_setup.sh $(basename "$OUT")"
