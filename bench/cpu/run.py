#!/usr/bin/env python3
#===- bench/cpu/run.py - Attune CPU attention benchmark --------------------===#
#
# Part of the Attune project.
#
# Measures side by side, in one run (bench/RESULTS.md, "CPU", says what each
# column means):
#   - the ceiling: OpenBLAS cblas_sgemm, M=N in {2048, 4096}, K = head size,
#     1 and 2 threads, with the inherited OPENBLAS_CORETYPE, with OpenBLAS's
#     own CPU detection and, where the CPU has AVX-512, with SkylakeX
#     kernels; the fastest core is measured again (M=N=2048) right before
#     each row, as that row's ceiling (its fastest call: the machine is
#     shared, see ceiling_for);
#   - unfused attention on OpenBLAS (build/attn-baseline, f32 only): what
#     NumPy / PyTorch eager compute, S = Q.K^T materialised;
#   - Attune through `attune-run --bench --json --pipeline=<p>` for each
#     requested pipeline, on specs made from specs/attention.mlir.in;
#   - torch.nn.functional.scaled_dot_product_attention when torch imports.
# Every row's GFLOP/s is 4*B*H*Sq*Sk*D / median time, halved for causal
# (useful flops; attune-run's own figure counts masked pairs too).
#
# Normally started by run.sh, which installs OpenBLAS and builds the
# baseline first. Writes bench/cpu/results.json and prints a table.
#
# `--head-sizes` instead times the fused kernel at head sizes D that are not
# multiples of 8 next to the next multiple of 8 (D = 59 vs 64, 111 vs 112),
# interleaved in the same run, and writes bench/cpu/head_sizes.json (no
# OpenBLAS needed).
#
#===----------------------------------------------------------------------===#

import argparse
import datetime
import json
import math
import os
import platform
import re
import string
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BUILD = HERE / "build"
BASELINE = BUILD / "attn-baseline"

CAUSAL_MASK = """
    mask(%b, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }"""

# Useful GFLOP per case: enough that the fastest path runs >= 50 ms even at
# ~300 GFLOP/s (full) or ~150 GFLOP/s (quick).
WORK_GFLOP = {"full": 16.0, "quick": 8.0}
# The reference lowering runs at ~1-2 GFLOP/s: >= 75 ms at the same sizing.
REFERENCE_WORK_GFLOP = 0.15
MAX_HEADS = 16
ELEMENT_BYTES = {"f32": 4, "bf16": 2}


@dataclass(frozen=True)
class Case:
    d: int
    s: int
    causal: bool
    dtype: str
    b: int
    h: int

    @property
    def name(self):
        return (f"D{self.d} S{self.s} {'causal' if self.causal else 'dense'} "
                f"{self.dtype}")

    def gflop(self, b=None, h=None):
        """Useful GFLOP at (b, h), by default the case's own."""
        b = self.b if b is None else b
        h = self.h if h is None else h
        return (4.0 * b * h * self.s * self.s * self.d *
                (0.5 if self.causal else 1.0) * 1e-9)


def size_batch_heads(d, s, causal, work_gflop):
    """B and H such that the case does at least `work_gflop` useful GFLOP:
    H a power of two up to 16 first, then B."""
    per_head = 4.0 * s * s * d * (0.5 if causal else 1.0) * 1e-9
    heads = max(1, math.ceil(work_gflop / per_head))
    if heads <= MAX_HEADS:
        return 1, 1 << (heads - 1).bit_length()
    return math.ceil(heads / MAX_HEADS), MAX_HEADS


def make_cases(quick):
    if quick:
        shapes = [(64, 512, False, "f32"), (128, 2048, True, "f32"),
                  (128, 2048, False, "bf16")]
    else:
        shapes = [(d, s, causal, dtype) for d in (64, 128)
                  for s in (512, 2048, 8192) for causal in (False, True)
                  for dtype in ("f32", "bf16")]
    work = WORK_GFLOP["quick" if quick else "full"]
    return [Case(d, s, causal, dtype, *size_batch_heads(d, s, causal, work))
            for d, s, causal, dtype in shapes]


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def run_measured(cmd, env=None, timeout=600):
    """Runs `cmd`; returns (exit code, stdout, stderr, peak RSS MiB of that
    child alone, wall seconds). The exit code is None on timeout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        try:
            proc = subprocess.Popen([str(c) for c in cmd], stdout=out,
                                    stderr=err, env=env)
        except OSError as e:  # E.g. attune-run being relinked right now.
            return -1, "", f"cannot run {cmd[0]}: {e}", 0.0, 0.0
        killed = threading.Event()

        def kill():
            killed.set()
            proc.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        # wait4 reports this child's own rusage, unlike RUSAGE_CHILDREN,
        # which is the maximum over every child so far.
        _, status, usage = os.wait4(proc.pid, 0)
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        rc = None if killed.is_set() else proc.returncode
        return (rc, out.read().decode(errors="replace"),
                err.read().decode(errors="replace"), usage.ru_maxrss / 1024,
                time.monotonic() - start)


def last_json_line(text):
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON line in output")


def first_error(rc, out, err):
    if rc is None:
        return "timed out"
    lines = [l for l in (err + out).splitlines() if l.strip()]
    return f"exit {rc}: " + (lines[0][:160] if lines else "no output")


# ----------------------------------------------------------------------------
# Machine description
# ----------------------------------------------------------------------------

def cpu_info():
    info = {"model": platform.processor() or "unknown", "flags": []}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "model name":
                    info["model"] = value
                elif key == "cpu family":
                    info["family"] = int(value)
                elif key == "model":
                    info["model_number"] = int(value)
                elif key == "flags":
                    info["flags"] = value.split()
                    break
    except OSError:
        pass
    flags = set(info.pop("flags"))
    info["isa"] = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16")
                   if f in flags]
    info["cores"] = os.cpu_count()
    return info


def git_revision():
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except OSError:
        return "unknown"


def openblas_version():
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}",
                          "libopenblas0-pthread"], capture_output=True,
                         text=True)
    return out.stdout.strip() or "unknown"


# ----------------------------------------------------------------------------
# OpenBLAS: sgemm ceiling and unfused attention
# ----------------------------------------------------------------------------

INHERITED_CORETYPE = os.environ.get("OPENBLAS_CORETYPE") or None


def blas_env(coretype):
    """This process's environment with OPENBLAS_CORETYPE set to `coretype`,
    or unset for None (OpenBLAS then detects the CPU itself)."""
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    # One knob only: openblas_set_num_threads in the baseline.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        env.pop(var, None)
    return env


def coretype_label(coretype):
    if coretype is None:
        return "detected"
    return f"OPENBLAS_CORETYPE={coretype}"


def core_variants(cpu):
    """The OpenBLAS kernel sets the ceiling tries, one per distinct core:
    the inherited OPENBLAS_CORETYPE, OpenBLAS's own detection, and SkylakeX
    (AVX-512) where the CPU has AVX-512 (OpenBLAS may not know a new CPU)."""
    candidates = [INHERITED_CORETYPE, None]
    if "avx512f" in cpu["isa"]:
        candidates.append("SkylakeX")
    variants, seen = [], set()
    for coretype in candidates:
        rc, out, _, _, _ = run_measured(
            [BASELINE, "sgemm", "--m", 64, "--n", 64, "--k", 64, "--min-ms", 1],
            env=blas_env(coretype), timeout=60)
        if rc != 0:
            continue
        name = last_json_line(out)["corename"]
        if name not in seen:
            seen.add(name)
            variants.append(coretype)
    return variants


def measure_sgemm(ks, sizes, thread_counts, coretypes, verbose=True):
    rows = []
    for k in ks:
        for mn in sizes:
            for threads in thread_counts:
                for coretype in coretypes:
                    rc, out, err, _, _ = run_measured(
                        [BASELINE, "sgemm", "--m", mn, "--n", mn, "--k", k,
                         "--threads", threads, "--min-ms", 300],
                        env=blas_env(coretype))
                    row = {"m": mn, "n": mn, "k": k, "threads": threads,
                           "coretype": coretype,
                           "inherited": coretype == INHERITED_CORETYPE,
                           "load": loadavg()}
                    if rc == 0:
                        row.update(last_json_line(out))
                    else:
                        row["error"] = first_error(rc, out, err)
                    rows.append(row)
                    if verbose:
                        print(f"  sgemm M=N={mn} K={k} threads={threads} "
                              f"{row.get('corename', '?')} "
                              f"({coretype_label(coretype)}): "
                              f"{fmt(row.get('gflops'))} GFLOP/s (best "
                              f"{fmt(row.get('best_gflops'))})", flush=True)
    return rows


def ceiling_for(sgemm_rows, k, inherited_only=False):
    """The fastest sgemm at K = k, over every size, thread count and core, or
    only those of the inherited OPENBLAS_CORETYPE. Its GFLOP/s (`gflops` of
    the result) is that of the fastest call, not the median: a ceiling is
    what the machine can do, and on a shared machine the median of a few
    hundred milliseconds of sgemm also measures the neighbours' load, which
    would make every ratio to it look better than it is."""
    best = None
    for row in sgemm_rows:
        if row["k"] != k or "best_gflops" not in row:
            continue
        if inherited_only and not row["inherited"]:
            continue
        if best is None or row["best_gflops"] > best["best_gflops"]:
            best = row
    if best is None:
        return None
    return {**best, "gflops": best["best_gflops"],
            "median_gflops": best["gflops"]}


def measure_unfused(case, threads, coretype, repeats):
    """Both parallelisations (OpenBLAS-threaded sgemm + row-split softmax, or
    one (b, h) per thread); the faster one is the baseline."""
    tries = []
    for parallel in ("blas", "heads"):
        rc, out, err, _, _ = run_measured(
            [BASELINE, "attention", "--b", case.b, "--h", case.h, "--sq",
             case.s, "--d", case.d, "--threads", threads, "--repeats", repeats,
             "--parallel", parallel, "--check"] +
            (["--causal"] if case.causal else []),
            env=blas_env(coretype))
        if rc == 0:
            tries.append(last_json_line(out))
        else:
            tries.append({"parallel": parallel,
                          "error": first_error(rc, out, err)})
    ok = [t for t in tries if "gflops" in t]
    if not ok:
        return {"error": tries[0]["error"], "tries": tries}
    best = dict(max(ok, key=lambda t: t["gflops"]))
    best["coretype"] = coretype
    best["tries"] = [{k: t.get(k) for k in ("parallel", "gflops", "work_mib",
                                            "error")} for t in tries]
    return best


# ----------------------------------------------------------------------------
# Attune through attune-run
# ----------------------------------------------------------------------------

class SpecWriter:
    def __init__(self, directory):
        self.directory = directory
        self.template = string.Template(
            (HERE / "specs" / "attention.mlir.in").read_text())
        directory.mkdir(parents=True, exist_ok=True)

    def spec(self, case, heads):
        name = (f"{'causal' if case.causal else 'dense'}_h{heads}_d{case.d}_"
                f"{case.dtype}")
        path = self.directory / f"{name}.mlir"
        text = self.template.substitute(
            name=name, heads=heads, dim=case.d, type=case.dtype,
            mask=CAUSAL_MASK if case.causal else "")
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        return path


def probe_pipelines(attune_run, spec, pipelines):
    """Which requested pipelines attune-run really has. A name counts when
    attune-run's --help mentions it, or when attune-run rejects a bogus
    name (so accepting this one means something). Today's attune-run ignores
    the name and runs the reference lowering for any, which must not be
    reported as a fused result."""
    rc, out, err, _, _ = run_measured([attune_run, spec, "--sizes",
                                       "B=1,Sq=16", "--json",
                                       "--pipeline=bench-no-such-pipeline"],
                                      timeout=120)
    control, _, _, _, _ = run_measured([attune_run, spec, "--sizes",
                                        "B=1,Sq=16", "--json",
                                        "--pipeline=reference"], timeout=120)
    validates = control == 0 and rc not in (0, None)
    _, help_out, help_err, _, _ = run_measured([attune_run, "--help"],
                                              timeout=60)
    # The --pipeline option's description, up to the next option.
    match = re.search(r"--pipeline.*?(?=\n\s*--|\Z)", help_out + help_err,
                      re.S)
    described = match.group(0) if match else ""
    status = {}
    for p in pipelines:
        known = re.search(rf"\b{re.escape(p)}\b", described)
        if p == "reference" or validates or known:
            status[p] = None
        else:
            status[p] = ("attune-run accepts any --pipeline name (a bogus one "
                         "ran too), so this would time the reference lowering")
    return validates, status


def attune_env(threads):
    """Compiled code runs its parallel loops on OpenMP: as many threads as
    the baselines get."""
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    return env


def measure_attune(attune_run, specs, case, pipeline, b, h, repeats, timeout,
                   threads):
    spec = specs.spec(case, h)
    sizes = f"B={b},Sq={case.s},Sk={case.s}"
    rc, out, err, peak, wall = run_measured(
        [attune_run, spec, "--sizes", sizes, "--bench", "--repeats", repeats,
         "--json", f"--pipeline={pipeline}"], env=attune_env(threads),
        timeout=timeout)
    if rc != 0:
        return {"error": first_error(rc, out, err), "b": b, "h": h}
    try:
        report = last_json_line(out)
    except ValueError as e:
        return {"error": str(e), "b": b, "h": h}
    median_ms = report["bench"]["median_ms"]
    # Fixed cost of the process (MLIR, LLVM, JIT) at a tiny size, so that
    # work_mib compares with the baseline's.
    tiny_rc, _, _, tiny_peak, _ = run_measured(
        [attune_run, spec, "--sizes", "B=1,Sq=16,Sk=16", "--json",
         f"--pipeline={pipeline}"], env=attune_env(threads), timeout=120)
    io_mib = (4 * b * h * case.s * case.d * ELEMENT_BYTES[case.dtype] /
              2**20)
    work_mib = max(0.0, peak - tiny_peak - io_mib) if tiny_rc == 0 else None
    # Speed of wrong code is no result: check the same spec and pipeline
    # against the oracle at a size with partial tiles.
    check_rc, check_out, check_err, _, _ = run_measured(
        [attune_run, spec, "--sizes", "B=1,Sq=100,Sk=100", "--check", "--json",
         f"--pipeline={pipeline}"], env=attune_env(threads), timeout=300)
    try:
        checked = last_json_line(check_out)
        check = {"pass": bool(checked.get("pass")) and check_rc == 0,
                 "rel_err": [c.get("rel_err") for c in checked.get("check", [])]}
    except ValueError:
        check = {"pass": False,
                 "error": first_error(check_rc, check_out, check_err)}
    return {
        "b": b, "h": h, "spec": str(spec.relative_to(ROOT)),
        "median_ms": median_ms, "min_ms": report["bench"]["min_ms"],
        "repeats": report["bench"]["repeats"],
        "gflops": case.gflop(b, h) / (median_ms * 1e-3),
        "attune_run_gflops": report["bench"]["gflops"],
        "compile_s": report.get("compile_s"),
        "peak_mib": peak, "fixed_mib": tiny_peak if tiny_rc == 0 else None,
        "io_mib": io_mib, "work_mib": work_mib,
        "check_b1_s100": check,
        "wall_s": wall,
    }


# ----------------------------------------------------------------------------
# PyTorch
# ----------------------------------------------------------------------------

def torch_available():
    rc, _, _, _, _ = run_measured([sys.executable, "-c", "import torch"],
                                  timeout=120)
    return rc == 0


def measure_torch(case, threads, repeats):
    rc, out, err, _, _ = run_measured(
        [sys.executable, HERE / "sdpa_torch.py", "--b", case.b, "--h", case.h,
         "--s", case.s, "--d", case.d, "--dtype", case.dtype, "--threads",
         threads, "--repeats", repeats] + (["--causal"] if case.causal else []))
    if rc != 0:
        return {"error": first_error(rc, out, err)}
    return last_json_line(out)


# ----------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------

def fmt(value, digits=1):
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}"


def gflops_of(result):
    return result.get("gflops") if result else None


def ratio(a, b):
    return a / b if a is not None and b else None


def table(results, pipelines, with_torch):
    head = ["case", "B×H", "ceil env", "ceiling", "unfused"]
    head += [f"attune-{p[:3] if p == 'reference' else p}" for p in pipelines]
    if with_torch:
        head.append("torch")
    fused = "fused" if "fused" in pipelines else pipelines[-1]
    head += [f"{fused}/ceil", f"{fused}/unf", "MiB unf", f"MiB {fused}",
             "load"]
    lines = [head]
    for r in results:
        case = r["case"]
        ceiling = gflops_of(r["ceiling"])
        unfused = gflops_of(r["unfused"])
        unfused_cell = fmt(unfused)
        if unfused and case["dtype"] != "f32":
            unfused_cell += "*"
        if unfused and r["unfused"].get("check_rel_err", 0) > 1e-4:
            unfused_cell += "!"
        row = [r["name"], f"{case['b']}×{case['h']}",
               fmt(gflops_of(r["ceiling_env"])), fmt(ceiling), unfused_cell]
        for p in pipelines:
            res = r["attune"].get(p)
            cell = fmt(gflops_of(res), 2 if p == "reference" else 1)
            if res and "check_b1_s100" in res and \
               not res["check_b1_s100"]["pass"]:
                cell += "!"
            if res and res.get("skipped"):
                cell = "skip"
            row.append(cell)
        if with_torch:
            row.append(fmt(gflops_of(r.get("torch"))))
        f = gflops_of(r["attune"].get(fused))
        row += [fmt(ratio(f, ceiling), 2), fmt(ratio(f, unfused), 2),
                fmt((r["unfused"] or {}).get("work_mib"), 0),
                fmt((r["attune"].get(fused) or {}).get("work_mib"), 0),
                f"{r['load']:.1f}"]
        lines.append(row)
    widths = [max(len(str(line[i])) for line in lines)
              for i in range(len(head))]
    out = []
    for n, line in enumerate(lines):
        cells = [str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i])
                 for i, c in enumerate(line)]
        out.append("| " + " | ".join(cells) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) if i == 0 else
                                      "-" * (w + 1) + ":"
                                      for i, w in enumerate(widths)) + "|")
    return "\n".join(out)


def sgemm_table(rows):
    lines = ["| M=N | K | threads | OpenBLAS core | GFLOP/s median | best | "
             "load |",
             "|---:|---:|---:|---|---:|---:|---:|"]
    for r in rows:
        core = f"{r.get('corename', '?')} ({coretype_label(r['coretype'])})"
        lines.append(f"| {r['m']} | {r['k']} | {r['threads']} | {core} | "
                     f"{fmt(r.get('gflops'))} | {fmt(r.get('best_gflops'))} | "
                     f"{r['load']:.1f} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------
# Head sizes: D against the next multiple of 8
# ----------------------------------------------------------------------------

DEFAULT_HEAD_SIZES = "1,3,7,17,33,59,63,65,100,111,127,129,255,257,511"


def head_size_spec(specs, d, causal, heads):
    case = Case(d, 0, causal, "f32", 1, heads)
    return specs.spec(case, heads)


def run_head_sizes(args):
    """Times each D and its next multiple of 8 alternately, `rounds` times,
    at B=1, H=8, S=1024 (dense and causal, f32). Ratios of useful GFLOP/s,
    the median over rounds of per-round ratios (neighbouring runs see the
    same load): `ratio_cpu` from the process CPU time of each call
    (attune-run's cpu_median_ms: with one thread, the kernel's own time even
    on a loaded machine) and `ratio_median` from wall times; `ratio_best`
    from the fastest wall-clock calls over all rounds."""
    dims = [int(d) for d in args.head_sizes.split(",") if d]
    heads, s = 8, args.head_size_s
    specs = SpecWriter(BUILD / "specs")
    cpu = cpu_info()
    started = datetime.datetime.now(datetime.timezone.utc)
    extra = ([f"--vector-width={args.vector_width}"]
             if args.vector_width else [])
    print(f"bench/cpu head sizes on {cpu['model']} ({cpu['cores']} cores, "
          f"{' '.join(cpu['isa'])}), B=1 H={heads} S={s}, "
          f"{args.threads} threads, vector width "
          f"{args.vector_width or 'host'}, load {loadavg():.2f}", flush=True)

    def measure(d, causal):
        spec = head_size_spec(specs, d, causal, heads)
        rc, out, err, _, _ = run_measured(
            [args.attune_run, spec, "--sizes", f"B=1,Sq={s},Sk={s}",
             "--bench", "--repeats", args.head_size_repeats, "--json"] + extra,
            env=attune_env(args.threads), timeout=args.timeout)
        if rc != 0:
            return {"error": first_error(rc, out, err)}
        bench = last_json_line(out)["bench"]
        useful = 4.0 * heads * s * s * d * (0.5 if causal else 1.0) * 1e-9
        return {"median_ms": bench["median_ms"], "min_ms": bench["min_ms"],
                "cpu_median_ms": bench.get("cpu_median_ms"),
                "gflops": useful / (bench["median_ms"] * 1e-3),
                "cpu_gflops": (useful / (bench["cpu_median_ms"] * 1e-3)
                               if bench.get("cpu_median_ms") else None)}

    rows = []
    for causal in (False, True):
        for d in dims:
            d8 = -(-d // 8) * 8
            rounds = []
            for _ in range(args.head_size_rounds):
                a = measure(d, causal)
                b = measure(d8, causal) if d8 != d else a
                rounds.append({"d": a, "d8": b})
            ok = [r for r in rounds if "gflops" in r["d"] and
                  "gflops" in r["d8"]]
            ratios = sorted(r["d"]["gflops"] / r["d8"]["gflops"] for r in ok)
            cpu_ok = [r for r in ok if r["d"]["cpu_gflops"] and
                      r["d8"]["cpu_gflops"]]
            cpu_ratios = sorted(r["d"]["cpu_gflops"] / r["d8"]["cpu_gflops"]
                                for r in cpu_ok)
            best = lambda key: min((r[key]["min_ms"] for r in ok),
                                   default=None)
            useful = 4.0 * heads * s * s * (0.5 if causal else 1.0) * 1e-9
            best_d, best_d8 = best("d"), best("d8")
            row = {
                "d": d, "d8": d8, "causal": causal, "rounds": rounds,
                "best_gflops": useful * d / (best_d * 1e-3) if ok else None,
                "best_gflops_d8": (useful * d8 / (best_d8 * 1e-3)
                                   if ok else None),
                "ratio_best": (d * best_d8) / (d8 * best_d) if ok else None,
                "gflops": sorted(r["d"]["gflops"] for r in ok),
                "gflops_d8": sorted(r["d8"]["gflops"] for r in ok),
                "ratio_median": ratios[len(ratios) // 2] if ratios else None,
                "ratio_cpu": (cpu_ratios[len(cpu_ratios) // 2]
                              if cpu_ratios else None),
                "cpu_gflops": sorted(r["d"]["cpu_gflops"] for r in cpu_ok),
                "cpu_gflops_d8": sorted(r["d8"]["cpu_gflops"]
                                        for r in cpu_ok),
                "ratio_min": ratios[0] if ratios else None,
                "load": loadavg(),
            }
            rows.append(row)
            mid = lambda xs: xs[len(xs) // 2] if xs else None
            print(f"  {'causal' if causal else 'dense '} D={d:3} "
                  f"{fmt(mid(row['cpu_gflops']))} GFLOP/s (CPU time), "
                  f"D={d8:3} {fmt(mid(row['cpu_gflops_d8']))}: ratio "
                  f"{fmt(row['ratio_cpu'], 2)}; wall: median ratio "
                  f"{fmt(row['ratio_median'], 2)}, best "
                  f"{fmt(row['best_gflops'])} / "
                  f"{fmt(row['best_gflops_d8'])} = "
                  f"{fmt(row['ratio_best'], 2)}" +
                  ("" if ok else f" error: {rounds[0]['d'].get('error')} "
                   f"{rounds[0]['d8'].get('error')}"), flush=True)
    report = {
        "date": started.isoformat(timespec="seconds"),
        "command": " ".join(["bench/cpu/run.py"] + sys.argv[1:]),
        "machine": {**cpu, "kernel": platform.release()},
        "attune": {"revision": git_revision(),
                   "attune_run": str(args.attune_run),
                   "threads": f"OMP_NUM_THREADS={args.threads}",
                   "vector_width": args.vector_width or "host"},
        "sizes": {"b": 1, "h": heads, "s": s, "dtype": "f32"},
        "gflops_definition": "4*B*H*S^2*D / time, halved for causal; "
                             "ratio_cpu / ratio_median = the median over "
                             "rounds of GFLOP/s(D) / GFLOP/s(next multiple "
                             "of 8) from median CPU / wall times; "
                             "ratio_best = the same from the fastest wall "
                             "times over all rounds",
        "results": rows,
    }
    out = args.json_out or HERE / "head_sizes.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"JSON: {out}")


# ----------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(
        description="Attune CPU attention benchmark (see bench/RESULTS.md).")
    parser.add_argument("--quick", action="store_true",
                        help="three shapes, a smoke run (< 1 min)")
    parser.add_argument("--pipelines", default="reference,fused",
                        help="attune-run --pipeline values, comma-separated")
    parser.add_argument("--attune-run", type=Path,
                        default=Path(os.environ.get(
                            "ATTUNE_RUN", ROOT / "build" / "bin" / "attune-run")))
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="threads of every row (OpenBLAS, torch, and "
                             "OMP_NUM_THREADS for attune-run)")
    parser.add_argument("--reference-max-s", type=int, default=2048,
                        help="skip the (slow) reference pipeline above this S")
    parser.add_argument("--force-pipelines", action="store_true",
                        help="time every requested pipeline even if "
                             "attune-run does not seem to know its name")
    parser.add_argument("--only", default="",
                        help="run only cases whose name contains this, e.g. "
                             "'S2048' or 'D128 S8192 causal'")
    parser.add_argument("--json-out", type=Path, default=None,
                        help="default: bench/cpu/results.json, or "
                             "bench/cpu/head_sizes.json with --head-sizes")
    parser.add_argument("--head-sizes", nargs="?", const=DEFAULT_HEAD_SIZES,
                        default=None, metavar="D,D,...",
                        help="time the fused kernel at these head sizes "
                             "next to the next multiples of 8 instead "
                             f"(default list: {DEFAULT_HEAD_SIZES})")
    parser.add_argument("--head-size-s", type=int, default=1024,
                        help="--head-sizes: sequence length")
    parser.add_argument("--head-size-rounds", type=int, default=5,
                        help="--head-sizes: alternating runs of each pair")
    parser.add_argument("--head-size-repeats", type=int, default=5,
                        help="--head-sizes: timed calls per run")
    parser.add_argument("--vector-width", type=int, default=0,
                        help="--head-sizes: attune-run --vector-width (8: "
                             "AVX2, 16: AVX-512; default: the host's)")
    parser.add_argument("--timeout", type=int, default=600,
                        help="seconds per attune-run call")
    args = parser.parse_args()

    if args.head_sizes:
        if not args.attune_run.exists():
            sys.exit(f"run.py: {args.attune_run} is missing; build Attune "
                     "first (scripts/setup.sh) or pass --attune-run")
        return run_head_sizes(args)
    if args.json_out is None:
        args.json_out = HERE / "results.json"
    pipelines = [p for p in args.pipelines.split(",") if p]
    if not BASELINE.exists():
        sys.exit(f"run.py: {BASELINE} is missing; use bench/cpu/run.sh, which "
                 "builds it")
    if not args.attune_run.exists():
        sys.exit(f"run.py: {args.attune_run} is missing; build Attune first "
                 "(scripts/setup.sh) or pass --attune-run")

    cases = [c for c in make_cases(args.quick) if args.only in c.name]
    if not cases:
        sys.exit(f"run.py: no case matches --only '{args.only}'")
    repeats = 5 if args.quick else 7
    cpu = cpu_info()
    started = datetime.datetime.now(datetime.timezone.utc)
    print(f"bench/cpu: {len(cases)} cases on {cpu['model']} "
          f"({cpu['cores']} cores, {' '.join(cpu['isa'])}), load "
          f"{loadavg():.2f}", flush=True)

    # Ceiling. AVX-512 kernels where the CPU has them: OpenBLAS 0.3.21 does
    # not know every new CPU and may fall back to its AVX2 (Haswell) kernels.
    coretypes = core_variants(cpu)
    sizes = [2048] if args.quick else [2048, 4096]
    thread_counts = sorted({1, args.threads})
    print("sgemm ceiling:", flush=True)
    sgemm_rows = measure_sgemm(sorted({c.d for c in cases}), sizes,
                               thread_counts, coretypes)

    specs = SpecWriter(BUILD / "specs")
    validates, pipeline_status = probe_pipelines(
        args.attune_run, specs.spec(cases[0], 1), pipelines)
    if args.force_pipelines:
        pipeline_status = {p: None for p in pipelines}
    for p, reason in pipeline_status.items():
        if reason:
            print(f"attune pipeline '{p}': n/a ({reason}; --force-pipelines "
                  "times it anyway)", flush=True)

    have_torch = torch_available()
    if not have_torch:
        print("torch: not installed", flush=True)

    results, unfused_cache = [], {}
    for case in cases:
        print(f"{case.name} (B={case.b}, H={case.h}):", flush=True)
        load = loadavg()
        # The machine is shared: the row's ceiling is measured right before
        # it (M=N=2048, K=D), on the best core of the table above and on the
        # inherited one, so that both see the same moment's load.
        best = ceiling_for(sgemm_rows, case.d)
        best_core = best["coretype"] if best else INHERITED_CORETYPE
        row_sgemm = measure_sgemm([case.d], [2048], thread_counts,
                                  list(dict.fromkeys([best_core,
                                                      INHERITED_CORETYPE])),
                                  verbose=False)
        ceiling = ceiling_for(row_sgemm, case.d)
        ceiling_env = ceiling_for(row_sgemm, case.d, inherited_only=True)
        print(f"  sgemm ceiling: {fmt(gflops_of(ceiling))} GFLOP/s "
              f"({fmt(gflops_of(ceiling_env))} with "
              f"{coretype_label(INHERITED_CORETYPE)})", flush=True)
        key = (case.d, case.s, case.causal, case.b, case.h)
        if key not in unfused_cache:
            unfused_cache[key] = measure_unfused(case, args.threads, best_core,
                                                 repeats)
        unfused = unfused_cache[key]
        print(f"  unfused (OpenBLAS, f32): {fmt(gflops_of(unfused))} GFLOP/s",
              flush=True)

        attune = {}
        for p in pipelines:
            if pipeline_status[p]:
                attune[p] = {"error": pipeline_status[p]}
            elif p == "reference" and case.s > args.reference_max_s:
                attune[p] = {"skipped": f"S > {args.reference_max_s}"}
            elif p == "reference":
                # Slow (materialised): its own, smaller B and H.
                b, h = size_batch_heads(case.d, case.s, case.causal,
                                        REFERENCE_WORK_GFLOP)
                attune[p] = measure_attune(args.attune_run, specs, case, p, b,
                                           h, 1 if args.quick else 3,
                                           args.timeout, args.threads)
            else:
                attune[p] = measure_attune(args.attune_run, specs, case, p,
                                           case.b, case.h, repeats,
                                           args.timeout, args.threads)
            res = attune[p]
            print(f"  attune {p}: " +
                  (f"{res['gflops']:.2f} GFLOP/s, check "
                   f"{'pass' if res['check_b1_s100']['pass'] else 'FAIL'}"
                   if "gflops" in res else
                   f"n/a ({res.get('error') or res.get('skipped')})"),
                  flush=True)

        torch_result = None
        if have_torch:
            torch_result = measure_torch(case, args.threads, repeats)
            print(f"  torch sdpa: {fmt(gflops_of(torch_result))} GFLOP/s",
                  flush=True)

        results.append({
            "name": case.name,
            "case": {"d": case.d, "sq": case.s, "sk": case.s,
                     "causal": case.causal, "dtype": case.dtype, "b": case.b,
                     "h": case.h, "useful_gflop": case.gflop()},
            "load": load,
            "ceiling": ceiling,
            "ceiling_env": ceiling_env,
            "sgemm": row_sgemm,
            "unfused": unfused,
            "attune": attune,
            "torch": torch_result if have_torch else "not installed",
        })

    report = {
        "date": started.isoformat(timespec="seconds"),
        "command": " ".join(["bench/cpu/run.sh"] + sys.argv[1:]),
        "machine": {**cpu, "kernel": platform.release(),
                    "load_start": results[0]["load"] if results else None,
                    "load_end": loadavg()},
        "attune": {"revision": git_revision(),
                   "attune_run": str(args.attune_run),
                   "pipelines": pipelines,
                   "pipeline_names_validated": validates,
                   "pipeline_status": {p: r or "ok"
                                       for p, r in pipeline_status.items()},
                   "reference_work_gflop": REFERENCE_WORK_GFLOP,
                   "threads": f"OMP_NUM_THREADS={args.threads}"},
        "openblas": {"version": openblas_version(), "threads": args.threads},
        "torch": "installed" if have_torch else "not installed",
        "gflops_definition": "4*B*H*Sq*Sk*D / median time, halved for causal",
        "sgemm": sgemm_rows,
        "results": results,
    }
    args.json_out.write_text(json.dumps(report, indent=2) + "\n")

    print()
    print(sgemm_table(sgemm_rows))
    print()
    print(table(results, pipelines, have_torch))
    print()
    print("GFLOP/s = 4·B·H·S²·D / median (halved for causal). ceiling = "
          "fastest sgemm call at M=N=2048, K=D, measured just before the row, "
          f"{' or '.join(map(str, thread_counts))} thread(s), on the fastest "
          "OpenBLAS core of the table "
          "above; ceil env = the same on this environment's OpenBLAS core "
          f"({coretype_label(INHERITED_CORETYPE)}). unfused: OpenBLAS "
          "f32 only, on the ceiling's core, faster of two parallelisations; "
          "* = bf16 row compared with f32 unfused; ! = wrong results "
          "(unfused: a few rows off float64 by > 1e-4; attune: attune-run "
          "--check failed at B=1, S=100). attune-ref runs "
          "at its own B×H (see JSON): one head at S >= 2048. MiB = peak RSS growth beyond inputs/outputs (and, for "
          "attune-run, beyond its own size at S=16). load = 1-min load "
          "average at the row's start on this shared machine.")
    if not have_torch:
        print("torch: not installed")
    print(f"JSON: {args.json_out}")


if __name__ == "__main__":
    main()
