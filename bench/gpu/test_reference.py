#!/usr/bin/env python3
#===- bench/gpu/test_reference.py - Validate reference.py on the CPU ------===#
#
# Part of the Attune project.
#
# Checks bench/gpu/reference.py (the independent reference the GPU benchmark
# compares Attune's CUDA kernels against) against `attune-run`, which runs
# the compiled CPU path of a spec and checks it against the project's C++
# float64 oracle. For every examples/*.mlir (multi-op functions too:
# cascade, hierarchical, linformer, transformer_xl_relative; all but those
# in NOT_CHECKED) and bench/gpu/specs/*.mlir, at the awkward sizes of
# test/Integration/CPU/check_example.py plus a few more (S = 1, Sq != Sk
# both ways, fully masked rows):
#
#   1. print the spec in generic form with `attune-opt --mlir-print-op-generic`
#      (what an artifact's spec.mlir holds) and parse it with reference.py;
#   2. draw seeded inputs here (floats ~ N(0, 1) rounded to the spec's element
#      type, captures in their attn.range; valid varlen offsets, and valid
#      block tables and lengths for attn.append_pages, a size whose new rows
#      cannot fit in the table being a SKIP), write them as .npy;
#   3. `attune-run SPEC --check --input=N=FILE ... --output-dir DIR`: the CPU
#      path on the same inputs, itself checked against the C++ oracle;
#   4. evaluate reference.py (numpy, float32 and float64) on the same inputs
#      and compare with attune-run's result<N>.npy: norm-relative error
#      <= 1e-5 for f32 specs, <= 1e-2 for bf16/f16 ones, the same infinities,
#      no NaN, and rows fully masked in the reference exactly 0 (O) / -inf
#      (lse) in attune-run's output. A bf16/f16 result is also held within
#      one ulp of the float32 reference, unless an op computed with a
#      rounded bf16/f16 O first (attn.merge of bf16 partials), where one
#      rounding flip apart is not an ulp of the result.
#
# It also runs a few stress specs (below) whose regions use the integer and
# float ops the examples do not: unsigned division of wrapped index values,
# shifts, i32/i8 wrap-around, casts, bit counts, every cmpi/cmpf predicate,
# math functions, scf.if, float and index scalar captures; and two whose
# function bodies use the tensor and linalg ops and attn.merge forms the
# examples do not (stress_body, stress_merge_bf16), and one of bucket ids
# computed in the function (stress_hash). Unit tests check the integer
# helpers, the errors, and what attune-run cannot (indexing maps with
# floordiv / mod, splat constants, attn.append_pages's layouts and errors);
# attn.lsh_buckets and attn.nearest_centroid against Python loops, exactly
# (both layouts, shared and per-head parameters, exact ties, NaN, zero
# rows), and stress_hash against dense attention under the loops' bucket
# masks; attn.topk_blocks against Python loops, exactly (both layouts,
# GQA, blocks that do not divide S, Sq != Sk both ways under causal, ties,
# NaN and infinite scores, top_k above the candidates and 0), and its
# errors; attn.linear_attention against Python loops of its definition (per
# query row, no factored state) to 1e-12 of O's scale in float64 and one
# float32 rounding (both layouts, GQA / MQA, elu and FAVOR+, causal and
# not, Sq = Sk, Sq < Sk, Sq > Sk, Sk = 1 and 0: rows with no keys exactly
# 0, FAVOR+ exponents past exp's range), and its errors. Integer results
# (bucket ids, block maps) are compared exactly everywhere.
#
# Run: python3 bench/gpu/test_reference.py --build build [--quick] [-v]
# (--only topk,linear: the specs and unit test groups so named)
# Exits non-zero if any check fails. Needs numpy only.
#
#===----------------------------------------------------------------------===#

import argparse
import itertools
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import reference  # noqa: E402

ROOT = HERE.parent.parent

SIZES = [
    (1, 1, 1),
    (2, 17, 17),
    (1, 113, 113),
    (1, 1000, 1000),
    (2, 17, 113),
    (1, 113, 17),
    (3, 1, 1000),
    (2, 37, 53),
    (1, 64, 1),
]
QUICK_SIZES = [(1, 1, 1), (2, 17, 113), (1, 113, 17), (2, 37, 53)]
# Extra sizes where a spec's structure only shows at larger S.
EXTRA_SIZES = {"bench_window": [(1, 1500, 1500), (1, 1100, 1300)],
               # Every page of the cache in the tables (4 x 6 of 24), the
               # table full (30 new rows), a page boundary mid-append.
               "paged_decode_step": [(4, 5, 5), (2, 30, 30), (3, 12, 12)]}

# Examples not checked here, and why.
NOT_CHECKED = {}

# Stress specs: regions that use what the examples do not. Each must verify,
# and compile and pass --check in attune-run on at least one CPU pipeline;
# otherwise it is reported as SKIP (an attune-run limitation, not a failure
# of the reference).
STRESS = {}

STRESS["stress_unsigned_index"] = r"""
// Unsigned index arithmetic on wrapped values: i - j wraps to ~2^64 when
// j > i, so divui/remui/shrui/ceildivui/maxui/minui see huge operands.
func.func @stress_unsigned_index(%q: tensor<?x4x?x32xf32>, %k: tensor<?x4x?x32xf32>,
                                 %v: tensor<?x4x?x32xf32>) -> tensor<?x4x?x32xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>)
      -> tensor<?x4x?x32xf32>
    score(%s, %b, %h, %i, %j) {
      %c3 = arith.constant 3 : index
      %c5 = arith.constant 5 : index
      %c7 = arith.constant 7 : index
      %c61 = arith.constant 61 : index
      %c37 = arith.constant 37 : index
      %big = arith.constant -3 : index
      %d = arith.subi %i, %j : index
      %q1 = arith.divui %d, %c7 : index
      %r1 = arith.remui %d, %c5 : index
      %s1 = arith.shrui %d, %c61 : index
      %s2 = arith.shrsi %d, %c3 : index
      %m1 = arith.maxui %i, %d : index
      %n1 = arith.minui %j, %d : index
      %cd = arith.ceildivui %d, %c3 : index
      %c1 = arith.constant 1 : index
      %qb = arith.divui %d, %big : index
      %d1 = arith.ori %d, %c1 : index
      %rb = arith.remui %big, %d1 : index
      %t1 = arith.xori %q1, %r1 : index
      %t2 = arith.addi %t1, %s1 : index
      %t3 = arith.addi %t2, %s2 : index
      %t4 = arith.addi %t3, %m1 : index
      %t5 = arith.addi %t4, %n1 : index
      %t6 = arith.addi %t5, %cd : index
      %t7 = arith.addi %t6, %qb : index
      %t7b = arith.addi %t7, %rb : index
      %t8 = arith.muli %t7b, %c61 : index
      %t9 = arith.remui %t8, %c37 : index
      %ti = arith.index_cast %t9 : index to i64
      %tf = arith.sitofp %ti : i64 to f32
      %w = arith.constant 0.05 : f32
      %bias = arith.mulf %tf, %w : f32
      %r = arith.addf %s, %bias : f32
      attn.yield %r : f32
    }
    mask(%b, %h, %i, %j) {
      %c3 = arith.constant 3 : index
      %c0 = arith.constant 0 : index
      %d = arith.subi %j, %i : index
      %x = arith.remui %d, %c3 : index
      %keep = arith.cmpi ne, %x, %c0 : index
      %ok = arith.cmpi ugt, %d, %i : index
      %k2 = arith.ori %keep, %ok : i1
      attn.yield %k2 : i1
    }
  return %o : tensor<?x4x?x32xf32>
}
"""

STRESS["stress_signed_narrow"] = r"""
// Signed i32/i16/i8 arithmetic with wrap-around, every signed division form,
// shifts, casts between widths, bit counts, absi, min/max.
func.func @stress_signed_narrow(%q: tensor<?x4x?x32xf32>, %k: tensor<?x4x?x32xf32>,
                                %v: tensor<?x4x?x32xf32>) -> tensor<?x4x?x32xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>)
      -> tensor<?x4x?x32xf32>
    score(%s, %b, %h, %i, %j) {
      %ii = arith.index_cast %i : index to i32
      %jj = arith.index_cast %j : index to i32
      %hh = arith.index_cast %h : index to i32
      %d = arith.subi %ii, %jj : i32
      %c5 = arith.constant 5 : i32
      %cm3 = arith.constant -3 : i32
      %c1 = arith.constant 1 : i32
      %c27 = arith.constant 27 : i32
      %c1000003 = arith.constant 1000003 : i32
      %a = arith.divsi %d, %c5 : i32
      %bb = arith.remsi %d, %cm3 : i32
      %f = arith.floordivsi %d, %c5 : i32
      %g = arith.ceildivsi %d, %cm3 : i32
      %e = arith.shrsi %d, %c1 : i32
      %l = arith.shli %d, %c27 : i32
      %ab = math.absi %d : i32
      %mx = arith.maxsi %d, %cm3 : i32
      %mn = arith.minsi %d, %c5 : i32
      %sq = arith.muli %d, %c1000003 : i32
      %sq2 = arith.muli %sq, %sq : i32
      %cl = math.ctlz %d : i32
      %ct = math.cttz %d : i32
      %cp = math.ctpop %d : i32
      %z = arith.extui %d : i32 to i64
      %zs = arith.extsi %d : i32 to i64
      %t8 = arith.trunci %sq2 : i32 to i8
      %t8e = arith.extsi %t8 : i8 to i32
      %t8u = arith.extui %t8 : i8 to i32
      %t16 = arith.trunci %sq : i32 to i16
      %c7i16 = arith.constant 7 : i16
      %u16 = arith.divui %t16, %c7i16 : i16
      %r16 = arith.remui %t16, %c7i16 : i16
      %s16 = arith.shrui %t16, %c7i16 : i16
      %u16e = arith.extui %u16 : i16 to i32
      %r16e = arith.extsi %r16 : i16 to i32
      %s16e = arith.extsi %s16 : i16 to i32
      %x1 = arith.addi %a, %bb : i32
      %x2 = arith.addi %x1, %f : i32
      %x3 = arith.addi %x2, %g : i32
      %x4 = arith.xori %x3, %e : i32
      %x5 = arith.addi %x4, %l : i32
      %x6 = arith.addi %x5, %ab : i32
      %x7 = arith.addi %x6, %mx : i32
      %x8 = arith.addi %x7, %mn : i32
      %x9 = arith.addi %x8, %sq2 : i32
      %x10 = arith.addi %x9, %cl : i32
      %x11 = arith.ori %x10, %ct : i32
      %x12 = arith.addi %x11, %cp : i32
      %x13 = arith.addi %x12, %t8e : i32
      %x14 = arith.addi %x13, %t8u : i32
      %x15 = arith.addi %x14, %u16e : i32
      %x16 = arith.addi %x15, %r16e : i32
      %x17 = arith.addi %x16, %s16e : i32
      %x18 = arith.andi %x17, %x17 : i32
      %x19 = arith.subi %x18, %hh : i32
      %y = arith.extsi %x19 : i32 to i64
      %y1 = arith.addi %y, %z : i64
      %y2 = arith.addi %y1, %zs : i64
      %c64 = arith.constant 41 : i64
      %y3 = arith.remsi %y2, %c64 : i64
      %yf = arith.sitofp %y3 : i64 to f32
      %w = arith.constant 0.04 : f32
      %bias = arith.mulf %yf, %w : f32
      %r = arith.addf %s, %bias : f32
      attn.yield %r : f32
    }
  return %o : tensor<?x4x?x32xf32>
}
"""

STRESS["stress_predicates"] = r"""
// Every cmpi predicate on index and i32 (including negative i32 values),
// i1 logic, select on i1 and integers, extui/extsi of i1.
func.func @stress_predicates(%q: tensor<?x4x?x32xf32>, %k: tensor<?x4x?x32xf32>,
                             %v: tensor<?x4x?x32xf32>) -> tensor<?x4x?x32xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>)
      -> tensor<?x4x?x32xf32>
    score(%s, %b, %h, %i, %j) {
      %ii = arith.index_cast %i : index to i32
      %jj = arith.index_cast %j : index to i32
      %c10 = arith.constant 10 : i32
      %d = arith.subi %ii, %jj : i32
      %e = arith.subi %d, %c10 : i32
      %p0 = arith.cmpi eq, %d, %e : i32
      %p1 = arith.cmpi ne, %d, %c10 : i32
      %p2 = arith.cmpi slt, %d, %c10 : i32
      %p3 = arith.cmpi sle, %d, %c10 : i32
      %p4 = arith.cmpi sgt, %e, %d : i32
      %p5 = arith.cmpi sge, %d, %c10 : i32
      %p6 = arith.cmpi ult, %d, %c10 : i32
      %p7 = arith.cmpi ule, %e, %c10 : i32
      %p8 = arith.cmpi ugt, %d, %c10 : i32
      %p9 = arith.cmpi uge, %e, %d : i32
      %z0 = arith.extui %p0 : i1 to i32
      %z1 = arith.extui %p1 : i1 to i32
      %z2 = arith.extsi %p2 : i1 to i32
      %z3 = arith.extui %p3 : i1 to i32
      %z4 = arith.extsi %p4 : i1 to i32
      %z5 = arith.extui %p5 : i1 to i32
      %z6 = arith.extui %p6 : i1 to i32
      %z7 = arith.extsi %p7 : i1 to i32
      %z8 = arith.extui %p8 : i1 to i32
      %z9 = arith.extui %p9 : i1 to i32
      %c2 = arith.constant 2 : i32
      %c4 = arith.constant 4 : i32
      %c8 = arith.constant 8 : i32
      %w1 = arith.muli %z1, %c2 : i32
      %w3 = arith.muli %z3, %c4 : i32
      %w5 = arith.muli %z5, %c8 : i32
      %a1 = arith.addi %z0, %w1 : i32
      %a2 = arith.addi %a1, %z2 : i32
      %a3 = arith.addi %a2, %w3 : i32
      %a4 = arith.addi %a3, %z4 : i32
      %a5 = arith.addi %a4, %w5 : i32
      %a6 = arith.addi %a5, %z6 : i32
      %a7 = arith.addi %a6, %z7 : i32
      %a8 = arith.addi %a7, %z8 : i32
      %a9 = arith.addi %a8, %z9 : i32
      %x = arith.xori %p2, %p6 : i1
      %y = arith.andi %x, %p9 : i1
      %bt = arith.cmpi ult, %p1, %p2 : i1
      %bs = arith.cmpi slt, %p1, %p2 : i1
      %yy = arith.ori %y, %bt : i1
      %ys = arith.addi %yy, %bs : i1
      %sel = arith.select %ys, %a9, %d : i32
      %sf = arith.sitofp %sel : i32 to f32
      %uf = arith.uitofp %a9 : i32 to f32
      %t = arith.constant 0.03 : f32
      %u = arith.constant 0.001 : f32
      %b1 = arith.mulf %sf, %t : f32
      %b2 = arith.mulf %uf, %u : f32
      %r1 = arith.addf %s, %b1 : f32
      %r = arith.addf %r1, %b2 : f32
      attn.yield %r : f32
    }
    mask(%b, %h, %i, %j) {
      %c4 = arith.constant 4 : index
      %p = arith.cmpi uge, %i, %j : index
      %jw = arith.addi %j, %c4 : index
      %near = arith.cmpi ult, %jw, %i : index
      %n = arith.xori %p, %near : i1
      %t = arith.constant true
      %nn = arith.xori %n, %t : i1
      %keep = arith.select %nn, %near, %p : i1
      attn.yield %keep : i1
    }
  return %o : tensor<?x4x?x32xf32>
}
"""

STRESS["stress_float"] = r"""
// Float ops in a score region: every cmpf predicate, math functions,
// conversions, rounding to bf16/f16, a float scalar and an index scalar
// capture, tensor.dim on a capture.
func.func @stress_float(%q: tensor<?x4x?x32xf32>, %k: tensor<?x4x?x32xf32>,
                        %v: tensor<?x4x?x32xf32>, %temp: f32 {attn.range = [0.5, 1.5]},
                        %off: index {attn.range = [0, 9]},
                        %tab: tensor<?xf32> {attn.dims = ["Sk"]})
    -> (tensor<?x4x?x32xf32>, tensor<?x4x?xf32>) {
  %o, %lse = attn.attention ins(%q, %k, %v : tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>)
      captures(%temp, %off, %tab : f32, index, tensor<?xf32>) scale(0.3)
      -> tensor<?x4x?x32xf32>, tensor<?x4x?xf32>
    score(%s, %b, %h, %i, %j, %t, %o2, %tb) {
      %one = arith.constant 1.0 : f32
      %half = arith.constant 0.5 : f32
      %c3 = arith.constant 3.0 : f32
      %tv = tensor.extract %tb[%j] : tensor<?xf32>
      %st = arith.mulf %s, %t : f32
      %a = math.absf %st : f32
      %a1 = arith.addf %a, %one : f32
      %lg = math.log %a1 : f32
      %l2 = math.log2 %a1 : f32
      %lp = math.log1p %a : f32
      %sq = math.sqrt %a1 : f32
      %rs = math.rsqrt %a1 : f32
      %th = math.tanh %st : f32
      %ex = math.exp %th : f32
      %e2 = math.exp2 %th : f32
      %em = math.expm1 %th : f32
      %er = math.erf %st : f32
      %sn = math.sin %st : f32
      %cs = math.cos %st : f32
      %at = math.atan %st : f32
      %x3 = arith.mulf %st, %c3 : f32
      %fl = math.floor %x3 : f32
      %ce = math.ceil %x3 : f32
      %rn = math.round %x3 : f32
      %re = math.roundeven %x3 : f32
      %tr = math.trunc %x3 : f32
      %pw = math.powf %a1, %half : f32
      %cp = math.copysign %one, %st : f32
      %fm = math.fma %st, %half, %one : f32
      %mx = arith.maximumf %st, %tv : f32
      %mn = arith.minimumf %st, %tv : f32
      %mxn = arith.maxnumf %st, %half : f32
      %mnn = arith.minnumf %st, %half : f32
      %rm = arith.remf %x3, %c3 : f32
      %ng = arith.negf %tv : f32
      %dv = arith.divf %st, %a1 : f32
      %bf = arith.truncf %x3 : f32 to bf16
      %bfe = arith.extf %bf : bf16 to f32
      %hf = arith.truncf %x3 : f32 to f16
      %hfe = arith.extf %hf : f16 to f32
      %fi = arith.fptosi %x3 : f32 to i32
      %fif = arith.sitofp %fi : i32 to f32
      %ab3 = math.absf %x3 : f32
      %fu = arith.fptoui %ab3 : f32 to i32
      %fuf = arith.uitofp %fu : i32 to f32
      %oi = arith.index_cast %o2 : index to i64
      %of = arith.uitofp %oi : i64 to f32
      %c0 = arith.constant 0 : index
      %n = tensor.dim %tb, %c0 : tensor<?xf32>
      %ni = arith.index_cast %n : index to i64
      %nf = arith.sitofp %ni : i64 to f32
      %p1 = arith.cmpf oeq, %fl, %tr : f32
      %p2 = arith.cmpf ogt, %st, %tv : f32
      %p3 = arith.cmpf oge, %st, %half : f32
      %p4 = arith.cmpf olt, %st, %tv : f32
      %p5 = arith.cmpf ole, %rn, %re : f32
      %p6 = arith.cmpf one, %rn, %re : f32
      %p7 = arith.cmpf ord, %st, %tv : f32
      %p8 = arith.cmpf ueq, %ce, %fl : f32
      %p9 = arith.cmpf ugt, %st, %half : f32
      %p10 = arith.cmpf uge, %tv, %st : f32
      %p11 = arith.cmpf ult, %tv, %half : f32
      %p12 = arith.cmpf ule, %st, %half : f32
      %p13 = arith.cmpf une, %bfe, %hfe : f32
      %p14 = arith.cmpf uno, %st, %tv : f32
      %p15 = arith.cmpf true, %st, %tv : f32
      %p0 = arith.cmpf false, %st, %tv : f32
      %zf = arith.constant 0.0 : f32
      %nan = arith.divf %zf, %zf : f32
      %n1 = arith.cmpf ult, %nan, %st : f32
      %n2 = arith.cmpf olt, %nan, %st : f32
      %n3 = arith.cmpf une, %nan, %nan : f32
      %n4 = arith.cmpf oeq, %nan, %nan : f32
      %n12 = arith.xori %n1, %n2 : i1
      %n5 = arith.cmpf one, %nan, %st : f32
      %n34a = arith.xori %n3, %n4 : i1
      %n34 = arith.xori %n34a, %n5 : i1
      %nn = arith.andi %n12, %n34 : i1
      %fh = arith.addf %fl, %half : f32
      %rh = math.round %fh : f32
      %reh = math.roundeven %fh : f32
      %q1 = arith.xori %p1, %p2 : i1
      %q2 = arith.xori %q1, %p3 : i1
      %q3 = arith.xori %q2, %p4 : i1
      %q4 = arith.ori %q3, %p5 : i1
      %q5 = arith.xori %q4, %p6 : i1
      %q6 = arith.andi %q5, %p7 : i1
      %q7 = arith.xori %q6, %p8 : i1
      %q8 = arith.xori %q7, %p9 : i1
      %q9 = arith.xori %q8, %p10 : i1
      %q10 = arith.xori %q9, %p11 : i1
      %q11 = arith.xori %q10, %p12 : i1
      %q12 = arith.xori %q11, %p13 : i1
      %q13 = arith.ori %q12, %p14 : i1
      %q14 = arith.andi %q13, %p15 : i1
      %q15 = arith.ori %q14, %p0 : i1
      %q16 = arith.xori %q15, %nn : i1
      %sel = arith.select %q16, %ex, %e2 : f32
      %f1 = arith.addf %lg, %l2 : f32
      %f2 = arith.addf %f1, %lp : f32
      %f3 = arith.addf %f2, %sq : f32
      %f4 = arith.addf %f3, %rs : f32
      %f5 = arith.addf %f4, %sel : f32
      %f6 = arith.addf %f5, %em : f32
      %f7 = arith.addf %f6, %er : f32
      %f8 = arith.addf %f7, %sn : f32
      %f9 = arith.addf %f8, %cs : f32
      %f10 = arith.addf %f9, %at : f32
      %f11 = arith.addf %f10, %fl : f32
      %f12 = arith.addf %f11, %ce : f32
      %f13 = arith.addf %f12, %rn : f32
      %f14 = arith.addf %f13, %re : f32
      %f15 = arith.addf %f14, %tr : f32
      %f16 = arith.addf %f15, %pw : f32
      %f17 = arith.addf %f16, %cp : f32
      %f18 = arith.addf %f17, %fm : f32
      %f19 = arith.addf %f18, %mx : f32
      %f20 = arith.addf %f19, %mn : f32
      %f21 = arith.addf %f20, %mxn : f32
      %f22 = arith.addf %f21, %mnn : f32
      %f23 = arith.addf %f22, %rm : f32
      %f24 = arith.addf %f23, %ng : f32
      %f25 = arith.addf %f24, %dv : f32
      %f26 = arith.addf %f25, %bfe : f32
      %f27 = arith.addf %f26, %hfe : f32
      %f28 = arith.addf %f27, %fif : f32
      %f29 = arith.addf %f28, %fuf : f32
      %f30 = arith.addf %f29, %of : f32
      %f31a = arith.addf %f30, %nf : f32
      %f31b = arith.addf %f31a, %rh : f32
      %f31 = arith.addf %f31b, %reh : f32
      %w = arith.constant 0.05 : f32
      %bias = arith.mulf %f31, %w : f32
      %r = arith.addf %st, %bias : f32
      attn.yield %r : f32
    }
    mask(%b, %h, %i, %j, %t, %o2, %tb) {
      %x = arith.addi %j, %o2 : index
      %keep = arith.cmpi ule, %x, %i : index
      attn.yield %keep : i1
    }
  return %o, %lse : tensor<?x4x?x32xf32>, tensor<?x4x?xf32>
}
"""

STRESS["stress_scf_if"] = r"""
// scf.if inside a region: a tensor.extract only on the lanes where its
// index is in bounds (j - 1 wraps past the table at j = 0), a division by
// a divisor the verifier proves nonzero; GQA (4 query heads, 2 K/V heads)
// and bshd.
func.func @stress_scf_if(%q: tensor<?x?x4x32xf32>, %k: tensor<?x?x2x32xf32>,
                         %v: tensor<?x?x2x16xf32>,
                         %lens: tensor<?xi32> {attn.dims = ["B"], attn.range = [0, 12]},
                         %tab: tensor<?xf32> {attn.dims = ["Sk"]})
    -> tensor<?x?x4x16xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<?x?x4x32xf32>, tensor<?x?x2x32xf32>, tensor<?x?x2x16xf32>)
      captures(%lens, %tab : tensor<?xi32>, tensor<?xf32>) layout(bshd)
      -> tensor<?x?x4x16xf32>
    score(%s, %b, %h, %i, %j, %l, %t) {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %isz = arith.cmpi eq, %j, %c0 : index
      %r = scf.if %isz -> (f32) {
        scf.yield %s : f32
      } else {
        %jm = arith.subi %j, %c1 : index
        %prev = tensor.extract %t[%jm] : tensor<?xf32>
        %j1 = arith.maxui %j, %c1 : index
        %q1 = arith.divui %i, %j1 : index
        %qi = arith.index_cast %q1 : index to i64
        %qf = arith.sitofp %qi : i64 to f32
        %w = arith.constant 0.01 : f32
        %bq = arith.mulf %qf, %w : f32
        %bp = arith.mulf %prev, %w : f32
        %t1 = arith.addf %s, %bq : f32
        %t2 = arith.addf %t1, %bp : f32
        scf.yield %t2 : f32
      }
      attn.yield %r : f32
    }
    mask(%b, %h, %i, %j, %l, %t) {
      %n = tensor.extract %l[%b] : tensor<?xi32>
      %ni = arith.index_cast %n : i32 to index
      %keep = arith.cmpi slt, %j, %ni : index
      %c2 = arith.constant 2 : index
      %odd = arith.remui %h, %c2 : index
      %c1 = arith.constant 1 : index
      %isodd = arith.cmpi eq, %odd, %c1 : index
      %k2 = arith.ori %keep, %isodd : i1
      attn.yield %k2 : i1
    }
  return %o : tensor<?x?x4x16xf32>
}
"""


STRESS["stress_body"] = r"""
// The function-body ops around the attentions (what the examples use and
// more): linalg.fill, matmul, broadcast, batch_matmul, a generic with
// linalg.index and a reversed (compound) indexing map, a generic reading
// every other row (a strided map), transposes, linalg.copy, linalg.map,
// linalg.reduce, an elementwise arith op on tensors, tensor.collapse_shape /
// expand_shape with dynamic sizes, extract_slice with a dynamic offset and
// stride 2, insert_slice of a filled tensor, attention in both layouts,
// and attn.merge of three partials with rows masked in all of them.
#id = affine_map<(b, h, s, d) -> (b, h, s, d)>
#rev = affine_map<(b, h, s, d) -> (b, h, s, -d + 31)>
#even = affine_map<(b, h, s, d) -> (b, h, s * 2, d)>
func.func @stress_body(
    %q: tensor<?x4x?x32xf32> {attn.dims = ["B", 4, "Sq", 32]},
    %k: tensor<?x4x?x32xf32> {attn.dims = ["B", 4, "Sk", 32]},
    %v: tensor<?x4x?x32xf32> {attn.dims = ["B", 4, "Sk", 32]},
    %w: tensor<32x32xf32>,
    %off: index {attn.range = [0, 3]})
    -> (tensor<?x4x?x32xf32>, tensor<?x4x?xf32>, tensor<?x4x?xf32>,
        tensor<?x4x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  %batch = tensor.dim %q, %c0 : tensor<?x4x?x32xf32>
  %sq = tensor.dim %q, %c2 : tensor<?x4x?x32xf32>
  %sk = tensor.dim %k, %c2 : tensor<?x4x?x32xf32>
  // Q1 = Q (W W) / 4, as [B 4, Sq, 32] by a batch matmul over a broadcast.
  %ww0 = tensor.empty() : tensor<32x32xf32>
  %ww0f = linalg.fill ins(%zero : f32) outs(%ww0 : tensor<32x32xf32>) -> tensor<32x32xf32>
  %ww = linalg.matmul ins(%w, %w : tensor<32x32xf32>, tensor<32x32xf32>)
      outs(%ww0f : tensor<32x32xf32>) -> tensor<32x32xf32>
  %bh = arith.muli %batch, %c4 : index
  %wb0 = tensor.empty(%bh) : tensor<?x32x32xf32>
  %wb = linalg.broadcast ins(%ww : tensor<32x32xf32>) outs(%wb0 : tensor<?x32x32xf32>)
      dimensions = [0]
  %qc = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<?x4x?x32xf32> into tensor<?x?x32xf32>
  %qm0 = tensor.empty(%bh, %sq) : tensor<?x?x32xf32>
  %qm0f = linalg.fill ins(%zero : f32) outs(%qm0 : tensor<?x?x32xf32>) -> tensor<?x?x32xf32>
  %qm = linalg.batch_matmul ins(%qc, %wb : tensor<?x?x32xf32>, tensor<?x32x32xf32>)
      outs(%qm0f : tensor<?x?x32xf32>) -> tensor<?x?x32xf32>
  %q1 = tensor.expand_shape %qm [[0, 1], [2], [3]] output_shape [%batch, 4, %sq, 32]
      : tensor<?x?x32xf32> into tensor<?x4x?x32xf32>
  // Q2 = Q1 / 8 + ((d + h) mod 3) / 10 * Q[..., 31 - d].
  %q2e = tensor.empty(%batch, %sq) : tensor<?x4x?x32xf32>
  %q2 = linalg.generic {indexing_maps = [#id, #rev, #id],
      iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%q1, %q : tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>)
      outs(%q2e : tensor<?x4x?x32xf32>) {
    ^bb0(%a: f32, %r: f32, %o: f32):
      %d = linalg.index 3 : index
      %h = linalg.index 1 : index
      %hd = arith.addi %d, %h : index
      %c3 = arith.constant 3 : index
      %m = arith.remui %hd, %c3 : index
      %mi = arith.index_cast %m : index to i64
      %mf = arith.sitofp %mi : i64 to f32
      %s = arith.constant 0.125 : f32
      %t = arith.mulf %a, %s : f32
      %u = arith.mulf %r, %mf : f32
      %tenth = arith.constant 0.1 : f32
      %u2 = arith.mulf %u, %tenth : f32
      %y = arith.addf %t, %u2 : f32
      linalg.yield %y : f32
  } -> tensor<?x4x?x32xf32>
  // The even keys by a strided map, the odd ones by a strided slice.
  %ne = arith.ceildivui %sk, %c2 : index
  %no = arith.divui %sk, %c2 : index
  %ke0 = tensor.empty(%batch, %ne) : tensor<?x4x?x32xf32>
  %ke = linalg.generic {indexing_maps = [#even, #id],
      iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%k : tensor<?x4x?x32xf32>) outs(%ke0 : tensor<?x4x?x32xf32>) {
    ^bb0(%x: f32, %o: f32):
      linalg.yield %x : f32
  } -> tensor<?x4x?x32xf32>
  %ve = linalg.generic {indexing_maps = [#even, #id],
      iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%v : tensor<?x4x?x32xf32>) outs(%ke0 : tensor<?x4x?x32xf32>) {
    ^bb0(%x: f32, %o: f32):
      linalg.yield %x : f32
  } -> tensor<?x4x?x32xf32>
  %halfc = arith.constant 0.5 : f32
  %patch0 = tensor.empty() : tensor<1x4x1x32xf32>
  %patch = linalg.fill ins(%halfc : f32) outs(%patch0 : tensor<1x4x1x32xf32>)
      -> tensor<1x4x1x32xf32>
  %ve2 = tensor.insert_slice %patch into %ve[0, 0, 0, 0] [1, 4, 1, 32] [1, 1, 1, 1]
      : tensor<1x4x1x32xf32> into tensor<?x4x?x32xf32>
  %ko = tensor.extract_slice %k[0, 0, %c1, 0] [%batch, 4, %no, 32] [1, 1, 2, 1]
      : tensor<?x4x?x32xf32> to tensor<?x4x?x32xf32>
  %vo = tensor.extract_slice %v[0, 0, %c1, 0] [%batch, 4, %no, 32] [1, 1, %c2, 1]
      : tensor<?x4x?x32xf32> to tensor<?x4x?x32xf32>
  // Partial 1 (bhsd): the even keys 2j <= i + off, rows i >= off.
  %o1, %l1 = attn.attention ins(%q2, %ke, %ve2 : tensor<?x4x?x32xf32>,
      tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>) captures(%off : index)
      -> tensor<?x4x?x32xf32>, tensor<?x4x?xf32>
    mask(%b, %h, %i, %j, %f) {
      %c2m = arith.constant 2 : index
      %j2 = arith.muli %j, %c2m : index
      %x = arith.addi %i, %f : index
      %near = arith.cmpi ule, %j2, %x : index
      %late = arith.cmpi uge, %i, %f : index
      %keep = arith.andi %near, %late : i1
      attn.yield %keep : i1
    }
  // Partial 2 (bshd, transposed in and out): the odd keys 2j + 1 <= i + off.
  %qt0 = tensor.empty(%batch, %sq) : tensor<?x?x4x32xf32>
  %qt = linalg.transpose ins(%q2 : tensor<?x4x?x32xf32>) outs(%qt0 : tensor<?x?x4x32xf32>)
      permutation = [0, 2, 1, 3]
  %kt0 = tensor.empty(%batch, %no) : tensor<?x?x4x32xf32>
  %kt = linalg.transpose ins(%ko : tensor<?x4x?x32xf32>) outs(%kt0 : tensor<?x?x4x32xf32>)
      permutation = [0, 2, 1, 3]
  %vt = linalg.transpose ins(%vo : tensor<?x4x?x32xf32>) outs(%kt0 : tensor<?x?x4x32xf32>)
      permutation = [0, 2, 1, 3]
  %o2t, %l2 = attn.attention ins(%qt, %kt, %vt : tensor<?x?x4x32xf32>,
      tensor<?x?x4x32xf32>, tensor<?x?x4x32xf32>) captures(%off : index)
      layout(bshd) -> tensor<?x?x4x32xf32>, tensor<?x4x?xf32>
    mask(%b, %h, %i, %j, %f) {
      %c2m = arith.constant 2 : index
      %c1m = arith.constant 1 : index
      %j2 = arith.muli %j, %c2m : index
      %j21 = arith.addi %j2, %c1m : index
      %x = arith.addi %i, %f : index
      %near = arith.cmpi ule, %j21, %x : index
      %late = arith.cmpi uge, %i, %f : index
      %keep = arith.andi %near, %late : i1
      attn.yield %keep : i1
    }
  %o2e = tensor.empty(%batch, %sq) : tensor<?x4x?x32xf32>
  %o2 = linalg.transpose ins(%o2t : tensor<?x?x4x32xf32>) outs(%o2e : tensor<?x4x?x32xf32>)
      permutation = [0, 2, 1, 3]
  // Partial 3: every key, another scale, rows i >= off.
  %o3, %l3 = attn.attention ins(%q, %k, %v : tensor<?x4x?x32xf32>,
      tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>) captures(%off : index)
      scale(0.05) -> tensor<?x4x?x32xf32>, tensor<?x4x?xf32>
    mask(%b, %h, %i, %j, %f) {
      %keep = arith.cmpi uge, %i, %f : index
      attn.yield %keep : i1
    }
  %o, %lse = attn.merge (%o1, %l1), (%o2, %l2), (%o3, %l3)
      : tensor<?x4x?x32xf32>, tensor<?x4x?xf32>
  // |O|^2 per row: a copy, an elementwise mulf on tensors, a reduce.
  %oc = linalg.copy ins(%o : tensor<?x4x?x32xf32>) outs(%o2e : tensor<?x4x?x32xf32>)
      -> tensor<?x4x?x32xf32>
  %osq = arith.mulf %oc, %oc : tensor<?x4x?x32xf32>
  %n0 = tensor.empty(%batch, %sq) : tensor<?x4x?xf32>
  %n0f = linalg.fill ins(%zero : f32) outs(%n0 : tensor<?x4x?xf32>) -> tensor<?x4x?xf32>
  %norm = linalg.reduce ins(%osq : tensor<?x4x?x32xf32>) outs(%n0f : tensor<?x4x?xf32>)
      dimensions = [3]
    (%in: f32, %acc: f32) {
      %s = arith.addf %acc, %in : f32
      linalg.yield %s : f32
    }
  // lse / 2 by linalg.map.
  %half = linalg.map ins(%lse : tensor<?x4x?xf32>) outs(%n0 : tensor<?x4x?xf32>)
    (%x: f32, %init: f32) {
      %c = arith.constant 0.5 : f32
      %y = arith.mulf %x, %c : f32
      linalg.yield %y : f32
    }
  return %o, %lse, %norm, %half : tensor<?x4x?x32xf32>, tensor<?x4x?xf32>,
      tensor<?x4x?xf32>, tensor<?x4x?xf32>
}
"""

STRESS["stress_merge_bf16"] = r"""
// attn.merge of bf16 partials in bshd (O rounded once to bf16): causal
// attention split at a third of the keys by extract_slice with dynamic
// offsets and sizes, GQA (4 query heads, 2 K/V heads).
func.func @stress_merge_bf16(
    %q: tensor<?x?x4x64xbf16>,
    %k: tensor<?x?x2x64xbf16> {attn.dims = ["B", "Sk", 2, 64]},
    %v: tensor<?x?x2x64xbf16> {attn.dims = ["B", "Sk", 2, 64]})
    -> (tensor<?x?x4x64xbf16>, tensor<?x4x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %b = tensor.dim %k, %c0 : tensor<?x?x2x64xbf16>
  %sk = tensor.dim %k, %c1 : tensor<?x?x2x64xbf16>
  %n1 = arith.ceildivui %sk, %c3 : index
  %n2 = arith.subi %sk, %n1 : index
  %k1 = tensor.extract_slice %k[0, 0, 0, 0] [%b, %n1, 2, 64] [1, 1, 1, 1]
      : tensor<?x?x2x64xbf16> to tensor<?x?x2x64xbf16>
  %v1 = tensor.extract_slice %v[0, 0, 0, 0] [%b, %n1, 2, 64] [1, 1, 1, 1]
      : tensor<?x?x2x64xbf16> to tensor<?x?x2x64xbf16>
  %k2 = tensor.extract_slice %k[0, %n1, 0, 0] [%b, %n2, 2, 64] [1, 1, 1, 1]
      : tensor<?x?x2x64xbf16> to tensor<?x?x2x64xbf16>
  %v2 = tensor.extract_slice %v[0, %n1, 0, 0] [%b, %n2, 2, 64] [1, 1, 1, 1]
      : tensor<?x?x2x64xbf16> to tensor<?x?x2x64xbf16>
  %o1, %l1 = attn.attention ins(%q, %k1, %v1 : tensor<?x?x4x64xbf16>,
      tensor<?x?x2x64xbf16>, tensor<?x?x2x64xbf16>) layout(bshd)
      -> tensor<?x?x4x64xbf16>, tensor<?x4x?xf32>
    mask(%bb, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
  %o2, %l2 = attn.attention ins(%q, %k2, %v2 : tensor<?x?x4x64xbf16>,
      tensor<?x?x2x64xbf16>, tensor<?x?x2x64xbf16>) captures(%n1 : index)
      layout(bshd) -> tensor<?x?x4x64xbf16>, tensor<?x4x?xf32>
    mask(%bb, %h, %i, %j, %off) {
      %jj = arith.addi %j, %off : index
      %keep = arith.cmpi ule, %jj, %i : index
      attn.yield %keep : i1
    }
  %o, %lse = attn.merge (%o1, %l1), (%o2, %l2) {layout = #attn.layout<bshd>}
      : tensor<?x?x4x64xbf16>, tensor<?x4x?xf32>
  return %o, %lse : tensor<?x?x4x64xbf16>, tensor<?x4x?xf32>
}
"""


# For Tester.append_unit_tests: an append whose rows are bshd and whose
# cache is HND (bhsd), the combination examples/paged_decode_step.mlir does
# not use, with i64 tables.
APPEND_UNIT = r"""
func.func @append(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                  %v: tensor<?x2x?x8xf32>, %rows: tensor<2x3x2x8xf32>,
                  %cache: tensor<5x2x4x8xf32>, %table: tensor<2x3xi64>,
                  %lens: tensor<2xi64>)
    -> (tensor<?x2x?x8xf32>, tensor<5x2x4x8xf32>) {
  %o = attn.attention ins(%q, %k, %v : tensor<?x2x?x8xf32>,
      tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32>
  %c = attn.append_pages %rows into %cache[%table] lengths(%lens)
      {layout = #attn.layout<bshd>, cache_layout = #attn.layout<bhsd>}
      : tensor<2x3x2x8xf32>, tensor<5x2x4x8xf32>, tensor<2x3xi64>,
        tensor<2xi64>
  return %o, %c : tensor<?x2x?x8xf32>, tensor<5x2x4x8xf32>
}
"""


# For Tester.body_unit_tests.
BODY_UNIT = r"""
#in = affine_map<(i, j) -> (i floordiv 3, (j + i) mod 5, j ceildiv 2)>
#id = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>
func.func @unit(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                %v: tensor<?x2x?x8xf32>, %x: tensor<4x5x4xf32>,
                %y: tensor<10x7xf32>)
    -> (tensor<?x2x?x8xf32>, tensor<10x7xf32>, tensor<10xf32>) {
  %o = attn.attention ins(%q, %k, %v : tensor<?x2x?x8xf32>,
      tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32>
  %g = linalg.generic {indexing_maps = [#in, #id],
      iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x5x4xf32>) outs(%y : tensor<10x7xf32>) {
    ^bb0(%a: f32, %b: f32):
      %i = linalg.index 0 : index
      %ii = arith.index_cast %i : index to i64
      %if = arith.sitofp %ii : i64 to f32
      %s = arith.mulf %a, %if : f32
      %t = arith.addf %s, %b : f32
      linalg.yield %t : f32
  } -> tensor<10x7xf32>
  %c = arith.constant dense<2.5> : tensor<10x7xf32>
  %g2 = arith.addf %g, %c : tensor<10x7xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<10xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<10xf32>) -> tensor<10xf32>
  %r = linalg.generic {indexing_maps = [#id, #row],
      iterator_types = ["parallel", "reduction"]}
      ins(%g2 : tensor<10x7xf32>) outs(%z : tensor<10xf32>) {
    ^bb0(%a: f32, %acc: f32):
      %p = arith.mulf %a, %a : f32
      %s = arith.addf %acc, %p : f32
      linalg.yield %s : f32
  } -> tensor<10xf32>
  return %o, %g2, %r : tensor<?x2x?x8xf32>, tensor<10x7xf32>, tensor<10xf32>
}
"""


STRESS["stress_hash"] = r"""
// Bucket ids computed in the function (attn.lsh_buckets, Reformer; and
// attn.nearest_centroid, Routing Transformer) captured by attentions whose
// masks keep the keys of the query's bucket: round 0 of the LSH ids read
// with a constant round index, round 1 selected by a rank-reducing
// extract_slice, and the centroid ids; the ids are returned too (i32,
// compared exactly).
func.func @stress_hash(%q: tensor<?x2x?x16xf32>, %k: tensor<?x2x?x16xf32>,
                       %v: tensor<?x2x?x16xf32>,
                       %rot: tensor<2x2x16x4xf32>, %mu: tensor<1x3x16xf32>)
    -> (tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>,
        tensor<2x?x2x?xi32>, tensor<2x?x2x?xi32>, tensor<?x2x?xi32>) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %iq = attn.lsh_buckets %q, %rot
      : tensor<?x2x?x16xf32>, tensor<2x2x16x4xf32> -> tensor<2x?x2x?xi32>
  %ik = attn.lsh_buckets %k, %rot
      : tensor<?x2x?x16xf32>, tensor<2x2x16x4xf32> -> tensor<2x?x2x?xi32>
  %o = attn.attention ins(%q, %k, %v : tensor<?x2x?x16xf32>,
                          tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>)
      captures(%iq, %ik : tensor<2x?x2x?xi32>, tensor<2x?x2x?xi32>)
      -> tensor<?x2x?x16xf32>
    mask(%b, %h, %i, %j, %a, %c) {
      %r = arith.constant 0 : index
      %x = tensor.extract %a[%r, %b, %h, %i] : tensor<2x?x2x?xi32>
      %y = tensor.extract %c[%r, %b, %h, %j] : tensor<2x?x2x?xi32>
      %keep = arith.cmpi eq, %x, %y : i32
      attn.yield %keep : i1
    }
  %nb = tensor.dim %q, %c0 : tensor<?x2x?x16xf32>
  %sq = tensor.dim %q, %c2 : tensor<?x2x?x16xf32>
  %sk = tensor.dim %k, %c2 : tensor<?x2x?x16xf32>
  %iq1 = tensor.extract_slice %iq[1, 0, 0, 0] [1, %nb, 2, %sq] [1, 1, 1, 1]
      : tensor<2x?x2x?xi32> to tensor<?x2x?xi32>
  %ik1 = tensor.extract_slice %ik[1, 0, 0, 0] [1, %nb, 2, %sk] [1, 1, 1, 1]
      : tensor<2x?x2x?xi32> to tensor<?x2x?xi32>
  %o1 = attn.attention ins(%q, %k, %v : tensor<?x2x?x16xf32>,
                           tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>)
      captures(%iq1, %ik1 : tensor<?x2x?xi32>, tensor<?x2x?xi32>)
      -> tensor<?x2x?x16xf32>
    mask(%b, %h, %i, %j, %a, %c) {
      %x = tensor.extract %a[%b, %h, %i] : tensor<?x2x?xi32>
      %y = tensor.extract %c[%b, %h, %j] : tensor<?x2x?xi32>
      %keep = arith.cmpi eq, %x, %y : i32
      attn.yield %keep : i1
    }
  %cq = attn.nearest_centroid %q, %mu
      : tensor<?x2x?x16xf32>, tensor<1x3x16xf32> -> tensor<?x2x?xi32>
  %ck = attn.nearest_centroid %k, %mu
      : tensor<?x2x?x16xf32>, tensor<1x3x16xf32> -> tensor<?x2x?xi32>
  %o2 = attn.attention ins(%q, %k, %v : tensor<?x2x?x16xf32>,
                           tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>)
      captures(%cq, %ck : tensor<?x2x?xi32>, tensor<?x2x?xi32>)
      -> tensor<?x2x?x16xf32>
    mask(%b, %h, %i, %j, %a, %c) {
      %x = tensor.extract %a[%b, %h, %i] : tensor<?x2x?xi32>
      %y = tensor.extract %c[%b, %h, %j] : tensor<?x2x?xi32>
      %keep = arith.cmpi eq, %x, %y : i32
      attn.yield %keep : i1
    }
  return %o, %o1, %o2, %iq, %ik, %ck
      : tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>,
        tensor<2x?x2x?xi32>, tensor<2x?x2x?xi32>, tensor<?x2x?xi32>
}
"""

# One spec per configuration of the bucket-id unit tests (hash_unit_tests):
# x attended to itself (so that the spec has an attention giving B and S),
# and both ops on x.
SORT_PERMUTE_UNIT = r"""
func.func @sort_permute(%ids: tensor<?x2x?xi32>, %x: tensor<?x?x2x4xf32>)
    -> (tensor<?x2x?xi32>, tensor<?x2x?xi32>, tensor<?x?x2x4xf32>,
        tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>) {
  %o, %s = attn.sort_ids %ids {num_ids = 5} : tensor<?x2x?xi32>
  %p = attn.permute %x, %o {layout = #attn.layout<bshd>}
      : tensor<?x?x2x4xf32>, tensor<?x2x?xi32>
  %r = attn.permute %p, %o {inverse, layout = #attn.layout<bshd>}
      : tensor<?x?x2x4xf32>, tensor<?x2x?xi32>
  %a = attn.attention ins(%p, %p, %p : tensor<?x?x2x4xf32>,
                          tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>)
      layout(bshd) -> tensor<?x?x2x4xf32>
  return %o, %s, %p, %r, %a : tensor<?x2x?xi32>, tensor<?x2x?xi32>,
                              tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>,
                              tensor<?x?x2x4xf32>
}
"""

HASH_UNIT = r"""
func.func @hash_unit(%x: {xt}, %rot: {rt}, %mu: {mt}) -> ({xt}, {lt}, {nt}) {{
  %o = attn.attention ins(%x, %x, %x : {xt}, {xt}, {xt}) layout({layout})
      -> {xt}
  %ids = attn.lsh_buckets %x, %rot {attr} : {xt}, {rt} -> {lt}
  %cid = attn.nearest_centroid %x, %mu {attr} : {xt}, {mt} -> {nt}
  return %o, %ids, %cid : {xt}, {lt}, {nt}
}}
"""

# attn.lsh_buckets of an input whose H is dynamic (the verifier cannot
# check it against the rotations' heads; the reference must, at run time).
HASH_DYNAMIC_H = r"""
func.func @hash_dynamic_h(%q: tensor<?x2x?x8xf32>, %y: tensor<?x?x?x8xf32>,
                          %rot: tensor<2x2x8x4xf32>)
    -> (tensor<?x2x?x8xf32>, tensor<2x?x?x?xi32>) {
  %o = attn.attention ins(%q, %q, %q : tensor<?x2x?x8xf32>,
                          tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>)
      -> tensor<?x2x?x8xf32>
  %ids = attn.lsh_buckets %y, %rot
      : tensor<?x?x?x8xf32>, tensor<2x2x8x4xf32> -> tensor<2x?x?x?xi32>
  return %o, %ids : tensor<?x2x?x8xf32>, tensor<2x?x?x?xi32>
}
"""

# (layout, H, D, x element type, rotations [rounds, Hr, D, C] and its
# element type, centroids [Hc, K, D] and its element type).
HASH_CONFIGS = [
    ("bhsd", 2, 8, "f32", (2, 2, 8, 4), "f32", (1, 5, 8), "f32"),
    ("bshd", 3, 16, "bf16", (2, 1, 16, 4), "f32", (3, 6, 16), "f32"),
    ("bshd", 2, 16, "f16", (2, 2, 16, 4), "bf16", (2, 4, 16), "f16"),
    ("bhsd", 3, 8, "bf16", (2, 1, 8, 4), "f32", (1, 7, 8), "bf16"),
]

# attn.topk_blocks (docs/BlockSelection.md) written in generic form, so that
# the unit tests do not need attune-opt to know the op; q attended to k
# (GQA when H > Hk) so that the spec holds an attention.
TOPK_UNIT = r"""
"builtin.module"() ({{
  "func.func"() <{{function_type = ({qt}, {kt}) -> ({qt}, {rt}), sym_name = "topk_unit"}}> ({{
  ^bb0(%arg0: {qt}, %arg1: {kt}):
    %0 = "attn.topk_blocks"(%arg0, %arg1) <{{{props}}}> : ({qt}, {kt}) -> {rt}
    %1 = "attn.attention"(%arg0, %arg1, %arg1) <{{layout = #attn.layout<{layout}>}}> ({{
    }}, {{
    }}, {{
    }}) : ({qt}, {kt}, {kt}) -> {qt}
    "func.return"(%1, %0) : ({qt}, {rt}) -> ()
  }}) : () -> ()
}}) : () -> ()
"""

# The same in the op's custom form, printed by attune-opt (once it knows
# the op): what a CUDA artifact's spec.mlir holds (default-valued
# attributes omitted).
TOPK_CUSTOM = r"""
func.func @topk_custom(%q: tensor<?x4x?x8xbf16>, %k: tensor<?x2x?x8xbf16>)
    -> (tensor<?x4x?x8xbf16>, tensor<?x4x?x?xi8>) {
  %keep = attn.topk_blocks %q, %k {block_q = 16, block_k = 5, top_k = 3,
                                   local = 1, causal}
      : tensor<?x4x?x8xbf16>, tensor<?x2x?x8xbf16> -> tensor<?x4x?x?xi8>
  %o = attn.attention ins(%q, %k, %k : tensor<?x4x?x8xbf16>,
                          tensor<?x2x?x8xbf16>, tensor<?x2x?x8xbf16>)
      -> tensor<?x4x?x8xbf16>
  return %o, %keep : tensor<?x4x?x8xbf16>, tensor<?x4x?x?xi8>
}
"""

# (layout, H, Hk, D, element type, block_q, block_k, top_k, local, sink,
# causal): GQA and not, block sizes that do not divide S, top_k above the
# candidates, top_k = 0 (forced blocks only), local and sink past every
# block.
TOPK_CONFIGS = [
    ("bhsd", 4, 2, 8, "f32", 16, 5, 3, 1, 1, True),
    ("bshd", 4, 2, 16, "bf16", 5, 16, 2, 0, 0, True),
    ("bhsd", 2, 1, 8, "f16", 16, 16, 100, 2, 1, False),
    ("bshd", 2, 2, 8, "bf16", 7, 5, 0, 2, 2, True),
    ("bhsd", 3, 3, 4, "f32", 32, 3, 5, 3, 0, False),
    ("bhsd", 2, 1, 8, "bf16", 8, 8, 1, 1 << 40, 1 << 40, True),
]

# attn.linear_attention (docs/LinearAttention.md) in generic form, so that
# the unit tests do not need attune-opt to know the op; q attended to k (GQA
# when H > Hk) so that the spec holds an attention, and the linear O doubled
# by an elementwise addf (an op that computes with it: it reads O rounded to
# its element type, as an attention's).
LINEAR_UNIT = r"""
"builtin.module"() ({{
  "func.func"() <{{function_type = ({types}) -> ({qt}, {ot}, {ot}), sym_name = "linear_unit"}}> ({{
  ^bb0({bbargs}):
    %0 = "attn.linear_attention"({operands}){props} : ({types}) -> {ot}
    %1 = "attn.attention"(%arg0, %arg1, %arg1) <{{layout = #attn.layout<{layout}>}}> ({{
    }}, {{
    }}, {{
    }}) : ({qt}, {kt}, {kt}) -> {qt}
    %2 = "arith.addf"(%0, %0) : ({ot}, {ot}) -> {ot}
    "func.return"(%1, %0, %2) : ({qt}, {ot}, {ot}) -> ()
  }}) : () -> ()
}}) : () -> ()
"""

# The same in the op's custom form, printed by attune-opt (once it knows
# the op): what a CUDA artifact's spec.mlir holds.
LINEAR_CUSTOM = r"""
func.func @linear_custom(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x2x?x16xbf16>,
                         %v: tensor<?x2x?x8xbf16>, %w: tensor<16x32xf32>)
    -> (tensor<?x4x?x16xbf16>, tensor<?x4x?x8xbf16>) {
  %o = attn.linear_attention %q, %k, %v features(%w : tensor<16x32xf32>)
      {feature_map = #attn.feature_map<favor>, causal, scale = 0.25 : f64}
      : tensor<?x4x?x16xbf16>, tensor<?x2x?x16xbf16>, tensor<?x2x?x8xbf16>
     -> tensor<?x4x?x8xbf16>
  %a = attn.attention ins(%q, %k, %k : tensor<?x4x?x16xbf16>,
                          tensor<?x2x?x16xbf16>, tensor<?x2x?x16xbf16>)
      -> tensor<?x4x?x16xbf16>
  return %a, %o : tensor<?x4x?x16xbf16>, tensor<?x4x?x8xbf16>
}
"""

# (layout, H, Hk, D, Dv, element type, feature map, r and the features'
# element type (favor), causal, scale, chunk, whether the layout and feature
# map attributes are written): GQA, MQA and not, both layouts, f32 / bf16,
# elu and favor, r = 1, the default scale and an explicit one, attributes
# absent (their defaults) and present.
LINEAR_CONFIGS = [
    ("bhsd", 4, 2, 8, 6, "f32", "elu", None, None, True, None, None, False),
    ("bshd", 4, 2, 16, 8, "bf16", "favor", 32, "bf16", True, None, 16, True),
    ("bhsd", 2, 2, 8, 8, "f32", "favor", 16, "f32", False, 0.5, None, False),
    ("bshd", 3, 1, 4, 5, "bf16", "elu", None, None, False, None, 1, True),
    ("bhsd", 2, 1, 8, 4, "f32", "favor", 1, "f32", True, None, 4096, True),
    ("bshd", 4, 4, 8, 8, "bf16", "favor", 64, "f32", False, 0.125, None,
     True),
]


def _best(cands):
    """(id, tied) of the fold that attn.lsh_buckets / nearest_centroid
    define over (value, index) pairs: from (-inf, 0), take a pair whose
    value is larger, or as large with a lower index (NaN compares false);
    tied: whether several candidates reached the best value (> -inf)."""
    best, bid = -math.inf, 0
    for v, i in cands:
        if v > best or (v == best and i < bid):
            best, bid = v, i
    tied = best > -math.inf and sum(1 for v, _ in cands if v == best) > 1
    return bid, tied


def lsh_loops(x, rot, bshd):
    """attn.lsh_buckets by its definition, in Python floats (float64),
    the sums in order of d from 0.0: (ids [R, B, H, S], rows with a tie)."""
    x = np.asarray(x, np.float64)
    xl = (x.transpose(0, 2, 1, 3) if bshd else x).tolist()
    rl = np.asarray(rot, np.float64).tolist()
    B, H, S, D = len(xl), len(xl[0]), len(xl[0][0]), len(rl[0][0])
    R, Hr, C = len(rl), len(rl[0]), len(rl[0][0][0])
    out = np.zeros((R, B, H, S), np.int64)
    ties = 0
    for r, b, h, s in itertools.product(range(R), range(B), range(H),
                                        range(S)):
        row, rh = xl[b][h][s], rl[r][h if Hr == H else 0]
        ys = []
        for c in range(C):
            acc = 0.0
            for d in range(D):
                acc += row[d] * rh[d][c]
            ys.append(acc)
        out[r, b, h, s], tied = _best([(y, c) for c, y in enumerate(ys)] +
                                      [(-y, c + C) for c, y in enumerate(ys)])
        ties += tied
    return out, ties


def centroid_loops(x, mu, bshd):
    """attn.nearest_centroid by its definition, in Python floats: score
    sum_d x mu - (sum_d mu^2) * 0.5, sums in order of d from 0.0:
    (ids [B, H, S], rows with a tie)."""
    x = np.asarray(x, np.float64)
    xl = (x.transpose(0, 2, 1, 3) if bshd else x).tolist()
    ml = np.asarray(mu, np.float64).tolist()
    B, H, S = len(xl), len(xl[0]), len(xl[0][0])
    Hc, K, D = len(ml), len(ml[0]), len(ml[0][0])
    out = np.zeros((B, H, S), np.int64)
    ties = 0
    for b, h, s in itertools.product(range(B), range(H), range(S)):
        row, mh = xl[b][h][s], ml[h if Hc == H else 0]
        cands = []
        for c in range(K):
            dot, norm = 0.0, 0.0
            for d in range(D):
                dot += row[d] * mh[c][d]
                norm += mh[c][d] * mh[c][d]
            cands.append((dot - norm * 0.5, c))
        out[b, h, s], tied = _best(cands)
        ties += tied
    return out, ties


def topk_loops(q, k, bshd, bq, bk, top_k, local, sink, causal):
    """attn.topk_blocks by its definition (docs/BlockSelection.md), in
    Python floats: block sums in order of the row, the dot product in order
    of d, both from 0.0, divided once by nq nk; forced = eligible and (a
    sink or in the local run up to diag); the top_k candidates (eligible,
    not forced, score not NaN) by (score descending, kb ascending). Returns
    (keep [B, H, nQb, nKb], counts of the situations the cases reach)."""
    ql = np.asarray(q, np.float64)
    kl = np.asarray(k, np.float64)
    if bshd:
        ql, kl = ql.transpose(0, 2, 1, 3), kl.transpose(0, 2, 1, 3)
    ql, kl = ql.tolist(), kl.tolist()
    B, H, Sq, D = len(ql), len(ql[0]), len(ql[0][0]), len(ql[0][0][0])
    Hk, Sk = len(kl[0]), len(kl[0][0])
    g = H // Hk
    nQb, nKb = -(-Sq // bq), -(-Sk // bk)
    off = Sk - Sq
    out = np.zeros((B, H, nQb, nKb), np.int64)
    seen = dict.fromkeys(("a tie decided by kb", "a NaN block forced",
                          "a NaN block passed over", "an infinite score kept",
                          "a query block that sees nothing",
                          "top_k above the candidates",
                          "forced blocks only (top_k = 0)"), 0)

    def block_sums(rows, S, size):
        sums = []
        for lo in range(0, S, size):
            acc = [0.0] * D
            for i in range(lo, min(S, lo + size)):
                for d in range(D):
                    acc[d] += rows[i][d]
            sums.append((acc, min(S, lo + size) - lo))
        return sums
    for b, h in itertools.product(range(B), range(H)):
        ks = block_sums(kl[b][h // g], Sk, bk)
        for qb, (qs, nq) in enumerate(block_sums(ql[b][h], Sq, bq)):
            last = min(Sq, (qb + 1) * bq) - 1 + off
            cands, forced_nan = [], False
            for kb, (kv, nk) in enumerate(ks):
                dot = 0.0
                for d in range(D):
                    dot += qs[d] * kv[d]
                score = dot / float(nq * nk)
                eligible = not causal or kb * bk <= last
                forced = eligible and (kb < sink or (
                    last >= 0 and last // bk - local < kb <= last // bk))
                if forced:
                    out[b, h, qb, kb] = 1
                    forced_nan |= math.isnan(score)
                elif eligible and not math.isnan(score):
                    cands.append((-score, kb))
                elif eligible:
                    seen["a NaN block passed over"] += 1
            cands.sort()
            for s, kb in cands[:top_k]:
                out[b, h, qb, kb] = 1
                seen["an infinite score kept"] += math.isinf(s)
            seen["a tie decided by kb"] += 0 < top_k < len(cands) and \
                cands[top_k - 1][0] == cands[top_k][0]
            seen["a NaN block forced"] += forced_nan
            seen["a query block that sees nothing"] += causal and last < 0
            seen["top_k above the candidates"] += 0 < len(cands) < top_k
            seen["forced blocks only (top_k = 0)"] += top_k == 0 and \
                bool(out[b, h, qb].any())
    return out, seen


def linear_loops(q, k, v, w, bshd, scale, causal):
    """attn.linear_attention by its definition (docs/LinearAttention.md),
    in Python floats, one (b, h, i) at a time with no factored state:
    a_ij = phi(q_i) . phi(k_j) for the keys j of J(i) (every key, or with
    causal those j <= i + Sk - Sq), O = sum_j a_ij v_j / sum_j a_ij, 0 for
    a row with no keys. elu: phi(x) = x + 1 for x > 0, exp(x) otherwise.
    FAVOR+ (w given) in log space so that any exponent fits:
    log a_ij = log sum_f exp(e_f(q_i) + e_f(k_j)) - log r with the
    definition's exponents e_f(x) = x' . w[:, f] - |x'|^2 / 2, x' =
    sqrt(scale) x, and every a_ij of a row divided by the row's largest
    (the ratio's identity). Returns, in the op's layout, (O, mag = sum_j
    a_ij |v_j| / sum_j a_ij: the scale of O's rounding errors, the rows
    with no keys, the largest |exponent|, counts of the situations the
    cases reach)."""
    qa, ka, va = (np.asarray(a, np.float64) for a in (q, k, v))
    if bshd:
        qa, ka, va = (a.transpose(0, 2, 1, 3) for a in (qa, ka, va))
    B, H, Sq, D = qa.shape
    Hk, Sk, Dv = ka.shape[1], ka.shape[2], va.shape[3]
    ql, kl, vl = qa.tolist(), ka.tolist(), va.tolist()
    wl = None if w is None else np.asarray(w, np.float64).tolist()
    r = D if w is None else len(wl[0])
    g = H // Hk
    out = np.zeros((B, H, Sq, Dv))
    mag = np.zeros((B, H, Sq, Dv))
    empty = np.zeros((B, H, Sq, 1), bool)
    seen = dict.fromkeys(("a row with no keys", "a row with one key",
                          "a row with some keys", "a row with every key",
                          "an exponent beyond exp's float64 range"), 0)
    big = [0.0]

    def feats(row):
        """phi(row) (elu) or the exponents e_f(row) (favor)."""
        if wl is None:
            return [x + 1.0 if x > 0 else math.exp(x) for x in row]
        xs = [math.sqrt(scale) * x for x in row]
        norm = 0.0
        for x in xs:
            norm += x * x
        es = []
        for f in range(r):
            dot = 0.0
            for d in range(D):
                dot += xs[d] * wl[d][f]
            es.append(dot - norm / 2)
        big[0] = max(big[0], max(abs(e) for e in es))
        return es
    for b in range(B):
        fk = [[feats(kl[b][hk][j]) for j in range(Sk)] for hk in range(Hk)]
        for h, i in itertools.product(range(H), range(Sq)):
            hk = h // g
            n = Sk if not causal else max(0, min(Sk, i + Sk - Sq + 1))
            seen["a row with no keys" if n == 0 else "a row with one key"
                 if n == 1 else "a row with every key" if n == Sk else
                 "a row with some keys"] += 1
            if n == 0:
                empty[b, h, i, 0] = True
                continue
            fq = feats(ql[b][h][i])
            if wl is None:
                a = []
                for j in range(n):
                    dot = 0.0
                    for f in range(r):
                        dot += fq[f] * fk[hk][j][f]
                    a.append(dot)
            else:
                logs = []
                for j in range(n):
                    t = [fq[f] + fk[hk][j][f] for f in range(r)]
                    m = max(t)
                    logs.append(m + math.log(sum(math.exp(x - m) for x in t))
                                - math.log(r))
                top = max(logs)
                a = [math.exp(x - top) for x in logs]
            den = 0.0
            for j in range(n):
                den += a[j]
            for e in range(Dv):
                num, size = 0.0, 0.0
                for j in range(n):
                    num += a[j] * vl[b][hk][j][e]
                    size += a[j] * abs(vl[b][hk][j][e])
                out[b, h, i, e] = num / den
                mag[b, h, i, e] = size / den
    seen["an exponent beyond exp's float64 range"] += big[0] > 745
    if bshd:
        out, mag, empty = (a.transpose(0, 2, 1, 3) for a in (out, mag, empty))
    return out, mag, empty, big[0], seen


def dense_masked(q, k, v, keep):
    """Attention of [B, H, S, D] float64 arrays under mask keep [B, H, Sq,
    Sk] (scale 1/sqrt(D)): (O, fully masked rows [B, H, Sq, 1])."""
    s = np.einsum("bhid,bhjd->bhij", q, k) / math.sqrt(q.shape[-1])
    s = np.where(keep, s, -np.inf)
    dead = ~keep.any(-1, keepdims=True)
    m = np.where(dead, 0.0, s.max(-1, keepdims=True, initial=-np.inf))
    p = np.exp(s - m)
    den = np.where(dead, 1.0, p.sum(-1, keepdims=True))
    return np.where(dead, 0.0, (p / den) @ v), dead


def round_elem(x, elem):
    """A float array rounded to MLIR element type `elem`, as numpy carries
    it (bf16 as float32)."""
    x = np.asarray(x, np.float32)
    if elem == "bf16":
        return reference.round_to_bf16(x)
    if elem == "f16":
        return x.astype(np.float16)
    return x


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def np_dtype(ty):
    """numpy dtype that carries values of an MLIR element type in .npy files
    the way attune-run reads them (bf16 travels as f4)."""
    if ty.kind == "float":
        return {"f32": np.float32, "bf16": np.float32, "f16": np.float16,
                "f64": np.float64}[ty.name]
    if ty.kind == "index":
        return np.int64
    if ty.width == 1:
        return np.bool_
    return {8: np.int8, 16: np.int16, 32: np.int32, 64: np.int64}[ty.width]


def page_tables(spec, shapes, rng):
    """Valid block tables and lengths for the spec's attn.append_pages ops
    (docs/PagedKV.md), by argument index: B M distinct page ids drawn at
    random from [0, N) for a block table, lengths in [0, M P - S] (room for
    the S new rows), the first 0 and the last M P - S when B > 1
    (reference.Spec.append_limits, which raises DoesNotFit when S > M P)."""
    pages, room = spec.append_limits(shapes)
    out = {}
    for k, n in pages.items():
        B, M = shapes[k]
        out[k] = rng.permutation(n)[:B * M].reshape(B, M)
    for k, r in room.items():
        x = rng.integers(0, r + 1, size=tuple(shapes[k]))
        if x.size > 1:
            x[0], x[-1] = 0, r
        out[k] = x
    return out


def make_inputs(spec, sizes, rng, force_zero_len=False):
    """Seeded inputs for `spec` at sizes: floats ~ N(0, 1) (uniform in
    attn.range when given), rounded to the element type; integers uniform
    in attn.range (default [0, 8)); valid offsets of a varlen batch, and
    valid block tables and lengths of an attn.append_pages (page_tables)."""
    shapes = spec.argument_shapes(sizes)
    paged = page_tables(spec, shapes, rng)
    # Offsets of a varlen batch (attn.unpack / attn.pack operand 1): valid
    # ones, cutting the packed tensor's rows (docs/Varlen.md).
    index = {a.name: k for k, a in enumerate(spec.arguments)}
    packed_rows = {}
    for op in spec.body.ops:
        if op.name in ("attn.unpack", "attn.pack") and len(op.operands) > 1:
            cut = op.operands[0] if op.name == "attn.unpack" else None
            rows = shapes[index[cut]][0] if cut in index else sizes["Sq"]
            packed_rows.setdefault(op.operands[1], rows)
    inputs = []
    for a, shape in zip(spec.arguments, shapes):
        t = a.type
        elem = t.elem if t.kind == "tensor" else t
        shp = tuple(shape) if shape is not None else ()
        if a.name in packed_rows and len(shp) == 1:
            cuts = np.sort(rng.integers(0, packed_rows[a.name] + 1, size=shp))
            if force_zero_len:
                cuts[0], cuts[-1] = 0, packed_rows[a.name]
            inputs.append(cuts.astype(np_dtype(elem)))
            continue
        if len(inputs) in paged:
            inputs.append(paged[len(inputs)].astype(np_dtype(elem)))
            continue
        if elem.kind == "float":
            if a.range:
                x = rng.uniform(a.range[0], a.range[1], size=shp)
            else:
                x = rng.standard_normal(size=shp)
            x = x.astype(np.float32)
            if elem.name == "bf16":
                x = reference.round_to_bf16(x)
            elif elem.name == "f16":
                x = x.astype(np.float16)
            elif elem.name == "f64":
                x = x.astype(np.float64)
        else:
            lo, hi = (a.range if a.range else (0, 2 if elem.int_width == 1
                                               else 8))
            x = rng.integers(int(lo), int(hi), size=shp)
            if force_zero_len and x.ndim == 1 and x.size >= 2:
                x[0] = 0  # a batch entry with every key masked
            x = x.astype(np_dtype(elem))
        inputs.append(np.asarray(x))
    return inputs


def compare(got, ref, masked, tol):
    """(ok, message): norm-relative error over finite reference entries, the
    same infinities, no NaN, fully masked rows exact; integer results (bucket
    ids) exactly (compare_exact)."""
    if np.asarray(got).dtype.kind in "iub" or \
            np.asarray(ref).dtype.kind in "iub":
        return compare_exact(got, ref)
    with np.errstate(all="ignore"):
        return _compare(got, ref, masked, tol)


def compare_exact(got, ref):
    """(ok, message): every element equal (integers as int64, floats as
    float64 with NaN unequal); the count of those that differ and the
    first of them."""
    got, ref = np.asarray(got), np.asarray(ref)
    if got.shape != ref.shape:
        return False, f"shape {got.shape} != reference {ref.shape}"
    if got.dtype.kind == "f" or ref.dtype.kind == "f":
        got, ref = got.astype(np.float64), ref.astype(np.float64)
    else:
        got, ref = got.astype(np.int64), ref.astype(np.int64)
    bad = got != ref
    n = int(bad.sum())
    msg = f"exact, {n} of {bad.size} elements differ"
    if n:
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        msg += f" [first at {list(first)}: {got[first]} != reference " \
            f"{ref[first]}]"
    return n == 0, msg


def _compare(got, ref, masked, tol):
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if got.shape != ref.shape:
        return False, f"shape {got.shape} != reference {ref.shape}"
    problems = []
    nan_got = int(np.isnan(got).sum())
    nan_ref = int(np.isnan(ref).sum())
    if nan_got:
        problems.append(f"{nan_got} NaN")
    if nan_ref:
        problems.append(f"{nan_ref} NaN in the reference")
    inf_mismatch = int(((np.isinf(got) | np.isinf(ref)) & (got != ref)).sum())
    if inf_mismatch:
        problems.append(f"{inf_mismatch} infinities differ")
    fin = np.isfinite(ref) & np.isfinite(got)
    diff = np.where(fin, got - ref, 0.0)
    den = np.linalg.norm(np.where(fin, ref, 0.0))
    num = np.linalg.norm(diff)
    err = num / den if den > 0 else num
    if masked is not None:
        m = np.broadcast_to(np.asarray(masked), ref.shape)
        if m.any():
            want = ref[m]
            bad = int((got[m] != want).sum())
            if bad:
                problems.append(f"{bad} elements of fully masked rows are "
                                "not exactly 0 / -inf")
    if err > tol:
        problems.append(f"rel_err {err:.3e} > {tol:.0e}")
    n_masked = int(np.asarray(masked).sum()) if masked is not None else 0
    msg = f"rel_err {err:.3e}" + (f", {n_masked} masked rows" if n_masked
                                  else "")
    if problems:
        msg += " [" + "; ".join(problems) + "]"
    return not problems, msg


def ulp_check(got, ref, elem):
    """(ok, message): every element of a bf16/f16 output is within one unit
    in the last place of the f32 reference (rounding alone gives 0.5), plus
    1e-5 of the output's RMS for elements near zero (f32 accumulation
    rounding, which the ulp of a tiny value does not cover)."""
    mant = {"bf16": 8, "f16": 11}[elem]
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    fin = np.isfinite(ref) & np.isfinite(got)
    mag = np.where(fin, np.maximum(np.abs(got), np.abs(ref)), 0.0)
    _, e = np.frexp(mag)
    ulp = np.ldexp(1.0, e - mant)
    if elem == "f16":
        ulp = np.maximum(ulp, 2.0 ** -24)
    ulp = np.where(mag == 0, 2.0 ** -133, ulp)
    rms = float(np.sqrt(np.mean(np.where(fin, ref, 0.0) ** 2))) \
        if ref.size else 0.0
    ulps = np.where(fin, np.abs(got - ref) / (ulp + 1e-5 * rms), 0.0)
    worst = float(ulps.max()) if ulps.size else 0.0
    return worst <= 1.0, f"max {worst:.2f} {elem} ulp"


class Tester:
    def __init__(self, args):
        self.args = args
        self.build = Path(args.build)
        self.opt = str(self.build / "bin" / "attune-opt")
        self.runner = str(self.build / "bin" / "attune-run")
        self.failures = 0
        self.passes = 0
        self.skips = 0
        self.only = [s for s in (args.only or "").split(",") if s]
        self.tmp = Path(tempfile.mkdtemp(prefix="attune-ref-"))
        self.torch = None
        if not args.no_torch:
            try:  # optional: also check reference.py's torch backend
                import torch
                self.torch = torch
            except ImportError:
                pass

    def report(self, ok, line, detail=None):
        if ok is None:
            self.skips += 1
            tag = "SKIP"
        elif ok:
            self.passes += 1
            tag = "PASS"
        else:
            self.failures += 1
            tag = "FAIL"
        print(f"{tag} {line}", flush=True)
        if detail and (not ok or self.args.verbose):
            print("   " + detail.strip().replace("\n", "\n   "), flush=True)

    def generic(self, path):
        proc = run([self.opt, "--mlir-print-op-generic", str(path)])
        if proc.returncode:
            raise RuntimeError(f"attune-opt failed on {path}:\n{proc.stderr}")
        return proc.stdout

    def custom_generic(self, label, filename, text, op, skip_missing=False):
        """`text` (an op's custom form) in generic form through attune-opt,
        or None after reporting: a SKIP when attune-opt does not know `op`
        (or, with `skip_missing`, is not built), else a FAIL."""
        p = self.tmp / filename
        p.write_text(text)
        try:
            return self.generic(p)
        except (OSError, RuntimeError) as e:
            if skip_missing and isinstance(e, FileNotFoundError):
                self.report(None, f"{label}: skipped: no {self.opt}")
            elif f"'{op}' is unknown" in str(e):
                self.report(None, f"{label}: skipped: this attune-opt does "
                            "not know the op")
            else:
                self.report(False, f"{label}: {type(e).__name__}: {e}")
            return None

    def check_spec(self, name, path, sizes_list, stress=False):
        try:
            text = self.generic(path)
            spec = reference.parse_spec(text)
        except OSError as e:
            self.report(False, f"{name}: attune-opt: {e}")
            return
        except Exception as e:  # noqa: BLE001
            self.report(False, f"{name}: parse: {type(e).__name__}: {e}")
            return
        q_elem = spec.arguments[0].type.elem
        tol = 1e-5 if q_elem.name == "f32" else 1e-2
        pipelines = ["fused", "reference"] if stress else ["fused"]
        for n, (B, Sq, Sk) in enumerate(sizes_list):
            label = f"{name} B={B} Sq={Sq} Sk={Sk}"
            sizes = {"B": B, "Sq": Sq, "Sk": Sk}
            rng = np.random.default_rng(1000 * n + len(name))
            try:
                inputs = make_inputs(spec, sizes, rng,
                                     force_zero_len=(n % 2 == 1))
            except reference.DoesNotFit as e:
                self.report(None, f"{label}: skipped: {e}")
                continue
            except Exception as e:  # noqa: BLE001
                self.report(False, f"{label}: inputs: {e}")
                continue
            d = self.tmp / f"{name}-{n}"
            d.mkdir(parents=True, exist_ok=True)
            flags = []
            for k, x in enumerate(inputs):
                f = d / f"arg{k}.npy"
                np.save(f, x)
                flags.append(f"--input={k}={f}")
            outs, last = None, None
            for pipeline in pipelines:
                try:
                    proc = run([self.runner, str(path), "--check", "--sizes",
                                f"B={B},Sq={Sq},Sk={Sk}", "--output-dir",
                                str(d), f"--pipeline={pipeline}"] + flags)
                except OSError as e:
                    proc = subprocess.CompletedProcess([], 1, "", str(e))
                last = proc
                if proc.returncode == 0:
                    outs = [np.load(d / f"result{k}.npy")
                            for k in range(len(spec.result_types))]
                    break
            if outs is None:
                msg = (last.stdout + last.stderr).strip()
                if stress:
                    self.report(None, f"{label}: attune-run cannot run it "
                                "(not a reference failure)", msg[-800:])
                else:
                    self.report(False, f"{label}: attune-run failed", msg)
                continue
            t0 = time.time()
            try:
                ev32 = spec.evaluate(inputs, xp=np, dtype="float32")
                ev64 = spec.evaluate(inputs, xp=np, dtype="float64") \
                    if (n == 0 or Sq * Sk <= 120000) else None
            except Exception as e:  # noqa: BLE001
                self.report(False, f"{label}: reference: "
                            f"{type(e).__name__}: {e}")
                continue
            dt = time.time() - t0
            ok_all, msgs = True, []
            # A bf16/f16 O rounded before an op computes with it (attn.merge
            # of bf16 partials): two evaluations (float32 and float64, numpy
            # and torch) can differ by a rounding flip there, and the result
            # is held to the spec's tolerance, not to an ulp.
            ref_tol = tol if spec.rounds_intermediates else 1e-5
            if self.torch is not None:
                # The torch backend (what the GPU run uses) on the CPU.
                try:
                    tt = self.torch
                    ev_t = spec.evaluate([tt.from_numpy(np.array(x))
                                          for x in inputs], xp=tt,
                                         dtype="float32")
                    for k in range(len(outs)):
                        ok, msg = compare(ev_t.outputs[k].numpy(),
                                          ev32.outputs[k],
                                          ev32.fully_masked[k], ref_tol)
                        same = ev32.fully_masked[k] is None or np.array_equal(
                            ev_t.fully_masked[k].numpy(),
                            ev32.fully_masked[k])
                        msgs.append(f"result{k} torch-ref vs numpy-ref: {msg}"
                                    + ("" if same else " [masked rows differ]"))
                        ok_all &= ok and same
                except Exception as e:  # noqa: BLE001
                    ok_all = False
                    msgs.append(f"torch reference: {type(e).__name__}: {e}")
            for k, got in enumerate(outs):
                rt = spec.result_types[k]
                ok, msg = compare(got, ev32.outputs[k], ev32.fully_masked[k],
                                  tol)
                msgs.append(f"result{k} f32-ref: {msg}")
                ok_all &= ok
                if rt.elem.name in ("bf16", "f16") and \
                        not spec.rounds_intermediates:
                    ok, msg = ulp_check(got, ev32.outputs[k], rt.elem.name)
                    msgs[0] += f", {msg}"
                    msgs.append(f"result{k} vs f32-ref: {msg}")
                    ok_all &= ok
                if ev64 is not None:
                    ok, msg = compare(got, ev64.outputs[k],
                                      ev64.fully_masked[k], tol)
                    msgs.append(f"result{k} f64-ref: {msg}")
                    ok_all &= ok
                    ok, msg = compare(ev32.outputs[k], ev64.outputs[k],
                                      ev64.fully_masked[k], ref_tol)
                    msgs.append(f"result{k} f32-ref vs f64-ref: {msg}")
                    ok_all &= ok
                del rt
            self.report(ok_all, f"{label}: " + msgs[0] +
                        f" ({dt:.2f} s)", "\n".join(msgs))

    def stress_specs(self):
        out = []
        for name, text in STRESS.items():
            p = self.tmp / f"{name}.mlir"
            p.write_text(text)
            out.append((name, p))
        return out

    # The unit test groups by name: with --only, those whose name holds one
    # of its substrings run (as do the specs whose name holds one), so that
    # `--only topk` runs attn.topk_blocks's and `--only linear`
    # attn.linear_attention's; `--only unit` all of them and no spec.
    UNIT_GROUPS = (
        ("unit integers", "integer_unit_tests"),
        ("unit errors", "error_tests"),
        ("unit linalg body", "body_unit_tests"),
        ("unit append_pages", "append_unit_tests"),
        ("unit hash lsh_buckets nearest_centroid sort_ids permute",
         "hash_unit_tests"),
        ("unit topk_blocks", "topk_unit_tests"),
        ("unit linear_attention", "linear_unit_tests"),
    )

    def unit_tests(self):
        for name, method in self.UNIT_GROUPS:
            if not self.only or any(o in name for o in self.only):
                getattr(self, method)()

    def integer_unit_tests(self):
        """Direct checks of the integer semantics against Python integers,
        on values the attention tests cannot reach (near 2^63, 2^64)."""
        vals = [0, 1, 2, 3, 7, 63, 64, 1000, 2**31 - 1, 2**31, 2**32 + 5,
                2**62, 2**63 - 1, 2**63, 2**63 + 1, 2**64 - 1, 2**64 - 7,
                2**64 - 2**32]

        def s64(u):
            return u - 2**64 if u >= 2**63 else u
        interp = reference._Interp(reference._Backend(np, "float32"))
        x = np.array([s64(a) for a in vals for _ in vals], dtype=np.int64)
        y = np.array([s64(b) for _ in vals for b in vals], dtype=np.int64)
        ux = [a for a in vals for _ in vals]
        uy = [b for _ in vals for b in vals]
        bad = 0
        nz = y != 0
        with np.errstate(all="ignore"):
            q = interp.udiv64(x[nz], y[nz])
        want = [s64(a // b) for a, b in zip(ux, uy) if b]
        bad += int((q != np.array(want, dtype=np.int64)).sum())
        for s in range(64):
            got = interp.lshr(x, s)
            bad += int((got != np.array([s64(a >> s) for a in ux],
                                        dtype=np.int64)).sum())
        bad += int(((interp.ukey(x, 64) < interp.ukey(y, 64)) !=
                    np.array([a < b for a, b in zip(ux, uy)])).sum())
        # ctlz / cttz / ctpop at 64 and 32 bits.
        for w in (64, 32, 8):
            vs = [a % (1 << w) for a in vals]
            arr = np.array([a - (1 << w) if a >= 1 << (w - 1) else a
                            for a in vs], dtype=np.int64)
            t = reference.Type("int", f"i{w}", width=w)
            for name, f in (("math.ctlz", lambda a: w - a.bit_length()),
                            ("math.cttz", lambda a: (a & -a).bit_length() - 1
                             if a else w),
                            ("math.ctpop", lambda a: bin(a).count("1"))):
                op = reference.Op(name, 0)
                op.result_types = [t]
                with np.errstate(all="ignore"):
                    r = interp._bitcount(op, [reference._Val(arr, t)], None,
                                         {})[0].x
                bad += int((r != np.array([f(a) for a in vs])).sum())
        self.report(bad == 0, f"unit: 64-bit unsigned division, logical "
                    f"shifts, unsigned compare, bit counts ({bad} wrong)")

    def body_unit_tests(self):
        """What attune-run cannot check (its oracle takes sums of loops
        times constants only, and no tensor constants): a linalg.generic
        reading through floordiv / mod / ceildiv maps with linalg.index, a
        splat constant, an elementwise addf on tensors, a reduction, against
        Python loops, bit for bit, also cut into chunks of 3 points."""
        p = self.tmp / "body_unit.mlir"
        p.write_text(BODY_UNIT)
        try:
            spec = reference.parse_spec(self.generic(p))
            rng = np.random.default_rng(7)
            x = rng.standard_normal((4, 5, 4)).astype(np.float32)
            y = rng.standard_normal((10, 7)).astype(np.float32)
            q = rng.standard_normal((1, 2, 3, 8)).astype(np.float32)
            want = np.empty((10, 7), np.float32)
            for i in range(10):
                for j in range(7):
                    want[i, j] = np.float32(x[i // 3, (j + i) % 5,
                                              -(-j // 2)] * np.float32(i)) \
                        + y[i, j] + np.float32(2.5)
            sums = np.zeros(10, np.float32)
            for i in range(10):
                for j in range(7):
                    sums[i] = sums[i] + want[i, j] * want[i, j]
            bad = []
            for max_elems in (1 << 24, 3):
                ev = spec.evaluate([q, q, q, x, y], xp=np,
                                   max_elems=max_elems)
                if not np.array_equal(ev.outputs[1], want):
                    bad.append(f"generic (max_elems {max_elems})")
                if not np.array_equal(ev.outputs[2], sums):
                    bad.append(f"reduction (max_elems {max_elems})")
                if ev.fully_masked[1] is not None or \
                        ev.fully_masked[2] is not None:
                    bad.append("a masked-row map for a linalg result")
            self.report(not bad, "unit: linalg.generic with floordiv/mod/"
                        "ceildiv maps, linalg.index, a splat, elementwise "
                        "tensor addf, chunked reduction"
                        + (f" ({', '.join(bad)} wrong)" if bad else ""))
        except Exception as e:  # noqa: BLE001
            self.report(False, f"unit: body ops: {type(e).__name__}: {e}")

    def append_unit_tests(self):
        """attn.append_pages with bshd rows into an HND cache against Python
        loops, bit for bit (numpy, and torch when it imports): pages written
        across a page boundary, table entries past the rows written that
        are not page ids (never read); and its three errors."""
        p = self.tmp / "append_unit.mlir"
        p.write_text(APPEND_UNIT)
        try:
            spec = reference.parse_spec(self.generic(p))
            rng = np.random.default_rng(11)
            q = rng.standard_normal((1, 2, 3, 8)).astype(np.float32)
            rows = rng.standard_normal((2, 3, 2, 8)).astype(np.float32)
            cache = rng.standard_normal((5, 2, 4, 8)).astype(np.float32)
            # Sequence 0 writes rows 2-4 (pages 3, 0), sequence 1 rows 9-11
            # (page 4); -1 and 7 are never written to.
            table = np.array([[3, 0, -1], [-1, 7, 4]], np.int64)
            lens = np.array([2, 9], np.int64)
            want = cache.copy()
            for b in range(2):
                for r in range(3):
                    j = lens[b] + r
                    want[table[b, j // 4], :, j % 4, :] = rows[b, r]
            bad = []
            backends = [("numpy", np, lambda x: x)]
            if self.torch is not None:
                backends.append(("torch", self.torch,
                                 lambda x: self.torch.from_numpy(x.copy())))
            for label, xp, conv in backends:
                ev = spec.evaluate([conv(x) for x in (q, q, q, rows, cache,
                                                       table, lens)], xp=xp)
                got = ev.outputs[1]
                got = got.numpy() if label == "torch" else got
                if not np.array_equal(got, want):
                    bad.append(f"{label}: the cache differs")
            errors = {
                "a length past the table": (table, np.array([2, 10]),
                                            "exceeds the table's 12 rows"),
                "a negative length": (table, np.array([-1, 9]),
                                      "seq_lens[0] = -1 is negative"),
                "a page id outside the cache": (
                    np.array([[3, 5, -1], [-1, 7, 4]]), lens,
                    "block_table[0, 1] = 5 is outside the cache's 5 pages"),
                "two rows written to one place": (
                    np.array([[3, 0, -1], [-1, 7, 3]]), lens,
                    "row 1 of sequence 1 and row 0 of sequence 0 are both "
                    "written to row 2 of page 3"),
            }
            for what, (t, n, needle) in errors.items():
                for label, xp, conv in backends:
                    try:
                        spec.evaluate([conv(np.asarray(x)) for x in (
                            q, q, q, rows, cache, t.astype(np.int64),
                            n.astype(np.int64))], xp=xp)
                        bad.append(f"{label}: {what} is not reported")
                    except reference.ReferenceError as e:
                        if needle not in str(e):
                            bad.append(f"{label}: {what}: {e}")
            self.report(not bad, "unit: attn.append_pages (bshd rows, HND "
                        "cache) against loops, and its errors"
                        + (f" ({'; '.join(bad)})" if bad else ""))
        except Exception as e:  # noqa: BLE001
            self.report(False, f"unit: attn.append_pages: "
                        f"{type(e).__name__}: {e}")

    def hash_unit_tests(self):
        """attn.lsh_buckets and attn.nearest_centroid (HASH_CONFIGS: both
        layouts, H = 2 and 3, D = 8 and 16, f32 / bf16 / f16 inputs and
        parameters, per-head and shared rotations and centroids) at B = 2,
        S = 1, 17, 113, against Python loops (lsh_loops, centroid_loops),
        exactly, on numpy float32 and float64, in chunks of 7 scores, and on
        torch when it imports: with equal rotation columns and duplicated
        centroids (exact ties: the lower index wins), zero rows (LSH: every
        candidate 0 or -0, bucket 0), a NaN (every score NaN: id 0), an
        inf, and rows equal to a centroid (id 1, not its copy)."""
        backends = [("numpy f32", np, "float32", 1 << 24),
                    ("numpy f64", np, "float64", 1 << 24),
                    ("numpy f32 chunked", np, "float32", 7)]
        if self.torch is not None:
            backends += [("torch f32", self.torch, "float32", 1 << 24),
                         ("torch f32 chunked", self.torch, "float32", 7)]
        for ci, (layout, H, D, xe, rshape, rte, mshape, mte) in \
                enumerate(HASH_CONFIGS):
            bshd = layout == "bshd"
            R, Hc = rshape[0], mshape[0]
            xt = f"tensor<?x?x{H}x{D}x{xe}>" if bshd else \
                f"tensor<?x{H}x?x{D}x{xe}>"
            name = (f"{layout} H={H} D={D} x {xe}, rotations "
                    f"{list(rshape)} {rte}, centroids {list(mshape)} {mte}")
            text = HASH_UNIT.format(
                xt=xt, layout=layout,
                rt="tensor<" + "x".join(map(str, rshape)) + f"x{rte}>",
                mt="tensor<" + "x".join(map(str, mshape)) + f"x{mte}>",
                lt=f"tensor<{R}x?x{H}x?xi32>", nt=f"tensor<?x{H}x?xi32>",
                attr="{layout = #attn.layout<bshd>}" if bshd else "")
            p = self.tmp / f"hash_unit{ci}.mlir"
            p.write_text(text)
            try:
                spec = reference.parse_spec(self.generic(p))
            except Exception as e:  # noqa: BLE001
                self.report(False, f"unit: hash ops ({name}): "
                            f"{type(e).__name__}: {e}")
                continue
            for S in (1, 17, 113):
                label = f"unit: attn.lsh_buckets / nearest_centroid {name} " \
                    f"B=2 S={S}"
                try:
                    bad, ties = self._hash_case(spec, ci, bshd, H, D, xe,
                                                rshape, rte, mshape, mte, Hc,
                                                S, backends)
                except Exception as e:  # noqa: BLE001
                    self.report(False, f"{label}: {type(e).__name__}: {e}")
                    continue
                self.report(not bad, f"{label} against loops ({ties[0]} "
                            f"LSH and {ties[1]} centroid rows tied)"
                            + (f" ({'; '.join(bad[:4])})" if bad else ""))
        self.hash_error_tests()
        self.hash_e2e_tests()
        self.sort_permute_unit_tests()

    def sort_permute_unit_tests(self):
        """attn.sort_ids (stable order and sorted ids) and attn.permute
        (a bshd gather and its inverse) at B = 2, S = 1, 17, 113 against
        Python loops, exactly, on numpy and torch; an id outside [0,
        num_ids) and an inverse by a non-permutation raise ReferenceError."""
        p = self.tmp / "sort_permute.mlir"
        p.write_text(SORT_PERMUTE_UNIT)
        try:
            spec = reference.parse_spec(self.generic(p))
        except Exception as e:  # noqa: BLE001
            self.report(False, f"unit: sort_ids / permute: "
                        f"{type(e).__name__}: {e}")
            return
        backends = [("numpy", np)]
        if self.torch is not None:
            backends.append(("torch", self.torch))
        for S in (1, 17, 113):
            rng = np.random.default_rng(7 + S)
            ids = rng.integers(0, 5, size=(2, 2, S)).astype(np.int32)
            x = rng.standard_normal((2, S, 2, 4)).astype(np.float32)
            order = np.zeros_like(ids)
            for b in range(2):
                for h in range(2):
                    order[b, h] = sorted(range(S),
                                         key=lambda t: (ids[b, h, t], t))
            sorted_ids = np.take_along_axis(ids, order, axis=-1)
            perm = np.zeros_like(x)
            for b in range(2):
                for h in range(2):
                    for t in range(S):
                        perm[b, t, h] = x[b, order[b, h, t], h]
            bad = []
            for label, xp in backends:
                conv = (lambda a: a) if xp is np else xp.from_numpy
                try:
                    ev = spec.evaluate([conv(ids), conv(x)], xp=xp)
                except Exception as e:  # noqa: BLE001
                    bad.append(f"{label}: {type(e).__name__}: {e}")
                    continue
                for k, want in enumerate((order, sorted_ids, perm, x)):
                    got = ev.outputs[k]
                    got = got.cpu().numpy() if xp is not np else \
                        np.asarray(got)
                    ok, msg = compare_exact(got, want)
                    if not ok:
                        bad.append(f"{label}: result {k}: {msg}")
            self.report(not bad, f"unit: attn.sort_ids / attn.permute B=2 "
                        f"S={S} against loops"
                        + (f" ({'; '.join(bad[:4])})" if bad else ""))
        # Errors: an id of 5 (num_ids = 5); an inverse by a repeated entry.
        bad = []
        try:
            spec.evaluate([np.full((1, 2, 3), 5, np.int32),
                           np.zeros((1, 3, 2, 4), np.float32)], xp=np)
            bad.append("an id of 5: not reported")
        except reference.ReferenceError as e:
            if "outside [0, 5)" not in str(e):
                bad.append(f"an id of 5: {e}")
        interp = reference._Interp(reference._Backend(np, "float32"))
        T = reference.Type.parse
        op = reference.Op("attn.permute", 0)
        op.attrs = {"inverse": "unit"}
        xt, ot = T("tensor<1x1x3xf32>"), T("tensor<1x1x3xi32>")
        op.operand_types, op.result_types = [xt, ot], [xt]
        try:
            interp._HANDLERS["attn.permute"](interp, op, [
                reference._Val(np.zeros((1, 1, 3), np.float32), xt),
                reference._Val(np.array([[[0, 2, 0]]]), ot)], None, {})
            bad.append("an inverse by [0, 2, 0]: not reported")
        except reference.ReferenceError as e:
            if "not a permutation" not in str(e):
                bad.append(f"an inverse by [0, 2, 0]: {e}")
        self.report(not bad, "unit: attn.sort_ids / attn.permute errors"
                    + (f" ({'; '.join(bad)})" if bad else ""))

    def topk_unit_tests(self):
        """attn.topk_blocks (TOPK_CONFIGS: both layouts, GQA, f32 / bf16 /
        f16, causal and not, blocks that do not divide S, top_k above the
        candidates and 0, local and sink past every block) at B = 2, Sq x
        Sk = 1 x 1, 17 x 113, 113 x 17 and 37 x 53, against Python loops
        (topk_loops), exactly, on numpy float32 and float64, in chunks of
        7 scores, and on torch when it imports: batch 1's full key blocks
        all equal (ties: the lower kb wins), a NaN in a key block (its
        scores NaN: never a candidate, kept when forced), an inf in a query
        block (infinite scores). The situations each case is built for
        must all occur; then the errors, and the custom form through
        attune-opt."""
        backends = [("numpy f32", np, "float32", 1 << 24),
                    ("numpy f64", np, "float64", 1 << 24),
                    ("numpy f32 chunked", np, "float32", 7)]
        if self.torch is not None:
            backends += [("torch f32", self.torch, "float32", 1 << 24),
                         ("torch f32 chunked", self.torch, "float32", 7)]
        seen = {}
        for ci, cfg in enumerate(TOPK_CONFIGS):
            layout, H, Hk, D, elem, bq, bk, top_k, local, sink, causal = cfg
            bshd = layout == "bshd"
            qt, kt = ((f"tensor<?x?x{n}x{D}x{elem}>" if bshd else
                       f"tensor<?x{n}x?x{D}x{elem}>") for n in (H, Hk))
            props = (f"block_k = {bk} : i64, block_q = {bq} : i64, "
                     + ("causal, " if causal else "")
                     + f"layout = #attn.layout<{layout}>, local = {local} : "
                     f"i64, sink = {sink} : i64, top_k = {top_k} : i64")
            name = (f"{layout} H={H} Hk={Hk} D={D} {elem} block_q={bq} "
                    f"block_k={bk} top_k={top_k} local={local} sink={sink}"
                    + (" causal" if causal else ""))
            try:
                spec = reference.parse_spec(TOPK_UNIT.format(
                    qt=qt, kt=kt, rt=f"tensor<?x{H}x?x?xi8>", props=props,
                    layout=layout))
            except Exception as e:  # noqa: BLE001
                self.report(False, f"unit: attn.topk_blocks ({name}): "
                            f"{type(e).__name__}: {e}")
                continue
            for Sq, Sk in ((1, 1), (17, 113), (113, 17), (37, 53)):
                label = f"unit: attn.topk_blocks {name} B=2 Sq={Sq} Sk={Sk}"
                try:
                    bad, got_seen = self._topk_case(spec, cfg, Sq, Sk,
                                                    backends)
                except Exception as e:  # noqa: BLE001
                    self.report(False, f"{label}: {type(e).__name__}: {e}")
                    continue
                for key, n in got_seen.items():
                    seen[key] = seen.get(key, 0) + n
                self.report(not bad, f"{label} against loops"
                            + (f" ({'; '.join(bad[:4])})" if bad else ""))
        missing = [key for key, n in seen.items() if not n]
        self.report(bool(seen) and not missing,
                    "unit: attn.topk_blocks cases reach "
                    + ", ".join(f"{key} ({n})" for key, n in seen.items())
                    + (f" (never: {', '.join(missing)})" if missing else ""))
        self.topk_error_tests()
        self.topk_custom_test()

    def _topk_case(self, spec, cfg, Sq, Sk, backends):
        """One size of topk_unit_tests: (problems, situations reached)."""
        layout, H, Hk, D, elem, bq, bk, top_k, local, sink, causal = cfg
        bshd = layout == "bshd"
        B = 2
        rng = np.random.default_rng(1000 + 10 * Sq + Sk)
        q = np.array(round_elem(rng.standard_normal(
            (B, Sq, H, D) if bshd else (B, H, Sq, D)), elem))
        k = np.array(round_elem(rng.standard_normal(
            (B, Sk, Hk, D) if bshd else (B, Hk, Sk, D)), elem))
        qv = q.transpose(0, 2, 1, 3) if bshd else q  # [B, H, S, D] views
        kv = k.transpose(0, 2, 1, 3) if bshd else k
        for j in range(bk, Sk // bk * bk):  # batch 1: equal full blocks
            kv[1, :, j] = kv[1, :, j % bk]
        kv[0, 0, min(Sk - 1, bk), 0] = np.nan  # block 1 (or 0): NaN scores
        qv[0, H - 1, Sq - 1, 1] = np.inf       # the last query block: inf
        want, seen = topk_loops(q, k, bshd, bq, bk, top_k, local, sink,
                                causal)
        bad = []
        for label, xp, dtype, max_elems in backends:
            conv = (lambda a: a) if xp is np else \
                (lambda a: xp.from_numpy(np.array(a, np.float32)))
            ev = spec.evaluate([conv(q), conv(k)], xp=xp, dtype=dtype,
                               max_elems=max_elems)
            got = ev.outputs[1]
            got = got.cpu().numpy() if xp is not np else np.asarray(got)
            if got.dtype.kind != "i" or ev.fully_masked[1] is not None:
                bad.append(f"{label}: dtype {got.dtype}")
            ok, msg = compare_exact(got, want)
            if not ok:
                bad.append(f"{label}: {msg}")
        return bad, seen

    def topk_error_tests(self):
        """attn.topk_blocks's checks of its operands, attributes and result
        type (the verifier's, and the run-time ones of dynamic sizes)
        raise ReferenceError naming the op."""
        interp = reference._Interp(reference._Backend(np, "float32"))
        T = reference.Type.parse
        z = np.zeros
        ok4, rt = (2, 2, 5, 8), "tensor<?x?x?x?xi8>"
        cases = {  # q shape, k shape, q / k element, attrs, result, needle
            "q of rank 3": ((2, 5, 8), ok4, "f32", "f32", {}, rt,
                            "expected q to have rank 4"),
            "k of rank 5": (ok4, (2, 2, 5, 8, 1), "f32", "f32", {}, rt,
                            "expected k to have rank 4"),
            "another D": (ok4, (2, 2, 5, 16), "f32", "f32", {}, rt,
                          "q has D = 8, k has D = 16"),
            "D = 0": ((2, 2, 5, 0), (2, 2, 5, 0), "f32", "f32", {}, rt,
                      "q has D = 0"),
            "H = 3, Hk = 2": ((2, 3, 5, 8), ok4, "f32", "f32", {}, rt,
                              "H = 3 query heads is not a multiple of "
                              "Hk = 2"),
            "H = 3, Hk = 2 (bshd)": (
                (2, 5, 3, 8), (2, 7, 2, 8), "f32", "f32",
                {"layout": "#attn.layout<bshd>"}, rt,
                "H = 3 query heads is not a multiple of Hk = 2"),
            "another batch": (ok4, (3, 2, 5, 8), "f32", "f32", {}, rt,
                              "q has B = 2, k has B = 3"),
            "an integer q": (ok4, ok4, "i32", "f32", {}, rt,
                             "q must be a float tensor"),
            "an integer k": (ok4, ok4, "f32", "i8", {}, rt,
                             "k must be a float tensor"),
            "f32 q, bf16 k": (ok4, ok4, "f32", "bf16", {}, rt,
                              "different element types"),
            "block_q = 0": (ok4, ok4, "f32", "f32", {"block_q": "0 : i64"},
                            rt, "block_q = 0, expected >= 1"),
            "block_k = -2": (ok4, ok4, "f32", "f32",
                             {"block_k": "-2 : i64"}, rt,
                             "block_k = -2, expected >= 1"),
            "top_k = -1": (ok4, ok4, "f32", "f32", {"top_k": "-1 : i64"}, rt,
                           "top_k = -1, expected >= 0"),
            "local = -1": (ok4, ok4, "f32", "f32", {"local": "-1 : i64"}, rt,
                           "local = -1, expected >= 0"),
            "sink = -3": (ok4, ok4, "f32", "f32", {"sink": "-3 : i64"}, rt,
                          "sink = -3, expected >= 0"),
            "no top_k": (ok4, ok4, "f32", "f32", {"top_k": None}, rt,
                         "no 'top_k' attribute"),
            "a result of 3 query blocks (2)": (
                ok4, ok4, "f32", "f32", {}, "tensor<?x?x3x?xi8>",
                "the result has shape (2, 2, 2, 2)"),
            "a result of other heads (bshd)": (
                (2, 5, 4, 8), (2, 5, 2, 8), "f32", "f32",
                {"layout": "#attn.layout<bshd>"}, "tensor<?x2x?x?xi8>",
                "the result has shape (2, 4, 2, 2)"),
            "a float result": (ok4, ok4, "f32", "f32", {},
                               "tensor<?x?x?x?xf32>",
                               "expected an integer tensor result"),
        }
        bad = []
        for what, (qs, ks, qe, ke, attrs, rtype, needle) in cases.items():
            op = reference.Op("attn.topk_blocks", 0)
            op.attrs = {"block_q": "4 : i64", "block_k": "3 : i64",
                        "top_k": "1 : i64", "causal": "unit"}
            for key, val in attrs.items():
                if val is None:
                    del op.attrs[key]
                else:
                    op.attrs[key] = val
            vals = []
            for shape, e in ((qs, qe), (ks, ke)):
                t = T("tensor<" + "?x" * len(shape) + f"{e}>")
                x = z(shape, np.int64 if e.startswith("i") else np.float32)
                vals.append(reference._Val(x, t))
            op.operand_types = [v.t for v in vals]
            op.result_types = [T(rtype)]
            try:
                interp._HANDLERS["attn.topk_blocks"](interp, op, vals, None,
                                                     {})
                bad.append(f"{what}: not reported")
            except reference.ReferenceError as e:
                if needle not in str(e) or "attn.topk_blocks" not in str(e):
                    bad.append(f"{what}: {e}")
        self.report(not bad, f"unit: attn.topk_blocks errors ({len(cases)} "
                    "cases)" + (f" ({'; '.join(bad)})" if bad else ""))

    def topk_custom_test(self):
        """TOPK_CUSTOM printed in generic form by attune-opt (how a CUDA
        artifact's spec.mlir writes the op) against topk_loops at B = 2,
        Sq = 17, Sk = 113 on numpy; SKIP while attune-opt does not know
        the op."""
        label = "unit: attn.topk_blocks custom form via attune-opt B=2 " \
            "Sq=17 Sk=113"
        text = self.custom_generic(label, "topk_custom.mlir", TOPK_CUSTOM,
                                   "attn.topk_blocks")
        if text is None:
            return
        try:
            spec = reference.parse_spec(text)
            rng = np.random.default_rng(3)
            q = round_elem(rng.standard_normal((2, 4, 17, 8)), "bf16")
            k = round_elem(rng.standard_normal((2, 2, 113, 8)), "bf16")
            want, _ = topk_loops(q, k, False, 16, 5, 3, 1, 0, True)
            ok, msg = compare_exact(spec.evaluate([q, k], xp=np).outputs[1],
                                    want)
            self.report(ok, f"{label} against loops: {msg}")
        except Exception as e:  # noqa: BLE001
            self.report(False, f"{label}: {type(e).__name__}: {e}")

    def linear_unit_tests(self):
        """attn.linear_attention (LINEAR_CONFIGS: both layouts, GQA, MQA
        and not, f32 / bf16, elu and favor, causal and not, r = 1, default
        and explicit scale, attributes absent and present) at B = 2, Sq x
        Sk = 1 x 1, 17 x 17, 11 x 29, 29 x 11, 9 x 1 and 5 x 0, against
        Python loops (linear_loops), on numpy and torch (when it imports),
        float64 and float32, in chunks of 7 and not: batch 1's queries are
        scaled by 32 (exact), so that FAVOR+'s exponents leave exp's float64
        range there. The situations the cases are built for must all occur;
        then the errors, and the custom form through attune-opt."""
        backends = [("numpy f64", np, "float64", 1 << 24),
                    ("numpy f64 chunked", np, "float64", 7),
                    ("numpy f32", np, "float32", 1 << 24)]
        if self.torch is not None:
            backends += [("torch f64", self.torch, "float64", 1 << 24),
                         ("torch f32 chunked", self.torch, "float32", 7)]
        seen = {}
        for ci, cfg in enumerate(LINEAR_CONFIGS):
            (layout, H, Hk, D, Dv, elem, fmap, r, we, causal, scale, chunk,
             explicit) = cfg
            favor = fmap == "favor"
            bshd = layout == "bshd"

            def tt(n, d):
                return f"tensor<?x?x{n}x{d}x{elem}>" if bshd else \
                    f"tensor<?x{n}x?x{d}x{elem}>"
            qt, kt, vt, ot = tt(H, D), tt(Hk, D), tt(Hk, Dv), tt(H, Dv)
            types = [qt, kt, vt] + ([f"tensor<{D}x{r}x{we}>"] if favor
                                    else [])
            props = (["causal"] if causal else []) + \
                ([f"chunk = {chunk} : i64"] if chunk is not None else []) + \
                ([f"feature_map = #attn.feature_map<{fmap}>"]
                 if favor or explicit else []) + \
                ([f"layout = #attn.layout<{layout}>"]
                 if bshd or explicit else []) + \
                ([f"scale = {scale:e} : f64"] if scale is not None else [])
            name = (f"{layout} H={H} Hk={Hk} D={D} Dv={Dv} {elem} {fmap}"
                    + (f" r={r} w {we}" if favor else "")
                    + (" causal" if causal else "")
                    + (f" scale={scale}" if scale is not None else "")
                    + (f" chunk={chunk}" if chunk is not None else "")
                    + ("" if explicit else " (defaults unwritten)"))
            try:
                spec = reference.parse_spec(LINEAR_UNIT.format(
                    types=", ".join(types), qt=qt, kt=kt, ot=ot,
                    layout=layout,
                    bbargs=", ".join(f"%arg{n}: {t}"
                                     for n, t in enumerate(types)),
                    operands=", ".join(f"%arg{n}" for n in
                                       range(len(types))),
                    props=" <{" + ", ".join(props) + "}>" if props else ""))
            except Exception as e:  # noqa: BLE001
                self.report(False, f"unit: attn.linear_attention ({name}): "
                            f"{type(e).__name__}: {e}")
                continue
            for Sq, Sk in ((1, 1), (17, 17), (11, 29), (29, 11), (9, 1),
                           (5, 0)):
                label = f"unit: attn.linear_attention {name} B=2 Sq={Sq} " \
                    f"Sk={Sk}"
                try:
                    bad, worst, got_seen = self._linear_case(
                        spec, ci, cfg, Sq, Sk, backends)
                except Exception as e:  # noqa: BLE001
                    self.report(False, f"{label}: {type(e).__name__}: {e}")
                    continue
                for key, n in got_seen.items():
                    seen[key] = seen.get(key, 0) + n
                self.report(not bad, f"{label} against loops (float64: "
                            f"{worst:.1e} of the tolerance)"
                            + (f" ({'; '.join(bad[:4])})" if bad else ""))
        missing = [key for key, n in seen.items() if not n]
        self.report(bool(seen) and not missing,
                    "unit: attn.linear_attention cases reach "
                    + ", ".join(f"{key} ({n})" for key, n in seen.items())
                    + (f" (never: {', '.join(missing)})" if missing else ""))
        self.linear_error_tests()
        self.linear_custom_test()

    @staticmethod
    def _linear_check(got, want, mag, big, f32):
        """(problems, worst): O of attn.linear_attention against
        linear_loops's, elementwise: |got - want| <= tol mag, mag = sum_j
        a_ij |v_j| / sum_j a_ij (O's scale: there is cancellation in the
        sum), tol = 1e-12 (1 + E / 64) for the largest |exponent| E of
        FAVOR+ (each exponent's own rounding, about E eps, moves a_ij by as
        much), plus one rounding to float32 (2^-24 |want|) for a float32
        evaluation. Rows with no keys (mag = 0) must be exactly 0; worst:
        the largest ratio of the float64 error to its bound."""
        got = np.asarray(got, np.float64)
        if got.shape != want.shape:
            return [f"shape {got.shape} != loops' {want.shape}"], math.inf
        tol = 1e-12 * (1.0 + big / 64.0)
        bound = tol * mag + (2.0 ** -24 * np.abs(want) if f32 else 0.0)
        err = np.abs(got - want)
        bad = ~(err <= bound)  # NaN too
        worst = float(np.max(np.where(bound > 0, err / np.where(
            bound > 0, bound, 1.0), 0.0), initial=0.0))
        if not bad.any():
            return [], worst
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        return [f"{int(bad.sum())} of {bad.size} elements off [first at "
                f"{list(first)}: {got[first]!r} != loops' {want[first]!r}, "
                f"bound {bound[first]:.2e}]"], worst

    def _linear_case(self, spec, ci, cfg, Sq, Sk, backends):
        """One size of linear_unit_tests: (problems, worst float64 error
        over its bound, situations reached)."""
        (layout, H, Hk, D, Dv, elem, fmap, r, we, causal, scale, chunk,
         explicit) = cfg
        favor = fmap == "favor"
        bshd = layout == "bshd"
        B = 2
        rng = np.random.default_rng(2000 + 100 * ci + 10 * Sq + Sk)

        def draw(n, S, d):
            return np.array(round_elem(rng.standard_normal(
                (B, S, n, d) if bshd else (B, n, S, d)), elem))
        q, k, v = draw(H, Sq, D), draw(Hk, Sk, D), draw(Hk, Sk, Dv)
        q[1] *= 32.0  # exact: FAVOR+'s exponents past exp's range
        w = np.array(round_elem(rng.standard_normal((D, r)), we)) \
            if favor else None
        want, mag, empty, big, seen = linear_loops(
            q, k, v, w, bshd, (scale if scale is not None else
                               1.0 / math.sqrt(D)) if favor else None,
            causal)
        inputs = [q, k, v] + ([w] if favor else [])
        bad, worst = [], 0.0
        for label, xp, dtype, max_elems in backends:
            conv = (lambda a: a) if xp is np else \
                (lambda a: xp.from_numpy(np.array(a, np.float32)))
            ev = spec.evaluate([conv(x) for x in inputs], xp=xp, dtype=dtype,
                               max_elems=max_elems)
            o, twice, fm = ev.outputs[1], ev.outputs[2], ev.fully_masked[1]
            if xp is not np:
                # What the addf read: O rounded as torch rounds it.
                read = o if elem == "f32" else \
                    o.to(xp.bfloat16).to(o.dtype)
                o, twice, read = (a.cpu().numpy() for a in (o, twice, read))
                fm = None if fm is None else fm.cpu().numpy()
            else:
                o, twice = np.asarray(o), np.asarray(twice)
                read = o if elem == "f32" else \
                    round_elem(o, elem).astype(o.dtype)
            if o.dtype != np.dtype(dtype):
                bad.append(f"{label}: dtype {o.dtype}")
            problems, w64 = self._linear_check(o, want, mag, big,
                                               dtype == "float32")
            bad += [f"{label}: {p}" for p in problems]
            if dtype == "float64":
                worst = max(worst, w64)
            if fm is None or not np.array_equal(fm, empty):
                bad.append(f"{label}: the rows with no keys are "
                           + ("not marked" if fm is None else
                              f"{int(fm.sum())} marked, not "
                              f"{int(empty.sum())}"))
            if ev.fully_masked[2] is not None:
                bad.append(f"{label}: a masked-row map for the addf")
            if not np.array_equal(twice, read * 2):
                bad.append(f"{label}: the addf did not read O rounded to "
                           f"{elem}")
        return bad, worst, seen

    def linear_error_tests(self):
        """attn.linear_attention's checks of its operands, attributes and
        result type (the verifier's, and the run-time ones of dynamic
        sizes) raise ReferenceError naming the op."""
        interp = reference._Interp(reference._Backend(np, "float32"))
        T = reference.Type.parse
        z = np.zeros
        f3 = ("f32", "f32", "f32")
        q4, v4, rt = (2, 2, 5, 8), (2, 2, 5, 6), "tensor<?x?x?x6xf32>"
        w = ((8, 16), "f32")
        fav = {"feature_map": "#attn.feature_map<favor>"}
        feats = "expected the features to be a [D = 8, r] float tensor"
        cases = {  # q, k, v shapes (v None: absent), q / k / v elements,
            # features (shape, element) or None, attrs, result, needle
            "favor without features": (
                q4, q4, v4, f3, None, fav, rt,
                "expected 'features(%w : [D, r])' with the favor feature "
                "map"),
            "elu (by default) with features": (
                q4, q4, v4, f3, w, {}, rt,
                "expected no 'features' with the elu feature map"),
            "elu (written) with features": (
                q4, q4, v4, f3, w,
                {"feature_map": "#attn.feature_map<elu>"}, rt,
                "expected no 'features' with the elu feature map"),
            "features of 9 rows (D = 8)": (q4, q4, v4, f3, ((9, 16), "f32"),
                                           fav, rt, feats),
            "features of 0 columns": (q4, q4, v4, f3, ((8, 0), "f32"), fav,
                                      rt, feats),
            "features of 4097 columns": (q4, q4, v4, f3, ((8, 4097), "f32"),
                                         fav, rt, feats),
            "features of rank 3": (q4, q4, v4, f3, ((8, 16, 1), "f32"), fav,
                                   rt, feats),
            "features of rank 1": (q4, q4, v4, f3, ((8,), "f32"), fav, rt,
                                   feats),
            "integer features": (q4, q4, v4, f3, ((8, 16), "i32"), fav, rt,
                                 feats),
            "an unknown feature map": (
                q4, q4, v4, f3, None,
                {"feature_map": "#attn.feature_map<relu>"}, rt,
                "unknown feature_map"),
            "no v": (q4, q4, None, f3, None, {}, rt,
                     "expected 3 operands (q, k, v)"),
            "q of rank 3": ((2, 5, 8), q4, v4, f3, None, {}, rt,
                            "expected q to have rank 4"),
            "v of rank 5": (q4, q4, (2, 2, 5, 6, 1), f3, None, {}, rt,
                            "expected v to have rank 4"),
            "an integer k": (q4, q4, v4, ("f32", "i32", "f32"), None, {}, rt,
                             "k must be a float tensor"),
            "f32 q, bf16 v": (q4, q4, v4, ("f32", "f32", "bf16"), None, {},
                              rt, "different element types"),
            "a bf16 result of f32 inputs": (
                q4, q4, v4, f3, None, {}, "tensor<?x?x?x6xbf16>",
                "expected a result of q's element type"),
            "an integer result": (q4, q4, v4, f3, None, {},
                                  "tensor<?x?x?x6xi32>",
                                  "expected a result of q's element type"),
            "a result of Dv = 8 (6)": (q4, q4, v4, f3, None, {},
                                       "tensor<?x?x?x8xf32>",
                                       "the result has shape (2, 2, 5, 6)"),
            "a result of 3 heads (bshd, 2)": (
                (2, 5, 2, 8), (2, 5, 2, 8), (2, 5, 2, 6), f3, None,
                {"layout": "#attn.layout<bshd>"}, "tensor<?x?x3x6xf32>",
                "the result has shape (2, 5, 2, 6)"),
            "another D": (q4, (2, 2, 5, 16), v4, f3, None, {}, rt,
                          "q has D = 8, k has D = 16"),
            "D = 0": ((2, 2, 5, 0), (2, 2, 5, 0), v4, f3, None, {}, rt,
                      "q has D = 0"),
            "Dv = 0": (q4, q4, (2, 2, 5, 0), f3, None, {},
                       "tensor<?x?x?x0xf32>", "v has Dv = 0"),
            "H = 3, Hk = 2": ((2, 3, 5, 8), q4, v4, f3, None, {}, rt,
                              "H = 3 query heads is not a multiple of "
                              "Hk = 2"),
            "H = 3, Hk = 2 (bshd)": (
                (2, 5, 3, 8), (2, 7, 2, 8), (2, 7, 2, 6), f3, None,
                {"layout": "#attn.layout<bshd>"}, rt,
                "H = 3 query heads is not a multiple of Hk = 2"),
            "k of 2 heads, v of 1": (q4, q4, (2, 1, 5, 6), f3, None, {}, rt,
                                     "k has Hk = 2 heads, v has 1"),
            "another batch of k": (q4, (3, 2, 5, 8), v4, f3, None, {}, rt,
                                   "batch sizes 2, 3 and 2"),
            "another batch of v": (q4, q4, (1, 2, 5, 6), f3, None, {}, rt,
                                   "batch sizes 2, 2 and 1"),
            "k of 5 rows, v of 7": (q4, q4, (2, 2, 7, 6), f3, None, {}, rt,
                                    "k has Sk = 5 rows, v has 7"),
            "a scale with elu": (q4, q4, v4, f3, None,
                                 {"scale": "5.000000e-01 : f64"}, rt,
                                 "expected no 'scale' with the elu"),
            "scale = 0": (q4, q4, v4, f3, w,
                          dict(fav, scale="0.000000e+00 : f64"), rt,
                          "expected a finite, positive 'scale', got 0.0"),
            "scale = -1": (q4, q4, v4, f3, w,
                           dict(fav, scale="-1.000000e+00 : f64"), rt,
                           "expected a finite, positive 'scale', got -1.0"),
            "chunk = 0": (q4, q4, v4, f3, None, {"chunk": "0 : i64"}, rt,
                          "chunk = 0, expected >= 1"),
            "chunk = 4097": (q4, q4, v4, f3, None, {"chunk": "4097 : i64"},
                             rt, "chunk = 4097, expected <= 4096"),
        }
        bad = []
        for what, (qs, ks, vs, elems, wspec, attrs, rtype, needle) in \
                cases.items():
            op = reference.Op("attn.linear_attention", 0)
            op.attrs = {"causal": "unit"}
            op.attrs.update(attrs)
            vals = []
            operands = [(qs, elems[0]), (ks, elems[1])] + \
                ([(vs, elems[2])] if vs is not None else []) + \
                ([wspec] if wspec is not None else [])
            for shape, e in operands:
                t = T("tensor<" + "?x" * len(shape) + f"{e}>")
                x = z(shape, np.int64 if e.startswith("i") else np.float32)
                vals.append(reference._Val(x, t))
            op.operand_types = [val.t for val in vals]
            op.result_types = [T(rtype)]
            try:
                interp._HANDLERS["attn.linear_attention"](interp, op, vals,
                                                          None, {})
                bad.append(f"{what}: not reported")
            except reference.ReferenceError as e:
                if needle not in str(e) or \
                        "attn.linear_attention" not in str(e):
                    bad.append(f"{what}: {e}")
        self.report(not bad, f"unit: attn.linear_attention errors "
                    f"({len(cases)} cases)"
                    + (f" ({'; '.join(bad)})" if bad else ""))

    def linear_custom_test(self):
        """LINEAR_CUSTOM printed in generic form by attune-opt (how a CUDA
        artifact's spec.mlir writes the op) against linear_loops at B = 2,
        Sq = 17, Sk = 29 on numpy in float64; SKIP while attune-opt is not
        built or does not know the op."""
        label = "unit: attn.linear_attention custom form via attune-opt " \
            "B=2 Sq=17 Sk=29"
        text = self.custom_generic(label, "linear_custom.mlir",
                                   LINEAR_CUSTOM, "attn.linear_attention",
                                   skip_missing=True)
        if text is None:
            return
        try:
            spec = reference.parse_spec(text)
            rng = np.random.default_rng(5)
            q = round_elem(rng.standard_normal((2, 4, 17, 16)), "bf16")
            k = round_elem(rng.standard_normal((2, 2, 29, 16)), "bf16")
            v = round_elem(rng.standard_normal((2, 2, 29, 8)), "bf16")
            w = rng.standard_normal((16, 32)).astype(np.float32)
            want, mag, _, big, _ = linear_loops(q, k, v, w, False, 0.25,
                                                True)
            got = spec.evaluate([q, k, v, w], xp=np,
                                dtype="float64").outputs[1]
            bad, worst = self._linear_check(got, want, mag, big, False)
            self.report(not bad, f"{label} against loops (float64: "
                        f"{worst:.1e} of the tolerance)"
                        + (f" ({'; '.join(bad)})" if bad else ""))
        except Exception as e:  # noqa: BLE001
            self.report(False, f"{label}: {type(e).__name__}: {e}")

    def _hash_case(self, spec, ci, bshd, H, D, xe, rshape, rte, mshape, mte,
                   Hc, S, backends):
        """One size of hash_unit_tests: (problems, (LSH ties, centroid
        ties))."""
        B = 2
        rng = np.random.default_rng(100 * ci + S)
        rot = np.array(round_elem(rng.standard_normal(rshape), rte))
        rot[..., 2] = rot[..., 0]  # y_0 == y_2: ties
        mu = np.array(round_elem(rng.standard_normal(mshape), mte))
        # Centroid 1 and its copy K - 1: rows of k / 8, exact in every
        # element type, which some rows of x equal (id 1, the lower).
        rows = rng.integers(-16, 16, size=(Hc, D)) / 8.0
        mu[:, 1] = rows
        mu[:, -1] = rows
        x = np.array(round_elem(rng.standard_normal(
            (B, S, H, D) if bshd else (B, H, S, D)), xe))
        xv = x.transpose(0, 2, 1, 3) if bshd else x  # [B, H, S, D] view
        xv[0, :, 0, :] = 0.0        # every LSH candidate 0 or -0: bucket 0
        xv[1, 0, 0, 3] = np.nan     # every score NaN: id 0
        if S > 1:
            for h in range(H):      # centroid 1 (= centroid K - 1)
                xv[0, h, S - 1, :] = rows[h if Hc == H else 0]
            xv[1, H - 1, S // 2, 2] = np.inf
        want_l, ties_l = lsh_loops(x, rot, bshd)
        want_c, ties_c = centroid_loops(x, mu, bshd)
        bad = []
        # What the definitions say of the constructed rows.
        if (want_l[:, 0, :, 0] != 0).any() or want_l[:, 1, 0, 0].any() or \
                want_c[1, 0, 0] != 0:
            bad.append("the loops: zero / NaN rows not in bucket 0")
        if S > 1 and (want_c[0, :, S - 1] != 1).any():
            bad.append("the loops: a row equal to centroid 1 not routed "
                       "to it")
        if S == 113 and not (ties_l and ties_c):
            bad.append("no ties")
        for label, xp, dtype, max_elems in backends:
            conv = (lambda a: a) if xp is np else \
                (lambda a: xp.from_numpy(np.array(a, np.float32)))
            ev = spec.evaluate([conv(x), conv(rot), conv(mu)], xp=xp,
                               dtype=dtype, max_elems=max_elems)
            for k, want, what in ((1, want_l, "lsh_buckets"),
                                  (2, want_c, "nearest_centroid")):
                got = ev.outputs[k]
                got = got.cpu().numpy() if xp is not np else np.asarray(got)
                if got.dtype.kind != "i" or ev.fully_masked[k] is not None:
                    bad.append(f"{label}: {what}: dtype {got.dtype}")
                ok, msg = compare_exact(got, want)
                if not ok:
                    bad.append(f"{label}: {what}: {msg}")
        return bad, (ties_l, ties_c)

    def hash_error_tests(self):
        """The checks of attn.lsh_buckets / nearest_centroid on their
        operands (the verifier's, and the run-time head check of a dynamic
        H) raise ReferenceError naming the op."""
        interp = reference._Interp(reference._Backend(np, "float32"))
        T = reference.Type.parse
        z = np.zeros
        cases = {
            "an input of rank 3": (
                "attn.lsh_buckets", z((2, 3, 8)), z((2, 2, 8, 4)),
                "tensor<2x?x?x?xi32>", {}, "rank 4"),
            "rotations of rank 3": (
                "attn.lsh_buckets", z((2, 2, 3, 8)), z((2, 8, 4)),
                "tensor<2x?x?x?xi32>", {}, "to have rank 4"),
            "rotations of another D": (
                "attn.lsh_buckets", z((2, 2, 3, 8)), z((2, 2, 16, 4)),
                "tensor<2x?x?x?xi32>", {}, "D = 8 features"),
            "rotations of another head count": (
                "attn.lsh_buckets", z((2, 3, 5, 8)), z((2, 2, 8, 4)),
                "tensor<2x?x?x?xi32>", {}, "1 or H = 3 heads"),
            "a result of the wrong rounds": (
                "attn.lsh_buckets", z((2, 2, 3, 8)), z((2, 2, 8, 4)),
                "tensor<3x?x?x?xi32>", {}, "the result has shape"),
            "centroids of another head count (bshd)": (
                "attn.nearest_centroid", z((2, 5, 3, 8)), z((2, 4, 8)),
                "tensor<?x?x?xi32>", {"layout": "#attn.layout<bshd>"},
                "1 or H = 3 heads"),
            "centroids of another D": (
                "attn.nearest_centroid", z((2, 3, 5, 8)), z((1, 4, 4)),
                "tensor<?x?x?xi32>", {}, "D = 8 features"),
            "centroids of rank 4": (
                "attn.nearest_centroid", z((2, 3, 5, 8)), z((1, 1, 4, 8)),
                "tensor<?x?x?xi32>", {}, "to have rank 3"),
        }
        bad = []
        for what, (name, x, p, rt, attrs, needle) in cases.items():
            op = reference.Op(name, 0)
            op.attrs = dict(attrs)
            xt = T("tensor<" + "?x" * x.ndim + "f32>")
            pt = T("tensor<" + "".join(f"{n}x" for n in p.shape) + "f32>")
            op.operand_types, op.result_types = [xt, pt], [T(rt)]
            try:
                interp._HANDLERS[name](interp, op, [
                    reference._Val(x.astype(np.float32), xt),
                    reference._Val(p.astype(np.float32), pt)], None, {})
                bad.append(f"{what}: not reported")
            except reference.ReferenceError as e:
                if needle not in str(e) or name not in str(e):
                    bad.append(f"{what}: {e}")
        # Through a spec: a dynamic H that is not the rotations' 2.
        p = self.tmp / "hash_error.mlir"
        p.write_text(HASH_DYNAMIC_H)
        try:
            spec = reference.parse_spec(self.generic(p))
            spec.evaluate([z((2, 2, 5, 8), np.float32),
                           z((2, 3, 5, 8), np.float32),
                           z((2, 2, 8, 4), np.float32)], xp=np)
            bad.append("a dynamic H of 3 for rotations of 2 heads: not "
                       "reported")
        except reference.ReferenceError as e:
            if "1 or H = 3 heads" not in str(e):
                bad.append(f"dynamic H: {e}")
        except Exception as e:  # noqa: BLE001
            bad.append(f"dynamic H: {type(e).__name__}: {e}")
        self.report(not bad, f"unit: attn.lsh_buckets / nearest_centroid "
                    f"errors ({len(cases) + 1} cases)"
                    + (f" ({'; '.join(bad)})" if bad else ""))

    def hash_e2e_tests(self):
        """stress_hash (LSH ids of Q and K with the same rotations captured
        by an attention whose mask is ids_q[0,b,h,i] == ids_k[0,b,h,j];
        round 1 selected by extract_slice; nearest-centroid ids likewise)
        against dense attention under the masks that the loops' ids give,
        in float64 here: O within 1e-5, the same fully masked rows, the
        returned ids exact; numpy float32 / float64 and torch."""
        p = self.tmp / "hash_e2e.mlir"
        p.write_text(STRESS["stress_hash"])
        try:
            spec = reference.parse_spec(self.generic(p))
        except Exception as e:  # noqa: BLE001
            self.report(False, f"unit: stress_hash end to end: "
                        f"{type(e).__name__}: {e}")
            return
        backends = [("numpy f32", np, "float32"), ("numpy f64", np, "float64")]
        if self.torch is not None:
            backends.append(("torch f32", self.torch, "float32"))
        for n, (B, Sq, Sk) in enumerate([(2, 1, 1), (2, 17, 113),
                                         (2, 113, 17), (2, 113, 113)]):
            label = f"unit: stress_hash B={B} Sq={Sq} Sk={Sk} vs dense " \
                "attention under the loops' bucket masks"
            try:
                rng = np.random.default_rng(500 + n)
                q = rng.standard_normal((B, 2, Sq, 16)).astype(np.float32)
                k = rng.standard_normal((B, 2, Sk, 16)).astype(np.float32)
                v = rng.standard_normal((B, 2, Sk, 16)).astype(np.float32)
                rot = rng.standard_normal((2, 2, 16, 4)).astype(np.float32)
                mu = rng.standard_normal((1, 3, 16)).astype(np.float32)
                iq, _ = lsh_loops(q, rot, False)
                ik, _ = lsh_loops(k, rot, False)
                cq, _ = centroid_loops(q, mu, False)
                ck, _ = centroid_loops(k, mu, False)
                q64, k64, v64 = (a.astype(np.float64) for a in (q, k, v))
                dense = [dense_masked(q64, k64, v64, a[..., :, None] ==
                                      b[..., None, :])
                         for a, b in ((iq[0], ik[0]), (iq[1], ik[1]),
                                      (cq, ck))]
                bad, msgs = [], []
                for blabel, xp, dtype in backends:
                    conv = (lambda a: a) if xp is np else xp.from_numpy
                    ev = spec.evaluate([conv(a) for a in (q, k, v, rot, mu)],
                                       xp=xp, dtype=dtype)
                    outs = [o if xp is np else o.cpu().numpy()
                            for o in ev.outputs]
                    fm = [m if m is None or xp is np else m.cpu().numpy()
                          for m in ev.fully_masked]
                    for r, (want, dead) in enumerate(dense):
                        ok, msg = compare(outs[r], want, dead, 1e-5)
                        same = np.array_equal(
                            np.broadcast_to(fm[r], want.shape),
                            np.broadcast_to(dead, want.shape))
                        if r == 0:
                            msgs.append(f"{blabel} {msg}")
                        if not ok or not same:
                            bad.append(f"{blabel} O{r}: {msg}" +
                                       ("" if same else
                                        ", fully masked rows differ"))
                    for r, want in ((3, iq), (4, ik), (5, ck)):
                        ok, msg = compare_exact(outs[r], want)
                        if not ok:
                            bad.append(f"{blabel} ids result{r}: {msg}")
                self.report(not bad, f"{label}: " + "; ".join(msgs)
                            + (f" ({'; '.join(bad[:4])})" if bad else ""))
            except Exception as e:  # noqa: BLE001
                self.report(False, f"{label}: {type(e).__name__}: {e}")

    def error_tests(self):
        """Undefined behaviour and unknown ops raise, naming the op."""
        head = ("func.func @f(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,"
                " %v: tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32> {\n"
                "  %o = attn.attention ins(%q, %k, %v : tensor<?x2x?x8xf32>, "
                "tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>) -> "
                "tensor<?x2x?x8xf32>\n    mask(%b, %h, %i, %j) {\n")
        tail = ("      attn.yield %keep : i1\n    }\n"
                "  return %o : tensor<?x2x?x8xf32>\n}\n")
        cases = {
            # The verifier refuses a divisor it cannot prove nonzero, so
            # the spec divides by 3 and its generic form by 0 (patched
            # below): the reference must still catch it at run time.
            "division by zero": (
                "      %three = arith.constant 3 : index\n"
                "      %x = arith.divui %i, %three : index\n"
                "      %c = arith.constant 0 : index\n"
                "      %keep = arith.cmpi uge, %x, %c : index\n",
                reference.ReferenceError, "arith.divui"),
            "unsupported op": (
                "      %x = arith.index_cast %i : index to i32\n"
                "      %f = arith.bitcast %x : i32 to f32\n"
                "      %z = arith.constant 0.0 : f32\n"
                "      %keep = arith.cmpf oge, %f, %z : f32\n",
                reference.UnsupportedOpError, "arith.bitcast"),
        }
        # A named linalg op the reference does not know, and a slice past
        # the end of its source.
        around = ("func.func @f(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,"
                  " %v: tensor<?x2x?x8xf32>, %a: tensor<5xf32>, %c: tensor<f32>)"
                  " -> (tensor<?x2x?x8xf32>, {rt}) {{\n"
                  "  %o = attn.attention ins(%q, %k, %v : tensor<?x2x?x8xf32>, "
                  "tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>) -> "
                  "tensor<?x2x?x8xf32>\n{body}"
                  "  return %o, %d : tensor<?x2x?x8xf32>, {rt}\n}}\n")
        cases["unsupported linalg op"] = (
            around.format(rt="tensor<f32>", body=(
                "  %d = linalg.dot ins(%a, %a : tensor<5xf32>, tensor<5xf32>)"
                " outs(%c : tensor<f32>) -> tensor<f32>\n")),
            reference.UnsupportedOpError, "linalg.dot")
        cases["slice out of bounds"] = (
            around.format(rt="tensor<?xf32>", body=(
                "  %c2 = arith.constant 2 : index\n"
                "  %n = arith.constant 4 : index\n"
                "  %d = tensor.extract_slice %a[%c2] [%n] [1] : tensor<5xf32> "
                "to tensor<?xf32>\n")),
            reference.ReferenceError, "tensor.extract_slice")
        for label, (body, exc, needle) in cases.items():
            p = self.tmp / "error.mlir"
            p.write_text(body if body.startswith("func.func") else
                         head + body + tail)
            try:
                generic = self.generic(p)
                if label == "division by zero":
                    patched = generic.replace("<{value = 3 : index}>",
                                              "<{value = 0 : index}>")
                    assert patched != generic, generic
                    generic = patched
                spec = reference.parse_spec(generic)
                rng = np.random.default_rng(0)
                inputs = make_inputs(spec, {"B": 1, "Sq": 3, "Sk": 4}, rng)
                spec.evaluate(inputs, xp=np)
                self.report(False, f"unit: {label} is not reported")
            except exc as e:
                self.report(needle in str(e), f"unit: {label} raises "
                            f"{type(e).__name__}: {str(e)[:90]}")
            except Exception as e:  # noqa: BLE001
                self.report(False, f"unit: {label}: unexpected "
                            f"{type(e).__name__}: {e}")

    def main(self):
        t0 = time.time()
        print("torch backend: " + (f"also checked (torch "
                                   f"{self.torch.__version__}, CPU)" if
                                   self.torch else "not checked (no torch)"),
              flush=True)
        self.unit_tests()
        sizes = QUICK_SIZES if self.args.quick else SIZES
        # Every example (multi-op functions too: the CUDA target is to
        # compile them), less those the reference cannot run (NOT_CHECKED).
        specs = [p for p in sorted((ROOT / "examples").glob("*.mlir"))
                 if p.stem not in NOT_CHECKED]
        specs += sorted((HERE / "specs").glob("*.mlir"))
        only = self.only
        for p in specs:
            name = p.stem
            if only and not any(o in name for o in only):
                continue
            self.check_spec(name, p, sizes + EXTRA_SIZES.get(name, []))
        if not self.args.no_stress:
            for name, p in self.stress_specs():
                if only and not any(o in name for o in only):
                    continue
                self.check_spec(name, p, QUICK_SIZES + [(1, 200, 300)],
                                stress=True)
        print(f"{self.passes} passed, {self.failures} failed, {self.skips} "
              f"skipped in {time.time() - t0:.0f} s", flush=True)
        return 1 if self.failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if
                                 __doc__ else None)
    ap.add_argument("--build", default=str(ROOT / "build"),
                    help="build directory holding bin/attune-opt, "
                    "bin/attune-run")
    ap.add_argument("--quick", action="store_true", help="fewer sizes")
    ap.add_argument("--only", help="comma-separated substrings of spec and "
                    "unit test group names (Tester.UNIT_GROUPS: e.g. topk, "
                    "linear, hash, unit)")
    ap.add_argument("--no-stress", action="store_true",
                    help="skip the stress specs")
    ap.add_argument("--no-torch", action="store_true",
                    help="do not also check the torch backend when torch "
                    "imports")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    return Tester(args).main()


if __name__ == "__main__":
    sys.exit(main())
