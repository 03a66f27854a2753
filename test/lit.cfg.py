# -*- Python -*-
# lit configuration for Attune's tests.

import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "ATTUNE"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.attune_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%attune_src_root", config.attune_src_root))
config.substitutions.append(("%python", config.python_executable))
# Programs that link `attunec` objects need the OpenMP runtime.
config.substitutions.append(
    ("%link_openmp",
     "%s -Wl,-rpath,%s" % (config.openmp_library,
                           os.path.dirname(config.openmp_library))))

# A test that hangs (a tool deadlocked in LLVM's crash handler after heap
# corruption has been seen) fails after this many seconds instead of running
# into CI's limit. The slowest test takes a few minutes, more under the
# sanitizers. lit needs psutil for it (python3-psutil, scripts/setup.sh).
try:
    import psutil  # noqa: F401
    lit_config.maxIndividualTestTime = 1800
except ImportError:
    lit_config.note("psutil is missing: no per-test time limit")

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
# The smaller size set of the sanitized run (scripts/sanitize.sh).
llvm_config.with_system_environment(["ATTUNE_CHECK_SIZES"])
llvm_config.use_default_substitutions()

# compile_examples.py's check that the CUDA runtime loads every artifact
# (attune_rt_load needs no GPU). A sanitized build's library needs its
# sanitizer runtime preloaded into Python: there, the runtime's own
# sanitized tests read manifests instead.
runtime_check = ""
if not config.attune_sanitize:
    runtime_check = "--runtime " + os.path.join(
        config.attune_obj_root, "runtime", "libattune_rt.so")
config.substitutions.append(("%runtime_check", runtime_check))

tool_dirs = [config.attune_tools_dir, config.llvm_tools_dir]
tools = ["attune-opt", "attune-run", "attunec", "not", "count", "split-file",
         "llvm-objdump"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# The CUDA target assembles its PTX with ptxas (CUDA toolkit, no GPU needed).
# CI has it at /usr/local/cuda; without it the cubin tests are unsupported
# and scripts/test.sh says so.
ptxas = os.environ.get("ATTUNE_PTXAS") or "/usr/local/cuda/bin/ptxas"
if os.access(ptxas, os.X_OK):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
    config.environment["ATTUNE_PTXAS"] = ptxas
