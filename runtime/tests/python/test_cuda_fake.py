"""attune.cuda's launch path against the fake libcuda and a fake torch.

Run by ctest (AttuneRT.python-fake) in its own process, with
ATTUNE_RT_LIBCUDA and ATTUNE_RT_FAKE_CUDA naming libAttuneRTFakeCuda.so: the
runtime loads it as the driver, and this test reads what it recorded.
fake_torch/ stands in for PyTorch (shapes, strides and made-up addresses).
"""

import ctypes
import os
import sys
import unittest

FAKE_CUDA = os.environ.get("ATTUNE_RT_FAKE_CUDA")
if not FAKE_CUDA or os.environ.get("ATTUNE_RT_LIBCUDA") != FAKE_CUDA:
    raise unittest.SkipTest("needs ATTUNE_RT_LIBCUDA=ATTUNE_RT_FAKE_CUDA=<fake "
                            "libcuda> (run through ctest)")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "fake_torch"))
import torch  # noqa: E402  (the fake)

import attune.cuda as cuda  # noqa: E402

INPUTS = os.environ.get("ATTUNE_RT_TEST_INPUTS",
                        os.path.join(os.path.dirname(__file__), "..", "Inputs"))
DOCUMENT_MASK = os.path.join(INPUTS, "document_mask")

fake = ctypes.CDLL(FAKE_CUDA)
fake.fakeCudaNumLaunches.restype = ctypes.c_int
fake.fakeCudaLaunchParams.restype = ctypes.c_int
fake.fakeCudaLaunchParams.argtypes = [ctypes.c_int,
                                      ctypes.POINTER(ctypes.c_uint64),
                                      ctypes.c_int]
fake.fakeCudaLaunchStream.restype = ctypes.c_uint64
fake.fakeCudaLaunchStream.argtypes = [ctypes.c_int]
fake.fakeCudaLaunchGrid.restype = ctypes.c_uint64
fake.fakeCudaLaunchGrid.argtypes = [ctypes.c_int, ctypes.c_int]
fake.fakeCudaSetMemory.restype = None
fake.fakeCudaSetMemory.argtypes = [ctypes.c_uint64, ctypes.c_char_p,
                                   ctypes.c_uint64]


def last_launch():
    i = fake.fakeCudaNumLaunches() - 1
    out = (ctypes.c_uint64 * 256)()
    n = fake.fakeCudaLaunchParams(i, out, 256)
    grid = tuple(fake.fakeCudaLaunchGrid(i, d) for d in range(3))
    return list(out[:n]), fake.fakeCudaLaunchStream(i), grid


def inputs(b=2, hq=8, hkv=2, sq=130, sk=77, device="cuda:0"):
    return (torch.Tensor((b, hq, sq, 128), torch.bfloat16, device),
            torch.Tensor((b, hkv, sk, 128), torch.bfloat16, device),
            torch.Tensor((b, hkv, sk, 128), torch.bfloat16, device),
            torch.Tensor((b, sq), torch.int32, device),
            torch.Tensor((b, sk), torch.int32, device))


def memref(t):
    return [t.data_ptr(), t.data_ptr(), 0, *t.shape, *t.stride()]


class CallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = cuda.load(DOCUMENT_MASK)

    def test_allocates_results_and_launches(self):
        args = inputs()
        before = fake.fakeCudaNumLaunches()
        o, lse = self.m(*args)
        self.assertEqual(fake.fakeCudaNumLaunches(), before + 1)
        self.assertEqual(o.shape, (2, 8, 130, 128))
        self.assertIs(o.dtype, torch.bfloat16)
        self.assertEqual(lse.shape, (2, 8, 130))
        self.assertIs(lse.dtype, torch.float32)
        self.assertEqual(o.device, torch.device("cuda:0"))
        params, stream, grid = last_launch()
        expected = []
        for t in (*args, o, lse):
            expected += memref(t)
        self.assertEqual(params, expected)
        self.assertEqual(stream, 0x77)  # torch.cuda.current_stream()
        self.assertEqual(grid, (3, 8, 2))
        self.assertEqual(torch.entered_devices[-1], torch.device("cuda:0"))
        self.assertEqual(self.m.result_shapes(*args),
                         [(2, 8, 130, 128), (2, 8, 130)])

    def test_out_and_stream(self):
        args = inputs()
        out = (torch.empty((2, 8, 130, 128), torch.bfloat16),
               torch.empty((2, 8, 130), torch.float32))
        got = self.m(*args, out=out, stream=torch.cuda.Stream(0x99))
        self.assertIs(got[0], out[0])
        self.assertIs(got[1], out[1])
        params, stream, _ = last_launch()
        self.assertEqual(params[-(3 + 8 + 3 + 6):],
                         memref(out[0]) + memref(out[1]))
        self.assertEqual(stream, 0x99)
        self.m(*args, out=list(out), stream=0x1234)
        self.assertEqual(last_launch()[1], 0x1234)

    def test_mismatches_raise_and_launch_nothing(self):
        before = fake.fakeCudaNumLaunches()
        q, k, v, qd, kd = inputs()
        cases = [
            ((q, k.transpose(1, 2), v, qd, kd), {},
             "argument 'k' is not contiguous: dimension 2 has stride 9856 but "
             "a contiguous row-major tensor of shape [2, 77, 2, 128] has "
             "stride 128 there (the runtime never copies; pass a contiguous "
             "tensor)"),
            ((q, k, torch.Tensor((2, 2, 64, 128), torch.bfloat16), qd, kd), {},
             "argument 'v' dimension 2 is 64 but symbol 'Sk' is 77 (from "
             "argument 'k' dimension 2)"),
            ((torch.Tensor(q.shape, torch.float16), k, v, qd, kd), {},
             "argument 'q' has dtype f16 but the manifest expects bf16"),
            ((torch.Tensor(q.shape, torch.float64), k, v, qd, kd), {},
             "argument 'q' has dtype f64 but the manifest expects bf16"),
            ((torch.Tensor(q.shape, torch.complex64), k, v, qd, kd), {},
             "argument 'q' has dtype torch.complex64, which the runtime does "
             "not support (the manifest expects bf16)"),
            ((q, k, v, torch.Tensor(qd.shape, torch.int32, "cpu"), kd), {},
             "argument 'q_doc' is on cpu; expected a CUDA tensor"),
            ((q, k, v, qd, torch.Tensor(kd.shape, torch.int32, "cuda:1")), {},
             "argument 'kv_doc' is on cuda:1 but the first tensor is on "
             "cuda:0"),
            ((q, k, v, qd, 3), {},
             "argument 'kv_doc' must be a torch.Tensor, got int"),
            (inputs(hq=6, hkv=4), {},
             "constraint divisible(Hq, Hkv) does not hold: 6 is not a multiple "
             "of 4 (Hq = 6, Hkv = 4)"),
            ((q, k, v, qd, kd), {"out": torch.empty((2, 8, 130, 128),
                                                   torch.bfloat16)},
             "expected 2 results (o, lse) but got 1"),
            ((q, k, v, qd, kd),
             {"out": (torch.empty((2, 8, 130, 128), torch.bfloat16),
                      torch.empty((2, 8, 129), torch.float32))},
             "result 'lse' dimension 2 is 129 but symbol 'Sq' is 130 (from "
             "argument 'q' dimension 2)"),
        ]
        for args, kwargs, message in cases:
            with self.assertRaises(cuda.Error) as ctx:
                self.m(*args, **kwargs)
            self.assertEqual(str(ctx.exception), message)
        self.assertEqual(fake.fakeCudaNumLaunches(), before)


class CaptureRangeTest(unittest.TestCase):
    def test_out_of_range_ids_raise_unless_unchecked(self):
        import struct
        m = cuda.load(DOCUMENT_MASK)
        self.assertTrue(m.capture_checks)
        q, k, v, qd, kd = inputs()
        ids = [1] * (2 * 130)
        ids[131] = 4
        fake.fakeCudaSetMemory(qd.data_ptr(), struct.pack("<260i", *ids),
                               4 * 260)
        before = fake.fakeCudaNumLaunches()
        with self.assertRaises(cuda.Error) as ctx:
            m(q, k, v, qd, kd)
        self.assertEqual(ctx.exception.status, cuda.ERROR_CAPTURE_RANGE)
        self.assertIn("argument 'q_doc' element [1, 1] is 4, outside its "
                      "range [0, 4)", str(ctx.exception))
        self.assertEqual(fake.fakeCudaNumLaunches(), before)
        m.capture_checks = False
        self.assertFalse(m.capture_checks)
        m(q, k, v, qd, kd)
        self.assertEqual(fake.fakeCudaNumLaunches(), before + 1)
        unchecked = cuda.load(DOCUMENT_MASK, check_captures=False)
        self.assertFalse(unchecked.capture_checks)
        unchecked(q, k, v, qd, kd)
        self.assertEqual(fake.fakeCudaNumLaunches(), before + 2)
        fake.fakeCudaSetMemory(qd.data_ptr(), b"", 0)
        m.close()
        unchecked.close()


class ScalarArgumentTest(unittest.TestCase):
    def test_scalars_are_passed_by_value(self):
        import tempfile
        tmp = tempfile.mkdtemp()
        with open(os.path.join(tmp, "manifest.json"), "w") as f:
            f.write("""{"format": "attune-cuda", "version": 1,
              "function": "softcap", "chip": "sm_80",
              "arguments": [
                {"name": "x", "dtype": "f32", "shape": ["N"]},
                {"name": "capture0", "dtype": "f32", "shape": [],
                 "scalar": true, "range": [1.5, 50]}],
              "results": [{"name": "y", "dtype": "f32", "shape": ["N"]}],
              "kernels": [{"name": "k", "cubin": "k.cubin",
                           "block": [32, 1, 1], "grid": [["N"], [], []],
                           "params": [{"tensor": "x"},
                                      {"scalar_arg": "capture0"},
                                      {"tensor": "y"}]}]}""")
        with open(os.path.join(tmp, "k.cubin"), "w") as f:
            f.write("cubin")
        m = cuda.load(tmp)
        self.assertEqual(m.arguments[1],
                         cuda.TensorInfo("capture0", "f32", (), (1.5, 50),
                                         True, None))
        x = torch.Tensor((10,), torch.float32)
        y = m(x, 30.0)
        self.assertEqual(y.shape, (10,))
        params, _, _ = last_launch()
        self.assertEqual(params, memref(x) + [0x41F00000] + memref(y))
        with self.assertRaises(cuda.Error) as ctx:
            m(x, "30")
        self.assertEqual(str(ctx.exception),
                         "argument 'capture0' is an f32 scalar; got str '30'")
        m.close()
        for name in ("manifest.json", "k.cubin"):
            os.remove(os.path.join(tmp, name))
        os.rmdir(tmp)


class InPlaceResultTest(unittest.TestCase):
    def test_in_place_results_are_the_arguments_tensor(self):
        import tempfile
        tmp = tempfile.mkdtemp()
        with open(os.path.join(tmp, "manifest.json"), "w") as f:
            f.write("""{"format": "attune-cuda", "version": 1,
              "function": "append", "chip": "sm_80",
              "arguments": [
                {"name": "x", "dtype": "f32", "shape": ["N"]},
                {"name": "cache", "dtype": "f32", "shape": [16]}],
              "results": [{"name": "y", "dtype": "f32", "shape": ["N"]},
                          {"name": "cache_out", "dtype": "f32",
                           "shape": [16], "in_place_of": "cache"}],
              "kernels": [{"name": "k", "cubin": "k.cubin",
                           "block": [32, 1, 1], "grid": [["N"], [], []],
                           "params": [{"tensor": "x"}, {"tensor": "cache"},
                                      {"tensor": "y"}]}]}""")
        with open(os.path.join(tmp, "k.cubin"), "w") as f:
            f.write("cubin")
        m = cuda.load(tmp)
        self.assertEqual(m.results[1].in_place_of, 1)
        self.assertIsNone(m.results[0].in_place_of)
        x = torch.Tensor((10,), torch.float32)
        cache = torch.Tensor((16,), torch.float32)
        y, out = m(x, cache)
        self.assertIs(out, cache)
        with self.assertRaises(cuda.Error) as ctx:
            m(x, cache, out=(y, torch.Tensor((16,), torch.float32)))
        self.assertEqual(ctx.exception.status, cuda.ERROR_TENSOR)
        self.assertIn("result 'cache_out' is written in place into argument "
                      "'cache': pass that argument's buffer as the result",
                      str(ctx.exception))
        m.close()
        for name in ("manifest.json", "k.cubin"):
            os.remove(os.path.join(tmp, name))
        os.rmdir(tmp)


if __name__ == "__main__":
    unittest.main()
