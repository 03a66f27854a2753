#!/usr/bin/env python3
#===- bench/gpu/reference.py - Independent attn.attention reference -------===#
#
# Part of the Attune project.
#
# An independent reference for `attn.attention` (docs/Semantics.md),
# written against the spec alone: it parses a spec printed in MLIR's generic
# form (`attune-opt --mlir-print-op-generic`, the `spec.mlir` of a CUDA
# artifact directory), interprets the entry function's body and evaluates
# every `attn.attention` with an array module `xp` (numpy or torch):
#
#   S[b,h,i,j]  = scale * sum_d Q[b,h,i,d] * K[b,h/g,j,d]      g = Hq / Hkv
#   S'[b,h,i,j] = score(S, b, h, i, j, captures...)  if mask(b, h, i, j, ...)
#               = -inf                               otherwise
#   O[b,h,i,:]  = sum_j softmax_j(S'[b,h,i,:]) * V[b,h/g,j,:]
#   lse[b,h,i]  = log sum_j exp(S'[b,h,i,j])
#
# A row whose keys are all masked gives O = 0 and lse = -inf. The score and
# mask regions are interpreted *vectorised*: every region value is an array
# broadcast over the index grids b [B,1,1,1], h [1,H,1,1], i [1,1,c,1] and
# j [1,1,1,Sk], for one chunk of c queries at a time (so S = 8192 fits). The
# score region runs only where the mask keeps the key (its undefined
# behaviour elsewhere is no error).
#
# The function body may hold several attentions and the ops around them
# (multi-op functions: examples/cascade.mlir, hierarchical.mlir,
# linformer.mlir): arith ops on index values and elementwise on tensors,
# tensor.dim / empty / cast / collapse_shape / expand_shape / extract_slice
# / insert_slice / concat, splat constants, attn.rope / unpack / pack /
# gather_pages / append_pages, attn.merge (docs/Merge.md),
# attn.lsh_buckets / nearest_centroid (i32 bucket ids, scores in float64),
# attn.sort_ids / permute, attn.topk_blocks (an i8 block map, block sums and
# scores in float64, docs/BlockSelection.md), attn.linear_attention (elu + 1
# or FAVOR+ features, the definition's sums over keys in float64, no
# factored state; docs/LinearAttention.md), and
# linalg.generic on tensors with its named forms fill, copy, broadcast,
# transpose, map, reduce, matmul and batch_matmul. A linalg op is
# evaluated vectorised over its parallel loops (in chunks of at most
# max_elems points) while its reduction loops run serially, point by
# point, accumulating in the region's order from the outputs' initial
# values; indexing maps may be any affine expressions of the loops (+, *,
# floordiv, ceildiv, mod).
#
# Integers (any width, and index = 64 bits) are held as int64 arrays
# sign-extended from their width, and every op re-normalises its result, so
# wrap-around and the unsigned ops (divui, remui, shrui, cmpi ult, maxui, ...)
# follow MLIR's arith semantics exactly without unsigned array types (torch
# has almost none). i1 is held as bool. Floats are held in the evaluation
# dtype (float32, or float64 with numpy) and are rounded by arith.truncf,
# by a write to a tensor of bf16 / f16 elements (a linalg op's result,
# attn.merge's O, attn.append_pages's rows), and where an op computes
# with a bf16 / f16 O of an attention or merge (the O a function returns
# is not rounded, so that checks measure it in ulps). Operations MLIR calls
# undefined or poison (integer division by zero, signed division overflow,
# over-wide shifts, out-of-range float-to-int conversions, out-of-bounds
# tensor.extract, an extract_slice or indexing map past its tensor) raise
# ReferenceError, as the project's C++ oracle reports them; an op this file
# does not know raises UnsupportedOpError naming it.
#
# No dependency beyond the array module: numpy here, torch on the GPU
# machine (imported lazily, never by this file).
#
#   spec = reference.load_spec("dir/spec.mlir")
#   ev = spec.evaluate([q, k, v, doc_ids, ...], xp=torch)   # or numpy
#   ev.outputs[0], ev.outputs[1], ev.fully_masked[0]   # None: not attention
#
#===----------------------------------------------------------------------===#

import itertools
import json
import math
import re
import struct

__all__ = [
    "ParseError", "UnsupportedOpError", "ReferenceError", "Type", "Op",
    "Spec", "Evaluation", "load_spec", "parse_spec", "evaluate",
    "round_to_bf16",
]


class ParseError(Exception):
    """The spec text is not MLIR generic form this parser understands."""


class UnsupportedOpError(Exception):
    """The spec uses an op (or a form of one) the reference cannot evaluate."""


class DoesNotFit(Exception):
    """Sizes at which a spec has no valid inputs (the new rows of an
    attn.append_pages past its block table's M P rows): harnesses skip
    that size rather than fail it."""


class ReferenceError(Exception):
    """Evaluation hit undefined behaviour or inconsistent inputs."""


#===----------------------------------------------------------------------===#
# Types
#===----------------------------------------------------------------------===#

_FLOAT_NAMES = {"f16": 16, "bf16": 16, "f32": 32, "f64": 64, "tf32": 19,
                "f8E4M3FN": 8, "f8E5M2": 8}


class Type:
    """A parsed MLIR type: kind is 'int' (width), 'index', 'float' (name),
    'tensor' (shape with None for '?', elem), 'none' or 'other'."""

    __slots__ = ("kind", "width", "name", "shape", "elem", "text")

    def __init__(self, kind, text, width=0, name="", shape=None, elem=None):
        self.kind, self.text, self.width, self.name = kind, text, width, name
        self.shape, self.elem = shape, elem

    def __repr__(self):
        return self.text

    @property
    def is_int(self):
        return self.kind in ("int", "index")

    @property
    def int_width(self):
        return 64 if self.kind == "index" else self.width

    @staticmethod
    def parse(text):
        t = text.strip()
        if t == "index":
            return Type("index", t, width=64)
        m = re.fullmatch(r"[su]?i(\d+)", t)
        if m:
            return Type("int", t, width=int(m.group(1)))
        if t in _FLOAT_NAMES:
            return Type("float", t, name=t, width=_FLOAT_NAMES[t])
        m = re.fullmatch(r"(?:tensor|memref)<(.*)>", t, re.S)
        if m:
            body = m.group(1).strip()
            if body.startswith("*"):
                return Type("other", t)
            # Split "?x8x?x64xf32" at the x before the element type; the
            # element type itself may contain x (e.g. in complex<...>).
            dims = []
            rest = body
            while True:
                dm = re.match(r"(\?|\d+)x", rest)
                if not dm:
                    break
                dims.append(None if dm.group(1) == "?" else int(dm.group(1)))
                rest = rest[dm.end():]
            elem_text = rest.split(",")[0].strip()
            return Type("tensor", t, shape=dims, elem=Type.parse(elem_text))
        if t == "none":
            return Type("none", t)
        return Type("other", t)


#===----------------------------------------------------------------------===#
# Generic-form parser
#===----------------------------------------------------------------------===#

class Block:
    __slots__ = ("args", "ops")

    def __init__(self):
        self.args = []   # [(name, Type)]
        self.ops = []


class Region:
    __slots__ = ("blocks",)

    def __init__(self):
        self.blocks = []

    @property
    def empty(self):
        return not self.blocks


class Op:
    """One operation: name, result names (with '#k' for multi-result ops),
    operand names, raw attribute texts (properties and attributes merged),
    regions, operand and result types."""

    __slots__ = ("name", "results", "operands", "attrs", "regions",
                 "operand_types", "result_types", "line", "info")

    def __init__(self, name, line):
        self.name, self.line = name, line
        self.results, self.operands, self.attrs = [], [], {}
        self.regions, self.operand_types, self.result_types = [], [], []
        self.info = None

    def __repr__(self):
        return f"{self.name} (line {self.line})"


_VALUE_RE = re.compile(r"%[A-Za-z0-9_$.\-]+")
_USE_RE = re.compile(r"%[A-Za-z0-9_$.\-]+(?:#\d+)?")
_BARE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_$.\-]*")


class _Scanner:
    def __init__(self, text):
        self.s, self.p, self.n = text, 0, len(text)

    def line(self, p=None):
        return self.s.count("\n", 0, self.p if p is None else p) + 1

    def fail(self, what):
        ctx = self.s[self.p:self.p + 60].replace("\n", "\\n")
        raise ParseError(f"line {self.line()}: expected {what} at '{ctx}'")

    def ws(self):
        s, n = self.s, self.n
        while self.p < n:
            c = s[self.p]
            if c in " \t\r\n":
                self.p += 1
            elif s.startswith("//", self.p):
                e = s.find("\n", self.p)
                self.p = n if e < 0 else e + 1
            else:
                break

    def peek(self, tok):
        self.ws()
        return self.s.startswith(tok, self.p)

    def accept(self, tok):
        if self.peek(tok):
            self.p += len(tok)
            return True
        return False

    def expect(self, tok):
        if not self.accept(tok):
            self.fail(repr(tok))

    def match(self, regex, what):
        self.ws()
        m = regex.match(self.s, self.p)
        if not m:
            self.fail(what)
        self.p = m.end()
        return m.group(0)

    def string(self):
        self.ws()
        if not self.s.startswith('"', self.p):
            self.fail("a string")
        q = self.p + 1
        out = []
        while q < self.n and self.s[q] != '"':
            if self.s[q] == "\\":
                out.append(self.s[q:q + 2])
                q += 2
            else:
                out.append(self.s[q])
                q += 1
        self.p = q + 1
        return "".join(out)

    def balanced(self, stops):
        """Raw text up to the first of `stops` at bracket depth 0."""
        self.ws()
        s, n = self.s, self.n
        start, depth = self.p, 0
        while self.p < n:
            c = s[self.p]
            if c == '"':
                self.string()
                continue
            if c == "-" and s.startswith("->", self.p):
                self.p += 2
                continue
            if depth == 0 and c in stops:
                break
            if c in "([{<":
                depth += 1
            elif c in ")]}>":
                if depth == 0:
                    self.fail("balanced brackets")
                depth -= 1
            self.p += 1
        return s[start:self.p].strip()

    def skip_loc(self):
        if self.peek("loc("):
            self.p += 3
            self.expect("(")
            self.balanced(")")
            self.expect(")")

    def type_text(self):
        self.ws()
        start = self.p
        if self.peek("("):  # a function type; rare inside ops we evaluate
            self.expect("(")
            self.balanced(")")
            self.expect(")")
            self.expect("->")
            self.type_text()
            return self.s[start:self.p].strip()
        self.match(re.compile(r"!?[A-Za-z0-9_$.]+"), "a type")
        if self.s.startswith("<", self.p):
            self.p += 1
            self.balanced(">")
            self.expect(">")
        return self.s[start:self.p].strip()

    def type_list(self):
        self.expect("(")
        types = []
        if not self.peek(")"):
            while True:
                types.append(Type.parse(self.type_text()))
                if not self.accept(","):
                    break
        self.expect(")")
        return types

    def attr_dict(self):
        self.expect("{")
        d = {}
        while not self.peek("}"):
            key = self.string() if self.peek('"') else \
                self.match(_BARE_RE, "an attribute name")
            d[key] = self.balanced(",}") if self.accept("=") else "unit"
            if not self.accept(","):
                break
        self.expect("}")
        return d

    def op(self):
        self.ws()
        op_line = self.line()
        results = []
        if self.peek("%"):
            while True:
                name = self.match(_VALUE_RE, "a result name")
                count = 1
                if self.accept(":"):
                    count = int(self.match(re.compile(r"\d+"), "a count"))
                results.append((name, count))
                if not self.accept(","):
                    break
            self.expect("=")
        if not self.peek('"'):
            self.fail("an op name in quotes (is the spec in generic form?)")
        op = Op(self.string(), op_line)
        for name, count in results:
            if count == 1:
                op.results.append(name)
            else:
                op.results.extend(f"{name}#{k}" for k in range(count))
        self.expect("(")
        if not self.peek(")"):
            while True:
                op.operands.append(self.match(_USE_RE, "an operand"))
                if not self.accept(","):
                    break
        self.expect(")")
        if self.peek("["):
            self.expect("[")
            self.balanced("]")
            self.expect("]")
        if self.peek("<{"):
            self.expect("<")
            op.attrs.update(self.attr_dict())
            self.expect(">")
        if self.peek("("):
            self.expect("(")
            while True:
                op.regions.append(self.region())
                if not self.accept(","):
                    break
            self.expect(")")
        if self.peek("{"):
            op.attrs.update(self.attr_dict())
        self.expect(":")
        op.operand_types = self.type_list()
        self.expect("->")
        if self.peek("("):
            op.result_types = self.type_list()
        else:
            op.result_types = [Type.parse(self.type_text())]
        self.skip_loc()
        if len(op.operand_types) != len(op.operands) or \
                len(op.result_types) != len(op.results):
            raise ParseError(f"line {op_line}: {op.name}: operand/result "
                             "counts do not match its type")
        return op

    def region(self):
        self.expect("{")
        region = Region()
        block = None
        while not self.peek("}"):
            if self.peek("^"):
                self.match(re.compile(r"\^[A-Za-z0-9_$.\-]+"), "a block label")
                block = Block()
                if self.accept("("):
                    if not self.peek(")"):
                        while True:
                            name = self.match(_VALUE_RE, "a block argument")
                            self.expect(":")
                            block.args.append(
                                (name, Type.parse(self.type_text())))
                            self.skip_loc()
                            if not self.accept(","):
                                break
                    self.expect(")")
                self.expect(":")
                region.blocks.append(block)
                continue
            if block is None:
                block = Block()
                region.blocks.append(block)
            block.ops.append(self.op())
        self.expect("}")
        return region

    def top_level(self):
        ops, aliases = [], {}
        while True:
            self.ws()
            if self.p >= self.n:
                break
            if self.s.startswith("{-#", self.p):
                e = self.s.find("#-}", self.p)
                self.p = self.n if e < 0 else e + 3
                continue
            if self.s[self.p] in "#!":
                name = self.match(re.compile(r"[#!][A-Za-z0-9_$.\-]+"),
                                  "an alias")
                self.expect("=")
                e = self.s.find("\n", self.p)
                e = self.n if e < 0 else e
                aliases[name] = self.s[self.p:e].strip()
                self.p = e
                continue
            ops.append(self.op())
        return ops, aliases


#===----------------------------------------------------------------------===#
# Attribute values
#===----------------------------------------------------------------------===#

def _split_typed(text):
    """'2 : index' -> ('2', Type(index)); 'true' -> ('true', i1)."""
    depth = 0
    for k, c in enumerate(text):
        if c in "([{<":
            depth += 1
        elif c in ")]}>":
            depth -= 1
        elif c == ":" and depth == 0:
            return text[:k].strip(), Type.parse(text[k + 1:])
    if text in ("true", "false"):
        return text, Type("int", "i1", width=1)
    return text.strip(), None


def _float_from_hex(h, ftype):
    bits = int(h, 16)
    name = ftype.name if ftype is not None else "f32"
    if name == "f64":
        return struct.unpack("<d", struct.pack("<Q", bits))[0]
    if name == "f32":
        return struct.unpack("<f", struct.pack("<I", bits))[0]
    if name == "bf16":
        return struct.unpack("<f", struct.pack("<I", bits << 16))[0]
    if name == "f16":
        return struct.unpack("<e", struct.pack("<H", bits))[0]
    raise UnsupportedOpError(f"hex float literal of type {name}")


def _round_f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0] \
        if math.isfinite(x) else x


def _parse_scalar_literal(lit, ty):
    """The Python value of an integer/float literal of type `ty`."""
    if lit == "true":
        return True
    if lit == "false":
        return False
    if ty is not None and ty.kind == "float":
        if lit.lower().startswith("0x"):
            v = _float_from_hex(lit[2:], ty)
        else:
            v = float(lit)
        return _round_f32(v) if ty.name == "f32" else v
    return int(lit, 0)


def _parse_int_attr(text):
    lit, _ = _split_typed(text)
    return int(lit, 0)


def _parse_json_list(text):
    try:
        return json.loads(text)
    except ValueError:
        return None


# A dynamic entry of static_sizes / static_offsets / static_output_shape.
_DYNAMIC = -(1 << 63)


def _parse_i64_array(text):
    """'array<i64: 1, -9223372036854775808>' -> [1, -9223372036854775808];
    '[1, 2]' too."""
    body = text.split(":", 1)[1] if text.lstrip().startswith("array<") \
        else text
    return [int(n) for n in re.findall(r"-?\d+", body)]


def _kind(t):
    """'float', 'bool' or 'int': how values of type t (or of its elements)
    are held."""
    e = t.elem if t.kind == "tensor" else t
    if e.kind == "float":
        return "float"
    if e.is_int:
        return "bool" if e.int_width == 1 else "int"
    raise UnsupportedOpError(f"values of type {t}")


def _elem(t):
    return t.elem if t.kind == "tensor" else t


def _scalar_view(op):
    """An elementwise op on tensors as the same op on their elements."""
    v = Op(op.name, op.line)
    v.results, v.operands, v.attrs = op.results, op.operands, op.attrs
    v.operand_types = [_elem(t) for t in op.operand_types]
    v.result_types = [_elem(t) for t in op.result_types]
    return v


def _parse_reassociation(text):
    """'[[0, 1], [2]]' -> [[0, 1], [2]]."""
    groups = _parse_json_list(text)
    if not isinstance(groups, list) or not all(
            isinstance(g, list) for g in groups):
        raise ParseError(f"reassociation {text}")
    return groups


class AffineMap:
    """A parsed affine_map: `dims` loop dimensions, no symbols, and one
    expression per result, each a tuple tree: ('dim', k), ('const', c),
    ('add' | 'mul' | 'floordiv' | 'ceildiv' | 'mod', a, b)."""

    _TOKEN = re.compile(r"\s*(->|floordiv|ceildiv|mod|[A-Za-z_][A-Za-z0-9_]*"
                        r"|\d+|[-+*(),\[\]])")

    def __init__(self, text):
        self.text = text
        m = re.fullmatch(r"\s*affine_map<(.*)>\s*", text, re.S)
        if not m:
            raise UnsupportedOpError(f"indexing map {text}")
        toks = []
        body = m.group(1)
        p = 0
        while p < len(body):
            if body[p:].strip() == "":
                break
            t = self._TOKEN.match(body, p)
            if not t:
                raise ParseError(f"affine map {text}")
            toks.append(t.group(1))
            p = t.end()
        self._toks, self._p = toks, 0
        names = self._name_list("(", ")")
        if self._peek() == "[":
            if self._name_list("[", "]"):
                raise UnsupportedOpError(f"affine map with symbols: {text}")
        self._eat("->")
        self._names = {n: k for k, n in enumerate(names)}
        self.dims = len(names)
        self.results = []
        self._eat("(")
        if self._peek() != ")":
            while True:
                self.results.append(self._expr())
                if self._peek() != ",":
                    break
                self._eat(",")
        self._eat(")")
        if self._p != len(self._toks):
            raise ParseError(f"affine map {text}")

    def _peek(self):
        return self._toks[self._p] if self._p < len(self._toks) else None

    def _eat(self, tok):
        if self._peek() != tok:
            raise ParseError(f"affine map {self.text}: expected {tok!r}")
        self._p += 1

    def _name_list(self, open_, close):
        self._eat(open_)
        names = []
        while self._peek() != close:
            if self._peek() is None:
                raise ParseError(f"affine map {self.text}: expected "
                                 f"{close!r}")
            names.append(self._toks[self._p])
            self._p += 1
            if self._peek() == ",":
                self._p += 1
        self._eat(close)
        return names

    def _expr(self):
        e = self._term()
        while self._peek() in ("+", "-"):
            op = self._toks[self._p]
            self._p += 1
            r = self._term()
            e = ("add", e, r if op == "+" else ("mul", r, ("const", -1)))
        return e

    def _term(self):
        e = self._unary()
        while self._peek() in ("*", "floordiv", "ceildiv", "mod"):
            op = self._toks[self._p]
            self._p += 1
            e = ("mul" if op == "*" else op, e, self._unary())
        return e

    def _unary(self):
        if self._peek() == "-":
            self._p += 1
            return ("mul", self._unary(), ("const", -1))
        t = self._peek()
        if t == "(":
            self._p += 1
            e = self._expr()
            self._eat(")")
            return e
        if t is not None and t.isdigit():
            self._p += 1
            return ("const", int(t))
        if t in self._names:
            self._p += 1
            return ("dim", self._names[t])
        raise UnsupportedOpError(f"affine map {self.text}: {t!r}")

    def pure(self):
        """Per result, the loop dimension it is (an int), ('const', c), or
        None for a compound expression."""
        out = []
        for e in self.results:
            out.append(e[1] if e[0] == "dim" else e if e[0] == "const"
                       else None)
        return out

    def evaluate(self, e, dims, floordiv):
        """The value of expression e for loop values `dims` (ints or
        integer arrays that broadcast together)."""
        kind = e[0]
        if kind == "dim":
            return dims[e[1]]
        if kind == "const":
            return e[1]
        a = self.evaluate(e[1], dims, floordiv)
        b = self.evaluate(e[2], dims, floordiv)
        if kind == "add":
            return a + b
        if kind == "mul":
            return a * b
        if isinstance(b, int) and b <= 0:
            raise UnsupportedOpError(f"affine map {self.text}: division by "
                                     f"{b}")
        if kind == "floordiv":
            return floordiv(a, b)
        if kind == "ceildiv":
            return -floordiv(-a, b)
        return a - floordiv(a, b) * b  # mod: non-negative for b > 0

    @staticmethod
    def identity(n):
        names = ", ".join(f"d{k}" for k in range(n))
        return AffineMap(f"affine_map<({names}) -> ({names})>")

    @staticmethod
    def of_dims(n, results):
        names = ", ".join(f"d{k}" for k in range(n))
        res = ", ".join(f"d{k}" for k in results)
        return AffineMap(f"affine_map<({names}) -> ({res})>")


#===----------------------------------------------------------------------===#
# Array backends
#===----------------------------------------------------------------------===#

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1


class _Backend:
    """The few array operations the interpreter needs, for numpy or torch."""

    def __init__(self, xp, fdtype="float32", device=None):
        self.xp = xp
        self.torch = xp.__name__ == "torch"
        self.device = device
        if fdtype not in ("float32", "float64"):
            raise ValueError(f"evaluation dtype {fdtype!r}: float32 or float64")
        self.fdtype = getattr(xp, fdtype)
        self.i64 = xp.int64
        self.bool = xp.bool if self.torch else xp.bool_

    # Creation and conversion.
    def arange(self, start, stop):
        if self.torch:
            return self.xp.arange(start, stop, dtype=self.i64,
                                  device=self.device)
        return self.xp.arange(start, stop, dtype=self.i64)

    def scalar(self, v, kind):
        dt = {"int": self.i64, "float": self.fdtype, "bool": self.bool}[kind]
        if self.torch:
            return self.xp.tensor(v, dtype=dt, device=self.device)
        return self.xp.asarray(v, dtype=dt)

    def zeros(self, shape, kind="float"):
        dt = {"int": self.i64, "float": self.fdtype, "bool": self.bool}[kind]
        if self.torch:
            return self.xp.zeros(tuple(shape), dtype=dt, device=self.device)
        return self.xp.zeros(tuple(shape), dtype=dt)

    def full(self, shape, v):
        if self.torch:
            return self.xp.full(tuple(shape), v, dtype=self.fdtype,
                                device=self.device)
        return self.xp.full(tuple(shape), v, dtype=self.fdtype)

    def to_int(self, x):
        return x.to(self.i64) if self.torch else self.xp.asarray(x).astype(
            self.i64)

    def to_float(self, x):
        return x.to(self.fdtype) if self.torch else self.xp.asarray(
            x).astype(self.fdtype)

    def to_bool(self, x):
        return x != 0

    def asarray(self, x, kind):
        """An input (array, tensor, Python number) as an evaluation array."""
        xp = self.xp
        if self.torch:
            if not isinstance(x, xp.Tensor):
                x = xp.as_tensor(x)
            if self.device is not None:
                x = x.to(self.device)
        else:
            x = xp.asarray(x)
        if kind == "float":
            return self.to_float(x)
        if kind == "bool":
            return x != 0
        if (x.dtype.is_floating_point if self.torch else
                xp.issubdtype(x.dtype, xp.floating)):
            raise ReferenceError("a float array given for an integer argument")
        return self.to_int(x)

    # Elementwise.
    def where(self, c, a, b):
        return self.xp.where(c, a, b)

    def shl(self, x, s):
        if self.torch:
            return self.xp.bitwise_left_shift(x, s)
        return self.xp.left_shift(x, s)

    def ashr(self, x, s):
        if self.torch:
            return self.xp.bitwise_right_shift(x, s)
        return self.xp.right_shift(x, s)

    def floordiv(self, x, y):
        if self.torch:
            return self.xp.div(x, y, rounding_mode="floor")
        return self.xp.floor_divide(x, y)

    def maximum(self, a, b):
        return self.xp.maximum(a, b)

    def minimum(self, a, b):
        return self.xp.minimum(a, b)

    def any(self, x):
        return bool(x.any())

    def clip(self, x, lo, hi):
        if self.torch:
            return self.xp.clamp(x, lo, hi)
        return self.xp.clip(x, lo, hi)

    def fn(self, name):
        """A float function by its numpy name, mapped for torch."""
        xp = self.xp
        if self.torch:
            tmap = {"arcsin": "asin", "arccos": "acos", "arctan": "atan",
                    "arcsinh": "asinh", "arccosh": "acosh",
                    "arctanh": "atanh", "arctan2": "atan2", "power": "pow",
                    "rint": "round"}
            if name == "cbrt":
                return lambda x: xp.sign(x) * xp.abs(x) ** (1.0 / 3.0)
            return getattr(xp, tmap.get(name, name))
        if name in ("erf", "erfc"):
            f = getattr(math, name)
            vf = xp.vectorize(f, otypes=[xp.float64])
            return lambda x: vf(x).astype(x.dtype)
        return getattr(xp, name)

    # Shapes.
    def swap12(self, x):
        return x.transpose(1, 2) if self.torch else self.xp.swapaxes(x, 1, 2)

    def swap_last(self, x):
        return x.transpose(-1, -2) if self.torch else self.xp.swapaxes(
            x, -1, -2)

    def amax_last(self, x):
        if self.torch:
            return x.amax(dim=-1, keepdim=True)
        return x.max(axis=-1, keepdims=True)

    def sum_last(self, x):
        if self.torch:
            return x.sum(dim=-1, keepdim=True)
        return x.sum(axis=-1, keepdims=True)

    def min_last(self, x):
        """The minimum over the last dimension, which is dropped."""
        if self.torch:
            return x.amin(dim=-1)
        return x.min(axis=-1)

    def to_f64(self, x):
        return x.to(self.xp.float64) if self.torch else self.xp.asarray(
            x).astype(self.xp.float64)

    def zeros_f64(self, shape, like):
        """float64 zeros on the device of array `like`."""
        if self.torch:
            return self.xp.zeros(tuple(shape), dtype=self.xp.float64,
                                 device=like.device)
        return self.xp.zeros(tuple(shape), dtype=self.xp.float64)

    def broadcast_to(self, x, shape):
        if self.torch:
            return x.expand(tuple(shape))
        return self.xp.broadcast_to(x, tuple(shape))

    def materialise(self, x, shape):
        """x broadcast to `shape` as a new, writable array."""
        if self.torch:
            return x.expand(tuple(shape)).clone()
        return self.xp.array(self.xp.broadcast_to(x, tuple(shape)))

    def permute(self, x, order):
        order = tuple(int(k) for k in order)
        if order == tuple(range(len(order))):
            return x
        if self.torch:
            return x.permute(*order)
        return self.xp.transpose(x, order)

    def copy(self, x):
        return x.clone() if self.torch else x.copy()

    def kind_of(self, x):
        """'float', 'bool' or 'int': the kind of an evaluation array."""
        if x.dtype == self.bool:
            return "bool"
        if self.torch:
            return "float" if x.dtype.is_floating_point else "int"
        return "float" if self.xp.issubdtype(x.dtype, self.xp.floating) \
            else "int"

    # Rounding of floats to narrower formats (arith.truncf).
    def round_to(self, x, name):
        xp = self.xp
        if name == "f64" or (name == "f32" and self.fdtype == xp.float32):
            return x
        if self.torch:
            dt = {"f32": xp.float32, "f16": xp.float16,
                  "bf16": xp.bfloat16}.get(name)
            if dt is None:
                raise UnsupportedOpError(f"arith.truncf to {name}")
            return x.to(dt).to(self.fdtype)
        if name == "f32":
            return x.astype(xp.float32).astype(self.fdtype)
        if name == "f16":
            return x.astype(xp.float16).astype(self.fdtype)
        if name == "bf16":
            return round_to_bf16(x.astype(xp.float32), xp).astype(self.fdtype)
        raise UnsupportedOpError(f"arith.truncf to {name}")


def round_to_bf16(x, xp=None):
    """Rounds a float32 numpy array to the nearest bf16 (ties to even),
    returned as float32."""
    if xp is None:
        import numpy as xp  # noqa: F811
    a = xp.ascontiguousarray(xp.asarray(x, dtype=xp.float32))
    u = a.view(xp.uint32).astype(xp.uint64)
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000).astype(xp.uint32)
    out = rounded.view(xp.float32).copy()
    nan = xp.isnan(a)
    out[nan] = a[nan]
    return out


#===----------------------------------------------------------------------===#
# Interpreter
#===----------------------------------------------------------------------===#

class _Val:
    """A value: array (or Python tensor payload) and its MLIR type."""
    __slots__ = ("x", "t")

    def __init__(self, x, t):
        self.x, self.t = x, t


_CMPI = {0: "eq", 1: "ne", 2: "slt", 3: "sle", 4: "sgt", 5: "sge", 6: "ult",
         7: "ule", 8: "ugt", 9: "uge"}
_CMPF = {0: "false", 1: "oeq", 2: "ogt", 3: "oge", 4: "olt", 5: "ole",
         6: "one", 7: "ord", 8: "ueq", 9: "ugt", 10: "uge", 11: "ult",
         12: "ule", 13: "une", 14: "uno", 15: "true"}

_MATH_UNARY = {
    "math.absf": "abs", "math.exp": "exp", "math.exp2": "exp2",
    "math.expm1": "expm1", "math.log": "log", "math.log2": "log2",
    "math.log10": "log10", "math.log1p": "log1p", "math.tanh": "tanh",
    "math.sqrt": "sqrt", "math.sin": "sin", "math.cos": "cos",
    "math.tan": "tan", "math.asin": "arcsin", "math.acos": "arccos",
    "math.atan": "arctan", "math.sinh": "sinh", "math.cosh": "cosh",
    "math.asinh": "arcsinh", "math.acosh": "arccosh", "math.atanh": "arctanh",
    "math.cbrt": "cbrt", "math.erf": "erf", "math.erfc": "erfc",
    "math.floor": "floor", "math.ceil": "ceil", "math.trunc": "trunc",
    "math.roundeven": "rint",
}


# Ops that only move their operands' elements (rounding commutes with them).
_DATA_MOVEMENT = frozenset((
    "attn.pack", "attn.unpack", "attn.permute", "tensor.collapse_shape",
    "tensor.expand_shape", "tensor.extract_slice", "tensor.insert_slice", "tensor.cast",
    "tensor.concat", "linalg.transpose", "linalg.copy", "linalg.broadcast"))

_TERMINATORS = ("attn.yield", "scf.yield", "func.return", "linalg.yield",
                "tensor.yield")


class _Interp:
    def __init__(self, be, aliases=None):
        self.be = be
        self.aliases = aliases or {}
        self.max_elems = 1 << 24
        self.masked_rows = {}
        self.raw_outputs = {}  # op id -> O as computed
        self.round_o = set()   # ids of ops whose O is rounded for its users
        self.loop_values = None  # linalg.index: loop dimension -> value
        self._maps = {}

    # -- integer helpers (values are int64 sign-extended from width w) -----

    def wrap(self, x, w):
        if w >= 64:
            return x
        if w == 1:
            return (x & 1) != 0
        s = 64 - w
        return self.be.ashr(self.be.shl(x, s), s)

    def ints(self, v):
        """The int64 array of an integer value (i1 true -> -1)."""
        if v.t.int_width == 1:
            x = v.x
            if x.dtype == self.be.bool:
                return -self.be.to_int(x)
            return x
        return v.x

    def zext(self, x, w):
        """x's low w bits as a non-negative int64 (w < 64)."""
        return x & ((1 << w) - 1)

    def ukey(self, x, w):
        """An int64 whose signed order is the unsigned order of x (w bits)."""
        return x ^ _INT64_MIN if w >= 64 else self.zext(x, w)

    def lshr(self, x, s):
        """Logical shift right of int64 x by s in [0, 63] (array or int)."""
        be = self.be
        if isinstance(s, int):
            if s == 0:
                return x
            return be.ashr(x, s) & ((1 << (64 - s)) - 1)
        s1 = be.where(s == 0, be.scalar(1, "int"), s)
        mask = be.ashr(be.scalar(_INT64_MAX, "int"), s1 - 1)
        return be.where(s == 0, x, be.ashr(x, s1) & mask)

    def check(self, bad, active, what, op):
        """Raises for UB lanes among the active ones; returns whether any
        (inactive) lane was bad and must be sanitised."""
        if not self.be.any(bad):
            return False
        if active is None or self.be.any(bad & active):
            raise ReferenceError(f"{op}: {what}")
        return True

    def udiv64(self, x, y):
        """Unsigned 64-bit quotient of int64 bit patterns x / y (y != 0)."""
        be = self.be
        one = be.scalar(1, "int")
        zero = be.scalar(0, "int")
        big = y < 0  # y >= 2^63: quotient is 0 or 1
        q_big = be.where(self.ukey(x, 64) >= self.ukey(y, 64), one, zero)
        ys = be.where(big, one, y)
        q = be.shl(be.floordiv(self.lshr(x, 1), ys), 1)
        r = x - q * ys
        q = q + be.where(self.ukey(r, 64) >= self.ukey(ys, 64), one, zero)
        return be.where(big, q_big, q)

    def udiv(self, x, y, w):
        if w >= 64:
            return self.udiv64(x, y)
        return self.be.floordiv(self.zext(x, w), self.zext(y, w))

    def sdiv_floor(self, x, y):
        return self.be.floordiv(x, y)

    # -- evaluation --------------------------------------------------------

    def run_block(self, block, arg_vals, env, active):
        if len(arg_vals) != len(block.args):
            raise ReferenceError("block argument count mismatch")
        for (name, _), v in zip(block.args, arg_vals):
            env[name] = v
        for op in block.ops:
            if op.name in _TERMINATORS:
                return [env[o] for o in op.operands]
            outs = self.eval_op(op, env, active)
            for name, v in zip(op.results, outs):
                env[name] = v
        raise ReferenceError("block without terminator")

    def eval_op(self, op, env, active):
        try:
            args = [env[o] for o in op.operands]
        except KeyError as e:
            raise ReferenceError(f"{op}: use of undefined value {e}") from None
        name = op.name
        if name.startswith(("arith.", "math.")) and \
                name != "arith.constant" and any(
                    t.kind == "tensor" for t in op.result_types):
            # Elementwise on tensors: the scalar op on whole arrays.
            if op.info is None:
                op.info = _scalar_view(op)
            outs = self.eval_op(op.info, dict(zip(op.info.operands, [
                _Val(a.x, _elem(a.t)) for a in args])), active)
            return [_Val(o.x, t) for o, t in zip(outs, op.result_types)]
        handler = self._HANDLERS.get(name)
        if handler is not None:
            return handler(self, op, args, active, env)
        if name in _MATH_UNARY:
            return [_Val(self.be.fn(_MATH_UNARY[name])(args[0].x),
                         op.result_types[0])]
        raise UnsupportedOpError(
            f"the reference cannot evaluate '{name}' ({op}); supported: "
            + ", ".join(sorted(set(self._HANDLERS) | set(_MATH_UNARY))))

    # Handlers return a list of _Val.

    def _constant(self, op, args, active, env):
        text = op.attrs.get("value")
        if text is None:
            raise UnsupportedOpError(f"{op}: constant without value")
        lit, ty = _split_typed(text)
        rt = op.result_types[0]
        if rt.kind == "tensor" or lit.startswith("dense"):
            # A splat (dense<1.5> : tensor<4x8xf32>); no element lists.
            m = re.fullmatch(r"dense<\s*([^\[\]<>,]+?)\s*>", lit)
            if rt.kind != "tensor" or not m or None in rt.shape:
                raise UnsupportedOpError(f"{op}: tensor constants other "
                                         "than splats of a static shape")
            x = self._scalar_constant(op, m.group(1), rt.elem)
            return [_Val(self.be.materialise(x, rt.shape), rt)]
        return [_Val(self._scalar_constant(op, lit, rt), rt)]

    def _scalar_constant(self, op, lit, rt):
        v = _parse_scalar_literal(lit, rt)
        if rt.kind == "float":
            return self.be.scalar(float(v), "float")
        if rt.is_int and rt.int_width == 1:
            return self.be.scalar(bool(v) if isinstance(v, bool)
                                  else bool(v & 1), "bool")
        if rt.is_int:
            iv = int(v)
            w = rt.int_width
            if w < 64:
                iv &= (1 << w) - 1
                if iv >= 1 << (w - 1):
                    iv -= 1 << w
            else:
                iv &= (1 << 64) - 1
                if iv >= 1 << 63:
                    iv -= 1 << 64
            return self.be.scalar(iv, "int")
        raise UnsupportedOpError(f"{op}: constant of type {rt}")

    # Integer binary ops.
    def _int_binary(self, op, args, active, env):
        be = self.be
        t = op.result_types[0]
        w = t.int_width
        x, y = self.ints(args[0]), self.ints(args[1])
        n = op.name.split(".", 1)[1]
        if n == "addi":
            r = x + y
        elif n == "subi":
            r = x - y
        elif n == "muli":
            r = x * y
        elif n in ("andi", "ori", "xori") and w == 1:
            a, b = args[0].x, args[1].x
            r = a & b if n == "andi" else a | b if n == "ori" else a ^ b
            return [_Val(r, t)]
        elif n == "andi":
            r = x & y
        elif n == "ori":
            r = x | y
        elif n == "xori":
            r = x ^ y
        elif n == "maxsi":
            r = be.maximum(x, y)
        elif n == "minsi":
            r = be.minimum(x, y)
        elif n == "maxui":
            r = be.where(self.ukey(x, w) >= self.ukey(y, w), x, y)
        elif n == "minui":
            r = be.where(self.ukey(x, w) <= self.ukey(y, w), x, y)
        elif n in ("shli", "shrsi", "shrui"):
            amount = y if w >= 64 else self.zext(y, w)
            bad = (amount < 0) | (amount >= w)
            if self.check(bad, active, f"shift amount >= {w}", op):
                amount = be.where(bad, be.scalar(0, "int"), amount)
            if n == "shli":
                r = be.shl(x, amount)
            elif n == "shrsi":
                r = be.ashr(x, amount)
            else:
                r = self.lshr(x if w >= 64 else self.zext(x, w), amount)
        else:
            # Divisions.
            unsigned = n in ("divui", "remui", "ceildivui")
            yz = y if (w >= 64 or not unsigned) else self.zext(y, w)
            bad = yz == 0
            if not unsigned:
                bad = bad | ((y == -1) & (x == (_INT64_MIN >> (64 - w))))
                if n == "remsi":
                    bad = y == 0
            if self.check(bad, active, "integer division by zero or "
                          "signed overflow", op):
                y = be.where(bad, be.scalar(1, "int"), y)
            if unsigned:
                q = self.udiv(x, y, w)
                if n == "divui":
                    r = q
                else:
                    xr = x if w >= 64 else self.zext(x, w)
                    yr = y if w >= 64 else self.zext(y, w)
                    rem = xr - q * yr
                    r = rem if n == "remui" else q + be.to_int(rem != 0)
            else:
                if n == "remsi":
                    # y = -1 gives 0 (no overflow for the remainder).
                    ys = be.where(y == -1, be.scalar(1, "int"), y)
                    q = self.sdiv_floor(x, ys)
                    rem = x - q * ys
                    fix = (rem != 0) & ((x ^ ys) < 0)
                    r = be.where(fix, rem - ys, rem)
                else:
                    q = self.sdiv_floor(x, y)
                    rem = x - q * y
                    inexact = rem != 0
                    if n == "floordivsi":
                        r = q
                    elif n == "divsi":
                        r = q + be.to_int(inexact & ((x ^ y) < 0))
                    elif n == "ceildivsi":
                        r = q + be.to_int(inexact)
                    else:
                        raise UnsupportedOpError(f"{op}")
        return [_Val(self.wrap(r, w), t)]

    def _cmpi(self, op, args, active, env):
        pred = _CMPI[_parse_int_attr(op.attrs["predicate"])]
        w = op.operand_types[0].int_width
        x, y = self.ints(args[0]), self.ints(args[1])
        if pred[0] == "u":
            x, y = self.ukey(x, w), self.ukey(y, w)
            pred = pred[1:]
        elif pred[0] == "s":
            pred = pred[1:]
        r = {"eq": x == y, "ne": x != y, "lt": x < y, "le": x <= y,
             "gt": x > y, "ge": x >= y}[pred]
        return [_Val(r, op.result_types[0])]

    def _cmpf(self, op, args, active, env):
        be = self.be
        pred = _CMPF[_parse_int_attr(op.attrs["predicate"])]
        x, y = args[0].x, args[1].x
        rt = op.result_types[0]
        if pred in ("false", "true"):
            shape = (x + y).shape
            r = be.zeros(shape, "bool")
            return [_Val(r if pred == "false" else ~r, rt)]
        unord = (x != x) | (y != y)
        if pred == "ord":
            return [_Val(~unord, rt)]
        if pred == "uno":
            return [_Val(unord, rt)]
        base = {"eq": x == y, "gt": x > y, "ge": x >= y, "lt": x < y,
                "le": x <= y, "ne": x != y}[pred[1:]]
        if pred[0] == "o":
            r = base & ~unord
        else:
            r = base | unord
        return [_Val(r, rt)]

    def _select(self, op, args, active, env):
        c = args[0].x
        if c.dtype != self.be.bool:
            c = c != 0
        t = op.result_types[0]
        if t.is_int and t.int_width != 1:
            return [_Val(self.be.where(c, self.ints(args[1]),
                                       self.ints(args[2])), t)]
        return [_Val(self.be.where(c, args[1].x, args[2].x), t)]

    # Float ops.
    def _float_binary(self, op, args, active, env):
        be = self.be
        x, y = args[0].x, args[1].x
        n = op.name
        if n == "arith.addf":
            r = x + y
        elif n == "arith.subf":
            r = x - y
        elif n == "arith.mulf":
            r = x * y
        elif n == "arith.divf":
            r = x / y
        elif n == "arith.remf":
            r = be.fn("fmod")(x, y)
        elif n in ("arith.maximumf", "arith.maxf"):
            r = be.maximum(x, y)
        elif n in ("arith.minimumf", "arith.minf"):
            r = be.minimum(x, y)
        elif n == "arith.maxnumf":
            r = be.fn("fmax")(x, y)
        elif n == "arith.minnumf":
            r = be.fn("fmin")(x, y)
        elif n == "math.powf":
            r = be.fn("power")(x, y)
        elif n == "math.copysign":
            r = be.fn("copysign")(x, y)
        elif n == "math.atan2":
            r = be.fn("arctan2")(x, y)
        else:
            raise UnsupportedOpError(f"{op}")
        return [_Val(r, op.result_types[0])]

    def _negf(self, op, args, active, env):
        return [_Val(-args[0].x, op.result_types[0])]

    def _rsqrt(self, op, args, active, env):
        return [_Val(1.0 / self.be.fn("sqrt")(args[0].x), op.result_types[0])]

    def _round(self, op, args, active, env):
        be = self.be
        x = args[0].x
        t = be.fn("trunc")(x)
        frac = be.fn("abs")(x - t)
        r = be.where(frac >= 0.5, t + be.fn("sign")(x), t)
        return [_Val(r, op.result_types[0])]

    def _fma(self, op, args, active, env):
        return [_Val(args[0].x * args[1].x + args[2].x, op.result_types[0])]

    def _fpowi(self, op, args, active, env):
        e = self.be.to_float(self.ints(args[1]))
        return [_Val(self.be.fn("power")(args[0].x, e), op.result_types[0])]

    def _fclass(self, op, args, active, env):
        f = {"math.isnan": "isnan", "math.isinf": "isinf",
             "math.isfinite": "isfinite"}[op.name]
        return [_Val(self.be.fn(f)(args[0].x), op.result_types[0])]

    # Integer unary ops.
    def _absi(self, op, args, active, env):
        t = op.result_types[0]
        x = self.ints(args[0])
        return [_Val(self.wrap(self.be.where(x < 0, -x, x), t.int_width), t)]

    def _bitcount(self, op, args, active, env):
        be = self.be
        t = op.result_types[0]
        w = t.int_width
        x = self.ints(args[0])
        u = x if w >= 64 else self.zext(x, w)
        n = op.name
        zero = be.scalar(0, "int")
        if n == "math.ctpop":
            c = u - (self.lshr(u, 1) & 0x5555555555555555)
            c = (c & 0x3333333333333333) + (self.lshr(c, 2) & 0x3333333333333333)
            c = (c + self.lshr(c, 4)) & 0x0F0F0F0F0F0F0F0F
            r = self.lshr(c * 0x0101010101010101, 56)
        elif n == "math.ctlz":
            v = u if w >= 64 else be.shl(u, 64 - w)
            cnt = be.zeros((), "int")
            for s in (32, 16, 8, 4, 2, 1):
                top_zero = self.lshr(v, 64 - s) == 0
                cnt = cnt + be.where(top_zero, be.scalar(s, "int"), zero)
                v = be.where(top_zero, be.shl(v, s), v)
            r = be.where(u == 0, be.scalar(w, "int"), cnt)
        else:  # cttz
            v = u
            cnt = be.zeros((), "int")
            for s in (32, 16, 8, 4, 2, 1):
                low_zero = (v & ((1 << s) - 1)) == 0
                cnt = cnt + be.where(low_zero, be.scalar(s, "int"), zero)
                v = be.where(low_zero, self.lshr(v, s), v)
            r = be.where(u == 0, be.scalar(w, "int"), cnt)
        return [_Val(self.wrap(r, w), t)]

    # Conversions.
    def _int_cast(self, op, args, active, env):
        st, t = op.operand_types[0], op.result_types[0]
        sw, w = st.int_width, t.int_width
        x = self.ints(args[0])
        zero_extend = op.name in ("arith.extui", "arith.index_castui")
        if w > sw and zero_extend:
            x = self.zext(x, sw)
        return [_Val(self.wrap(x, w), t)]

    def _itofp(self, op, args, active, env):
        be = self.be
        st = op.operand_types[0]
        w = st.int_width
        x = self.ints(args[0])
        if op.name == "arith.uitofp":
            if w >= 64:
                f = be.to_float(x)
                return [_Val(be.where(x < 0, f + 18446744073709551616.0, f),
                             op.result_types[0])]
            x = self.zext(x, w)
        return [_Val(be.to_float(x), op.result_types[0])]

    def _fptoi(self, op, args, active, env):
        be = self.be
        t = op.result_types[0]
        w = t.int_width
        tr = be.fn("trunc")(args[0].x)
        if op.name == "arith.fptosi":
            lo, hi = -(2.0 ** (w - 1)), 2.0 ** (w - 1)
        else:
            lo, hi = 0.0, 2.0 ** w
        ok = (tr >= lo) & (tr < hi)
        if self.check(~ok, active, "float-to-int conversion out of range", op):
            tr = be.where(ok, tr, be.scalar(0.0, "float"))
        if op.name == "arith.fptoui" and w >= 64:
            big = tr >= 2.0 ** 63
            xi = be.to_int(be.where(big, tr - 2.0 ** 64, tr))
        else:
            xi = be.to_int(tr)
        return [_Val(self.wrap(xi, w), t)]

    def _extf(self, op, args, active, env):
        return [_Val(args[0].x, op.result_types[0])]

    def _truncf(self, op, args, active, env):
        t = op.result_types[0]
        return [_Val(self.be.round_to(args[0].x, t.name), t)]

    # Tensors.
    def _extract(self, op, args, active, env):
        be = self.be
        tv = args[0]
        arr = tv.x
        idx = [self.ints(a) for a in args[1:]]
        if len(idx) != arr.ndim:
            raise ReferenceError(f"{op}: {len(idx)} indices for a rank-"
                                 f"{arr.ndim} tensor")
        fixed = []
        for d, ix in enumerate(idx):
            n = arr.shape[d]
            bad = (ix < 0) | (ix >= n)
            if self.check(bad, active, f"index out of bounds in dimension {d}"
                          f" (size {n})", op):
                ix = be.clip(ix, 0, max(n - 1, 0))
            fixed.append(ix)
        r = arr[tuple(fixed)]
        if not be.torch:
            r = be.xp.asarray(r)
        return [_Val(r, op.result_types[0])]

    def _dim(self, op, args, active, env):
        arr = args[0].x
        d = int(args[1].x)
        if d < 0 or d >= arr.ndim:
            raise ReferenceError(f"{op}: dimension {d} of a rank-{arr.ndim} "
                                 "tensor")
        return [_Val(self.be.scalar(int(arr.shape[d]), "int"),
                     op.result_types[0])]

    def _concat(self, op, args, active, env):
        """tensor.concat (K and V of Transformer-XL's memory examples)."""
        d = _parse_int_attr(op.attrs["dim"])
        xs = [a.x for a in args]
        if any(x.ndim != xs[0].ndim for x in xs) or not 0 <= d < xs[0].ndim:
            raise ReferenceError(f"{op}: dimension {d} of ranks "
                                 f"{[x.ndim for x in xs]}")
        xp = self.be.xp
        out = xp.cat(xs, d) if self.be.torch else xp.concatenate(xs, d)
        return [_Val(out, op.result_types[0])]

    def _gather_pages(self, op, args, active, env):
        """attn.gather_pages (docs/PagedKV.md): row j of sequence b is slot
        j mod P of page block_table[b, j / P], zero at or past seq_lens[b];
        a length outside [0, M P] or a page id outside [0, N) of a row below
        the length is an error."""
        be = self.be
        cache, table, lens = args[0].x, self.ints(args[1]), self.ints(args[2])
        layout = op.attrs.get("layout", "bhsd")
        cache_layout = op.attrs.get("cache_layout", "bshd")
        if cache.ndim != 4 or table.ndim != 2 or lens.ndim != 1:
            raise ReferenceError(f"{op}: ranks {cache.ndim}, {table.ndim}, "
                                 f"{lens.ndim}")
        # The cache as [N, H, P, D].
        pages = be.swap12(cache) if "bshd" in cache_layout else cache
        n, p = int(pages.shape[0]), int(pages.shape[2])
        m = int(table.shape[1])
        if be.any((lens < 0) | (lens > m * p)):
            raise ReferenceError(f"{op}: a length outside [0, {m * p}]")
        rows = be.arange(0, m * p)
        live = rows[None, :] < lens[:, None]                    # [B, M P]
        ids = table[:, rows // p]                               # [B, M P]
        if be.any(live & ((ids < 0) | (ids >= n))):
            raise ReferenceError(f"{op}: a page id outside [0, {n}) below "
                                 "a sequence's length")
        ids = be.where(live, ids, be.scalar(0, "int"))
        gathered = pages[ids, :, (rows % p)[None, :], :]        # [B, M P, H, D]
        gathered = be.where(live[:, :, None, None], gathered,
                            be.scalar(0.0, "float"))
        # Advanced indices first: [B, M P, H, D] is bshd.
        out = gathered if "bshd" in layout else be.swap12(gathered)
        return [_Val(out, op.result_types[0])]

    def _append_pages(self, op, args, active, env):
        """attn.append_pages (docs/PagedKV.md): a copy of the cache in which
        row r of sequence b, at p = seq_lens[b] + r, is written to slot
        p mod P of page block_table[b, p / P] (rounded to the cache's
        element type, as any write to its tensor); every other row is
        unchanged. A negative length or one with seq_lens[b] + S > M P, a
        page id outside [0, N) where a row is written, or two rows written
        to one slot of a page is an error, named with its indices."""
        be = self.be
        rows, cache = args[0].x, args[1].x
        table, lens = self.ints(args[2]), self.ints(args[3])
        layout = op.attrs.get("layout", "bhsd")
        cache_layout = op.attrs.get("cache_layout", "bshd")
        if rows.ndim != 4 or cache.ndim != 4 or table.ndim != 2 or \
                lens.ndim != 1:
            raise ReferenceError(f"{op}: ranks {rows.ndim}, {cache.ndim}, "
                                 f"{table.ndim}, {lens.ndim}")
        # The new rows as [B, S, H, D], the cache as [N, P, H, D].
        new = rows if "bshd" in layout else be.swap12(rows)
        pages = cache if "bshd" in cache_layout else be.swap12(cache)
        n, p = int(pages.shape[0]), int(pages.shape[1])
        nb, s = int(new.shape[0]), int(new.shape[1])
        m = int(table.shape[1])
        if int(table.shape[0]) != nb or int(lens.shape[0]) != nb or \
                tuple(new.shape[2:]) != tuple(pages.shape[2:]):
            raise ReferenceError(
                f"{op}: block_table {tuple(table.shape)}, seq_lens "
                f"{tuple(lens.shape)} and rows {tuple(rows.shape)} do not "
                f"match the cache {tuple(cache.shape)}")
        bad = (lens < 0) | (lens + s > m * p)
        if be.any(bad):
            b = bad.tolist().index(True)
            n_b = int(lens[b])
            raise ReferenceError(
                f"{op}: seq_lens[{b}] = {n_b} is negative" if n_b < 0 else
                f"{op}: seq_lens[{b}] = {n_b} plus {s} new rows exceeds the "
                f"table's {m * p} rows")
        pos = lens[:, None] + be.arange(0, s)[None, :]          # [B, S]
        ids = table[be.arange(0, nb)[:, None], pos // p]        # [B, S]
        bad = (ids < 0) | (ids >= n)
        if be.any(bad):
            flat = bad.reshape(-1).tolist().index(True)
            b, r = divmod(flat, s)
            j = int(pos[b, r])
            raise ReferenceError(
                f"{op}: block_table[{b}, {j // p}] = {int(ids[b, r])} is "
                f"outside the cache's {n} pages (row {r} of sequence {b} is "
                f"written to it)")
        slots = pos % p
        where = (ids * p + slots).reshape(-1).tolist()
        if len(set(where)) != len(where):
            first = {}
            for k, w in enumerate(where):
                if w in first:
                    (b0, r0), (b1, r1) = divmod(first[w], s), divmod(k, s)
                    raise ReferenceError(
                        f"{op}: row {r1} of sequence {b1} and row {r0} of "
                        f"sequence {b0} are both written to row {w % p} of "
                        f"page {w // p}")
                first[w] = k
        out = be.copy(pages)
        out[ids, slots] = self.store(new, op.result_types[0].elem)
        out = out if "bshd" in cache_layout else be.swap12(out)
        return [_Val(out, op.result_types[0])]

    def _rope(self, op, args, active, env):
        """attn.rope (docs/Rope.md): feature pairs rotated by
        (p / scaling) freq_scales[k] base^(-2k / R), the angle in float64;
        pairs (k, k + R/2) (half) or (2k, 2k + 1) (interleaved)."""
        be, xp = self.be, self.be.xp
        seg = op.attrs.get("operandSegmentSizes", "array<i32: 1, 0, 0, 0>")
        present = [int(n) for n in re.findall(r"-?\d+", seg.split(":", 1)[1])]
        rest = iter(args[1:])
        positions, offset, scales = (next(rest) if n else None
                                     for n in present[1:4])
        x = args[0].x
        bshd = "bshd" in op.attrs.get("layout", "bhsd")
        x = x if bshd else be.swap12(x)                     # [B, S, H, D]
        S, D = int(x.shape[1]), int(x.shape[3])
        R = _parse_int_attr(op.attrs["rotary_dim"]) \
            if "rotary_dim" in op.attrs else D
        base = float(_split_typed(op.attrs["base"])[0]) \
            if "base" in op.attrs else 10000.0
        scaling = float(_split_typed(op.attrs["scaling"])[0]) \
            if "scaling" in op.attrs else 1.0
        interleaved = "interleaved" in op.attrs.get("style", "")
        kw = dict(dtype=xp.float64)
        if be.torch:
            kw["device"] = x.device
        if positions is not None:
            p = self.ints(positions)
            p = p[None, :] if p.ndim == 1 else p
        else:
            p = be.arange(0, S)[None, :]
            if offset is not None:
                p = p + int(offset.x)
        p = p.to(xp.float64) if be.torch else p.astype(xp.float64)
        theta = xp.asarray([base ** (-2.0 * i / R) for i in range(R // 2)],
                           **kw)
        if scales is not None:
            sc = scales.x
            theta = theta * (sc.to(xp.float64) if be.torch
                             else sc.astype(xp.float64))
        angle = (p / scaling)[:, :, None] * theta[None, None, :]   # [B|1, S, R/2]
        cos = xp.cos(angle)[:, :, None, :]
        sin = xp.sin(angle)[:, :, None, :]
        xf = x.to(xp.float64) if be.torch else x.astype(xp.float64)
        if interleaved:
            a, b = xf[..., 0:R:2], xf[..., 1:R:2]
        else:
            a, b = xf[..., :R // 2], xf[..., R // 2:R]
        ya, yb = a * cos - b * sin, b * cos + a * sin
        y = xf * 1.0
        if interleaved:
            y[..., 0:R:2], y[..., 1:R:2] = ya, yb
        else:
            y[..., :R // 2], y[..., R // 2:R] = ya, yb
        # Not rounded to the element type: the fused form's values (a
        # materialised rope differs by that one rounding, within the
        # checks' tolerance; docs/Rope.md).
        y = y.to(x.dtype) if be.torch else y.astype(x.dtype)
        return [_Val(y if bshd else be.swap12(y), op.result_types[0])]

    def _varlen_offsets(self, op, cu, T, S):
        """The offsets of attn.unpack / attn.pack as Python ints, checked
        (docs/Varlen.md): non-empty, from >= 0, non-decreasing, to <= T,
        every length <= S."""
        cu = [int(c) for c in cu.tolist()]
        if not cu or cu[0] < 0 or cu[-1] > T or any(
                b < a or b - a > S for a, b in zip(cu, cu[1:])):
            raise ReferenceError(f"{op}: invalid offsets {cu[:8]} for {T} "
                                 f"packed rows of at most {S}")
        return cu

    def _unpack(self, op, args, active, env):
        """attn.unpack: result[b, h, r] = packed[cu[b] + r, h] for r below
        sequence b's length, 0 past it."""
        be = self.be
        packed = args[0].x
        bshd = "bshd" in op.attrs.get("layout", "bhsd")
        shape = op.result_types[0].shape
        S = int(args[2].x) if len(args) > 2 else shape[1 if bshd else 2]
        T, H, D = (int(n) for n in packed.shape)
        cu = self._varlen_offsets(op, self.ints(args[1]), T, S)
        out = be.zeros((len(cu) - 1, S, H, D))
        for b, (lo, hi) in enumerate(zip(cu, cu[1:])):
            out[b, :hi - lo] = packed[lo:hi]
        return [_Val(out if bshd else be.swap12(out), op.result_types[0])]

    def _pack(self, op, args, active, env):
        """attn.pack: rows [cu[b], cu[b + 1]) of the result are the first
        rows of batch row b; rows no sequence covers are 0."""
        be = self.be
        x = args[0].x
        bshd = "bshd" in op.attrs.get("layout", "bhsd")
        x = x if bshd else be.swap12(x)                     # [B, S, H, D]
        T = int(args[2].x) if len(args) > 2 else \
            op.result_types[0].shape[0]
        cu = self._varlen_offsets(op, self.ints(args[1]), T, int(x.shape[1]))
        out = be.zeros((T, int(x.shape[2]), int(x.shape[3])))
        for b, (lo, hi) in enumerate(zip(cu, cu[1:])):
            out[lo:hi] = x[b, :hi - lo]
        return [_Val(out, op.result_types[0])]

    # -- bucket ids: attn.lsh_buckets, attn.nearest_centroid ----------------

    def _hash_operands(self, op, args, what, rank, head_dim, feature_dim):
        """The input of attn.lsh_buckets / attn.nearest_centroid as float64
        [B, H, S, D] and its parameters (`what`, rank `rank`, heads at
        `head_dim`, features at `feature_dim`) as float64, each rounded to
        its element type first (the values the op reads from tensors of
        those types; a no-op for arguments) and then upcast exactly.
        Mismatched ranks, D or head counts raise ReferenceError, as the
        verifier (or the compiled code's run-time head check) does."""
        be = self.be
        if len(args) != 2:
            raise ReferenceError(f"{op}: expected 2 operands (input, {what}),"
                                 f" got {len(args)}")
        x, p = args
        for v, name in ((x, "the input"), (p, what)):
            if be.kind_of(v.x) != "float" or v.t.kind != "tensor" or \
                    v.t.elem.kind != "float":
                raise ReferenceError(f"{op}: {name} must be a float tensor, "
                                     f"got {v.t}")
        if x.x.ndim != 4:
            raise ReferenceError(f"{op}: expected the input to have rank 4 "
                                 "([B, H, S, D] or [B, S, H, D]), got rank "
                                 f"{x.x.ndim}")
        if p.x.ndim != rank:
            raise ReferenceError(f"{op}: expected {what} to have rank {rank},"
                                 f" got shape {tuple(p.x.shape)}")
        bshd = "bshd" in op.attrs.get("layout", "bhsd")
        xf = be.to_f64(be.round_to(x.x, x.t.elem.name))
        xf = be.swap12(xf) if bshd else xf                      # [B, H, S, D]
        pf = be.to_f64(be.round_to(p.x, p.t.elem.name))
        B, H, S, D = (int(n) for n in xf.shape)
        if int(pf.shape[feature_dim]) != D:
            raise ReferenceError(
                f"{op}: expected {what} to have D = {D} features (dimension "
                f"{feature_dim}), got shape {tuple(pf.shape)}")
        hp = int(pf.shape[head_dim])
        if hp not in (1, H):
            raise ReferenceError(
                f"{op}: expected {what} to have 1 or H = {H} heads "
                f"(dimension {head_dim}), got shape {tuple(pf.shape)}")
        return xf, pf, (B, H, S, D)

    def _first_argmax(self, v):
        """Over v's last dimension (float64, nonempty): the lowest index
        among the largest values, NaN ignored, 0 where no value is above
        -inf; the fold from (best = -inf, id = 0) taking (value, index)
        where value > best, or value == best and index < id."""
        be, xp = self.be, self.be.xp
        n = int(v.shape[-1])
        neg_inf = be.scalar(float("-inf"), "float")
        v = be.where(xp.isnan(v), neg_inf, v)
        m = be.amax_last(v)
        hit = (v == m) & (m > float("-inf"))
        first = be.min_last(be.where(hit, be.arange(0, n),
                                     be.scalar(n, "int")))
        return be.where(first == n, be.scalar(0, "int"), first)

    def _hash_chunk(self, S, per_row):
        """Rows of S per chunk so that a chunk's scores hold at most
        max_elems values (per_row per row)."""
        return max(1, min(S, self.max_elems // max(1, per_row)))

    def _hash_result(self, op, ids):
        t = op.result_types[0]
        if t.kind != "tensor" or not t.elem.is_int:
            raise ReferenceError(f"{op}: expected an integer tensor result, "
                                 f"got {t}")
        self.check_shape(op, ids.shape, t)
        return [_Val(self.wrap(ids, t.elem.int_width), t)]

    def _lsh_buckets(self, op, args, active, env):
        """attn.lsh_buckets (Reformer LSH): rotations [R, H or 1, D, C];
        ids[r, b, h, s] (always in this order) is the argmax of
        [y ; -y] over 2C candidates, y[c] = sum_d x[b,h,s,d] *
        rotations[r, h or 0, d, c] summed in float64 in order of d from
        0.0 (products of f32/bf16/f16 values are exact in float64, so the
        ids are the compiled code's); index c for y[c], c + C for -y[c]
        (_first_argmax)."""
        be = self.be
        xf, rot, (B, H, S, D) = self._hash_operands(
            op, args, "'rotations' [rounds, H, D, n / 2]", 4, 1, 2)
        R, Hr, C = int(rot.shape[0]), int(rot.shape[1]), int(rot.shape[3])
        if C == 0:
            raise ReferenceError(f"{op}: rotations with no columns "
                                 f"{tuple(rot.shape)}")
        ids = be.zeros((R, B, H, S), "int")
        chunk = self._hash_chunk(S, R * B * H * 2 * C)
        for s0 in range(0, S, chunk):
            s1 = min(S, s0 + chunk)
            y = be.zeros_f64((R, B, H, s1 - s0, C), xf)
            for d in range(D):
                xd = xf[:, :, s0:s1, d].reshape(1, B, H, s1 - s0, 1)
                y = y + xd * rot[:, :, d, :].reshape(R, 1, Hr, 1, C)
            cand = be.xp.cat([y, -y], -1) if be.torch else \
                be.xp.concatenate([y, -y], -1)
            ids[:, :, :, s0:s1] = self._first_argmax(cand)
        return self._hash_result(op, ids)

    def _nearest_centroid(self, op, args, active, env):
        """attn.nearest_centroid (Routing Transformer): centroids
        [H or 1, K, D]; ids[b, h, s] is the argmax over c of
        sum_d x[b,h,s,d] mu[h',c,d] - (sum_d mu[h',c,d]^2) * 0.5, both
        sums in float64 in order of d from 0.0 (_first_argmax)."""
        be = self.be
        xf, mu, (B, H, S, D) = self._hash_operands(
            op, args, "'centroids' [H, k, D]", 3, 0, 2)
        Hc, K = int(mu.shape[0]), int(mu.shape[1])
        if K == 0:
            raise ReferenceError(f"{op}: no centroids {tuple(mu.shape)}")
        norm = be.zeros_f64((Hc, K), mu)
        for d in range(D):
            norm = norm + mu[:, :, d] * mu[:, :, d]
        half = (norm * 0.5).reshape(1, Hc, 1, K)
        ids = be.zeros((B, H, S), "int")
        chunk = self._hash_chunk(S, B * H * K)
        for s0 in range(0, S, chunk):
            s1 = min(S, s0 + chunk)
            dot = be.zeros_f64((B, H, s1 - s0, K), xf)
            for d in range(D):
                dot = dot + xf[:, :, s0:s1, d].reshape(B, H, s1 - s0, 1) * \
                    mu[:, :, d].reshape(1, Hc, 1, K)
            ids[:, :, s0:s1] = self._first_argmax(dot - half)
        return self._hash_result(op, ids)

    def _sort_ids(self, op, args, active, env):
        """attn.sort_ids: per row of ids (the last dimension), the stable
        order of positions by id and the ids in that order; an id outside
        [0, num_ids) raises ReferenceError, as the compiled code's run-time
        check fails."""
        be, xp = self.be, self.be.xp
        ids = self.ints(args[0])
        n = _parse_int_attr(op.attrs["num_ids"])
        if bool(((ids < 0) | (ids >= n)).any()):
            raise ReferenceError(f"{op}: an id is outside [0, {n})")
        if be.torch:
            order = xp.sort(ids, dim=-1, stable=True).indices
            ordered = xp.take_along_dim(ids, order, dim=-1)
        else:
            order = xp.argsort(ids, axis=-1, kind="stable")
            ordered = xp.take_along_axis(ids, order, axis=-1)
        t = op.result_types
        return [_Val(self.wrap(order, t[0].elem.int_width), t[0]),
                _Val(self.wrap(ordered, t[1].elem.int_width), t[1])]

    def _permute(self, op, args, active, env):
        """attn.permute: rows of each (b, h) gathered by order, or with
        `inverse` scattered; entries outside [0, S), and for `inverse` a
        row of order that is not a permutation, raise ReferenceError."""
        be, xp = self.be, self.be.xp
        x, order = args[0].x, self.ints(args[1])
        bshd = "bshd" in op.attrs.get("layout", "bhsd")
        rank = x.ndim
        xb = be.swap12(x) if bshd and rank == 4 else x          # [B, H, S, ...]
        S = int(xb.shape[2])
        if tuple(int(n) for n in order.shape) != \
                tuple(int(n) for n in xb.shape[:3]):
            raise ReferenceError(f"{op}: order {tuple(order.shape)} is not "
                                 f"[B, H, S] of the input")
        if bool(((order < 0) | (order >= S)).any()):
            raise ReferenceError(f"{op}: an entry of order is outside [0, S)")
        if "inverse" in op.attrs:
            ranks = xp.sort(order, dim=-1).values if be.torch else \
                xp.sort(order, axis=-1)
            if bool((ranks != be.arange(0, S)).any()):
                raise ReferenceError(f"{op}: a row of order is not a "
                                     "permutation")
            inv = xp.argsort(order, dim=-1) if be.torch else \
                xp.argsort(order, axis=-1)
            order = inv
        idx = order.reshape(tuple(order.shape) + (1,) * (rank - 3))
        idx = be.broadcast_to(idx, tuple(order.shape) + tuple(xb.shape[3:]))
        y = xp.take_along_dim(xb, idx, dim=2) if be.torch else \
            xp.take_along_axis(xb, idx, axis=2)
        y = be.swap12(y) if bshd and rank == 4 else y
        return [_Val(y, op.result_types[0])]

    # -- block selection: attn.topk_blocks -----------------------------------

    def _topk_attr(self, op, name, default=None, least=0):
        """Integer attribute `name` of attn.topk_blocks, `default` when it
        is absent (the generic form omits a default-valued one); a value
        below `least` raises ReferenceError, as the verifier refuses it."""
        text = op.attrs.get(name)
        if text is None:
            if default is None:
                raise ReferenceError(f"{op}: no '{name}' attribute")
            return default
        n = _parse_int_attr(text)
        if n < least:
            raise ReferenceError(f"{op}: {name} = {n}, expected >= {least}")
        return n

    def _block_sums(self, x, block):
        """float64 x [B, H, S, D] summed over blocks of `block` rows:
        [B, H, ceil(S / block), D], each sum in order of the row from 0.0
        (row r of every block at once; a short last block just stops)."""
        be = self.be
        B, H, S, D = (int(n) for n in x.shape)
        rows = max(1, min(block, S))  # block >= S: one block of S rows
        acc = be.zeros_f64((B, H, -(-S // rows), D), x)
        for r in range(min(rows, S)):
            part = x[:, :, r::rows]
            m = int(part.shape[2])
            acc[:, :, :m] = acc[:, :, :m] + part
        return acc

    def _topk_blocks(self, op, args, active, env):
        """attn.topk_blocks (NSA / MoBA gating, docs/BlockSelection.md):
        keep[b, h, qb, kb] = 1 where key block kb is forced (one of the
        `sink` first blocks, or of the `local` blocks up to the one holding
        key last(qb) = the block's last row + Sk - Sq) or among the top_k
        candidates of query block qb by score descending, then kb
        ascending. score = (sum_d Q[qb, d] K[kb, d]) / (nq nk) of the
        blocks' float64 sums (key head h / (H / Hk)), or of the sums
        projected by the two [D, P] projections (P features), every sum in order
        from 0.0 (rows, then d) as the compiled code sums, so the map is
        its, bit for bit. With `causal`, a key block that starts after
        last(qb) is neither kept nor a candidate; a NaN score is never a
        candidate (but the block can be forced). Scores are computed for a
        chunk of query blocks at a time (at most max_elems of them)."""
        be, xp = self.be, self.be.xp
        if len(args) not in (2, 4):
            raise ReferenceError(f"{op}: expected 2 operands (q, k) or 4 "
                                 f"(q, k and two projections), got "
                                 f"{len(args)}")
        q, k = args[:2]
        proj = None
        if len(args) == 4:
            for w in args[2:]:
                if be.kind_of(w.x) != "float" or w.x.ndim != 2:
                    raise ReferenceError(f"{op}: a projection must be a "
                                         f"[D, P] float tensor, got {w.t}")
            proj = [be.to_f64(be.round_to(w.x, w.t.elem.name))
                    for w in args[2:]]
        for v, name in ((q, "q"), (k, "k")):
            if be.kind_of(v.x) != "float" or v.t.kind != "tensor" or \
                    v.t.elem.kind != "float":
                raise ReferenceError(f"{op}: {name} must be a float tensor, "
                                     f"got {v.t}")
            if v.x.ndim != 4:
                raise ReferenceError(
                    f"{op}: expected {name} to have rank 4 ([B, H, S, D] or "
                    f"[B, S, H, D]), got shape {tuple(v.x.shape)}")
        if q.t.elem.name != k.t.elem.name:
            raise ReferenceError(f"{op}: q and k have different element "
                                 f"types ({q.t}, {k.t})")
        bq = self._topk_attr(op, "block_q", least=1)
        bk = self._topk_attr(op, "block_k", least=1)
        top_k = self._topk_attr(op, "top_k")
        local = self._topk_attr(op, "local", 0)
        sink = self._topk_attr(op, "sink", 0)
        causal = "causal" in op.attrs
        bshd = "bshd" in op.attrs.get("layout", "bhsd")
        qf, kf = (be.to_f64(be.round_to(v.x, v.t.elem.name)) for v in (q, k))
        if bshd:
            qf, kf = be.swap12(qf), be.swap12(kf)           # [B, H, S, D]
        B, H, Sq, D = (int(n) for n in qf.shape)
        Bk, Hk, Sk, Dk = (int(n) for n in kf.shape)
        if Bk != B:
            raise ReferenceError(f"{op}: q has B = {B}, k has B = {Bk}")
        if Dk != D or D == 0:
            raise ReferenceError(f"{op}: q has D = {D}, k has D = {Dk} "
                                 "(equal and nonzero expected)")
        if Hk == 0 or H % Hk:
            raise ReferenceError(f"{op}: H = {H} query heads is not a "
                                 f"multiple of Hk = {Hk} key heads")
        g = H // Hk
        nQb, nKb = -(-Sq // bq), -(-Sk // bk)
        keep = be.zeros((B, H, nQb, nKb), "int")
        if nQb and nKb:
            # Heads h = hk g + r: the query sums as [B, Hk, g, ...] meet
            # key head hk = h / g by broadcasting.
            Qs = self._block_sums(qf, bq).reshape(B, Hk, g, nQb, D)
            Ks = self._block_sums(kf, bk)                   # [B, Hk, nKb, D]
            if proj is not None:
                # The learned gate: the sums times w ([D, P]), in order of d.
                wq, wk = proj
                if int(wq.shape[0]) != D or int(wk.shape[0]) != D or \
                        int(wq.shape[1]) != int(wk.shape[1]):
                    raise ReferenceError(
                        f"{op}: projections {tuple(wq.shape)} and "
                        f"{tuple(wk.shape)} are not both [D = {D}, P]")
                P = int(wq.shape[1])
                Qp = be.zeros_f64((B, Hk, g, nQb, P), Qs)
                Kp = be.zeros_f64((B, Hk, nKb, P), Ks)
                for d in range(D):
                    Qp = Qp + Qs[..., d:d + 1] * wq[d].reshape(1, 1, 1, 1, P)
                    Kp = Kp + Ks[..., d:d + 1] * wk[d].reshape(1, 1, 1, P)
                Qs, Ks, D = Qp, Kp, P
            nq = be.to_f64(be.asarray(
                [min(Sq, (i + 1) * bq) - i * bq for i in range(nQb)], "int"))
            nk = be.to_f64(be.asarray(
                [min(Sk, (j + 1) * bk) - j * bk for j in range(nKb)], "int"))
            kbs = be.arange(0, nKb)
            off = Sk - Sq
            tk = min(top_k, nKb)
            chunk = self._hash_chunk(nQb, B * H * nKb)
            for q0 in range(0, nQb, chunk):
                q1 = min(nQb, q0 + chunk)
                n = q1 - q0
                dot = be.zeros_f64((B, Hk, g, n, nKb), Qs)
                for d in range(D):
                    dot = dot + Qs[:, :, :, q0:q1, d:d + 1] * \
                        Ks[:, :, :, d].reshape(B, Hk, 1, 1, nKb)
                score = (dot / (nq[q0:q1].reshape(n, 1) *
                                nk.reshape(1, nKb))).reshape(B, H, n, nKb)
                # Per query block (Python ints, no overflow): eligible kb <
                # elig; forced kb < sink or lo <= kb < hi (the local run).
                elig, lo, hi = [], [], []
                for qb in range(q0, q1):
                    last = min(Sq, (qb + 1) * bq) - 1 + off
                    diag = last // bk if last >= 0 else -1
                    elig.append(nKb if not causal else min(nKb, diag + 1))
                    lo.append(min(nKb, max(0, diag - local + 1)))
                    hi.append(min(nKb, diag + 1))
                elig, lo, hi = (be.asarray(a, "int").reshape(n, 1)
                                for a in (elig, lo, hi))
                eligible = kbs < elig                        # [n, nKb]
                forced = eligible & ((kbs < min(sink, nKb)) |
                                     ((kbs >= lo) & (kbs < hi)))
                cand = eligible & ~forced & ~xp.isnan(score)
                # The selection order: candidates first, by score
                # descending, then kb ascending (two stable sorts); the
                # top_k are those whose rank in it is below top_k.
                key = -be.where(cand, score, be.zeros_f64((), score))
                noncand = be.to_int(~cand)
                if be.torch:
                    o1 = xp.sort(key, dim=-1, stable=True).indices
                    o2 = xp.sort(xp.take_along_dim(noncand, o1, dim=-1),
                                 dim=-1, stable=True).indices
                    order = xp.take_along_dim(o1, o2, dim=-1)
                    rank = xp.argsort(order, dim=-1)
                else:
                    o1 = xp.argsort(key, axis=-1, kind="stable")
                    o2 = xp.argsort(xp.take_along_axis(noncand, o1, axis=-1),
                                    axis=-1, kind="stable")
                    order = xp.take_along_axis(o1, o2, axis=-1)
                    rank = xp.argsort(order, axis=-1)
                keep[:, :, q0:q1] = be.to_int(forced | (cand & (rank < tk)))
        return self._hash_result(op, keep)

    # -- kernelised attention: attn.linear_attention -------------------------

    def _linear_features(self, x, w, scale, per_row):
        """The feature maps of attn.linear_attention (docs/LinearAttention.md)
        of float64 rows x [B, H, S, D]: [B, H, S, r]. Without w (elu):
        phi(x) = x + 1 where x > 0, exp(x) elsewhere (r = D). With w [D, r]
        (favor): exp(x' . w[:, f] - |x'|^2 / 2), x' = sqrt(scale) x, less a
        shift of the exponents that the ratio cancels (with the 1 / sqrt(r)
        factor, also dropped): each row's own largest exponent (per_row:
        the queries), or the largest of each (b, head) (the keys), so that
        exp stays in range; a shift ignores non-finite exponents and is 0
        where none is finite."""
        be, xp = self.be, self.be.xp
        if w is None:
            return be.where(x > 0, x + 1.0, xp.exp(be.clip(x, None, 0.0)))
        xs = x * math.sqrt(scale)
        e = xs @ w - 0.5 * be.sum_last(xs * xs)
        B, H, S, r = (int(n) for n in e.shape)
        if not (B * H * S * r):
            return e
        zero = be.zeros_f64((), e)
        fin = be.where(xp.isfinite(e), e, zero - math.inf)
        m = be.amax_last(fin if per_row else fin.reshape(B, H, 1, S * r))
        m = be.where(m > -math.inf, m, zero)
        return xp.exp(e - (m if per_row else m.reshape(B, H, 1, 1)))

    def _linear_attention(self, op, args, active, env):
        """attn.linear_attention (docs/LinearAttention.md), by its
        definition in float64: O[b, h, i] = sum_{j in J(i)} a_ij v_j /
        sum_{j in J(i)} a_ij, a_ij = phi(q_i) . phi(k_j) (key and value
        head h / (H / Hk)), J(i) every key or, with `causal`, the keys j <=
        i + Sk - Sq; a row with no keys is 0 (and a fully masked row of the
        Evaluation). The features are _linear_features'; the a_ij of a
        chunk of queries at a time (at most max_elems of them) are summed
        directly, not through the factored state the lowering keeps (that
        reassociation is what a check measures). `chunk` does not change
        the result. O is converted to the evaluation dtype and, like an
        attention's, kept as computed for the function's result and rounded
        to its element type where an op computes with it (output). The
        verifier's checks of the operands, attributes and result, and the
        run-time ones of dynamic sizes, raise ReferenceError naming the
        op."""
        be = self.be
        fm_text = op.attrs.get("feature_map", "#attn.feature_map<elu>")
        fm = re.search(r"\b(elu|favor)\b", fm_text)
        if not fm:
            raise ReferenceError(f"{op}: unknown feature_map {fm_text}")
        favor = fm.group(1) == "favor"
        if len(args) not in (3, 4):
            raise ReferenceError(f"{op}: expected 3 operands (q, k, v) or 4 "
                                 f"(q, k, v and the features), got "
                                 f"{len(args)}")
        if favor != (len(args) == 4):
            raise ReferenceError(
                f"{op}: " + ("expected 'features(%w : [D, r])' with the "
                             "favor feature map" if favor else
                             "expected no 'features' with the elu feature "
                             "map (they are FAVOR+'s)"))
        q, k, v = args[:3]
        for val, name in ((q, "q"), (k, "k"), (v, "v")):
            if be.kind_of(val.x) != "float" or val.t.kind != "tensor" or \
                    val.t.elem.kind != "float":
                raise ReferenceError(f"{op}: {name} must be a float tensor, "
                                     f"got {val.t}")
            if val.x.ndim != 4:
                raise ReferenceError(
                    f"{op}: expected {name} to have rank 4 ([B, H, S, D] or "
                    f"[B, S, H, D]), got shape {tuple(val.x.shape)}")
        if not (q.t.elem.name == k.t.elem.name == v.t.elem.name):
            raise ReferenceError(f"{op}: q, k and v have different element "
                                 f"types ({q.t}, {k.t}, {v.t})")
        rt = op.result_types[0] if op.result_types else None
        if rt is None or rt.kind != "tensor" or rt.elem.kind != "float" or \
                rt.elem.name != q.t.elem.name:
            raise ReferenceError(f"{op}: expected a result of q's element "
                                 f"type, got {rt}")
        scale = None
        if "scale" in op.attrs:
            if not favor:
                raise ReferenceError(f"{op}: expected no 'scale' with the elu "
                                     "feature map (it is FAVOR+'s)")
            lit, ty = _split_typed(op.attrs["scale"])
            scale = _parse_scalar_literal(
                lit, ty or Type("float", "f64", name="f64", width=64))
            if not (math.isfinite(scale) and scale > 0):
                raise ReferenceError(f"{op}: expected a finite, positive "
                                     f"'scale', got {scale}")
        chunk = self._topk_attr(op, "chunk", 64, least=1)
        if chunk > 4096:
            raise ReferenceError(f"{op}: chunk = {chunk}, expected <= 4096")
        causal = "causal" in op.attrs
        bshd = "bshd" in op.attrs.get("layout", "bhsd")
        qf, kf, vf = (be.to_f64(be.round_to(val.x, val.t.elem.name))
                      for val in (q, k, v))
        if bshd:
            qf, kf, vf = be.swap12(qf), be.swap12(kf), be.swap12(vf)
        B, H, Sq, D = (int(n) for n in qf.shape)
        Bk, Hk, Sk, Dk = (int(n) for n in kf.shape)
        Bv, Hv, Sv, Dv = (int(n) for n in vf.shape)
        if Bk != B or Bv != B:
            raise ReferenceError(f"{op}: q, k and v have batch sizes {B}, "
                                 f"{Bk} and {Bv}")
        if Dk != D or D == 0:
            raise ReferenceError(f"{op}: q has D = {D}, k has D = {Dk} "
                                 "(equal and nonzero expected)")
        if Dv == 0:
            raise ReferenceError(f"{op}: v has Dv = 0 (nonzero expected)")
        if Hv != Hk:
            raise ReferenceError(f"{op}: k has Hk = {Hk} heads, v has {Hv}")
        if Hk == 0 or H % Hk:
            raise ReferenceError(f"{op}: H = {H} query heads is not a "
                                 f"multiple of Hk = {Hk} key heads")
        if Sv != Sk:
            raise ReferenceError(f"{op}: k has Sk = {Sk} rows, v has {Sv}")
        wf = None
        if favor:
            w = args[3]
            if be.kind_of(w.x) != "float" or w.t.kind != "tensor" or \
                    w.t.elem.kind != "float" or w.x.ndim != 2 or \
                    int(w.x.shape[0]) != D or \
                    not 1 <= int(w.x.shape[1]) <= 4096:
                raise ReferenceError(
                    f"{op}: expected the features to be a [D = {D}, r] float "
                    f"tensor with r in [1, 4096], got {w.t} of shape "
                    f"{tuple(w.x.shape)}")
            wf = be.to_f64(be.round_to(w.x, w.t.elem.name))
            if scale is None:
                scale = 1.0 / math.sqrt(D)
        out_shape = (B, Sq, H, Dv) if bshd else (B, H, Sq, Dv)
        self.check_shape(op, out_shape, rt)
        g, off = H // Hk, Sk - Sq
        o = be.zeros_f64((B, H, Sq, Dv), qf)
        # Rows with no keys: Sk = 0, or causal queries before the first key.
        rows = be.arange(0, Sq).reshape(1, 1, Sq, 1)
        dead = (rows + off < 0) if causal else (rows < (0 if Sk else Sq))
        if B and H and Sq and Sk:
            pq = self._linear_features(qf, wf, scale, True)
            pk = self._linear_features(kf, wf, scale, False)
            r = int(pq.shape[3])
            pq = pq.reshape(B, Hk, g, Sq, r)
            pkt = be.swap_last(pk).reshape(B, Hk, 1, r, Sk)
            v5 = vf.reshape(B, Hk, 1, Sk, Dv)
            keys = be.arange(0, Sk).reshape(1, Sk)
            zero, one = be.zeros_f64((), qf), be.zeros_f64((), qf) + 1.0
            step = max(1, min(Sq, self.max_elems //
                              max(1, B * H * max(Sk, r, Dv))))
            for i0 in range(0, Sq, step):
                i1 = min(Sq, i0 + step)
                c = i1 - i0
                a = pq[:, :, :, i0:i1] @ pkt                # [B, Hk, g, c, Sk]
                if causal:
                    a = be.where(keys <= be.arange(i0, i1).reshape(c, 1)
                                 + off, a, zero)
                num = (a @ v5).reshape(B, H, c, Dv)
                den = be.sum_last(a).reshape(B, H, c, 1)
                dc = dead[:, :, i0:i1]
                o[:, :, i0:i1] = be.where(dc, zero,
                                          num / be.where(dc, one, den))
        o = be.to_float(o)
        dead_o = be.materialise(dead, (B, H, Sq, 1))
        if bshd:
            o, dead_o = be.swap12(o), be.swap12(dead_o)
        self.masked_rows[id(op)] = (dead_o,)
        return [_Val(self.output(op, o), rt)]

    def _scf_if(self, op, args, active, env):
        be = self.be
        c = args[0].x
        if c.dtype != be.bool:
            c = c != 0
        then_active = c if active is None else (active & c)
        else_active = ~c if active is None else (active & ~c)
        outs_t = self.run_block(op.regions[0].blocks[0], [], dict(env),
                                then_active) if op.regions[0].blocks else []
        if len(op.regions) > 1 and op.regions[1].blocks:
            outs_e = self.run_block(op.regions[1].blocks[0], [], dict(env),
                                    else_active)
        else:
            outs_e = []
        res = []
        for k, t in enumerate(op.result_types):
            a, b = outs_t[k], outs_e[k]
            if t.is_int and t.int_width != 1:
                res.append(_Val(be.where(c, self.ints(a), self.ints(b)), t))
            else:
                res.append(_Val(be.where(c, a.x, b.x), t))
        return res

    # -- the function body around the attentions: shapes, linalg, merge ----

    def resolve(self, text):
        """An attribute's text, an alias (#map3) replaced by its value."""
        text = text.strip()
        return self.aliases.get(text, text)

    def affine_map(self, text):
        text = self.resolve(text)
        m = self._maps.get(text)
        if m is None:
            m = self._maps[text] = AffineMap(text)
        return m

    def attr_list(self, op, key):
        """The items of a list attribute ([#map, affine_map<...>]) as texts,
        aliases resolved."""
        text = self.resolve(op.attrs[key])
        sc = _Scanner(text)
        sc.expect("[")
        items = []
        while not sc.peek("]"):
            items.append(self.resolve(sc.balanced(",]")))
            if not sc.accept(","):
                break
        sc.expect("]")
        return items

    def index_value(self, v):
        """A Python int from a scalar index/integer value."""
        return int(self.ints(v))

    def mixed(self, op, static_text, dynamic):
        """Static sizes/offsets with their dynamic entries (_DYNAMIC) taken,
        in order, from the values `dynamic`."""
        static = _parse_i64_array(static_text)
        it = iter(dynamic)
        out = []
        for n in static:
            if n == _DYNAMIC:
                v = next(it, None)
                if v is None:
                    raise ParseError(f"{op}: fewer dynamic operands than "
                                     "dynamic entries")
                n = self.index_value(v)
            out.append(n)
        if next(it, None) is not None:
            raise ParseError(f"{op}: more dynamic operands than dynamic "
                             "entries")
        return out

    def segments(self, op, default):
        text = op.attrs.get("operandSegmentSizes")
        return _parse_i64_array(text) if text else default

    def check_shape(self, op, shape, t, what="result"):
        """The concrete shape against the static sizes of tensor type t."""
        shape = [int(n) for n in shape]
        if len(shape) != len(t.shape) or any(
                n is not None and n != m for n, m in zip(t.shape, shape)):
            raise ReferenceError(f"{op}: the {what} has shape {tuple(shape)}, "
                                 f"its type is {t}")
        if any(n < 0 for n in shape):
            raise ReferenceError(f"{op}: a negative size in {tuple(shape)}")
        return shape

    def store(self, x, elem):
        """A value written to a tensor of element type `elem`: floats
        rounded to bf16 / f16 (f32 and f64 keep the evaluation dtype, as the
        attention's results do)."""
        if elem.kind == "float" and elem.name not in ("f32", "f64"):
            if self.be.kind_of(x) != "float":
                x = self.be.to_float(x)
            return self.be.round_to(x, elem.name)
        return x

    def output(self, op, o):
        """O of an attn.attention / attn.merge: kept as computed for the
        function's result (so that checks can measure a bf16/f16 result in
        ulps), and rounded to its element type, as the type says, where an
        op computes with it (Spec.round_o: attn.merge of bf16 partials sums
        rounded values)."""
        self.raw_outputs[id(op)] = o
        if id(op) in self.round_o:
            o = self.store(o, op.result_types[0].elem)
        return o

    def _empty(self, op, args, active, env):
        """tensor.empty: its contents are undefined, so floats are NaN (as
        in the C++ oracle: a spec that reads them fails its check) and
        integers 0."""
        t = op.result_types[0]
        it = iter(args)
        shape = [self.index_value(next(it)) if n is None else n
                 for n in t.shape]
        shape = self.check_shape(op, shape, t)
        kind = _kind(t)
        x = self.be.full(shape, float("nan")) if kind == "float" else \
            self.be.zeros(shape, kind)
        return [_Val(x, t)]

    def _collapse_shape(self, op, args, active, env):
        x = args[0].x
        t = op.result_types[0]
        groups = _parse_reassociation(self.resolve(op.attrs["reassociation"]))
        shape = []
        for g in groups:
            n = 1
            for d in g:
                n *= int(x.shape[d])
            shape.append(n)
        self.check_shape(op, shape, t)
        return [_Val(x.reshape(tuple(shape)), t)]

    def _expand_shape(self, op, args, active, env):
        x = args[0].x
        t = op.result_types[0]
        groups = _parse_reassociation(self.resolve(op.attrs["reassociation"]))
        if len(groups) != x.ndim:
            raise ReferenceError(f"{op}: {len(groups)} groups for a rank-"
                                 f"{x.ndim} source")
        if "static_output_shape" in op.attrs:
            shape = self.mixed(op, op.attrs["static_output_shape"], args[1:])
        else:
            # The older form: at most one dynamic size per group, implied.
            shape = list(t.shape)
            for gi, g in enumerate(groups):
                dyn = [d for d in g if shape[d] is None]
                known = 1
                for d in g:
                    known *= shape[d] if shape[d] is not None else 1
                if len(dyn) > 1:
                    raise UnsupportedOpError(f"{op}: several dynamic sizes "
                                             "in one group")
                if dyn:
                    shape[dyn[0]] = int(x.shape[gi]) // known if known else 0
        for gi, g in enumerate(groups):
            n = 1
            for d in g:
                n *= shape[d]
            if n != int(x.shape[gi]):
                raise ReferenceError(
                    f"{op}: output sizes {[shape[d] for d in g]} do not "
                    f"multiply to the source's dimension {gi} "
                    f"({int(x.shape[gi])})")
        shape = self.check_shape(op, shape, t)
        return [_Val(x.reshape(tuple(shape)), t)]

    def slices(self, op, shape, offsets, sizes, strides):
        """The Python slices of offsets/sizes/strides within `shape`; a
        slice out of bounds is undefined behaviour."""
        if not len(offsets) == len(sizes) == len(strides) == len(shape):
            raise ReferenceError(f"{op}: {len(offsets)} offsets, "
                                 f"{len(sizes)} sizes, {len(strides)} "
                                 f"strides for rank {len(shape)}")
        out = []
        for d, (o, n, s, dim) in enumerate(zip(offsets, sizes, strides,
                                               shape)):
            dim = int(dim)
            if s < 1:
                raise UnsupportedOpError(f"{op}: stride {s}")
            if o < 0 or n < 0 or (n > 0 and o + (n - 1) * s >= dim) or \
                    o > dim:
                raise ReferenceError(
                    f"{op}: slice offset {o} size {n} stride {s} out of "
                    f"bounds in dimension {d} (size {dim})")
            out.append(slice(o, o + (n - 1) * s + 1 if n else o, s))
        return tuple(out)

    def _slice_operands(self, op, args, first):
        """offsets, sizes, strides of tensor.extract_slice (first = 1) or
        tensor.insert_slice (first = 2)."""
        seg = self.segments(op, None)
        if seg is None or len(seg) != first + 3:
            raise ParseError(f"{op}: operandSegmentSizes")
        rest = args[first:]
        no, ns = seg[first], seg[first + 1]
        return (self.mixed(op, op.attrs["static_offsets"], rest[:no]),
                self.mixed(op, op.attrs["static_sizes"], rest[no:no + ns]),
                self.mixed(op, op.attrs["static_strides"], rest[no + ns:]))

    def _extract_slice(self, op, args, active, env):
        x = args[0].x
        t = op.result_types[0]
        offsets, sizes, strides = self._slice_operands(op, args, 1)
        r = x[self.slices(op, x.shape, offsets, sizes, strides)]
        if len(t.shape) != len(sizes):
            # Rank-reducing: the dropped dimensions are those of a static
            # size 1 unless the result's next dimension is a static 1
            # (ExtractSliceOp::getDroppedDims); a dynamic size is kept even
            # where it is 1 at run time.
            static = _parse_i64_array(op.attrs["static_sizes"])
            kept, k = [], 0
            for n, sn in zip(sizes, static):
                if sn != 1 or (k < len(t.shape) and t.shape[k] == 1):
                    kept.append(n)
                    k += 1
            if k != len(t.shape):
                raise UnsupportedOpError(f"{op}: rank reduction of {sizes} "
                                         f"to {t}")
            r = r.reshape(tuple(kept))
        self.check_shape(op, r.shape, t)
        return [_Val(r, t)]

    def _insert_slice(self, op, args, active, env):
        src, dest = args[0].x, args[1].x
        t = op.result_types[0]
        offsets, sizes, strides = self._slice_operands(op, args, 2)
        idx = self.slices(op, dest.shape, offsets, sizes, strides)
        n = 1
        for s in sizes:
            n *= s
        if int(math.prod(int(m) for m in src.shape)) != n:
            raise ReferenceError(f"{op}: source {tuple(src.shape)} into a "
                                 f"slice of sizes {sizes}")
        out = self.be.copy(dest)
        out[idx] = src.reshape(tuple(sizes))
        return [_Val(out, t)]

    def _tensor_cast(self, op, args, active, env):
        t = op.result_types[0]
        self.check_shape(op, args[0].x.shape, t)
        return [_Val(args[0].x, t)]

    def _linalg_index(self, op, args, active, env):
        d = _parse_int_attr(op.attrs["dim"])
        if self.loop_values is None or d not in self.loop_values:
            raise ReferenceError(f"{op}: loop {d} outside a linalg op's "
                                 "loops")
        return [_Val(self.loop_values[d], op.result_types[0])]

    def _linalg(self, op, args, active, env):
        """linalg.generic and the named ops as generics: fill, copy,
        broadcast, transpose, map, reduce, matmul, batch_matmul (their
        region, printed in generic form, is the body)."""
        name = op.name.split(".", 1)[1]
        seg = self.segments(op, [len(args) - len(op.results),
                                 len(op.results)])
        n_in = seg[0]
        ins, outs = args[:n_in], args[n_in:]
        if len(outs) != len(op.results) or any(
                v.t.kind != "tensor" for v in outs):
            raise UnsupportedOpError(f"{op}: linalg on buffers (results must "
                                     "be the outputs' tensors)")
        if not op.regions or op.regions[0].empty:
            raise UnsupportedOpError(f"{op}: no region")
        block = op.regions[0].blocks[0]
        rank = len(outs[0].t.shape)
        if name == "generic":
            maps = [self.affine_map(m)
                    for m in self.attr_list(op, "indexing_maps")]
            iters = re.findall(r"parallel|reduction|window",
                               self.resolve(op.attrs["iterator_types"]))
        elif name in ("matmul", "batch_matmul"):
            if "indexing_maps" in op.attrs:
                maps = [self.affine_map(m)
                        for m in self.attr_list(op, "indexing_maps")]
            else:
                m, n_, k = (0, 1, 2) if name == "matmul" else (1, 2, 3)
                lead = [] if name == "matmul" else [0]
                loops = k + 1
                maps = [AffineMap.of_dims(loops, lead + [m, k]),
                        AffineMap.of_dims(loops, lead + [k, n_]),
                        AffineMap.of_dims(loops, lead + [m, n_])]
            out_dims = set(maps[-1].pure())
            iters = ["parallel" if d in out_dims else "reduction"
                     for d in range(maps[-1].dims)]
        elif name == "reduce":
            added = _parse_i64_array(op.attrs["dimensions"])
            rank = len(ins[0].t.shape)
            maps = [AffineMap.identity(rank)] * len(ins) + [AffineMap.of_dims(
                rank, [d for d in range(rank) if d not in added])] * len(outs)
            iters = ["reduction" if d in added else "parallel"
                     for d in range(rank)]
        elif name in ("fill", "copy", "broadcast", "transpose", "map"):
            out_map = AffineMap.identity(rank)
            if name == "fill":
                in_map = AffineMap.of_dims(rank, [])
            elif name in ("copy", "map"):
                in_map = out_map
            elif name == "broadcast":
                added = _parse_i64_array(op.attrs["dimensions"])
                in_map = AffineMap.of_dims(
                    rank, [d for d in range(rank) if d not in added])
            else:
                perm = _parse_i64_array(op.attrs["permutation"])
                if sorted(perm) != list(range(rank)):
                    raise ParseError(f"{op}: permutation {perm}")
                inv = [0] * rank
                for i, p in enumerate(perm):
                    inv[p] = i
                in_map = AffineMap.of_dims(rank, inv)
            maps = [in_map] * len(ins) + [out_map]
            iters = ["parallel"] * rank
        else:
            raise UnsupportedOpError(f"the reference cannot evaluate "
                                     f"'{op.name}' ({op})")
        return self.generic(op, ins, outs, maps, iters, block, env)

    def generic(self, op, ins, outs, maps, iters, block, env):
        """Evaluates a linalg.generic on tensors: every region value is an
        array over the parallel loops (in loop order), and the reduction
        loops run serially, point by point in loop order, each step feeding
        the outputs' values of the last one (the outs' values at the first),
        so memory stays O(output) and the sums are accumulated in the
        region's order. The parallel loops are cut into chunks of at most
        max_elems points along the largest one."""
        be = self.be
        n = len(iters)
        operands = list(ins) + list(outs)
        # linalg.map's body has no arguments for its inits.
        with_inits = len(block.args) != len(ins)
        if len(maps) != len(operands) or \
                len(block.args) != len(operands) and with_inits:
            raise ParseError(f"{op}: {len(maps)} indexing maps and "
                             f"{len(block.args)} block arguments for "
                             f"{len(operands)} operands")
        sizes = [None] * n
        for v, m in zip(operands, maps):
            if m.dims != n:
                raise ParseError(f"{op}: an indexing map of {m.dims} loops, "
                                 f"{n} iterator types")
            if v.t.kind != "tensor":
                if m.results:
                    raise ParseError(f"{op}: a scalar operand with results "
                                     f"in its map {m.text}")
                continue
            if len(m.results) != v.x.ndim:
                raise ReferenceError(f"{op}: map {m.text} for a rank-"
                                     f"{v.x.ndim} operand")
            for k, d in enumerate(m.pure()):
                if isinstance(d, int):
                    s = int(v.x.shape[k])
                    if sizes[d] is None:
                        sizes[d] = s
                    elif sizes[d] != s:
                        raise ReferenceError(f"{op}: loop d{d} has sizes "
                                             f"{sizes[d]} and {s}")
        if None in sizes:
            raise UnsupportedOpError(f"{op}: loop d{sizes.index(None)} is "
                                     "not a dimension of an operand")
        if any(it not in ("parallel", "reduction") for it in iters):
            raise UnsupportedOpError(f"{op}: iterator types {iters}")
        par = [d for d in range(n) if iters[d] == "parallel"]
        red = [d for d in range(n) if iters[d] == "reduction"]
        out_dims = []
        for v, m in zip(outs, maps[len(ins):]):
            pure = m.pure()
            if sorted(p for p in pure if isinstance(p, int)) != par or \
                    not all(isinstance(p, int) for p in pure):
                raise UnsupportedOpError(
                    f"{op}: output map {m.text} is not a permutation of the "
                    "parallel loops")
            out_dims.append(pure)
        res_types = [v.t for v in outs]
        total = 1
        for d in par:
            total *= sizes[d]
        steps = 1
        for d in red:
            steps *= sizes[d]
        if total == 0 or steps == 0:
            # No point runs the region: the outputs are the inits.
            return [_Val(v.x, t) for v, t in zip(outs, op.result_types)]
        # Chunks along the largest parallel loop.
        pc, chunk = None, None
        if par and total > self.max_elems:
            pc = max(par, key=lambda d: sizes[d])
            chunk = max(1, self.max_elems // max(1, total // sizes[pc]))
        bounds = [None] if pc is None else \
            [(c, min(sizes[pc], c + chunk))
             for c in range(0, sizes[pc], chunk)]
        results = [None] * len(outs)
        if pc is not None:
            results = [be.zeros([int(s) for s in v.x.shape], _kind(v.t))
                       for v in outs]
        local = dict(env)
        arg_types = [t for _, t in block.args]
        saved = self.loop_values
        try:
            for bnd in bounds:
                ranges = {d: (0, sizes[d]) for d in par}
                if bnd is not None:
                    ranges[pc] = bnd
                gshape = [ranges[d][1] - ranges[d][0] for d in par]
                loop_values = {}
                for a, d in enumerate(par):
                    shp = [1] * len(par)
                    shp[a] = gshape[a]
                    loop_values[d] = be.arange(*ranges[d]).reshape(
                        tuple(shp))
                fixed = {}  # inputs that no reduction loop moves
                for k, (v, m) in enumerate(zip(ins, maps)):
                    if not any(isinstance(p, int) and p in red
                               for p in m.pure()) and not any(
                            p is None for p in m.pure()):
                        fixed[k] = self.fetch(op, v, m, par, ranges, gshape,
                                              {}, loop_values)
                acc = [self.fetch(op, v, m, par, ranges, gshape, {},
                                  loop_values)
                       for v, m in zip(outs, maps[len(ins):])]
                for point in itertools.product(*[range(sizes[d])
                                                 for d in red]):
                    rv = dict(zip(red, point))
                    values = dict(loop_values)
                    for d, i in rv.items():
                        values[d] = be.scalar(i, "int")
                    self.loop_values = values
                    vals = []
                    for k, (v, m) in enumerate(zip(ins, maps)):
                        x = fixed[k] if k in fixed else self.fetch(
                            op, v, m, par, ranges, gshape, rv, values)
                        vals.append(_Val(x, arg_types[k]))
                    if with_inits:
                        vals += [_Val(x, arg_types[len(ins) + k])
                                 for k, x in enumerate(acc)]
                    ys = self.run_block(block, vals, local, None)
                    if len(ys) != len(outs):
                        raise ParseError(f"{op}: the region yields "
                                         f"{len(ys)} values for "
                                         f"{len(outs)} outputs")
                    acc = [self.store(y.x, t.elem)
                           for y, t in zip(ys, res_types)]
                for k, (x, pure) in enumerate(zip(acc, out_dims)):
                    x = be.broadcast_to(x, gshape)
                    x = be.permute(x, [par.index(p) for p in pure])
                    if bnd is None:
                        results[k] = be.materialise(x, x.shape)
                    else:
                        idx = tuple(slice(*bnd) if p == pc else slice(None)
                                    for p in pure)
                        results[k][idx] = x
        finally:
            self.loop_values = saved
        return [_Val(r, t) for r, t in zip(results, op.result_types)]

    def fetch(self, op, v, m, par, ranges, gshape, rv, loop_values):
        """Operand v through map m at the reduction point rv, as an array
        broadcast over the parallel loops' grid of this chunk."""
        be = self.be
        x = v.x
        if v.t.kind != "tensor":
            return x
        pure = m.pure()
        dims = [p for p in pure if isinstance(p, int)]
        if None not in pure and len(set(dims)) == len(dims):
            # Loops and constants only: a strided view, permuted.
            idx, axes = [], []
            for k, p in enumerate(pure):
                size = int(x.shape[k])
                if isinstance(p, tuple):
                    if not 0 <= p[1] < size:
                        raise ReferenceError(f"{op}: index {p[1]} out of "
                                             f"bounds in dimension {k} "
                                             f"(size {size})")
                    idx.append(p[1])
                elif p in rv:
                    idx.append(rv[p])
                else:
                    lo, hi = ranges[p]
                    idx.append(slice(None) if (lo, hi) == (0, size)
                               else slice(lo, hi))
                    axes.append(par.index(p))
            y = x[tuple(idx)]
            if not be.torch:
                y = be.xp.asarray(y)
            order = sorted(range(len(axes)), key=lambda a: axes[a])
            y = be.permute(y, order)
            present = set(axes)
            return y.reshape(tuple(gshape[a] if a in present else 1
                                   for a in range(len(par))))
        # Compound expressions: a gather with index arrays.
        values = {d: loop_values[d] for d in par}
        values.update(rv)

        def floordiv(a, b):
            if isinstance(a, int) and isinstance(b, int):
                return a // b
            return be.floordiv(a, b)
        idx, any_array = [], False
        for k, e in enumerate(m.results):
            size = int(x.shape[k])
            i = m.evaluate(e, values, floordiv)
            if isinstance(i, int):
                if not 0 <= i < size:
                    raise ReferenceError(f"{op}: index {i} out of bounds in "
                                         f"dimension {k} (size {size})")
            else:
                any_array = True
                if be.any((i < 0) | (i >= size)):
                    raise ReferenceError(f"{op}: an index out of bounds in "
                                         f"dimension {k} (size {size}) of "
                                         f"map {m.text}")
            idx.append(i)
        if any_array:
            idx = [be.scalar(i, "int") if isinstance(i, int) else i
                   for i in idx]
        y = x[tuple(idx)]
        return y if be.torch else be.xp.asarray(y)

    def _merge(self, op, args, active, env):
        """attn.merge (docs/Merge.md): m = max_i lse_i, lse = m + log sum_i
        exp(lse_i - m), O = sum_i exp(lse_i - lse) O_i, in the evaluation
        dtype; O = 0 and lse = -inf where every lse_i is -inf; a NaN lse
        makes the row NaN. O is rounded to its element type when that is
        narrower than f32."""
        be = self.be
        if not args or len(args) % 2:
            raise ParseError(f"{op}: needs (O, lse) pairs")
        n = len(args) // 2
        outs = [a.x for a in args[:n]]
        lses = [a.x for a in args[n:]]
        bshd = "bshd" in op.attrs.get("layout", "bhsd")
        o0 = outs[0]
        if o0.ndim != 4:
            raise ReferenceError(f"{op}: O of rank {o0.ndim}")
        B, S, H = (int(o0.shape[0]), int(o0.shape[1]), int(o0.shape[2])) \
            if bshd else (int(o0.shape[0]), int(o0.shape[2]),
                          int(o0.shape[1]))
        for k in range(n):
            if tuple(outs[k].shape) != tuple(o0.shape) or \
                    tuple(int(s) for s in lses[k].shape) != (B, H, S):
                raise ReferenceError(
                    f"{op}: partial #{k} has shapes {tuple(outs[k].shape)} "
                    f"and {tuple(lses[k].shape)}, partial #0 "
                    f"{tuple(o0.shape)} and lse [{B}, {H}, {S}]")
        neg_inf = be.scalar(float("-inf"), "float")
        zero = be.scalar(0.0, "float")
        m = lses[0]
        for x in lses[1:]:
            m = be.maximum(m, x)  # NaN propagates
        none = m == float("-inf")
        m0 = be.where(none, zero, m)
        total = be.fn("exp")(lses[0] - m0)
        for x in lses[1:]:
            total = total + be.fn("exp")(x - m0)
        lse = be.where(none, neg_inf, m + be.fn("log")(total))
        gone = lse == float("-inf")

        def rows(x):  # [B, H, S] -> broadcastable to O
            return (be.swap12(x) if bshd else x).reshape(
                (B, S, H, 1) if bshd else (B, H, S, 1))
        lse_o = rows(lse)
        o = None
        for k in range(n):
            w = be.fn("exp")(rows(lses[k]) - lse_o)
            o = w * outs[k] if o is None else o + w * outs[k]
        gone_o = rows(gone)
        o = be.where(gone_o, zero, o)
        t_o, t_l = op.result_types[0], op.result_types[1]
        o = self.output(op, o)
        self.masked_rows[id(op)] = (gone_o, gone)
        return [_Val(o, t_o), _Val(lse, t_l)]

    def _attention(self, op, args, active, env):
        return _evaluate_attention(self, op, args)

    _HANDLERS = {}


for _n in ("addi", "subi", "muli", "andi", "ori", "xori", "maxsi", "minsi",
           "maxui", "minui", "shli", "shrsi", "shrui", "divsi", "divui",
           "remsi", "remui", "floordivsi", "ceildivsi", "ceildivui"):
    _Interp._HANDLERS["arith." + _n] = _Interp._int_binary
for _n in ("arith.addf", "arith.subf", "arith.mulf", "arith.divf",
           "arith.remf", "arith.maximumf", "arith.minimumf", "arith.maxnumf",
           "arith.minnumf", "math.powf", "math.copysign", "math.atan2"):
    _Interp._HANDLERS[_n] = _Interp._float_binary
for _n in ("arith.index_cast", "arith.index_castui", "arith.extsi",
           "arith.extui", "arith.trunci"):
    _Interp._HANDLERS[_n] = _Interp._int_cast
for _n in ("math.isnan", "math.isinf", "math.isfinite"):
    _Interp._HANDLERS[_n] = _Interp._fclass
for _n in ("math.ctlz", "math.cttz", "math.ctpop"):
    _Interp._HANDLERS[_n] = _Interp._bitcount
_Interp._HANDLERS.update({
    "arith.constant": _Interp._constant,
    "arith.cmpi": _Interp._cmpi,
    "arith.cmpf": _Interp._cmpf,
    "arith.select": _Interp._select,
    "arith.negf": _Interp._negf,
    "arith.sitofp": _Interp._itofp,
    "arith.uitofp": _Interp._itofp,
    "arith.fptosi": _Interp._fptoi,
    "arith.fptoui": _Interp._fptoi,
    "arith.extf": _Interp._extf,
    "arith.truncf": _Interp._truncf,
    "math.rsqrt": _Interp._rsqrt,
    "math.round": _Interp._round,
    "math.fma": _Interp._fma,
    "math.fpowi": _Interp._fpowi,
    "math.absi": _Interp._absi,
    "tensor.extract": _Interp._extract,
    "tensor.dim": _Interp._dim,
    "tensor.concat": _Interp._concat,
    "attn.gather_pages": _Interp._gather_pages,
    "attn.append_pages": _Interp._append_pages,
    "attn.unpack": _Interp._unpack,
    "attn.rope": _Interp._rope,
    "attn.pack": _Interp._pack,
    "attn.lsh_buckets": _Interp._lsh_buckets,
    "attn.nearest_centroid": _Interp._nearest_centroid,
    "attn.sort_ids": _Interp._sort_ids,
    "attn.permute": _Interp._permute,
    "attn.topk_blocks": _Interp._topk_blocks,
    "attn.linear_attention": _Interp._linear_attention,
    "scf.if": _Interp._scf_if,
    "attn.attention": _Interp._attention,
    "attn.merge": _Interp._merge,
    "tensor.empty": _Interp._empty,
    "tensor.collapse_shape": _Interp._collapse_shape,
    "tensor.expand_shape": _Interp._expand_shape,
    "tensor.extract_slice": _Interp._extract_slice,
    "tensor.insert_slice": _Interp._insert_slice,
    "tensor.cast": _Interp._tensor_cast,
    "linalg.index": _Interp._linalg_index,
})
for _n in ("generic", "fill", "copy", "broadcast", "transpose", "matmul",
           "batch_matmul", "map", "reduce"):
    _Interp._HANDLERS["linalg." + _n] = _Interp._linalg


#===----------------------------------------------------------------------===#
# attn.attention
#===----------------------------------------------------------------------===#

class AttentionInfo:
    """What the reference reads from one attn.attention op."""

    def __init__(self, op):
        self.op = op
        if len(op.operands) < 3:
            raise ParseError(f"{op}: needs Q, K and V")
        layout = op.attrs.get("layout", "#attn.layout<bhsd>")
        m = re.search(r"(bhsd|bshd)", layout)
        if not m:
            raise UnsupportedOpError(f"{op}: layout {layout}")
        self.layout = m.group(1)
        self.scale = None
        if "scale" in op.attrs:
            lit, ty = _split_typed(op.attrs["scale"])
            self.scale = _parse_scalar_literal(
                lit, ty or Type("float", "f32", name="f32", width=32))
        regions = op.regions + [Region()] * (2 - len(op.regions))
        self.score = None if regions[0].empty else regions[0].blocks[0]
        self.mask = None if regions[1].empty else regions[1].blocks[0]
        self.num_results = len(op.results)
        qt = op.operand_types[0]
        if qt.kind != "tensor" or len(qt.shape) != 4:
            raise ParseError(f"{op}: Q must be a rank-4 tensor")


def _evaluate_attention(interp, op, args):
    be = interp.be
    info = op.info or AttentionInfo(op)
    q, k, v = (a.x for a in args[:3])
    captures = list(args[3:])
    if info.layout == "bshd":
        q, k, v = be.swap12(q), be.swap12(k), be.swap12(v)
    B, Hq, Sq, D = q.shape
    Bk, Hkv, Sk, Dk = k.shape
    Dv = v.shape[3]
    if Bk != B or v.shape[0] != B or Dk != D or v.shape[1] != Hkv or \
            v.shape[2] != Sk:
        raise ReferenceError(f"{op}: inconsistent shapes Q {tuple(q.shape)} "
                             f"K {tuple(k.shape)} V {tuple(v.shape)}")
    if Hkv == 0 or Hq % Hkv:
        raise ReferenceError(f"{op}: Hq = {Hq} is not a multiple of "
                             f"Hkv = {Hkv}")
    g = Hq // Hkv
    scale = info.scale if info.scale is not None else \
        _round_f32(1.0 / math.sqrt(D))
    o = be.zeros((B, Hq, Sq, Dv))
    lse = be.full((B, Hq, Sq), float("-inf"))
    if Sq and Sk and B and Hq:
        kt = be.swap_last(k).reshape(B, Hkv, 1, D, Sk)
        v5 = v.reshape(B, Hkv, 1, Sk, Dv)
        bidx = be.arange(0, B).reshape(B, 1, 1, 1)
        hidx = be.arange(0, Hq).reshape(1, Hq, 1, 1)
        jidx = be.arange(0, Sk).reshape(1, 1, 1, Sk)
        t_index = Type("index", "index", width=64)
        t_f32 = Type("float", "f32", name="f32", width=32)
        chunk = max(1, min(Sq, interp.max_elems // max(1, B * Hq * Sk)))
        for i0 in range(0, Sq, chunk):
            i1 = min(Sq, i0 + chunk)
            c = i1 - i0
            qc = q[:, :, i0:i1, :].reshape(B, Hkv, g, c, D)
            s = (qc @ kt).reshape(B, Hq, c, Sk) * scale
            iidx = be.arange(i0, i1).reshape(1, 1, c, 1)
            grid = [_Val(bidx, t_index), _Val(hidx, t_index),
                    _Val(iidx, t_index), _Val(jidx, t_index)]
            keep = None
            if info.mask is not None:
                out = interp.run_block(info.mask, grid + captures, {}, None)
                keep = out[0].x
                if keep.dtype != be.bool:
                    keep = keep != 0
            if info.score is not None:
                # Evaluated only where the mask keeps the key: undefined
                # behaviour on masked lanes is not an error.
                out = interp.run_block(info.score, [_Val(s, t_f32)] + grid
                                       + captures, {}, keep)
                r = out[0].x
                if tuple(r.shape) != (B, Hq, c, Sk):
                    r = be.broadcast_to(r, (B, Hq, c, Sk)) + \
                        be.zeros((B, Hq, c, Sk))
                s = r
            if keep is not None:
                s = be.where(keep, s, be.scalar(float("-inf"), "float"))
            m = be.amax_last(s)
            finite = m > float("-inf")
            m0 = be.where(finite, m, be.scalar(0.0, "float"))
            p = be.fn("exp")(s - m0)
            l = be.sum_last(p)
            pv = (p.reshape(B, Hkv, g, c, Sk) @ v5).reshape(B, Hq, c, Dv)
            live = l > 0
            l1 = be.where(live, l, be.scalar(1.0, "float"))
            o[:, :, i0:i1, :] = be.where(live, pv / l1,
                                         be.scalar(0.0, "float"))
            lrow = be.where(live, be.fn("log")(l1) + m0,
                            be.scalar(float("-inf"), "float"))
            lse[:, :, i0:i1] = lrow.reshape(B, Hq, c)
    dead = lse == float("-inf")
    dead_o = dead.reshape(B, Hq, Sq, 1)
    if info.layout == "bshd":
        o = be.swap12(o)
        dead_o = be.swap12(dead_o)
    interp.masked_rows[id(op)] = (dead_o, dead)
    # O as the function returns it: not rounded to its element type, so
    # that checks can measure a bf16/f16 result in ulps; as other ops
    # compute with it: rounded, as its type says (attn.merge of bf16
    # partials sums rounded values).
    o = interp.output(op, o)
    res = [_Val(o, op.result_types[0])]
    if info.num_results > 1:
        res.append(_Val(lse, op.result_types[1]))
    return res


#===----------------------------------------------------------------------===#
# Specs
#===----------------------------------------------------------------------===#

class Argument:
    """One argument of the entry function."""

    def __init__(self, name, type, dims=None, range=None):
        self.name, self.type, self.dims, self.range = name, type, dims, range

    def __repr__(self):
        return f"Argument({self.name}: {self.type}, dims={self.dims}, " \
               f"range={self.range})"


class Evaluation:
    """Results of one evaluation: `outputs` (one array per function result,
    in the evaluation dtype; O in the op's layout), and `fully_masked`: for
    each result of an attn.attention or attn.merge, a boolean array
    broadcastable to it that is true on rows whose keys are all masked (O
    must be exactly 0 there, lse exactly -inf), and for the O of an
    attn.linear_attention, on its rows with no keys (O exactly 0 there);
    None for other results
    (those of linalg or tensor ops, an argument returned as it is)."""

    def __init__(self, outputs, fully_masked):
        self.outputs, self.fully_masked = outputs, fully_masked


class Spec:
    """A parsed spec: its entry function and attention ops.
    `rounds_intermediates`: whether an op computes with an attention's (or
    merge's) bf16/f16 O, which the reference then rounds first (so results
    past it carry that rounding, and can be one rounding flip away from
    another evaluation's, not within an ulp)."""

    def __init__(self, text, entry=None):
        ops, self.aliases = _Scanner(text).top_level()
        funcs = []

        def collect(op_list):
            for op in op_list:
                if op.name == "func.func":
                    funcs.append(op)
                elif op.name == "builtin.module":
                    for region in op.regions:
                        for block in region.blocks:
                            collect(block.ops)
        collect(ops)
        cands = []
        for f in funcs:
            name = f.attrs.get("sym_name", '""').strip().strip('"')
            vis = f.attrs.get("sym_visibility", "").strip().strip('"')
            if not f.regions or f.regions[0].empty:
                continue
            if entry is not None:
                if name == entry:
                    cands.append((name, f))
            elif vis != "private":
                cands.append((name, f))
        if len(cands) != 1:
            raise ParseError(
                "expected exactly one public function with a body"
                + (f" named {entry}" if entry else "")
                + f", found {[c[0] for c in cands]}")
        self.name, self.func = cands[0]
        self.body = self.func.regions[0].blocks[0]
        arg_attrs = self._arg_attrs()
        self.arguments = []
        for k, (name, ty) in enumerate(self.body.args):
            a = arg_attrs[k] if k < len(arg_attrs) else {}
            dims = _parse_json_list(a["attn.dims"]) if "attn.dims" in a \
                else None
            rng = _parse_json_list(a["attn.range"]) if "attn.range" in a \
                else None
            self.arguments.append(Argument(name, ty, dims, rng))
        self.attentions = []
        for op in self.body.ops:
            if op.name == "attn.attention":
                info = AttentionInfo(op)
                op.info = info
                self.attentions.append(info)
        if not self.attentions and not any(
                op.name == "attn.linear_attention" for op in self.body.ops):
            raise ParseError(f"@{self.name} holds no attn.attention or "
                             "attn.linear_attention")
        ret = self.body.ops[-1]
        if ret.name != "func.return":
            raise ParseError(f"@{self.name} does not end in func.return")
        self.result_types = list(ret.operand_types)
        self._symbols = self._derive_symbols()
        self._mark_rounding()

    def _arg_attrs(self):
        text = self.func.attrs.get("arg_attrs")
        if not text:
            return []
        sc = _Scanner(text)
        sc.expect("[")
        out = []
        while not sc.peek("]"):
            out.append(sc.attr_dict())
            if not sc.accept(","):
                break
        sc.expect("]")
        return out

    def _derive_symbols(self):
        """Symbol per (argument, dim) for the dynamic dims of the arguments,
        by attune-run's rule (lib/Runner/Runner.cpp, planArguments): the
        names in the arguments' attn.dims first; then B and Sq / Sk for the
        arguments that feed Q, K and V of each attention, in order (a later
        attention's role wins), directly or through ops that keep an
        operand's shape (_same_shape_operand)."""
        syms = {}
        for att in self.attentions:
            seq_dim = 2 if att.layout == "bhsd" else 1
            for operand, seq in zip(att.op.operands[:3], ("Sq", "Sk", "Sk")):
                k = self._source_argument(operand)
                if k is not None:
                    syms[(k, 0)] = "B"
                    syms[(k, seq_dim)] = seq
        for k, a in enumerate(self.arguments):
            if a.dims:
                for d, s in enumerate(a.dims):
                    if isinstance(s, str):
                        syms[(k, d)] = s
        # The offsets of a varlen batch hold B + 1 values.
        index = {a.name: k for k, a in enumerate(self.arguments)}
        for op in self.body.ops:
            if op.name in ("attn.unpack", "attn.pack") and \
                    len(op.operands) > 1 and op.operands[1] in index:
                syms.setdefault((index[op.operands[1]], 0), "B_plus_1")
        return syms

    def _source_argument(self, v):
        """The index of the argument whose shape value v has, directly or
        through ops that keep an operand's shape (_same_shape_operand), or
        None."""
        arg_index = {a.name: k for k, a in enumerate(self.arguments)}
        producers = {}
        for op in self.body.ops:
            for r_i, r in enumerate(op.results):
                producers[r] = (op, r_i)
        for _ in range(1000):
            if v in arg_index:
                return arg_index[v]
            prod = producers.get(v)
            v = self._same_shape_operand(*prod) if prod else None
            if v is None:
                return None
        return None

    def append_tables(self, shapes):
        """The attn.append_pages ops of the function, for harnesses that draw
        valid inputs for them (docs/PagedKV.md: a block table that lists no
        page twice, lengths that leave room for the new rows), given the
        arguments' concrete shapes (argument_shapes; None for scalars): one
        dict per op with `table` and `lengths`, the indices of the arguments
        that are its block_table and seq_lens (None when the function
        computes them), and its sizes `pages` N, `page_size` P, `batch` B,
        `max_pages` M and `new_rows` S."""
        def shape_of(op, k):
            src = self._source_argument(op.operands[k])
            shape = shapes[src] if src is not None and \
                shapes[src] is not None else op.operand_types[k].shape
            if shape is None or any(n is None for n in shape):
                raise ReferenceError(f"{op}: cannot tell the shape of "
                                     f"operand {k}")
            return [int(n) for n in shape]
        arg_index = {a.name: k for k, a in enumerate(self.arguments)}
        out = []
        for op in self.body.ops:
            if op.name != "attn.append_pages":
                continue
            rows, cache, table = (shape_of(op, k) for k in range(3))
            bshd = "bshd" in op.attrs.get("layout", "bhsd")
            cache_bshd = "bshd" in op.attrs.get("cache_layout", "bshd")
            out.append(dict(
                table=arg_index.get(op.operands[2]),
                lengths=arg_index.get(op.operands[3]),
                pages=cache[0], page_size=cache[1 if cache_bshd else 2],
                batch=table[0], max_pages=table[1],
                new_rows=rows[1 if bshd else 2]))
        return out

    def append_limits(self, shapes):
        """What valid inputs of the attn.append_pages ops are drawn from
        (append_tables): ({block table argument: page count N}, {lengths
        argument: the largest length M P - S that leaves room for the S
        new rows}). Raises DoesNotFit when S > M P, ValueError when a
        table's B M pages cannot be distinct (B M > N)."""
        pages, room = {}, {}
        for a in self.append_tables(shapes):
            k = a["table"]
            if k is not None:
                pages[k] = min(a["pages"], pages.get(k, a["pages"]))
            if a["lengths"] is not None:
                r = a["max_pages"] * a["page_size"] - a["new_rows"]
                if r < 0:
                    raise DoesNotFit(
                        f"{a['new_rows']} new rows do not fit in the block "
                        f"table's {a['max_pages']} pages of "
                        f"{a['page_size']} rows")
                room[a["lengths"]] = min(r, room.get(a["lengths"], r))
        for k, n in pages.items():
            B, M = shapes[k]
            if B * M > n:
                raise ValueError(
                    f"{self.arguments[k].name}: {B} sequences of {M} pages "
                    f"need {B * M} distinct pages, the cache has {n}")
        return pages, room

    def _mark_rounding(self):
        """self.round_o: the ids of the attn.attention / attn.merge /
        attn.linear_attention ops whose O reaches, directly or through ops
        that only move data, an op that computes with it (which then reads
        it rounded to its element type)."""
        users = {}

        def note(op, top):
            for o in op.operands:
                users.setdefault(o, []).append(top)
            for region in op.regions:
                for block in region.blocks:
                    for nested in block.ops:
                        note(nested, None)  # a use inside a region computes
        for op in self.body.ops:
            note(op, op)
        self.round_o = set()
        for op in self.body.ops:
            if op.name not in ("attn.attention", "attn.merge",
                               "attn.linear_attention"):
                continue
            todo, seen = [op.results[0]], set()
            while todo and id(op) not in self.round_o:
                v = todo.pop()
                if v in seen:
                    continue
                seen.add(v)
                for user in users.get(v, []):
                    if user is not None and user.name == "func.return":
                        continue
                    if user is not None and user.name in _DATA_MOVEMENT:
                        todo.extend(user.results)
                    else:
                        self.round_o.add(id(op))
        self.rounds_intermediates = any(
            op.result_types[0].kind == "tensor" and
            op.result_types[0].elem.kind == "float" and
            op.result_types[0].elem.name not in ("f32", "f64")
            for op in self.body.ops if id(op) in self.round_o)

    def _same_shape_operand(self, op, r_i):
        """The operand whose shape result r_i of op has, or None: the rule
        of oracle::getSameShapeOperand (lib/Oracle/ShapeInference.cpp)."""
        name = op.name
        if name == "tensor.cast":
            return op.operands[0]
        if name.startswith("linalg.") and len(op.results) > r_i:
            seg = op.attrs.get("operandSegmentSizes")
            n_in = _parse_i64_array(seg)[0] if seg else \
                len(op.operands) - len(op.results)
            init = n_in + r_i
            if init >= len(op.operands):
                return None
            maps = None
            if "indexing_maps" in op.attrs:
                try:
                    sc = _Scanner(self._resolve(op.attrs["indexing_maps"]))
                    sc.expect("[")
                    maps = []
                    while not sc.peek("]"):
                        maps.append(re.sub(r"\s+", "", self._resolve(
                            sc.balanced(",]"))))
                        if not sc.accept(","):
                            break
                except ParseError:
                    maps = None
            elif name == "linalg.copy":
                maps = ["identity"] * len(op.operands)
            if maps is not None and len(maps) == len(op.operands):
                for k in range(n_in):
                    if op.operand_types[k].kind == "tensor" and \
                            maps[k] == maps[init]:
                        return op.operands[k]
            return op.operands[init]
        if name == "attn.append_pages":
            return op.operands[1]
        if name == "attn.merge":
            return op.operands[0 if r_i == 0 else len(op.operands) // 2]
        if name in ("attn.attention", "attn.gather_pages", "attn.unpack",
                    "attn.pack", "attn.lsh_buckets", "attn.nearest_centroid",
                    "attn.sort_ids", "attn.permute", "attn.topk_blocks",
                    "attn.linear_attention", "tensor.empty", "tensor.concat",
                    "tensor.extract_slice", "tensor.pad",
                    "tensor.collapse_shape", "tensor.expand_shape"):
            return None
        if name == "tensor.insert_slice":
            return op.operands[1]
        if r_i == 0 and op.operands and op.result_types:
            t, src = op.result_types[0], op.operand_types[0]
            if t.kind == "tensor" and src.kind == "tensor" and \
                    len(t.shape) == len(src.shape) and all(
                        a is None or b is None or a == b
                        for a, b in zip(t.shape, src.shape)):
                return op.operands[0]
        return None

    def _resolve(self, text):
        text = text.strip()
        return self.aliases.get(text, text)

    def argument_shapes(self, sizes):
        """Concrete shapes of the arguments for sizes {"B":.., "Sq":..,
        "Sk":..} (None for scalars)."""
        shapes = []
        for k, a in enumerate(self.arguments):
            if a.type.kind != "tensor":
                shapes.append(None)
                continue
            shape = []
            for d, n in enumerate(a.type.shape):
                if n is not None:
                    shape.append(n)
                    continue
                sym = self._symbols.get((k, d))
                if sym is None:
                    raise ReferenceError(
                        f"cannot tell the size of dimension {d} of {a.name}")
                if sym == "B_plus_1" and sym not in sizes:
                    shape.append(int(sizes.get("B", 1)) + 1)
                    continue
                if sym not in sizes:
                    if sym == "Sk" and "Sq" in sizes:
                        sym = "Sq"
                    else:
                        raise ReferenceError(f"no size for symbol {sym}")
                shape.append(int(sizes[sym]))
            shapes.append(shape)
        return shapes

    def evaluate(self, inputs, xp=None, dtype="float32", device=None,
                 max_elems=1 << 24):
        """Evaluates the entry function on `inputs` (one per argument, in
        order: numpy arrays / torch tensors of any float dtype, integer
        arrays, or Python numbers for scalars)."""
        if len(inputs) != len(self.arguments):
            raise ReferenceError(f"@{self.name} takes {len(self.arguments)} "
                                 f"arguments, {len(inputs)} given")
        if xp is None:
            xp = _infer_xp(inputs)
        if device is None and xp.__name__ == "torch":
            for x in inputs:
                if isinstance(x, xp.Tensor):
                    device = x.device
                    break
        if dtype == "float64" and xp.__name__ == "torch":
            pass  # allowed, though the GPU run uses float32
        be = _Backend(xp, dtype, device)
        interp = _Interp(be, self.aliases)
        interp.max_elems = max_elems
        interp.round_o = self.round_o
        env = {}
        for a, x in zip(self.arguments, inputs):
            t = a.type
            elem = t.elem if t.kind == "tensor" else t
            kind = "float" if elem.kind == "float" else \
                "bool" if (elem.is_int and elem.int_width == 1) else "int"
            if not (elem.kind == "float" or elem.is_int):
                raise UnsupportedOpError(f"argument {a.name} of type {t}")
            arr = be.asarray(x, kind)
            if t.kind == "tensor":
                if arr.ndim != len(t.shape) or any(
                        n is not None and n != int(m)
                        for n, m in zip(t.shape, arr.shape)):
                    raise ReferenceError(
                        f"argument {a.name}: shape {tuple(arr.shape)} does "
                        f"not fit {t}")
            elif arr.ndim != 0:
                arr = arr.reshape(())
            if kind == "int" and elem.int_width < 64:
                arr = interp.wrap(arr, elem.int_width)
            env[a.name] = _Val(arr, t)
        if be.torch:
            outs = interp.run_block(self.body, [env[a.name] for a in
                                                self.arguments], env, None)
        else:
            # Integer wrap-around is intended; inf/NaN are checked by callers.
            with xp.errstate(all="ignore"):
                outs = interp.run_block(self.body, [env[a.name] for a in
                                                    self.arguments], env, None)
        # Which results are attention (or merge) results, for the
        # masked-row maps.
        producers = {}
        for op in self.body.ops:
            for r_i, r in enumerate(op.results):
                producers[r] = (op, r_i)
        ret = self.body.ops[-1]
        masked = []
        outs = list(outs)
        for k, name in enumerate(ret.operands):
            prod = producers.get(name)
            if prod and prod[1] == 0 and id(prod[0]) in interp.raw_outputs:
                outs[k] = _Val(interp.raw_outputs[id(prod[0])], outs[k].t)
            if prod and prod[0].name in ("attn.attention", "attn.merge",
                                         "attn.linear_attention") \
                    and id(prod[0]) in interp.masked_rows:
                masked.append(interp.masked_rows[id(prod[0])][prod[1]])
            else:
                masked.append(None)
        return Evaluation([o.x for o in outs], masked)


def _infer_xp(inputs):
    for x in inputs:
        mod = type(x).__module__
        if mod.startswith("torch"):
            import torch
            return torch
    import numpy
    return numpy


def parse_spec(text, entry=None):
    """Parses a spec in MLIR generic form."""
    return Spec(text, entry)


def load_spec(path, entry=None):
    """Parses the generic-form spec in file `path`."""
    with open(path) as f:
        return Spec(f.read(), entry)


def evaluate(spec, inputs, **kw):
    """spec: a Spec, a path or generic-form text."""
    if not isinstance(spec, Spec):
        spec = load_spec(spec) if "\n" not in spec and not \
            spec.lstrip().startswith('"') else parse_spec(spec)
    return spec.evaluate(inputs, **kw)
