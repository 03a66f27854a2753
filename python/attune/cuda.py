"""Load and launch Attune CUDA artifacts from PyTorch.

A thin ctypes binding of the runtime's C API (runtime/include/attune_rt.h)::

    import attune.cuda
    attn = attune.cuda.load("out/document_mask")   # attunec --target=cuda:sm_90a
    o, lse = attn(q, k, v, q_doc, kv_doc)           # torch CUDA tensors
    attn(q, k, v, q_doc, kv_doc, out=(o, lse))      # into caller's tensors

Arguments are taken in the manifest's order and checked by the runtime
(dtype, rank, static dimensions, symbols, contiguity, alignment,
constraints); any mismatch raises :class:`Error` with the runtime's message.
Nothing is ever copied or converted: a non-contiguous tensor is an error.

Integer captures (i8/i32/i64 arguments with a manifest ``range``, e.g.
document ids) are range-checked before every launch: the runtime copies them
to the host and synchronizes the stream, and a value outside the range raises
:class:`Error` with status ``ERROR_CAPTURE_RANGE``. To skip that copy and
synchronization (benchmarks), pass ``check_captures=False`` to :func:`load`,
set ``module.capture_checks = False``, or set ``ATTUNE_RT_UNCHECKED_CAPTURES=1``
before loading.

The shared library is ``$ATTUNE_RT_LIB`` (a file, or a directory holding
``libattune_rt.so``), else the first of ``build-rt/`` and ``build/runtime/``
(under the repository root, then the working directory) that has it.
torch is imported only when a module is called, so ``import attune.cuda``
works without it.
"""

import ctypes
import math
import os
import struct
from collections import namedtuple

__all__ = ["Error", "Module", "TensorInfo", "load", "library_path"]

# attune_rt_status codes.
OK = 0
ERROR_INVALID_ARGUMENT = 1
ERROR_IO = 2
ERROR_MANIFEST = 3
ERROR_TENSOR = 4
ERROR_CONSTRAINT = 5
ERROR_UNSUPPORTED = 6
ERROR_DRIVER = 7
ERROR_OUT_OF_MEMORY = 8
ERROR_INTERNAL = 9
ERROR_CAPTURE_RANGE = 10

# attune_rt_tensor_kind.
_ARGUMENT, _RESULT, _WORKSPACE = 0, 1, 2

# attune_rt_dtype codes, by manifest name.
_DTYPE_CODES = {"f32": 0, "f16": 1, "bf16": 2, "i8": 3, "i32": 4, "i64": 5,
                "f64": 6}
_DTYPE_NAMES = {code: name for name, code in _DTYPE_CODES.items()}

_LIBRARY_NAME = "libattune_rt.so"


class Error(RuntimeError):
    """An error reported by the Attune runtime (or found before calling it).

    ``status`` is the runtime's attune_rt_status code (``ERROR_TENSOR``,
    ``ERROR_DRIVER``, ...); ``str(error)`` is its message.
    """

    def __init__(self, message, status=ERROR_INVALID_ARGUMENT):
        super().__init__(message)
        self.status = status


TensorInfo = namedtuple("TensorInfo",
                        "name dtype shape range scalar in_place_of")
TensorInfo.__doc__ = """A manifest argument, result or workspace buffer.

name: str; dtype: manifest dtype name ("bf16", ...); shape: tuple whose entries
are ints (static) or str (symbols); range: (lo, hi) or None; scalar: True for
a scalar argument passed by value (a Python number); in_place_of: for a result
the kernels write into an argument's buffer (a paged KV cache appended to),
that argument's index, else None."""


class _Tensor(ctypes.Structure):
    """attune_rt_tensor."""

    _fields_ = [
        ("data", ctypes.c_uint64),
        ("dtype", ctypes.c_int32),
        ("rank", ctypes.c_int32),
        ("shape", ctypes.POINTER(ctypes.c_int64)),
        ("strides", ctypes.POINTER(ctypes.c_int64)),
    ]


_lib = None
_lib_path = None


def _candidates():
    env = os.environ.get("ATTUNE_RT_LIB")
    if env:
        yield os.path.join(env, _LIBRARY_NAME) if os.path.isdir(env) else env
        return
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    for base in (root, os.getcwd()):
        for build in ("build-rt", os.path.join("build", "runtime")):
            yield os.path.join(base, build, _LIBRARY_NAME)


def library_path():
    """The path of the runtime library that :func:`load` uses."""
    tried = []
    for path in _candidates():
        if os.path.isfile(path):
            return path
        tried.append(path)
    raise Error("cannot find the Attune runtime library (tried "
                + ", ".join(tried) + "); build it with `cmake -S runtime -B "
                "build-rt -G Ninja && ninja -C build-rt` or set ATTUNE_RT_LIB",
                ERROR_IO)


def _library():
    global _lib, _lib_path
    if _lib is not None:
        return _lib
    path = library_path()
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        raise Error(f"cannot load the Attune runtime library '{path}': {e}",
                    ERROR_IO) from None
    c = ctypes
    module_p, tensor_p = c.c_void_p, c.POINTER(_Tensor)
    signatures = {
        "attune_rt_last_error": (c.c_char_p, []),
        "attune_rt_load": (c.c_int, [c.c_char_p, c.POINTER(c.c_void_p)]),
        "attune_rt_unload": (None, [module_p]),
        "attune_rt_function": (c.c_char_p, [module_p]),
        "attune_rt_chip": (c.c_char_p, [module_p]),
        "attune_rt_num_tensors": (c.c_int32, [module_p, c.c_int32]),
        "attune_rt_tensor_name": (c.c_char_p, [module_p, c.c_int32, c.c_int32]),
        "attune_rt_tensor_dtype": (c.c_int32, [module_p, c.c_int32, c.c_int32]),
        "attune_rt_tensor_rank": (c.c_int32, [module_p, c.c_int32, c.c_int32]),
        "attune_rt_tensor_dim": (c.c_int64,
                                 [module_p, c.c_int32, c.c_int32, c.c_int32]),
        "attune_rt_tensor_dim_symbol": (
            c.c_char_p, [module_p, c.c_int32, c.c_int32, c.c_int32]),
        "attune_rt_tensor_is_scalar": (c.c_int,
                                       [module_p, c.c_int32, c.c_int32]),
        "attune_rt_tensor_range": (
            c.c_int, [module_p, c.c_int32, c.c_int32,
                      c.POINTER(c.c_double), c.POINTER(c.c_double)]),
        "attune_rt_result_in_place_of": (c.c_int32, [module_p, c.c_int32]),
        "attune_rt_result_shapes": (
            c.c_int, [module_p, tensor_p, c.c_int64, c.POINTER(c.c_int64),
                      c.c_int64]),
        "attune_rt_check": (c.c_int, [module_p, tensor_p, c.c_int64, tensor_p,
                                      c.c_int64]),
        "attune_rt_launch": (c.c_int, [module_p, tensor_p, c.c_int64, tensor_p,
                                       c.c_int64, c.c_void_p]),
        "attune_rt_set_capture_checks": (c.c_int, [module_p, c.c_int]),
        "attune_rt_capture_checks": (c.c_int, [module_p]),
    }
    for name, (restype, argtypes) in signatures.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    _lib, _lib_path = lib, path
    return lib


def _check(status):
    if status != OK:
        message = _library().attune_rt_last_error().decode(errors="replace")
        raise Error(message, status)


def load(directory, check_captures=None):
    """Loads the artifact directory ``directory`` (manifest.json + cubins).

    Parses and validates the manifest and reads the cubins; touches no GPU
    (kernels are loaded on the first call). ``check_captures``: whether calls
    range-check integer captures (see :attr:`Module.capture_checks`); None
    keeps the runtime's default (on, unless ``ATTUNE_RT_UNCHECKED_CAPTURES``
    is set). Raises :class:`Error`.
    """
    lib = _library()
    handle = ctypes.c_void_p()
    _check(lib.attune_rt_load(os.fsencode(os.fspath(directory)),
                              ctypes.byref(handle)))
    module = Module(handle, os.fspath(directory))
    if check_captures is not None:
        module.capture_checks = check_captures
    return module


# Scalar arguments: Python numbers to the bits attune_rt_tensor.data carries.
_INT_BITS = {"i8": 8, "i32": 32, "i64": 64}


def _f32_bits(value):
    return struct.unpack("<I", struct.pack("<f", value))[0]


def _scalar_bits(what, dtype, value):
    """The zero-extended bits of ``value`` as a ``dtype`` scalar."""
    if hasattr(value, "item") and callable(value.item):  # 0-d tensor / numpy
        if getattr(value, "is_cuda", False):
            raise Error(f"{what} is a scalar: pass a Python number, not a CUDA "
                        "tensor (reading it would synchronize)", ERROR_TENSOR)
        value = value.item()
    if dtype in _INT_BITS:
        if isinstance(value, float) or not isinstance(value, int):
            raise Error(f"{what} is an {dtype} scalar; got "
                        f"{type(value).__name__} {value!r}", ERROR_TENSOR)
        bits = _INT_BITS[dtype]
        if not -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
            raise Error(f"{what} = {value} does not fit {dtype}", ERROR_TENSOR)
        return value & ((1 << bits) - 1)
    if not isinstance(value, (int, float)):
        raise Error(f"{what} is an {dtype} scalar; got "
                    f"{type(value).__name__} {value!r}", ERROR_TENSOR)
    value = float(value)
    try:
        if dtype == "f32":
            return _f32_bits(value)
        if dtype == "f16":
            return struct.unpack("<H", struct.pack("<e", value))[0]
    except OverflowError:
        raise Error(f"{what} = {value} does not fit {dtype}",
                    ERROR_TENSOR) from None
    if dtype == "bf16":
        if math.isnan(value):
            return 0x7FC0
        try:
            bits = _f32_bits(value)
        except OverflowError:
            raise Error(f"{what} = {value} does not fit {dtype}",
                        ERROR_TENSOR) from None
        # Round to nearest even on the 16 bits dropped.
        rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
        if (rounded & 0x7F80) == 0x7F80 and not math.isinf(value):
            raise Error(f"{what} = {value} does not fit {dtype}", ERROR_TENSOR)
        return rounded
    raise Error(f"{what} has unsupported scalar dtype {dtype}", ERROR_TENSOR)


def _torch():
    try:
        import torch
    except ImportError as e:
        raise ImportError("attune.cuda needs PyTorch to launch kernels: "
                          f"{e}") from None
    return torch


def _torch_dtypes(torch):
    return {torch.float32: 0, torch.float16: 1, torch.bfloat16: 2,
            torch.int8: 3, torch.int32: 4, torch.int64: 5,
            torch.float64: 6}


class Module:
    """A loaded artifact directory; call it like the compiled function."""

    def __init__(self, handle, directory):
        self._handle = handle
        self.directory = directory
        lib = _library()
        self.function = lib.attune_rt_function(handle).decode()
        self.chip = lib.attune_rt_chip(handle).decode()
        self.arguments = self._infos(_ARGUMENT)
        self.results = self._infos(_RESULT)
        self.workspace = self._infos(_WORKSPACE)

    def _infos(self, kind):
        lib, h = _library(), self._handle
        infos = []
        for i in range(lib.attune_rt_num_tensors(h, kind)):
            shape = []
            for d in range(lib.attune_rt_tensor_rank(h, kind, i)):
                symbol = lib.attune_rt_tensor_dim_symbol(h, kind, i, d)
                shape.append(symbol.decode() if symbol is not None
                             else lib.attune_rt_tensor_dim(h, kind, i, d))
            lo, hi = ctypes.c_double(), ctypes.c_double()
            has_range = lib.attune_rt_tensor_range(h, kind, i, ctypes.byref(lo),
                                                   ctypes.byref(hi))
            in_place = (lib.attune_rt_result_in_place_of(h, i)
                        if kind == _RESULT else -1)
            rng = None
            if has_range:
                rng = tuple(int(x) if x.is_integer() else x
                            for x in (lo.value, hi.value))
            infos.append(TensorInfo(
                lib.attune_rt_tensor_name(h, kind, i).decode(),
                _DTYPE_NAMES[lib.attune_rt_tensor_dtype(h, kind, i)],
                tuple(shape), rng,
                bool(lib.attune_rt_tensor_is_scalar(h, kind, i)),
                in_place if kind == _RESULT and in_place >= 0 else None))
        return infos

    @property
    def capture_checks(self):
        """Whether each call range-checks the integer captures (arguments of
        dtype i8/i32/i64 with a ``range``): a device-to-host copy and a stream
        synchronization per call; a value outside the range raises
        :class:`Error` (``ERROR_CAPTURE_RANGE``) and launches nothing. Settable;
        benchmarks whose inputs are known to be in range turn it off."""
        return bool(_library().attune_rt_capture_checks(self._live()))

    @capture_checks.setter
    def capture_checks(self, enabled):
        _check(_library().attune_rt_set_capture_checks(self._live(),
                                                       1 if enabled else 0))

    def close(self):
        """Unloads the module (its kernels and workspace buffers)."""
        if self._handle is not None and self._handle.value:
            _library().attune_rt_unload(self._handle)
        self._handle = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _live(self):
        if self._handle is None:
            raise Error(f"module '{self.function}' is closed")
        return self._handle

    def __repr__(self):
        def fmt(infos):
            return ", ".join(
                f"{t.name}: {t.dtype}" + ("" if t.scalar else
                                          "[" + ", ".join(map(str, t.shape)) + "]")
                for t in infos)
        return (f"<attune.cuda.Module {self.function} ({self.chip}) "
                f"({fmt(self.arguments)}) -> ({fmt(self.results)})>")

    # --- building descriptors -------------------------------------------

    def _count_error(self, noun, infos, got):
        names = ", ".join(t.name for t in infos)
        plural = "" if len(infos) == 1 else "s"
        listed = f" ({names})" if infos else ""
        return Error(f"expected {len(infos)} {noun}{plural}{listed} but got "
                     f"{got}", ERROR_TENSOR)

    def _descriptors(self, torch, role, infos, values, device, keep):
        """attune_rt_tensor array for ``values``; returns (array, device)."""
        codes = _torch_dtypes(torch)
        array = (_Tensor * max(len(values), 1))()
        for i, (info, value) in enumerate(zip(infos, values)):
            what = f"{role} '{info.name}'"
            if info.scalar:
                array[i] = _Tensor(_scalar_bits(what, info.dtype, value),
                                   _DTYPE_CODES[info.dtype], 0, None, None)
                continue
            if not isinstance(value, torch.Tensor):
                raise Error(f"{what} must be a torch.Tensor, got "
                            f"{type(value).__name__}", ERROR_TENSOR)
            if value.device.type != "cuda":
                raise Error(f"{what} is on {value.device}; expected a CUDA "
                            "tensor", ERROR_TENSOR)
            if device is None:
                device = value.device
            elif value.device != device:
                raise Error(f"{what} is on {value.device} but the first tensor "
                            f"is on {device}", ERROR_TENSOR)
            code = codes.get(value.dtype)
            if code is None:
                raise Error(f"{what} has dtype {value.dtype}, which the runtime "
                            f"does not support (the manifest expects "
                            f"{info.dtype})", ERROR_TENSOR)
            rank = value.dim()
            shape = (ctypes.c_int64 * max(rank, 1))(*value.shape)
            strides = (ctypes.c_int64 * max(rank, 1))(*value.stride())
            keep += [shape, strides]
            array[i] = _Tensor(value.data_ptr(), code, rank, shape, strides)
        return array, device

    def _stream_handle(self, torch, stream, device):
        if stream is None:
            return torch.cuda.current_stream(device).cuda_stream
        if isinstance(stream, int):
            return stream
        handle = getattr(stream, "cuda_stream", None)
        if handle is None:
            raise Error(f"stream must be a torch.cuda.Stream or a CUstream "
                        f"handle (int), got {type(stream).__name__}")
        stream_device = getattr(stream, "device", None)
        if stream_device is not None and device is not None and \
                torch.device(stream_device) != device:
            raise Error(f"the stream is on {stream_device} but the tensors are "
                        f"on {device}")
        return handle

    # --- calling --------------------------------------------------------

    def result_shapes(self, *args):
        """The result shapes the runtime derives from ``args``."""
        if len(args) != len(self.arguments):
            raise self._count_error("argument", self.arguments, len(args))
        torch = _torch()
        keep = []
        arg_array, _ = self._descriptors(torch, "argument", self.arguments,
                                         args, None, keep)
        return self._result_shapes(arg_array, len(args))

    def _result_shapes(self, arg_array, num_args):
        total = sum(len(r.shape) for r in self.results)
        dims = (ctypes.c_int64 * max(total, 1))()
        _check(_library().attune_rt_result_shapes(
            self._live(), arg_array, num_args, dims, total))
        shapes, at = [], 0
        for r in self.results:
            shapes.append(tuple(dims[at:at + len(r.shape)]))
            at += len(r.shape)
        return shapes

    def __call__(self, *args, out=None, stream=None):
        """Launches the kernels on ``args`` (manifest order; a kernel with an
        ``if`` only when its condition on the shapes holds).

        ``out``: the results to write (a tuple in the manifest's result order,
        or a tensor when there is one result); by default they are allocated
        with torch.empty, except that a result written in place into an
        argument (``in_place_of``, e.g. an appended KV cache) is that
        argument's tensor, updated by the call. ``stream``: a torch.cuda.Stream or CUstream handle;
        default torch.cuda.current_stream() of the tensors' device. Returns
        the result tensor, a tuple of them if there are several, or None.
        """
        handle = self._live()
        if len(args) != len(self.arguments):
            raise self._count_error("argument", self.arguments, len(args))
        if out is not None:
            if not isinstance(out, (tuple, list)):
                out = (out,)
            if len(out) != len(self.results):
                raise self._count_error("result", self.results, len(out))
        torch = _torch()
        keep = []
        arg_array, device = self._descriptors(torch, "argument",
                                              self.arguments, args, None, keep)
        if out is None:
            if device is None:
                device = torch.device("cuda", torch.cuda.current_device())
            shapes = self._result_shapes(arg_array, len(args))
            dtypes = {code: dt for dt, code in _torch_dtypes(torch).items()}
            out = tuple(args[r.in_place_of] if r.in_place_of is not None
                        else torch.empty(shape, device=device,
                                         dtype=dtypes[_DTYPE_CODES[r.dtype]])
                        for shape, r in zip(shapes, self.results))
        out = tuple(out)
        res_array, device = self._descriptors(torch, "result", self.results,
                                              out, device, keep)
        if device is None:
            device = torch.device("cuda", torch.cuda.current_device())
        with torch.cuda.device(device):
            stream_handle = self._stream_handle(torch, stream, device)
            _check(_library().attune_rt_launch(
                handle, arg_array, len(args), res_array, len(out),
                ctypes.c_void_p(stream_handle)))
        if not out:
            return None
        return out[0] if len(out) == 1 else out
