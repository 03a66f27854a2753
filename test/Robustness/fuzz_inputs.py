#!/usr/bin/env python3
"""Feeds attune-opt truncated and mutated copies of every .mlir file in the
repository and checks that it never crashes or hangs.

For each *.mlir under examples/ and test/ (recursively), the script makes a
bounded number of mutants (--mutants-per-file, shrunk to fit --max-runs when
there are many files) from a seeded random generator, a quarter of them from
the file's generic form (`--mlir-print-op-generic`), which reaches the
verifiers with region and attribute shapes the custom syntax cannot write:

  * truncated copies, cut at random byte offsets (often mid-token, and biased
    towards the inside of `attn.*` ops);
  * mutated copies, with one to three stacked edits: byte flips, insertions
    and deletions, swaps of tokens (`index` <-> `f32`, `score` <-> `mask`,
    `bhsd` <-> `bshd`, ...), replaced numbers, deleted, duplicated or swapped
    lines, inserted `// -----` split markers, and spliced-in fragments of
    attn syntax (mistyped `attributes {layout = ...}`, bad scales, extra
    regions) or copies of other parts of the file.

Each mutant is run through `attune-opt -` twice: with `--split-input-file
--verify-roundtrip` (which also prints, reparses and bytecode-round-trips
every chunk that verifies) and as one module. Every run must end with exit
code 0, or with exit code 1 and a diagnostic ("error:") on stderr; a signal,
any other exit code, a timeout or a failed round trip is a failure. A failing
mutant is saved to a temporary directory and printed with the command that
reproduces it.

The same seed gives the same mutants on every machine: the generator is
seeded from --seed and the file's path relative to --root, never from
Python's hash randomisation. Only the standard library is used.
"""

import argparse
import concurrent.futures
import hashlib
import os
import random
import re
import shlex
import subprocess
import sys
import tempfile
import time

# Words swapped for one another. Types and keywords of the attn dialect come
# first; the rest are structural tokens whose misuse the parsers must report.
SWAP_WORDS = [
    "index", "f32", "f16", "bf16", "f64", "i1", "i32", "i64", "tensor",
    "memref", "vector", "complex", "bhsd", "bshd", "ins", "captures", "scale",
    "layout", "score", "mask", "attributes", "attn.yield", "attn.attention",
    "func.return", "func.func", "arith.constant", "arith.cmpi", "scf.yield",
    "true", "false", "ule", "ult",
]
SWAP_PUNCT = [
    "->", ":", ",", "(", ")", "{", "}", "<", ">", "[", "]", "x", "?", "%",
    "^", "@", "#", "=", "\"", "<{", "}>", "*",
]
NUMBERS = [
    b"0", b"1", b"-1", b"3", b"?", b"0.0", b"-0.0", b"1.0e39", b"0x7FC00000",
    b"0x7F800000", b"16777216.0", b"4294967296", b"9223372036854775807",
    b"99999999999999999999999",
]
INSERT_BYTES = b"{}()<>[],:%^@#=\"x?0-. \n"
# Fragments spliced in at random places: pieces of the attn syntax in places
# and with types the parsers and verifiers must reject, not trip over.
FRAGMENTS = [
    b" attributes {layout = 1 : i32}", b" attributes {scale = 0.5 : f64}",
    b" {layout = 1 : i32}", b" <{}>", b" <{layout = #attn.layout<bshd>}>",
    b" scale(0x7FC00000)", b" scale(-1.0)", b" layout(bshd)",
    b" captures(%arg0 : f32)", b" -> tensor<1x1x1x1xf32>, tensor<1x1x1xf32>",
    b" score(%s, %b, %h, %i, %j) {\n attn.yield %s : f32\n}",
    b" mask(%b, %h, %i, %j) {\n}", b"\nattn.yield\n", b"^bb1:\n",
    b"({}, {})", b"({\n^bb0:\n attn.yield\n}, {})", b" : (f32) -> f32",
    b"tensor<?x?x?x?xf32>", b"tensor<0x0x0x0xf32>", b"\"attn.attention\"",
]

# A word on its own, or an element type after a shape (`4x8xf32`).
WORD_RE = {
    w: re.compile(rb"(?:(?<![\w.])|(?<=[0-9?]x))" + re.escape(w.encode()) +
                  rb"(?![\w.])")
    for w in SWAP_WORDS
}
NUMBER_RE = re.compile(rb"-?\b(?:0x[0-9A-Fa-f]+|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)")
ATTN_RE = re.compile(rb"attn\.\w+|\"attn\.\w+\"")


def collect_inputs(root):
    """Every *.mlir under root/examples and root/test, sorted."""
    found = []
    for top in ("examples", "test"):
        base = os.path.join(root, top)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith(".mlir"):
                    found.append(os.path.join(dirpath, name))
    return found


def file_rng(seed, relpath):
    digest = hashlib.sha256(f"{seed}:{relpath}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "little"))


def truncate(rng, data):
    """Cuts `data` at a random offset, half the time inside an attn op."""
    if not data:
        return data, "truncate at 0"
    spans = [m.start() for m in ATTN_RE.finditer(data)]
    if spans and rng.random() < 0.5:
        start = rng.choice(spans)
        cut = min(len(data), start + rng.randrange(1, 400))
    else:
        cut = rng.randrange(len(data))
    return data[:cut], f"truncate at byte {cut}"


def swap_token(rng, data):
    present = [w for w in SWAP_WORDS if WORD_RE[w].search(data)]
    if present and rng.random() < 0.7:
        word = rng.choice(present)
        matches = list(WORD_RE[word].finditer(data))
        m = rng.choice(matches)
        repl = rng.choice(SWAP_WORDS + SWAP_PUNCT)
        return (data[:m.start()] + repl.encode() + data[m.end():],
                f"swap '{word}'@{m.start()} -> '{repl}'")
    punct = [p for p in SWAP_PUNCT if p.encode() in data]
    if not punct:
        return data, "swap (nothing to swap)"
    p = rng.choice(punct).encode()
    positions = [m.start() for m in re.finditer(re.escape(p), data)]
    pos = rng.choice(positions)
    repl = rng.choice(SWAP_PUNCT + SWAP_WORDS)
    return (data[:pos] + repl.encode() + data[pos + len(p):],
            f"swap {p.decode()!r}@{pos} -> {repl!r}")


def replace_number(rng, data):
    matches = list(NUMBER_RE.finditer(data))
    if not matches:
        return data, "number (none)"
    m = rng.choice(matches)
    repl = rng.choice(NUMBERS)
    return (data[:m.start()] + repl + data[m.end():],
            f"number@{m.start()} -> {repl.decode()}")


def flip_byte(rng, data):
    if not data:
        return data, "flip (empty)"
    pos = rng.randrange(len(data))
    new = rng.randrange(256) if rng.random() < 0.3 else rng.randrange(32, 127)
    return data[:pos] + bytes([new]) + data[pos + 1:], f"flip@{pos} -> {new}"


def insert_byte(rng, data):
    pos = rng.randrange(len(data) + 1)
    new = rng.choice(INSERT_BYTES)
    return data[:pos] + bytes([new]) + data[pos:], f"insert@{pos} {chr(new)!r}"


def delete_bytes(rng, data):
    if not data:
        return data, "delete (empty)"
    pos = rng.randrange(len(data))
    n = rng.randint(1, 4)
    return data[:pos] + data[pos + n:], f"delete {n}@{pos}"


def edit_line(rng, data):
    lines = data.split(b"\n")
    if len(lines) < 2:
        return data, "line (too short)"
    i = rng.randrange(len(lines))
    kind = rng.choice(["delete", "delete", "duplicate", "swap", "split"])
    if kind == "delete":
        del lines[i]
    elif kind == "duplicate":
        lines.insert(i, lines[i])
    elif kind == "swap" and i + 1 < len(lines):
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    elif kind == "split":
        lines.insert(i, b"// -----")
    return b"\n".join(lines), f"{kind} line {i + 1}"


def splice(rng, data):
    """Inserts an attn fragment, or a copy of a random slice of the input;
    half the time at the end of the line holding the result types of an
    `attn.attention`, where the custom form's optional clauses go."""
    ends = []
    for m in re.finditer(rb"attn\.attention", data):
        line_start = data.rfind(b"\n", 0, m.start()) + 1
        if b"//" in data[line_start:m.start()]:
            continue
        arrow = data.find(b"->", m.end())
        end = data.find(b"\n", arrow) if arrow >= 0 else -1
        if end >= 0:
            ends.append(end)
    if ends and rng.random() < 0.5:
        pos = rng.choice(ends)
    else:
        pos = rng.randrange(len(data) + 1)
    if rng.random() < 0.6 or len(data) < 2:
        piece = rng.choice(FRAGMENTS)
        desc = f"splice@{pos} {piece.decode()!r}"
    else:
        start = rng.randrange(len(data) - 1)
        end = min(len(data), start + rng.randint(1, 200))
        piece = data[start:end]
        desc = f"splice@{pos} bytes {start}:{end}"
    return data[:pos] + piece + data[pos:], desc


MUTATORS = [swap_token, swap_token, replace_number, flip_byte, insert_byte,
            delete_bytes, edit_line, edit_line, splice, splice]


def make_mutants(rng, bases, count):
    """`count` (description, bytes) pairs: about a third truncations, the
    rest one to three stacked mutations. `bases` are the file as written and,
    where it parses, its generic form; a quarter of the mutants start from
    the generic form, which reaches the verifiers with region shapes the
    custom syntax cannot write."""
    def pick_base():
        if len(bases) > 1 and rng.random() < 0.25:
            return "generic: ", bases[1]
        return "", bases[0]

    mutants = []
    n_trunc = max(1, count // 3)
    for _ in range(n_trunc):
        prefix, data = pick_base()
        cut, desc = truncate(rng, data)
        mutants.append((prefix + desc, cut))
    for _ in range(count - n_trunc):
        prefix, data = pick_base()
        mutant, descs = data, []
        for _ in range(rng.randint(1, 3)):
            mutant, desc = rng.choice(MUTATORS)(rng, mutant)
            descs.append(desc)
        mutants.append((prefix + "; ".join(descs), mutant))
    return mutants


def generic_form(attune_opt, data, timeout):
    """The input printed in generic form, chunk by chunk; chunks that do not
    verify are left out. None when nothing verifies."""
    try:
        proc = subprocess.run(
            [attune_opt, "-", "--split-input-file", "--mlir-print-op-generic"],
            input=data, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return proc.stdout if proc.returncode in (0, 1) and proc.stdout else None


MODES = [
    ["--split-input-file", "--verify-roundtrip"],
    [],
]


def check_run(cmd, data, timeout, keep_stdout):
    """Runs cmd on data; returns (reason or None, exit code, stdout, stderr).
    """
    env = dict(os.environ, LLVM_DISABLE_SYMBOLIZATION="1")
    try:
        proc = subprocess.run(
            cmd, input=data, stderr=subprocess.PIPE, timeout=timeout, env=env,
            stdout=subprocess.PIPE if keep_stdout else subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout} s", None, b"", b""
    stdout, stderr = proc.stdout or b"", proc.stderr
    if proc.returncode < 0:
        return f"killed by signal {-proc.returncode}", proc.returncode, \
            stdout, stderr
    if proc.returncode not in (0, 1):
        return f"exit code {proc.returncode}", proc.returncode, stdout, stderr
    if proc.returncode == 1 and b"error:" not in stderr:
        return "exit code 1 without an 'error:' diagnostic", 1, stdout, stderr
    # --verify-roundtrip: what verifies must print generically and as
    # bytecode and parse back to the same IR.
    if re.search(rb"cannot verify round-trip|roundtripped module differs",
                 stderr):
        return "generic/bytecode round trip failed", 1, stdout, stderr
    return None, proc.returncode, stdout, stderr


def run_one(attune_opt, mode, data, timeout):
    """Returns (reason or None, stderr, printed, runs): printed is the output
    that failed to parse back when that is the failure, else None."""
    split = "--split-input-file" in mode
    cmd = [attune_opt, "-"] + mode + ([] if split else ["-o", os.devnull])
    reason, _, stdout, stderr = check_run(cmd, data, timeout, split)
    if reason is not None or not split or not stdout.strip():
        return reason, stderr, None, 1
    # The chunks that verified were printed in the custom form, which
    # --verify-roundtrip does not exercise: that output must parse back.
    # Chunks that failed print nothing but their `// -----`; drop them, as
    # two markers in a row do not split.
    chunks = re.split(rb"^// -----$", stdout, flags=re.MULTILINE)
    printed = b"\n// -----\n".join(c for c in chunks if c.strip())
    reason, code, _, stderr = check_run(
        [attune_opt, "-", "--split-input-file", "-o", os.devnull], printed,
        timeout, False)
    if reason is None and code != 0:
        reason = "the printed custom form does not parse back"
    return reason, stderr, printed if reason is not None else None, 2


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attune-opt", required=True,
                        help="path of the attune-opt binary")
    parser.add_argument("--root", required=True,
                        help="source root holding examples/ and test/")
    parser.add_argument("--seed", type=int, default=20250611)
    parser.add_argument("--mutants-per-file", type=int, default=20)
    parser.add_argument("--max-runs", type=int, default=1200,
                        help="total run budget; mutants per file shrink "
                             "(to at least 4) when there are many files")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds per attune-opt run")
    parser.add_argument("--max-failures", type=int, default=20,
                        help="stop reporting after this many failures")
    args = parser.parse_args()

    start = time.monotonic()
    inputs = collect_inputs(args.root)
    if not inputs:
        print(f"fuzz_inputs: no .mlir files under {args.root}", file=sys.stderr)
        return 1
    per_file = args.mutants_per_file
    budget = args.max_runs // (len(MODES) * len(inputs))
    if budget < per_file:
        per_file = max(4, budget)

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs)
    texts = []
    for path in inputs:
        with open(path, "rb") as f:
            texts.append(f.read())
    generics = pool.map(
        lambda data: generic_form(args.attune_opt, data, args.timeout), texts)

    jobs = []
    for path, data, generic in zip(inputs, texts, generics):
        rel = os.path.relpath(path, args.root)
        bases = [data] if generic is None else [data, generic]
        rng = file_rng(args.seed, rel)
        for idx, (desc, mutant) in enumerate(make_mutants(rng, bases,
                                                          per_file)):
            for mode in MODES:
                jobs.append((rel, idx, desc, mutant, mode))

    failures = []
    runs = 0
    with pool:
        futures = {
            pool.submit(run_one, args.attune_opt, mode, mutant, args.timeout):
            (rel, idx, desc, mutant, mode)
            for rel, idx, desc, mutant, mode in jobs
        }
        for future in concurrent.futures.as_completed(futures):
            reason, stderr, printed, n = future.result()
            runs += n
            if reason is not None:
                failures.append((futures[future], reason, stderr, printed))

    failures.sort(key=lambda f: (f[0][0], f[0][1], f[0][4]))
    if failures:
        outdir = tempfile.mkdtemp(prefix="attune-fuzz-")
        for (rel, idx, desc, mutant, mode), reason, stderr, printed in \
                failures[:args.max_failures]:
            name = rel.replace(os.sep, "_").replace(".mlir", "")
            saved = os.path.join(outdir, f"{name}.mutant{idx}.mlir")
            with open(saved, "wb") as f:
                f.write(mutant)
            if printed is not None:
                # The first run succeeded; what it printed did not parse.
                saved = saved.replace(".mlir", ".printed.mlir")
                with open(saved, "wb") as f:
                    f.write(printed)
                mode = ["--split-input-file"]
            cmd = " ".join(shlex.quote(a)
                           for a in [args.attune_opt, saved] + mode)
            print(f"FAIL: {rel} mutant {idx} ({desc}): {reason}")
            print(f"  reproduce: {cmd}")
            tail = stderr.decode(errors="replace").strip().splitlines()[-15:]
            for line in tail:
                print(f"  | {line}")
        if len(failures) > args.max_failures:
            print(f"... and {len(failures) - args.max_failures} more failures")
        print(f"mutants saved in {outdir}")

    elapsed = time.monotonic() - start
    print(f"fuzz_inputs: {len(inputs)} files, {len(jobs) // len(MODES)} "
          f"mutants, {runs} runs, {len(failures)} failures, "
          f"{elapsed:.1f} s (seed {args.seed})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
