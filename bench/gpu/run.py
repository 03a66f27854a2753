#!/usr/bin/env python3
#===- bench/gpu/run.py - Attune CUDA check and benchmark ------------------===#
#
# Part of the Attune project.
#
# Runs on the lent GPU machine (PyTorch with CUDA, Triton, FlexAttention; no
# MLIR). In one run, over a directory of CUDA artifacts (one sub-directory per
# compiled spec, docs/CUDAArtifacts.md):
#
#   a. check: every artifact at B = 2 and Sq = Sk = S for S in {1, 17, 113,
#      1000}, plus Sq != Sk where the manifest has separate Sq and Sk: fresh
#      random inputs from the manifest (floats ~ N(0, 1), or uniform in the
#      manifest's `range`; integer captures uniform in `range`), results
#      poisoned with NaN and passed as `out=`, compared with reference.py
#      evaluated in float32 on the same (upcast) inputs: norm-relative error
#      <= 1e-2 for bf16/f16 (1e-5 for f32), no NaN anywhere, the reference's
#      infinities exactly, and fully masked rows exactly O = 0, lse = -inf;
#      integer results (i32 / i64 bucket ids, poisoned with the type's
#      least value) exactly, the mismatches counted and the first reported.
#      A spec with attn.append_pages gets valid block tables and lengths
#      (no page listed twice, room for the new rows; a size whose new rows
#      cannot fit in the table is a SKIP line), and a result written in
#      place into an argument (manifest `in_place_of`, the appended cache)
#      is that argument's tensor, the reference reading a copy of the
#      inputs taken before the call.
#      One PASS/FAIL line per (spec, size); a missing artifact, a load error
#      or an exception is a FAIL line;
#   b. time (CUDA events, median after warm-up, the same for every peer):
#      Attune, SDPA's flash and cuDNN backends and FlexAttention (compiled;
#      its create_block_mask timed on its own, and flex + mask) on the
#      FlashAttention papers' shapes (16k tokens per batch, hidden 2048, D = 64
#      and 128, S = 1k/4k/16k, causal or not), at S = 8192 / D = 128 / H = 16
#      on a causal sliding window of 1024, causal ALiBi, causal soft-cap 30
#      and a packed 8-document mask, and on decode (B = 8, Hq = 32, Hkv = 8,
#      D = 128, one query over 32768 keys: GB/s against the same run's
#      device-to-device copy bandwidth). Each timed Attune output is checked
#      once against a peer's output (norm-relative <= 1e-2; `!` if not);
#   c. writes everything to --out (JSON, rewritten after every item) and
#      prints markdown tables for bench/RESULTS.md.
#
# The items run in a worker process: a kernel that faults (a sticky CUDA
# error poisons the whole process) or hangs is killed after --item-timeout
# seconds, reported as FAIL / n/a, and a fresh worker goes on with the next
# item. --budget-s stops starting items after that many seconds, so a run
# under a wall-clock limit still writes its JSON.
#
#   PYTHONPATH=python python3 bench/gpu/run.py --artifacts ART --out gpu.json
#   ... --quick                 fewer sizes, shapes and iterations
#   ... --only causal,window    substrings of artifact / row names
#   ... --skip-peers            Attune only
#   ... --skip-check / --skip-time
#   ... --map dense_d128=mydir  another artifact for a row kind
#
#===----------------------------------------------------------------------===#

import argparse
import datetime
import json
import math
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
import reference  # noqa: E402

# Row kind -> artifact sub-directory (bench/gpu/specs/<name>.mlir).
DEFAULT_MAP = {
    "dense_d64": "bench_dense_d64",
    "dense_d128": "bench_dense_d128",
    "causal_d64": "bench_causal_d64",
    "causal_d128": "bench_causal_d128",
    "window": "bench_window",
    "alibi": "bench_alibi",
    "softcap": "bench_softcap",
    "docmask": "bench_docmask",
    "decode": "bench_decode",
}

# Manifest dtypes of integer results, which the check compares exactly.
INT_DTYPES = ("i8", "i16", "i32", "i64")

WINDOW = 1024
SOFTCAP = 30.0
NUM_DOCS = 8
PROTO = "@@"


def log(*a):
    print(*a, flush=True)


def short(e, n=300):
    s = f"{type(e).__name__}: {e}".replace("\n", " | ")
    return s if len(s) <= n else s[:n] + "..."


#===----------------------------------------------------------------------===#
# Work items
#===----------------------------------------------------------------------===#

# FlashAttention's test sizes (Sq, Sk): --sizes=fa (the head-size sweep).
FA_SIZES = ((1, 1), (1, 239), (239, 1), (64, 128), (113, 203), (128, 217),
            (799, 3), (1023, 1024), (1024, 1023), (2048, 2048))


def check_sizes(manifest, quick, sizes="default"):
    """(B, Sq, Sk) cases for an artifact: Sq != Sk only when the manifest
    names Sq and Sk separately."""
    syms = set()
    for t in manifest.get("arguments", []) + manifest.get("results", []):
        for d in t.get("shape", []):
            if isinstance(d, str):
                syms.add(d)
    split = "Sq" in syms and "Sk" in syms
    if sizes == "fa":
        return [(1 if sq * sk > 1 << 20 else 2, sq, sk)
                for sq, sk in FA_SIZES if split or sq == sk]
    if quick:
        cases = [(2, 1, 1), (2, 17, 17), (2, 113, 113)]
        if split:
            cases += [(2, 17, 113)]
    else:
        cases = [(2, 1, 1), (2, 17, 17), (2, 113, 113), (2, 1000, 1000)]
        if split:
            cases += [(2, 17, 113), (2, 113, 17), (2, 1, 1000)]
        cases += [(1, 2048, 2048)]  # past the 1024 window of bench_window
    # The split-KV decode kernel (Sq <= 16 / g, the manifest's condition):
    # packed query heads with more than one query each, at its longest Sq.
    longest = [k["if"]["le"][1] for k in manifest.get("kernels", [])
               if k.get("if", {}).get("le", [None])[0] == "Sq"]
    if split and longest and longest[0] > 1 and not quick:
        cases += [(2, longest[0], 1000), (2, longest[0], 17)]
    if "B_plus_1" in syms and not quick:
        # A varlen batch whose offsets give B: one sequence, and many of
        # them (random cuts make empty ones too).
        cases += [(1, 113, 113), (7, 1000, 1000)]
        if split:
            cases += [(7, 1000, 113)]
    if any(r.get("in_place_of") for r in manifest.get("results", [])):
        # A paged KV cache appended to: its tables hold few rows, so most
        # sizes above are skipped; a page boundary mid-append, an odd batch.
        cases += [(1, 5, 5), (3, 4, 4)]
    return cases


def list_artifacts(root):
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir()
                  and not p.name.startswith(("_", ".")))


def matches(only, *names):
    return not only or any(o in n for o in only for n in names if n)


def timing_rows(args):
    amap = dict(DEFAULT_MAP)
    for kv in (args.map or "").split(","):
        if "=" in kv:
            k, v = kv.split("=", 1)
            amap[k.strip()] = v.strip()
    rows = []
    fa_s = (4096,) if args.quick else (1024, 4096, 16384)
    for D in (128, 64):
        H = 2048 // D
        for S in fa_s:
            B = 16384 // S
            for causal in (False, True):
                kind = "causal" if causal else "dense"
                rows.append(dict(
                    id=f"{kind} D={D} S={S}", group="fa", kind=kind,
                    artifact=amap[f"{kind}_d{D}"], B=B, H=H, Hkv=H, Sq=S,
                    Sk=S, D=D, causal=causal))
    S, D, H = 8192, 128, 16
    B = 1 if args.quick else 2
    rows.append(dict(id=f"causal D=128 S={S} (variants' baseline)",
                     group="var", kind="causal", artifact=amap["causal_d128"],
                     B=B, H=H, Hkv=H, Sq=S, Sk=S, D=D, causal=True))
    for kind, causal, label in (("window", True, f"window {WINDOW}, causal"),
                                ("alibi", True, "ALiBi, causal"),
                                ("softcap", True, f"softcap {SOFTCAP:g}, "
                                 "causal"),
                                ("docmask", False, f"{NUM_DOCS} documents")):
        rows.append(dict(id=f"{label} S={S}", group="var", kind=kind,
                         artifact=amap[kind], B=B, H=H, Hkv=H, Sq=S, Sk=S,
                         D=D, causal=causal))
    rows.append(dict(id="decode B=8 Hq=32 Hkv=8 L=32768", group="decode",
                     kind="decode", artifact=amap["decode"], B=8, H=32, Hkv=8,
                     Sq=1, Sk=32768, D=128, causal=False))
    # The head-size sweep's timed rows: hs_{dense,causal}_d<D> (4 heads,
    # bench/gpu/headsize_specs.py) at B = 4 * 16k / S, against SDPA only.
    for D in [int(d) for d in (args.hs_time or "").split(",") if d]:
        for S in fa_s:
            for causal in (False, True):
                kind = "causal" if causal else "dense"
                rows.append(dict(
                    id=f"{kind} D={D} S={S} (head sizes)", group="fa",
                    kind=kind, artifact=f"hs_{kind}_d{D}", B=4 * 16384 // S,
                    H=4, Hkv=4, Sq=S, Sk=S, D=D, causal=causal,
                    no_flex=True))
    if args.smoke:  # a dry run of the script: tiny shapes
        for r in rows:
            r["B"] = 1
            r["Sk"] = max(1, r["Sk"] // 64)
            r["Sq"] = 1 if r["kind"] == "decode" else r["Sk"]
            r["id"] += " (smoke: B=1 Sk=%d)" % r["Sk"]
    return rows


def build_items(args):
    only = [s for s in (args.only or "").split(",") if s]
    items = []
    if not args.skip_check:
        present = list_artifacts(args.artifacts)
        # Every spec this repository has should have an artifact: one that
        # is missing is a FAIL line, not silence.
        # Examples marked "Targets: CPU only" (functions the CUDA target
        # refuses, docs/CUDATarget.md) have no artifact.
        expected = [p.stem for p in sorted((ROOT / "examples").glob("*.mlir"))
                    if "Targets: CPU only" not in p.read_text()]
        expected += [p.stem for p in sorted((HERE / "specs").glob("*.mlir"))]
        if args.no_expect:
            expected = []
        for name in present + [e for e in expected if e not in present]:
            if not matches(only, name):
                continue
            man_path = Path(args.artifacts) / name / "manifest.json"
            try:
                man = json.loads(man_path.read_text())
                cases = check_sizes(man, args.quick, args.sizes)
            except Exception:  # noqa: BLE001 - reported by the worker
                cases = [(2, 17, 17)]
            for n, (B, Sq, Sk) in enumerate(cases):
                items.append(dict(kind="check", id=f"check {name} B={B} "
                                  f"Sq={Sq} Sk={Sk}", artifact=name,
                                  sizes=dict(B=B, Sq=Sq, Sk=Sk),
                                  zero_first=n % 2 == 1,
                                  timeout=args.item_timeout))
    if not args.skip_time:
        items.append(dict(kind="matmul", id="matmul bf16 8192^3",
                          timeout=args.item_timeout))
        items.append(dict(kind="copy", id="device copy bandwidth",
                          timeout=args.item_timeout))
        for row in timing_rows(args):
            if not matches(only, row["id"], row["artifact"], row["kind"]):
                continue
            it = dict(row)
            it.update(kind="row", rowkind=row["kind"], id="time " + row["id"],
                      timeout=max(args.item_timeout, args.row_timeout))
            items.append(it)
    return items


#===----------------------------------------------------------------------===#
# Worker: runs items on the GPU
#===----------------------------------------------------------------------===#

class Worker:
    def __init__(self, args):
        self.args = args
        import torch
        self.torch = torch
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        try:
            torch.set_float32_matmul_precision("highest")
        except Exception:  # noqa: BLE001
            pass
        self.dev = torch.device(args.device)
        self.cuda = self.dev.type == "cuda"
        self.DT = {"f32": torch.float32, "f16": torch.float16,
                   "bf16": torch.bfloat16, "i8": torch.int8,
                   "i32": torch.int32, "i64": torch.int64}
        self.modules = {}
        self.out_form = {}
        self.acuda = None
        self.acuda_error = None
        try:
            import attune.cuda as acuda
            self.acuda = acuda
        except Exception as e:  # noqa: BLE001
            self.acuda_error = short(e)
        self.flex = None
        self.flex_error = None
        self.iters = 10 if args.quick else 30
        self.warm = 3 if args.quick else 5

    # -- helpers -----------------------------------------------------------

    def sync(self):
        if self.cuda:
            self.torch.cuda.synchronize()

    def bench(self, fn, iters=None, warm=None):
        torch = self.torch
        iters = iters or self.iters
        warm = self.warm if warm is None else warm
        for _ in range(warm):
            fn()
        if not self.cuda:  # --device cpu dry runs
            ts = []
            for _ in range(iters):
                t0 = time.perf_counter()
                fn()
                ts.append(time.perf_counter() - t0)
            return sorted(ts)[len(ts) // 2]
        torch.cuda.synchronize()
        st = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
        en = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
        for i in range(iters):
            st[i].record()
            fn()
            en[i].record()
        torch.cuda.synchronize()
        ts = sorted(s.elapsed_time(e) for s, e in zip(st, en))
        return ts[len(ts) // 2] / 1e3

    def load(self, name):
        if name in self.modules:
            return self.modules[name]
        d = Path(self.args.artifacts) / name
        if not d.is_dir():
            raise FileNotFoundError(f"no artifact directory {d}")
        man = json.loads((d / "manifest.json").read_text())
        spec = reference.load_spec(str(d / "spec.mlir"))
        if self.acuda is None:
            raise RuntimeError(f"import attune.cuda failed: {self.acuda_error}")
        mod = self.acuda.load(str(d))
        self.modules[name] = (man, spec, mod)
        return self.modules[name]

    def invoke(self, mod, args, outs):
        """Calls the module with `out=`: a tensor for one result, a tuple for
        several. Until a call succeeds, other forms (tuple, list) are tried
        when that one is rejected; the form that worked is kept per number
        of results."""
        n = len(outs)
        known = self.out_form.get(n)
        forms = [known] if known else list(dict.fromkeys(
            ["single" if n == 1 else "tuple", "tuple", "list"]))
        first = None
        for form in forms:
            o = outs[0] if form == "single" else tuple(outs) if \
                form == "tuple" else list(outs)
            try:
                r = mod(*args, out=o)
                self.out_form[n] = form
                return r
            except Exception as e:  # noqa: BLE001
                if first is None:
                    first = e
                if known or not isinstance(e, (TypeError, ValueError)):
                    break
        raise first

    def resolve(self, shape, sizes):
        out = []
        for d in shape:
            if isinstance(d, int):
                out.append(d)
            elif d in sizes:
                out.append(int(sizes[d]))
            elif d == "S" and "Sq" in sizes:
                out.append(int(sizes["Sq"]))
            elif d == "B_plus_1" and "B" in sizes:
                # The offsets of a varlen batch of B sequences.
                out.append(int(sizes["B"]) + 1)
            else:
                raise KeyError(f"no size for symbol {d!r} (have "
                               f"{sorted(sizes)})")
        return out

    def gen_input(self, a, sizes, gen, zero_first=False):
        torch = self.torch
        shape = self.resolve(a.get("shape", []), sizes)
        dt = a["dtype"]
        rng = a.get("range")
        if dt not in self.DT:
            raise ValueError(f"argument {a.get('name')}: dtype {dt}")
        is_float = dt in ("f32", "f16", "bf16")
        if not shape:
            if is_float:
                lo, hi = rng if rng else (-1.0, 1.0)
                u = torch.rand((), generator=gen, device=self.dev).item()
                return float(lo + (hi - lo) * u)
            lo, hi = rng if rng else (0, 8)
            return int(torch.randint(int(lo), int(hi), (), generator=gen,
                                     device=self.dev).item())
        if is_float:
            if rng:
                x = torch.rand(shape, generator=gen, device=self.dev) * \
                    (rng[1] - rng[0]) + rng[0]
            else:
                x = torch.randn(shape, generator=gen, device=self.dev)
            return x.to(self.DT[dt])
        name = a.get("name", "")
        if name.startswith("cu_seqlens_") and len(shape) == 1:
            return self.gen_offsets(name, shape[0], sizes, gen, zero_first,
                                    self.DT[dt])
        lo, hi = rng if rng else (0, 8)
        x = torch.randint(int(lo), int(hi), shape, generator=gen,
                          device=self.dev)
        if zero_first and x.dim() == 1 and x.numel() >= 2 and int(lo) <= 0:
            x[0] = 0
        return x.to(self.DT[dt])

    def gen_offsets(self, name, n, sizes, gen, covered, dtype):
        """Offsets of a varlen batch (docs/Varlen.md): n non-decreasing
        values in [0, T], T the packed rows of the tensor they cut (Sq for
        cu_seqlens_q and _o, Sk for _k and _v). Random cuts give empty and
        unequal sequences; `covered` pins the first to 0 and the last to T,
        else rows before the first and after the last stay uncovered."""
        torch = self.torch
        T = int(sizes["Sq" if name[-1] in "qo" else "Sk"])
        cuts = torch.randint(0, T + 1, (n,), generator=gen, device=self.dev)
        cuts = torch.sort(cuts).values
        if covered:
            cuts[0], cuts[-1] = 0, T
        return cuts.to(dtype)

    def page_tables(self, spec, margs, sizes, gen):
        """Valid block tables and lengths for the spec's attn.append_pages
        ops (docs/PagedKV.md), by argument index, identified from the ops'
        operands in spec.mlir: B M distinct page ids drawn at random from
        [0, N) for a block table, lengths in [0, M P - S] (room for the S
        new rows), the first 0 and the last M P - S when B > 1
        (reference.Spec.append_limits, which raises DoesNotFit when
        S > M P)."""
        torch = self.torch
        if not any(op.name == "attn.append_pages" for op in spec.body.ops):
            return {}
        shapes = [None if a.get("scalar") else
                  self.resolve(a.get("shape", []), sizes) for a in margs]
        pages, room = spec.append_limits(shapes)
        out = {}
        for k, n in pages.items():
            B, M = shapes[k]
            ids = torch.randperm(n, generator=gen, device=self.dev)
            out[k] = ids[:B * M].reshape(B, M).to(self.DT[margs[k]["dtype"]])
        for k, r in room.items():
            x = torch.randint(0, r + 1, tuple(shapes[k]), generator=gen,
                              device=self.dev)
            if x.numel() > 1:
                x[0], x[-1] = 0, r
            out[k] = x.to(self.DT[margs[k]["dtype"]])
        return out

    def alloc_results(self, man, sizes, poison=True, inputs=None):
        """The results to pass as `out=`: floats poisoned with NaN, except
        that a result written in place into an argument (`in_place_of`) is
        that argument's tensor in `inputs`."""
        torch = self.torch
        names = [a.get("name") for a in man.get("arguments", [])]
        outs = []
        for r in man["results"]:
            if r.get("in_place_of") is not None:
                arg = r["in_place_of"]
                if arg not in names or inputs is None:
                    raise ValueError(f"result {r.get('name')}: written in "
                                     f"place into argument {arg!r}, which "
                                     "is not given")
                outs.append(inputs[names.index(arg)])
                continue
            shape = self.resolve(r["shape"], sizes)
            dt = self.DT[r["dtype"]]
            if dt.is_floating_point and poison:
                outs.append(torch.full(shape, float("nan"), dtype=dt,
                                       device=self.dev))
            elif poison:
                # Integers (bucket ids): the type's least value, which an
                # unwritten element then shows unless the reference has it.
                outs.append(torch.full(shape, torch.iinfo(dt).min, dtype=dt,
                                       device=self.dev))
            else:
                outs.append(torch.empty(shape, dtype=dt, device=self.dev))
        return outs

    def compare(self, got, ref, masked, tol):
        torch = self.torch
        res = {}
        if tuple(got.shape) != tuple(ref.shape):
            return dict(ok=False, msg=f"shape {tuple(got.shape)} != "
                        f"reference {tuple(ref.shape)}")
        g = got.double()
        r = ref.double()
        problems = []
        nan_g = int(torch.isnan(g).sum())
        nan_r = int(torch.isnan(r).sum())
        if nan_g:
            problems.append(f"{nan_g} NaN (unwritten or computed)")
        if nan_r:
            problems.append(f"{nan_r} NaN in the reference")
        inf_mis = int(((torch.isinf(g) | torch.isinf(r)) & (g != r)).sum())
        if inf_mis:
            problems.append(f"{inf_mis} infinities differ")
        fin = torch.isfinite(g) & torch.isfinite(r)
        zero = torch.zeros((), dtype=torch.float64, device=g.device)
        num = float(torch.linalg.vector_norm(torch.where(fin, g - r, zero)))
        den = float(torch.linalg.vector_norm(torch.where(fin, r, zero)))
        err = num / den if den > 0 else num
        n_masked = 0
        if masked is not None:
            m = masked.expand(r.shape) if masked.dim() == r.dim() else \
                masked.reshape(r.shape)
            n_masked = int(masked.sum())
            bad = int((g[m] != r[m]).sum())
            if bad:
                problems.append(f"{bad} elements of fully masked rows not "
                                "exactly 0 / -inf")
        if err > tol:
            problems.append(f"rel_err {err:.2e} > {tol:.0e}")
        res.update(ok=not problems, rel_err=err, nan=nan_g,
                   inf_mismatch=inf_mis, masked_rows=n_masked,
                   msg=f"rel_err {err:.2e}" + (f" ({n_masked} masked rows)"
                                               if n_masked else "")
                   + (" [" + "; ".join(problems) + "]" if problems else ""))
        return res

    def compare_exact(self, got, ref):
        """An integer result (i32 / i64: bucket ids) against the reference,
        exactly: the number of elements that differ, and the first (in
        row-major order) with both values."""
        torch = self.torch
        if tuple(got.shape) != tuple(ref.shape):
            return dict(ok=False, exact=True, mismatches=None,
                        msg=f"shape {tuple(got.shape)} != reference "
                        f"{tuple(ref.shape)}")
        if got.dtype.is_floating_point or ref.dtype.is_floating_point:
            g, r = got.double(), ref.to(got.device).double()
        else:
            g, r = got.long(), ref.to(got.device).long()
        bad = g != r
        n = int(bad.sum())
        msg = f"exact, {n} of {g.numel()} elements differ"
        if n:
            first = tuple(int(i) for i in torch.nonzero(bad)[0].tolist())
            msg += (f" [first at {list(first)}: {g[first].item()} != "
                    f"reference {r[first].item()}]")
        return dict(ok=n == 0, exact=True, mismatches=n, msg=msg)

    def upcast(self, x):
        torch = self.torch
        if isinstance(x, torch.Tensor) and x.dtype in (torch.bfloat16,
                                                       torch.float16):
            return x.float()
        return x

    # -- items ---------------------------------------------------------------

    def run_item(self, item):
        kind = item["kind"]
        if kind == "check":
            return self.check_item(item)
        if kind == "matmul":
            return self.matmul_item(item)
        if kind == "copy":
            return self.copy_item(item)
        if kind == "row":
            return self.row_item(item)
        raise ValueError(f"unknown item kind {kind}")

    def check_item(self, item):
        torch = self.torch
        name, sizes = item["artifact"], item["sizes"]
        label = f"{name} B={sizes['B']} Sq={sizes['Sq']} Sk={sizes['Sk']}"
        res = dict(kind="check", artifact=name, sizes=sizes, ok=False)
        try:
            man, spec, mod = self.load(name)
            margs = man.get("arguments", [])
            if len(margs) != len(spec.arguments):
                raise RuntimeError(f"manifest has {len(margs)} arguments, "
                                   f"spec.mlir's @{spec.name} "
                                   f"{len(spec.arguments)}")
            if len(man.get("results", [])) != len(spec.result_types):
                raise RuntimeError(f"manifest has {len(man['results'])} "
                                   f"results, spec.mlir's @{spec.name} "
                                   f"{len(spec.result_types)}")
            seed = zlib.crc32(label.encode())
            gen = torch.Generator(device=self.dev)
            gen.manual_seed(seed)
            zero = bool(item.get("zero_first"))
            paged = self.page_tables(spec, margs, sizes, gen)
            inputs = [paged[k] if k in paged else
                      self.gen_input(a, sizes, gen, zero_first=zero)
                      for k, a in enumerate(margs)]
            outs = self.alloc_results(man, sizes, poison=True, inputs=inputs)
            # A result written in place updates its argument: the reference
            # reads the inputs as they were before the call.
            before = inputs
            if any(r.get("in_place_of") is not None for r in man["results"]):
                before = [x.clone() if isinstance(x, torch.Tensor) else x
                          for x in inputs]
            self.invoke(mod, inputs, outs)
            self.sync()
            ev = spec.evaluate([self.upcast(x) for x in before], xp=torch,
                               dtype="float32")
            qdt = margs[0]["dtype"] if margs else "f32"
            tol = 1e-5 if qdt == "f32" else 1e-2
            msgs, ok = [], True
            per = []
            for k, (o, r, m) in enumerate(zip(outs, ev.outputs,
                                              ev.fully_masked)):
                # Integer results (bucket ids) exactly, floats within tol.
                if man["results"][k].get("dtype") in INT_DTYPES or \
                        not (o.dtype.is_floating_point or
                             o.dtype == torch.bool):
                    c = self.compare_exact(o, r)
                else:
                    c = self.compare(o, r, m, tol)
                rname = man["results"][k].get("name", f"result{k}")
                msgs.append(f"{rname}: {c['msg']}")
                c["result"] = rname
                per.append(c)
                ok &= c["ok"]
            res.update(ok=ok, results=per, tol=tol, msg="; ".join(msgs))
        except reference.DoesNotFit as e:
            res.update(ok=True, skipped=str(e), msg=f"skipped: {e}")
        except Exception as e:  # noqa: BLE001
            res.update(ok=False, msg=short(e, 500))
            if self.args.verbose:
                traceback.print_exc()
        tag = "SKIP" if res.get("skipped") else "PASS" if res["ok"] else "FAIL"
        log(f"{tag} {label}: {res['msg']}")
        return res

    def matmul_item(self, item):
        torch = self.torch
        a = torch.randn(8192, 8192, device=self.dev, dtype=torch.bfloat16)
        t = self.bench(lambda: a @ a, iters=10, warm=3)
        tf = 2 * 8192 ** 3 / t / 1e12
        log(f"bf16 8192^3 matmul: {tf:.0f} TFLOP/s")
        return dict(kind="matmul", tflops=tf, ms=t * 1e3)

    def copy_item(self, item):
        torch = self.torch
        n = 1 << 30
        x = torch.empty(n, dtype=torch.uint8, device=self.dev)
        y = torch.empty_like(x)
        t = self.bench(lambda: y.copy_(x), iters=20, warm=3)
        gbps = 2 * n / t / 1e9
        log(f"device copy 1 GiB: {t * 1e3:.3f} ms, {gbps:.0f} GB/s "
            "(read + write)")
        return dict(kind="copy", gbps=gbps, ms=t * 1e3, bytes=n)

    def get_flex(self):
        if self.flex is None and self.flex_error is None:
            try:
                torch = self.torch
                from torch.nn.attention.flex_attention import (
                    create_block_mask, flex_attention)
                import torch._dynamo
                torch._dynamo.config.cache_size_limit = 128
                torch._dynamo.config.accumulated_cache_size_limit = 512
                self.flex = torch.compile(flex_attention, dynamic=False)
                self.create_block_mask = create_block_mask
            except Exception as e:  # noqa: BLE001
                self.flex_error = short(e)
        if self.flex is None:
            raise RuntimeError(f"FlexAttention unavailable: {self.flex_error}")
        return self.flex

    def row_item(self, row):
        torch = self.torch
        import torch.nn.functional as F
        B, H, Hkv, Sq, Sk, D = (row[k] for k in ("B", "H", "Hkv", "Sq",
                                                 "Sk", "D"))
        kind, causal = row["rowkind"], row["causal"]
        gen = torch.Generator(device=self.dev)
        gen.manual_seed(zlib.crc32(row["id"].encode()))
        bf = torch.bfloat16
        q = torch.randn(B, H, Sq, D, generator=gen, device=self.dev, dtype=bf)
        k = torch.randn(B, Hkv, Sk, D, generator=gen, device=self.dev,
                        dtype=bf)
        v = torch.randn(B, Hkv, Sk, D, generator=gen, device=self.dev,
                        dtype=bf)
        caps, score_mod, mask_mod, mask_b = [], None, None, None

        def causal_mask(b, h, qi, ki):
            return qi >= ki
        kept = float(Sq) * Sk
        if causal:
            mask_mod = causal_mask
            kept = Sq * (Sq + 1) / 2.0 if Sq == Sk else kept / 2
        if kind == "window":
            def window_mask(b, h, qi, ki):
                return (qi >= ki) & (qi - ki < WINDOW)
            mask_mod = window_mask
            W = min(WINDOW, Sq)
            kept = W * (W + 1) / 2.0 + (Sq - W) * W
        elif kind == "alibi":
            slopes = torch.exp2(-8.0 * (torch.arange(H, device=self.dev,
                                                     dtype=torch.float32)
                                        + 1) / H)
            caps = [slopes]

            def alibi(score, b, h, qi, ki):
                return score + slopes[h] * (ki - qi)
            score_mod = alibi
        elif kind == "softcap":
            def softcap(score, b, h, qi, ki):
                return SOFTCAP * torch.tanh(score / SOFTCAP)
            score_mod = softcap
        elif kind == "docmask":
            cuts = torch.stack([
                torch.sort(torch.randperm(Sq - 1, generator=gen,
                                          device=self.dev)[:NUM_DOCS - 1]
                           + 1).values for _ in range(B)])
            pos = torch.arange(Sq, device=self.dev).expand(B, Sq)
            docs = torch.searchsorted(cuts, pos.contiguous(),
                                      right=True).to(torch.int32)
            caps = [docs, docs]

            def doc_mask(b, h, qi, ki):
                return docs[b, qi] == docs[b, ki]
            mask_mod = doc_mask
            mask_b = B
            counts = torch.stack([torch.bincount(docs[b].long(),
                                                 minlength=NUM_DOCS)
                                  for b in range(B)]).double()
            kept = float((counts ** 2).sum()) / B
        flops = 4.0 * B * H * Sq * Sk * D * (0.5 if causal else 1.0)
        useful = 4.0 * B * H * D * kept
        rec = dict(kind="row", id=row["id"], group=row["group"],
                   rowkind=kind, artifact=row["artifact"], B=B, H=H, Hkv=Hkv,
                   Sq=Sq, Sk=Sk, D=D, causal=causal, flops=flops,
                   density=kept / (float(Sq) * Sk), useful_flops=useful)
        if kind == "decode":
            by = 2 * (2 * B * H * Sq * D + 2 * B * Hkv * Sk * D)
            rec["bytes"] = by
        log(f"-- {row['id']}: B={B} H={H} Hkv={Hkv} Sq={Sq} Sk={Sk} D={D} "
            f"causal={int(causal)} kept {100 * rec['density']:.1f}%")

        def perf(t):
            d = dict(ms=t * 1e3, tflops=flops / t / 1e12,
                     useful_tflops=useful / t / 1e12)
            if "bytes" in rec:
                d["gbps"] = rec["bytes"] / t / 1e9
            return d

        def line(name, d):
            if "error" in d:
                log(f"   {name:22s} n/a ({d['error']})")
                return
            extra = f" {d['gbps']:8.1f} GB/s" if "gbps" in d else ""
            log(f"   {name:22s} {d['ms']:9.3f} ms {d['tflops']:7.1f} TFLOP/s"
                f" (useful {d['useful_tflops']:6.1f}){extra}")

        # Attune.
        a_out = None
        try:
            if row.get("skip_attune"):
                raise RuntimeError(row["skip_attune"])
            man, spec, mod = self.load(row["artifact"])
            margs = man.get("arguments", [])
            args = [q, k, v] + caps
            if len(margs) != len(args):
                raise RuntimeError(f"artifact takes {len(margs)} arguments, "
                                   f"the row passes {len(args)}")
            sizes = {"B": B, "Sq": Sq, "Sk": Sk}
            for a, x in zip(margs, args):
                want = self.resolve(a["shape"], sizes)
                if list(x.shape) != want or self.DT[a["dtype"]] != x.dtype:
                    raise RuntimeError(
                        f"argument {a.get('name')}: artifact wants "
                        f"{a['dtype']}{want}, row has {x.dtype}"
                        f"{list(x.shape)}")
            outs = self.alloc_results(man, sizes, poison=True, inputs=args)
            self.invoke(mod, args, outs)
            self.sync()
            a_out = outs[0].clone()
            # The checked call above range-checked the captures; timed calls
            # skip that device-to-host copy and stream synchronization.
            checks, mod.capture_checks = mod.capture_checks, False
            try:
                t = self.bench(lambda: self.invoke(mod, args, outs))
            finally:
                mod.capture_checks = checks
            rec["attune"] = perf(t)
        except Exception as e:  # noqa: BLE001
            rec["attune"] = dict(error=short(e))
            if self.args.verbose:
                traceback.print_exc()
        line("attune", rec["attune"])

        # Peers.
        peers, peer_out = {}, {}
        gqa = Hkv != H
        if not self.args.skip_peers:
            from torch.nn.attention import SDPBackend, sdpa_kernel
            backends = []
            if kind in ("dense", "causal", "decode"):
                backends = [("flash", SDPBackend.FLASH_ATTENTION),
                            ("cudnn", SDPBackend.CUDNN_ATTENTION)]
                if kind == "decode":
                    backends.append(("efficient",
                                     SDPBackend.EFFICIENT_ATTENTION))
            for name, be in backends:
                try:
                    kw = dict(is_causal=causal)
                    if gqa:
                        kw["enable_gqa"] = True

                    def fn(be=be, kw=kw):
                        with sdpa_kernel(be):
                            return F.scaled_dot_product_attention(q, k, v,
                                                                  **kw)
                    peer_out[name] = fn()
                    peers[name] = perf(self.bench(fn))
                except Exception as e:  # noqa: BLE001
                    peers[name] = dict(error=short(e, 160))
                line(f"sdpa-{name}", peers[name])
            try:
                if row.get("no_flex"):
                    raise RuntimeError("not run for this row")
                flex = self.get_flex()
                bm, tmask = None, None
                if mask_mod is not None:
                    cbm = self.create_block_mask

                    def make_mask():
                        return cbm(mask_mod, mask_b, None, Sq, Sk,
                                   device=self.dev)
                    bm = make_mask()
                    tmask = self.bench(make_mask, iters=5 if self.args.quick
                                       else 10, warm=2)
                kw = dict(score_mod=score_mod, block_mask=bm)
                if gqa:
                    kw["enable_gqa"] = True
                peer_out["flex"] = flex(q, k, v, **kw)
                t = self.bench(lambda: flex(q, k, v, **kw))
                peers["flex"] = perf(t)
                if tmask is not None:
                    peers["flex"]["mask_ms"] = tmask * 1e3
                    peers["flex"]["flex_plus_mask_ms"] = (t + tmask) * 1e3
                    try:
                        peers["flex"]["block_sparsity_pct"] = float(
                            bm.sparsity())
                    except Exception:  # noqa: BLE001
                        pass
            except Exception as e:  # noqa: BLE001
                peers["flex"] = dict(error=short(e, 200))
            line("flex", peers["flex"])
            if "mask_ms" in peers["flex"]:
                log(f"   {'create_block_mask':22s} {peers['flex']['mask_ms']:9.3f}"
                    f" ms; flex + mask {peers['flex']['flex_plus_mask_ms']:.3f}"
                    " ms")
        rec["peers"] = peers

        # Check Attune's output once against a peer (or the reference).
        if a_out is not None:
            try:
                order = ["flash", "cudnn", "efficient", "flex"] if kind in (
                    "dense", "causal", "decode") else ["flex"]
                src = next((n for n in order if n in peer_out), None)
                if src is not None:
                    want = peer_out[src].float()
                else:
                    src = "reference.py"
                    ev = spec.evaluate([self.upcast(x) for x in [q, k, v]
                                        + caps], xp=torch, dtype="float32")
                    want = ev.outputs[0]
                c = self.compare(a_out, want, None, 1e-2)
                rec["attune"]["check"] = dict(against=src, ok=c["ok"],
                                              rel_err=c.get("rel_err"),
                                              msg=c["msg"])
                log(f"   check vs {src}: {c['msg']}"
                    + ("" if c["ok"] else "  !"))
            except Exception as e:  # noqa: BLE001
                rec["attune"]["check"] = dict(ok=False, msg=short(e))
                log(f"   check failed: {short(e)}  !")
        del q, k, v, caps, peer_out, a_out
        return rec


def worker_main(args):
    deadline = args.deadline
    items = json.loads(Path(args.worker).read_text())
    try:
        w = Worker(args)
    except Exception as e:  # noqa: BLE001
        for it in items:
            print(f"{PROTO}START {it['id']}", flush=True)
            log(f"{'FAIL' if it['kind'] == 'check' else 'n/a '} {it['id']}: "
                f"worker start: {short(e)}")
            print(f"{PROTO}RESULT " + json.dumps(dict(
                id=it["id"], kind=it["kind"], error=f"worker start: {short(e)}",
                ok=False)), flush=True)
        return 2
    for it in items:
        print(f"{PROTO}START {it['id']}", flush=True)
        if deadline and time.time() > deadline:
            r = dict(kind=it["kind"], skipped="time budget spent", ok=False)
        else:
            t0 = time.time()
            try:
                r = w.run_item(it)
            except Exception as e:  # noqa: BLE001
                r = dict(kind=it["kind"], error=short(e, 500), ok=False)
                log(f"{'FAIL' if it['kind'] == 'check' else 'n/a '} "
                    f"{it['id']}: {short(e, 500)}")
            r["seconds"] = time.time() - t0
        r["id"] = it["id"]
        fatal = None
        try:
            w.sync()
        except Exception as e:  # noqa: BLE001
            fatal = short(e)
        if fatal:
            r["fatal"] = fatal
        print(f"{PROTO}RESULT " + json.dumps(r, default=str), flush=True)
        if fatal:
            log(f"   the CUDA context is unusable ({fatal}); a new worker "
                "takes the remaining items")
            return 3
        try:
            torch.cuda.empty_cache()
        except Exception:  # noqa: BLE001
            pass
    return 0


#===----------------------------------------------------------------------===#
# Parent: orchestrates workers, collects results, writes JSON and tables
#===----------------------------------------------------------------------===#

class Runner:
    def __init__(self, args):
        self.args = args
        self.t0 = time.time()
        self.deadline = self.t0 + args.budget_s if args.budget_s else 0
        self.results = dict(
            format="attune-bench-gpu", version=1,
            date=datetime.datetime.now(datetime.timezone.utc).strftime(
                "%Y-%m-%d %H:%M UTC"),
            argv=sys.argv, artifacts=str(args.artifacts), quick=args.quick,
            host={}, checks=[], rows=[], errors=[])

    def save(self):
        try:
            out = Path(self.args.out)
            if out.parent and not out.parent.exists():
                out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_suffix(out.suffix + ".tmp")
            tmp.write_text(json.dumps(self.results, indent=1, default=str))
            os.replace(tmp, out)
        except Exception as e:  # noqa: BLE001
            log(f"cannot write {self.args.out}: {short(e)}")

    def environment(self):
        h = self.results["host"]
        try:
            import torch
            h["torch"] = torch.__version__
            h["cuda"] = torch.version.cuda
            h["device"] = torch.cuda.get_device_name() if \
                torch.cuda.is_available() else "no CUDA device"
            if torch.cuda.is_available():
                p = torch.cuda.get_device_properties(0)
                h["sms"] = p.multi_processor_count
                h["memory_gib"] = round(p.total_memory / 2 ** 30, 1)
                h["capability"] = f"{p.major}.{p.minor}"
            try:
                import triton
                h["triton"] = triton.__version__
            except Exception:  # noqa: BLE001
                h["triton"] = None
        except Exception as e:  # noqa: BLE001
            h["torch_error"] = short(e)
        try:
            import attune.cuda  # noqa: F401
            h["attune_cuda"] = "ok"
        except Exception as e:  # noqa: BLE001
            h["attune_cuda"] = short(e)
        try:
            h["commit"] = subprocess.run(
                ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
                capture_output=True, text=True, timeout=10).stdout.strip()
        except Exception:  # noqa: BLE001
            pass
        h["python"] = sys.version.split()[0]
        log(f"device: {h.get('device')}  torch {h.get('torch')} (CUDA "
            f"{h.get('cuda')}, triton {h.get('triton')})  python "
            f"{h['python']}  {self.results['date']}")
        log(f"attune.cuda: {h['attune_cuda']}")
        log(f"artifacts: {self.args.artifacts}: "
            f"{', '.join(list_artifacts(self.args.artifacts)) or 'none'}")

    def record(self, item, r):
        kind = item["kind"]
        if kind == "check":
            r.setdefault("artifact", item["artifact"])
            r.setdefault("sizes", item["sizes"])
            self.results["checks"].append(r)
        elif kind == "row":
            for k in ("group", "rowkind", "artifact", "B", "H", "Hkv", "Sq",
                      "Sk", "D", "causal"):
                r.setdefault(k, item.get(k))
            self.results["rows"].append(r)
        elif kind == "matmul":
            self.results["matmul"] = r
        elif kind == "copy":
            self.results["copy"] = r
        self.save()

    def failed(self, item, why, tail):
        log(f"{'FAIL' if item['kind'] == 'check' else 'n/a '} {item['id']}: "
            f"{why}")
        r = dict(kind=item["kind"], id=item["id"], ok=False, error=why,
                 output_tail=tail[-2000:])
        if item["kind"] == "check":
            r["msg"] = why
        self.record(item, r)

    def note_bad(self, item, why):
        """An artifact that hung, or crashed its worker twice, is not run
        again: its remaining checks fail at once and its timing rows time
        the peers only."""
        name = item.get("artifact")
        if not name:
            return
        self.crashes[name] = self.crashes.get(name, 0) + 1
        if "timed out" in why or self.crashes[name] >= 2:
            self.bad[name] = f"{item['id']}: {why}"

    def drop_bad(self, pending):
        keep = []
        for it in pending:
            name = it.get("artifact")
            if name in self.bad:
                if it["kind"] == "check":
                    self.failed(it, f"not run: {name} failed earlier "
                                f"({self.bad[name]})", "")
                    continue
                it = dict(it, skip_attune=f"not run: {name} failed earlier "
                          f"({self.bad[name]})")
            keep.append(it)
        return keep

    def run_isolated(self, items):
        pending = list(items)
        restarts = 0
        self.crashes, self.bad = {}, {}
        while pending:
            if self.deadline and time.time() > self.deadline:
                for it in pending:
                    self.record(it, dict(kind=it["kind"], id=it["id"],
                                         ok=False,
                                         skipped="time budget spent"))
                log(f"time budget spent: {len(pending)} items skipped")
                return
            fd, path = tempfile.mkstemp(prefix="attune-gpu-items-",
                                        suffix=".json")
            with os.fdopen(fd, "w") as f:
                json.dump(pending, f)
            cmd = [sys.executable, "-u", str(Path(__file__).resolve()),
                   "--worker", path, "--artifacts", str(self.args.artifacts),
                   "--deadline", str(self.deadline)]
            for flag in ("quick", "skip_peers", "verbose", "smoke"):
                if getattr(self.args, flag):
                    cmd.append("--" + flag.replace("_", "-"))
            cmd += ["--device", self.args.device]
            env = dict(os.environ, PYTHONUNBUFFERED="1")
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True,
                                    bufsize=1, env=env,
                                    start_new_session=True)
            lines = queue.Queue()

            def reader():
                for ln in proc.stdout:
                    lines.put(ln)
                lines.put(None)
            threading.Thread(target=reader, daemon=True).start()
            by_id = {it["id"]: it for it in pending}
            current, started_at, tail = None, time.time(), []
            done = set()
            why = None
            while True:
                if current is not None:
                    limit = by_id[current].get("timeout", 300)
                    if self.deadline:
                        limit = min(limit, max(5.0, self.deadline + 30 -
                                               time.time()))
                    wait = started_at + limit - time.time()
                else:
                    wait = 600.0
                    if self.deadline:
                        wait = min(wait, max(5.0, self.deadline + 30 -
                                             time.time()))
                try:
                    ln = lines.get(timeout=max(0.1, wait))
                except queue.Empty:
                    why = (f"timed out after {time.time() - started_at:.0f} s"
                           " (hung kernel?); worker killed")
                    break
                if ln is None:
                    break
                ln = ln.rstrip("\n")
                if ln.startswith(PROTO + "START "):
                    current = ln[len(PROTO) + 6:]
                    started_at = time.time()
                    tail = []
                    continue
                if ln.startswith(PROTO + "RESULT "):
                    try:
                        r = json.loads(ln[len(PROTO) + 7:])
                    except ValueError:
                        continue
                    it = by_id.get(r.get("id"))
                    if it is not None:
                        done.add(it["id"])
                        self.record(it, r)
                        if r.get("fatal"):
                            self.note_bad(it, "CUDA context lost: "
                                          + r["fatal"])
                    current = None
                    continue
                print(ln, flush=True)
                tail.append(ln)
                tail = tail[-40:]
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except Exception:  # noqa: BLE001
                    proc.kill()
            rc = proc.wait()
            try:
                os.unlink(path)
            except OSError:
                pass
            if current is not None and current not in done:
                why = why or f"worker died (exit code {rc}) while running it"
                self.failed(by_id[current], why, "\n".join(tail))
                self.note_bad(by_id[current], why)
                done.add(current)
            remaining = [it for it in pending if it["id"] not in done]
            if remaining and not done:
                self.results["errors"].append(
                    f"worker made no progress (exit {rc}): "
                    + " | ".join(tail[-5:]))
                for it in remaining:
                    self.failed(it, f"worker made no progress (exit {rc})",
                                "\n".join(tail))
                return
            pending = self.drop_bad(remaining)
            if pending:
                restarts += 1
                log(f"-- starting a new worker for {len(pending)} remaining "
                    f"items (restart {restarts})")
                if restarts > 20:
                    for it in pending:
                        self.failed(it, "too many worker restarts", "")
                    return

    def run_inline(self, items):
        self.args.deadline = self.deadline
        w = Worker(self.args)
        for it in items:
            if self.deadline and time.time() > self.deadline:
                self.record(it, dict(kind=it["kind"], id=it["id"], ok=False,
                                     skipped="time budget spent"))
                continue
            t0 = time.time()
            try:
                r = w.run_item(it)
            except Exception as e:  # noqa: BLE001
                r = dict(kind=it["kind"], ok=False, error=short(e, 500))
                log(f"n/a  {it['id']}: {short(e, 500)}")
            r["id"] = it["id"]
            r["seconds"] = time.time() - t0
            self.record(it, r)

    def main(self):
        self.environment()
        self.save()
        items = build_items(self.args)
        n_checks = sum(it["kind"] == "check" for it in items)
        log(f"{n_checks} checks, {len(items) - n_checks} timing items")
        if not list_artifacts(self.args.artifacts):
            msg = f"no artifact directories under {self.args.artifacts}"
            self.results["errors"].append(msg)
            log("WARNING: " + msg)
        try:
            if self.args.no_isolate:
                self.run_inline(items)
            else:
                self.run_isolated(items)
        except KeyboardInterrupt:
            self.results["errors"].append("interrupted")
        except Exception as e:  # noqa: BLE001
            self.results["errors"].append(short(e, 1000))
            traceback.print_exc()
        self.results["seconds"] = time.time() - self.t0
        self.save()
        text = markdown(self.results)
        self.results["markdown"] = text
        self.save()
        log("")
        log(text)
        checks = self.results["checks"]
        n_fail = sum(not c.get("ok") for c in checks)
        n_skip = sum(bool(c.get("ok") and c.get("skipped")) for c in checks)
        log(f"checks: {len(checks) - n_fail - n_skip} passed, {n_fail} "
            f"failed, {n_skip} skipped; {len(self.results['rows'])} timed "
            f"rows; JSON in {self.args.out}")
        return 1 if n_fail else 0


#===----------------------------------------------------------------------===#
# Tables
#===----------------------------------------------------------------------===#

def fmt(x, spec="{:.1f}"):
    return "n/a" if x is None else spec.format(x)


def ratio(a, b):
    if not a or not b or "ms" not in a or "ms" not in b:
        return None
    return b["ms"] / a["ms"]  # >1: Attune faster


def markdown(res):
    h = res.get("host", {})
    out = []
    out.append(f"### GPU run: {res.get('date')}, `bench/gpu/run.py"
               f"{' --quick' if res.get('quick') else ''}`")
    out.append("")
    mm = res.get("matmul", {}).get("tflops")
    cp = res.get("copy", {}).get("gbps")
    out.append(f"Device: {h.get('device')} ({h.get('sms')} SMs, "
               f"{h.get('memory_gib')} GiB), PyTorch {h.get('torch')}, CUDA "
               f"{h.get('cuda')}, Triton {h.get('triton')}; Attune "
               f"{h.get('commit')}. Same run: bf16 matmul 8192³ "
               f"{fmt(mm, '{:.0f}')} TFLOP/s, device copy "
               f"{fmt(cp, '{:.0f}')} GB/s (read + write).")
    out.append("")
    checks = res.get("checks", [])
    # Sizes at which a spec has no valid inputs (ok, with `skipped`): not
    # counted, listed below the table.
    unfit = [c for c in checks if c.get("ok") and c.get("skipped")]
    checks = [c for c in checks if not (c.get("ok") and c.get("skipped"))]
    if checks:
        by_art = {}
        for c in checks:
            by_art.setdefault(c.get("artifact", "?"), []).append(c)
        n_fail = sum(not c.get("ok") for c in checks)
        out.append(f"Correctness: {len(checks) - n_fail}/{len(checks)} "
                   "(spec, size) checks pass against bench/gpu/reference.py "
                   "(float32), bf16/f16 norm-relative error ≤ 1e-2, outputs "
                   "poisoned with NaN before each call.")
        out.append("")
        out.append("| artifact | sizes passed | worst rel. error | failures |")
        out.append("| --- | --- | --- | --- |")
        for name, cs in sorted(by_art.items()):
            ok = sum(bool(c.get("ok")) for c in cs)
            errs = [r.get("rel_err") for c in cs for r in c.get("results", [])
                    if r.get("rel_err") is not None]
            worst = max(errs) if errs else None
            fails = "; ".join(
                f"{c['sizes']['Sq']}x{c['sizes']['Sk']}: "
                f"{(c.get('msg') or c.get('error') or c.get('skipped') or '')[:100]}"
                for c in cs if not c.get("ok") and "sizes" in c)
            out.append(f"| {name} | {ok}/{len(cs)} | "
                       f"{fmt(worst, '{:.1e}')} | {fails or ''} |")
        out.append("")
    if unfit:
        out.append("Skipped, no valid inputs at that size: " + "; ".join(
            f"{c.get('artifact', '?')} B={c['sizes']['B']} "
            f"Sq={c['sizes']['Sq']}: {c['skipped']}"
            for c in unfit if "sizes" in c) + ".")
        out.append("")
    rows = [r for r in res.get("rows", []) if r.get("group") in ("fa", "var")]
    if rows:
        out.append("TFLOP/s = 4·B·H·Sq·Sk·D / median time, halved for causal "
                   "masks (window, ALiBi and soft-cap rows are causal); "
                   "**kept** is the fraction of (i, j) pairs the mask keeps; "
                   "ratios are peer time / Attune time (> 1: Attune faster); "
                   "`!`: Attune's output differs from the peer's by more than "
                   "1e-2 (norm-relative).")
        out.append("")
        out.append("| row | B | H | kept | Attune ms | Attune | flash | cuDNN "
                   "| flex | mask ms | flex+mask ms | ×flash | ×cuDNN | ×flex "
                   "| ×(flex+mask) |")
        out.append("| --- | --: | --: | --: | --: | --: | --: | --: | --: "
                   "| --: | --: | --: | --: | --: | --: |")
        for r in rows:
            a = r.get("attune") or {}
            p = r.get("peers") or {}
            fl, cu, fx = p.get("flash"), p.get("cudnn"), p.get("flex")
            bang = "" if (a.get("check") or {}).get("ok", True) else " !"
            if r.get("skipped") or r.get("error"):
                a = {}
            def tf(d):
                return fmt((d or {}).get("tflops"))
            fpm = (fx or {}).get("flex_plus_mask_ms")
            rfm = (fpm / a["ms"]) if (fpm and a.get("ms")) else None
            out.append(
                f"| {r.get('id', '?').replace('time ', '')} | {r.get('B')} | "
                f"{r.get('H')} | {fmt(100 * r['density'] if r.get('density') is not None else None, '{:.0f}%')} | "
                f"{fmt(a.get('ms'), '{:.3f}')}{bang} | {tf(a)} | {tf(fl)} | "
                f"{tf(cu)} | {tf(fx)} | "
                f"{fmt((fx or {}).get('mask_ms'), '{:.2f}')} | "
                f"{fmt(fpm, '{:.3f}')} | "
                f"{fmt(ratio(a, fl), '{:.2f}')} | "
                f"{fmt(ratio(a, cu), '{:.2f}')} | "
                f"{fmt(ratio(a, fx), '{:.2f}')} | {fmt(rfm, '{:.2f}')} |")
        out.append("")
    dec = [r for r in res.get("rows", []) if r.get("group") == "decode"]
    if dec:
        out.append("Decode: GB/s = bytes of Q + K + V + O / median time; "
                   "**of copy** = that over the same run's device-to-device "
                   "copy bandwidth (read + write).")
        out.append("")
        out.append("| row | Attune µs | Attune GB/s | of copy | flash µs | "
                   "cuDNN µs | efficient µs | flex µs | ×best peer |")
        out.append("| --- | --: | --: | --: | --: | --: | --: | --: | --: |")
        for r in dec:
            a = r.get("attune") or {}
            p = r.get("peers") or {}
            bang = "" if (a.get("check") or {}).get("ok", True) else " !"
            us = {n: (p.get(n) or {}).get("ms") for n in
                  ("flash", "cudnn", "efficient", "flex")}
            best = min((v for v in us.values() if v), default=None)
            gb = a.get("gbps")
            out.append(
                f"| {r.get('id', '?').replace('time ', '')} | "
                f"{fmt(a['ms'] * 1e3 if a.get('ms') else None, '{:.1f}')}{bang}"
                f" | {fmt(gb, '{:.0f}')} | "
                f"{fmt(gb / cp if (gb and cp) else None, '{:.2f}')} | "
                + " | ".join(fmt(us[n] * 1e3 if us[n] else None, '{:.1f}')
                             for n in ("flash", "cudnn", "efficient", "flex"))
                + f" | {fmt(best / a['ms'] if (best and a.get('ms')) else None, '{:.2f}')} |")
        out.append("")
    if res.get("errors"):
        out.append("Errors: " + "; ".join(res["errors"]))
    return "\n".join(out)


#===----------------------------------------------------------------------===#
# Main
#===----------------------------------------------------------------------===#

def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        description="Check and time Attune CUDA artifacts against reference.py,"
        " SDPA (flash, cuDNN) and FlexAttention.")
    ap.add_argument("--artifacts", default="artifacts",
                    help="directory with one artifact sub-directory per spec")
    ap.add_argument("--out", default=os.path.join(os.environ.get("OUT", "."),
                                                  "gpu.json"),
                    help="JSON results (default $OUT/gpu.json)")
    ap.add_argument("--only", help="comma-separated substrings of artifact "
                    "and row names")
    ap.add_argument("--skip-peers", action="store_true",
                    help="time Attune only")
    ap.add_argument("--skip-check", action="store_true")
    ap.add_argument("--skip-time", action="store_true")
    ap.add_argument("--quick", action="store_true",
                    help="fewer sizes, shapes and iterations")
    ap.add_argument("--hs-time", metavar="D,D,...",
                    help="also time hs_dense_d<D> / hs_causal_d<D> (the "
                    "head-size sweep's specs) against SDPA")
    ap.add_argument("--sizes", choices=("default", "fa"), default="default",
                    help="check sizes: the default list, or FlashAttention's "
                    "(Sq, Sk) pairs (the head-size sweep)")
    ap.add_argument("--map", help="row kind=artifact overrides, e.g. "
                    "dense_d128=mydir,window=w2 (kinds: "
                    + ", ".join(DEFAULT_MAP) + ")")
    ap.add_argument("--budget-s", type=float, default=0,
                    help="stop starting items after this many seconds "
                    "(0: no limit)")
    ap.add_argument("--item-timeout", type=float, default=60,
                    help="seconds before a check item is declared hung")
    ap.add_argument("--row-timeout", type=float, default=420,
                    help="seconds before a timing row is declared hung "
                    "(FlexAttention compiles inside)")
    ap.add_argument("--no-expect", action="store_true",
                    help="check only the artifacts present (by default every "
                    "examples/*.mlir and bench/gpu/specs/*.mlir without an "
                    "artifact is a FAIL)")
    ap.add_argument("--no-isolate", action="store_true",
                    help="run items in this process (no worker)")
    ap.add_argument("--smoke", action="store_true",
                    help="tiny timing shapes: a dry run of this script "
                    "(the numbers mean nothing)")
    ap.add_argument("--device", default="cuda",
                    help="torch device (cpu: a dry run without a GPU)")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--deadline", type=float, default=0,
                    help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def main():
    args = parse_args()
    if args.worker:
        return worker_main(args)
    return Runner(args).main()


if __name__ == "__main__":
    sys.exit(main())
