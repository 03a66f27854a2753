#!/usr/bin/env python3
#===- bench/gpu/headsize_specs.py - Specs of the head-size sweep ----------===#
#
# Part of the Attune project.
#
# Writes the specs of the GPU head-size sweep into OUTDIR: for every head
# size D of HEAD_SIZES, four variants, bf16, bhsd, B / Sq / Sk dynamic:
#
#   hs_dense_d<D>    no mask, 4 heads
#   hs_causal_d<D>   mask j <= i, 4 heads
#   hs_gqa_d<D>      9 query heads on 3 K/V heads, bottom-right causal
#                    (j + Sq <= i + Sk: with Sq > Sk the first rows are fully
#                    masked), lse returned too
#   hs_score_d<D>    soft-capping score region 30 tanh(s / 30), 4 heads
#
# plus hs_dense_d<D>_dv<Dv> for the (D, Dv) pairs of VALUE_PAIRS (Dv != D).
# bench/gpu/build_artifacts.sh compiles them; bench/gpu/run.py --sizes=fa
# checks them against the reference at FlashAttention's (Sq, Sk) pairs; CI
# compiles the same specs for sm_80 and sm_90a (test/Integration/CUDA).
#
#   python3 bench/gpu/headsize_specs.py OUTDIR [--dtype=f16|f32]
#
#===----------------------------------------------------------------------===#

import argparse
from pathlib import Path

HEAD_SIZES = (8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 96, 112, 128, 144, 160,
              176, 192, 208, 224, 240, 256)
VALUE_PAIRS = ((64, 128), (128, 64), (40, 96), (96, 40), (72, 200),
               (256, 8))


# Element type of Q, K, V and O: --dtype sets it (f32 specs compile to the
# f32-planes kernels when attunec is not given --gpu-element-type).
DTYPE = "bf16"


def tensor(h, d):
    return f"tensor<?x{h}x?x{d}x{DTYPE}>"


def spec(name, d, dv, hq=4, hkv=4, body="", captures="", lse=False,
         prologue=""):
    q, k, v, o = tensor(hq, d), tensor(hkv, d), tensor(hkv, dv), tensor(hq, dv)
    results = f"{o}, tensor<?x{hq}x?xf32>" if lse else o
    ret_types = f"({results})" if lse else results
    names = "%o, %lse" if lse else "%o"
    return f"""// Head-size sweep (bench/gpu/headsize_specs.py): {name}.
func.func @{name}(%q: {q}, %k: {k}, %v: {v}) -> {ret_types} {{
{prologue}  {names} = attn.attention
      ins(%q, %k, %v : {q}, {k}, {v}){captures}
      -> {results}{body}
  return {names} : {results}
}}
"""


def variants(d):
    yield f"hs_dense_d{d}", spec(f"hs_dense_d{d}", d, d)
    yield f"hs_causal_d{d}", spec(f"hs_causal_d{d}", d, d, body="""
    mask(%b, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }""")
    yield f"hs_gqa_d{d}", spec(
        f"hs_gqa_d{d}", d, d, hq=9, hkv=3, lse=True,
        prologue=f"""  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : {tensor(9, d)}
  %sk = tensor.dim %k, %c2 : {tensor(3, d)}
""",
        captures="\n      captures(%sq, %sk : index, index)",
        body="""
    mask(%b, %h, %i, %j, %nq, %nk) {
      %jq = arith.addi %j, %nq : index
      %ik = arith.addi %i, %nk : index
      %keep = arith.cmpi ule, %jq, %ik : index
      attn.yield %keep : i1
    }""")
    yield f"hs_score_d{d}", spec(f"hs_score_d{d}", d, d, body="""
    score(%s, %b, %h, %i, %j) {
      %cap = arith.constant 30.0 : f32
      %x = arith.divf %s, %cap : f32
      %t = math.tanh %x : f32
      %r = arith.mulf %t, %cap : f32
      attn.yield %r : f32
    }""")


def all_specs():
    for d in HEAD_SIZES:
        yield from variants(d)
    for d, dv in VALUE_PAIRS:
        name = f"hs_dense_d{d}_dv{dv}"
        yield name, spec(name, d, dv)


def main():
    global DTYPE
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("outdir")
    ap.add_argument("--dtype", choices=("bf16", "f16", "f32"), default="bf16",
                    help="element type of Q/K/V/O; names get a _<dtype> "
                    "suffix unless bf16")
    args = ap.parse_args()
    DTYPE = args.dtype
    suffix = "" if DTYPE == "bf16" else f"_{DTYPE}"
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in all_specs():
        (out / f"{name}{suffix}.mlir").write_text(
            text.replace(f"@{name}(", f"@{name}{suffix}("))


if __name__ == "__main__":
    main()
