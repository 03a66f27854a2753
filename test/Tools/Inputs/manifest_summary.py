#!/usr/bin/env python3
# Prints an artifact's manifest.json compactly for FileCheck: one line per
# argument, result (and the argument it is written in place into),
# derived symbol, workspace and kernel (name, grid as
# three products of factors, `if`
# and parameters, a tensor parameter as NAME or NAME[view shape], a symbol
# parameter as $SYMBOL, a scalar argument as %NAME).
import json
import sys


def text(value):
    return json.dumps(value, separators=(",", ":"))


def factor(f):
    if isinstance(f, dict):
        x, n = f["ceildiv"]
        return f"ceildiv({x},{n})"
    return str(f)


def grid(g):
    return " ".join("*".join(factor(f) for f in dim) or "1" for dim in g)


def param(p):
    if "tensor" in p:
        return p["tensor"] + (text(p["shape"]) if "shape" in p else "")
    if "symbol" in p:
        return "$" + str(p["symbol"])
    return "%" + p["scalar_arg"]


m = json.load(open(sys.argv[1]))
for a in m["arguments"]:
    print(f"argument {a['name']} {a['dtype']} {text(a['shape'])}")
for r in m["results"]:
    in_place = (f" in place of {r['in_place_of']}" if "in_place_of" in r
                else "")
    print(f"result {r['name']} {r['dtype']} {text(r['shape'])}{in_place}")
for s in m.get("symbols", []):
    if "resident_ctas" in s:
        print(f"symbol {s['name']} = resident CTAs of {s['resident_ctas']}")
    else:
        print(f"symbol {s['name']} = {text(s['value'])}")
for w in m["workspace"]:
    print(f"workspace {w['name']} {w['dtype']} {text(w['shape'])}")
for c in m.get("constraints", []):
    print(f"constraint {text(c)}")
for k in m["kernels"]:
    cond = f" if {text(k['if'])}" if "if" in k else ""
    params = " ".join(param(p) for p in k["params"])
    print(f"kernel {k['name']} grid {grid(k['grid'])}{cond} ({params})")
