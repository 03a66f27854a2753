"""Smoke tests of python/attune/cuda.py without torch or a GPU.

Run by ctest (AttuneRT.python) with ATTUNE_RT_LIB pointing at the built
libattune_rt.so and PYTHONPATH at python/.
"""

import os
import shutil
import sys
import tempfile
import unittest

import attune.cuda as cuda

INPUTS = os.environ.get("ATTUNE_RT_TEST_INPUTS",
                        os.path.join(os.path.dirname(__file__), "..", "Inputs"))
DOCUMENT_MASK = os.path.join(INPUTS, "document_mask")


class ImportTest(unittest.TestCase):
    def test_import_does_not_need_torch(self):
        self.assertNotIn("torch", sys.modules)

    def test_library_is_found(self):
        self.assertTrue(os.path.isfile(cuda.library_path()))


class LoadTest(unittest.TestCase):
    def test_nonexistent_directory_raises(self):
        with self.assertRaises(cuda.Error) as ctx:
            cuda.load("/nonexistent/attune-artifacts")
        self.assertEqual(ctx.exception.status, cuda.ERROR_IO)
        self.assertEqual(str(ctx.exception),
                         "cannot open artifact directory "
                         "'/nonexistent/attune-artifacts': No such file or "
                         "directory")

    def test_malformed_manifest_raises(self):
        tmp = tempfile.mkdtemp()
        try:
            with open(os.path.join(tmp, "manifest.json"), "w") as f:
                f.write('{"format": "attune-cuda", "version": 2}')
            with self.assertRaises(cuda.Error) as ctx:
                cuda.load(tmp)
            self.assertEqual(ctx.exception.status, cuda.ERROR_MANIFEST)
            self.assertIn("version: unsupported manifest version 2",
                          str(ctx.exception))
        finally:
            shutil.rmtree(tmp)

    def test_manifest_is_described(self):
        m = cuda.load(DOCUMENT_MASK)
        self.assertEqual(m.function, "document_mask")
        self.assertEqual(m.chip, "sm_90a")
        self.assertEqual([a.name for a in m.arguments],
                         ["q", "k", "v", "q_doc", "kv_doc"])
        self.assertEqual(m.arguments[0],
                         cuda.TensorInfo("q", "bf16", ("B", "Hq", "Sq", 128),
                                         None, False, None))
        self.assertEqual(m.arguments[3].range, (0, 4))
        self.assertEqual(m.results[1],
                         cuda.TensorInfo("lse", "f32", ("B", "Hq", "Sq"), None,
                                         False, None))
        self.assertEqual(m.workspace, [])
        self.assertIn("document_mask (sm_90a)", repr(m))
        m.close()
        m.close()  # idempotent
        with self.assertRaises(cuda.Error):
            m()

    def test_wrong_argument_count_is_checked_first(self):
        with cuda.load(DOCUMENT_MASK) as m:
            with self.assertRaises(cuda.Error) as ctx:
                m(1, 2)
            self.assertEqual(str(ctx.exception),
                             "expected 5 arguments (q, k, v, q_doc, kv_doc) "
                             "but got 2")
            self.assertEqual(ctx.exception.status, cuda.ERROR_TENSOR)


class ScalarBitsTest(unittest.TestCase):
    def test_conversions(self):
        bits = cuda._scalar_bits
        self.assertEqual(bits("x", "f32", 1.0), 0x3F800000)
        self.assertEqual(bits("x", "f32", 2), 0x40000000)
        self.assertEqual(bits("x", "f16", 1.0), 0x3C00)
        self.assertEqual(bits("x", "bf16", 1.0), 0x3F80)
        # 1 + 2^-8 is halfway between two bf16 values: rounds to even.
        self.assertEqual(bits("x", "bf16", 1.0 + 2 ** -8), 0x3F80)
        self.assertEqual(bits("x", "bf16", float("nan")), 0x7FC0)
        self.assertEqual(bits("x", "i32", -1), 0xFFFFFFFF)
        self.assertEqual(bits("x", "i64", 5), 5)
        self.assertEqual(bits("x", "i8", -128), 0x80)

    def test_errors(self):
        for dtype, value, message in [
                ("i32", 1 << 31, "argument 'w' = 2147483648 does not fit i32"),
                ("i32", 1.5, "argument 'w' is an i32 scalar; got float 1.5"),
                ("f16", 1e6, "argument 'w' = 1000000.0 does not fit f16"),
                ("f32", "1", "argument 'w' is an f32 scalar; got str '1'")]:
            with self.assertRaises(cuda.Error) as ctx:
                cuda._scalar_bits("argument 'w'", dtype, value)
            self.assertEqual(str(ctx.exception), message)


class DriverTest(unittest.TestCase):
    def test_missing_driver_is_an_error_not_a_crash(self):
        # The launch passes every check, then needs the driver, which this
        # process loads (once) from a path that does not exist.
        os.environ["ATTUNE_RT_LIBCUDA"] = "/nonexistent/libcuda.so.1"
        import ctypes
        m = cuda.load(DOCUMENT_MASK)
        lib = cuda._library()
        shapes = [(2, 8, 64, 128), (2, 2, 64, 128), (2, 2, 64, 128), (2, 64),
                  (2, 64), (2, 8, 64, 128), (2, 8, 64)]
        dtypes = [2, 2, 2, 4, 4, 2, 0]
        keep = []
        descs = (cuda._Tensor * 7)()
        for i, (shape, dtype) in enumerate(zip(shapes, dtypes)):
            arr = (ctypes.c_int64 * len(shape))(*shape)
            keep.append(arr)
            descs[i] = cuda._Tensor(0x100000 * (i + 1), dtype, len(shape), arr,
                                    None)
        results = ctypes.cast(ctypes.byref(descs, 5 * ctypes.sizeof(cuda._Tensor)),
                              ctypes.POINTER(cuda._Tensor))
        self.assertEqual(lib.attune_rt_check(m._handle, descs, 5, results, 2),
                         cuda.OK)
        status = lib.attune_rt_launch(m._handle, descs, 5, results, 2, None)
        self.assertEqual(status, cuda.ERROR_DRIVER)
        message = lib.attune_rt_last_error().decode()
        self.assertTrue(message.startswith(
            "cannot load the CUDA driver '/nonexistent/libcuda.so.1': "),
            message)
        with self.assertRaises(cuda.Error) as ctx:
            cuda._check(status)
        self.assertEqual(ctx.exception.status, cuda.ERROR_DRIVER)
        m.close()


if __name__ == "__main__":
    unittest.main()
