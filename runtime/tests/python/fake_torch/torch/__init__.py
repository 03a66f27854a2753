"""A stand-in for the few parts of PyTorch that attune.cuda uses.

Only for runtime/tests/python/test_cuda_fake.py, which runs attune.cuda's
launch path against the fake libcuda on machines without torch or a GPU.
Tensors are shapes, strides and made-up device addresses; nothing is stored.
"""

import contextlib
import itertools
import types


class dtype:
    def __init__(self, name, itemsize):
        self.name, self.itemsize = name, itemsize

    def __repr__(self):
        return f"torch.{self.name}"


float32 = dtype("float32", 4)
float16 = dtype("float16", 2)
bfloat16 = dtype("bfloat16", 2)
float64 = dtype("float64", 8)
complex64 = dtype("complex64", 8)
int8 = dtype("int8", 1)
int32 = dtype("int32", 4)
int64 = dtype("int64", 8)


class device:
    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif ":" in type:
            type, index = type.split(":")
            index = int(index)
        self.type = type
        self.index = 0 if type == "cuda" and index is None else index

    def __eq__(self, other):
        other = device(other) if isinstance(other, str) else other
        return (isinstance(other, device) and self.type == other.type
                and self.index == other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        return self.type + ("" if self.index is None else f":{self.index}")


_addresses = itertools.count(1)


def _contiguous(shape):
    strides, step = [], 1
    for size in reversed(shape):
        strides.insert(0, step)
        step *= size
    return tuple(strides)


class Tensor:
    def __init__(self, shape, dtype=float32, device="cuda:0", strides=None,
                 address=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.device = device if not isinstance(device, str) else \
            globals()["device"](device)
        self._strides = tuple(strides) if strides else _contiguous(self.shape)
        self._address = address or 0x10000000 * next(_addresses)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    def dim(self):
        return len(self.shape)

    def stride(self):
        return self._strides

    def data_ptr(self):
        return self._address

    def transpose(self, a, b):
        shape, strides = list(self.shape), list(self._strides)
        shape[a], shape[b] = shape[b], shape[a]
        strides[a], strides[b] = strides[b], strides[a]
        return Tensor(shape, self.dtype, self.device, strides, self._address)


def empty(shape, dtype=float32, device="cuda:0"):
    return Tensor(shape, dtype, device)


class _Stream:
    def __init__(self, handle, device=None):
        self.cuda_stream = handle
        self.device = device


_current = {"device": 0}
entered_devices = []


@contextlib.contextmanager
def _device_guard(d):
    entered_devices.append(device(d))
    yield


cuda = types.SimpleNamespace(
    Stream=_Stream,
    current_device=lambda: _current["device"],
    current_stream=lambda d=None: _Stream(0x77, d),
    device=_device_guard,
)
