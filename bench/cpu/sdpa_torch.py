#!/usr/bin/env python3
#===- bench/cpu/sdpa_torch.py - Time PyTorch SDPA on the CPU ---------------===#
#
# Part of the Attune project.
#
# One JSON line: torch.nn.functional.scaled_dot_product_attention on the CPU
# at one shape (layout bhsd, seeded random inputs), median of --repeats runs
# after one warm-up, with the run.py GFLOP/s definition (4*B*H*S*S*D, halved
# for causal). run.py calls it in its own process, so that its peak RSS is
# the process's own. Never installs torch: run.py only calls it when
# `import torch` works.
#
#===----------------------------------------------------------------------===#

import argparse
import json
import resource
import statistics
import time

import torch
import torch.nn.functional as F


def main():
    parser = argparse.ArgumentParser(
        description="Time torch SDPA on the CPU at one shape.")
    for name in ("b", "h", "s", "d"):
        parser.add_argument(f"--{name}", type=int, required=True)
    parser.add_argument("--dtype", choices=("f32", "bf16"), default="f32")
    parser.add_argument("--causal", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dtype = torch.float32 if args.dtype == "f32" else torch.bfloat16
    q, k, v = (torch.rand(args.b, args.h, args.s, args.d, dtype=dtype) * 2 - 1
               for _ in range(3))
    tensor_mib = q.numel() * q.element_size() / 2**20  # Q, K, V and O alike.
    rss_with_io = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def call():
        return F.scaled_dot_product_attention(q, k, v, is_causal=args.causal)

    with torch.inference_mode():
        call()
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    flops = 4.0 * args.b * args.h * args.s * args.s * args.d
    flops *= 0.5 if args.causal else 1.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "torch": torch.__version__,
        "threads": args.threads,
        "median_ms": median * 1e3,
        "min_ms": min(times) * 1e3,
        "repeats": len(times),
        "gflops": flops / median * 1e-9,
        "peak_mib": peak,
        "io_mib": 4 * tensor_mib,
        # O is allocated by the first call, after rss_with_io was taken.
        "work_mib": max(0.0, peak - rss_with_io - tensor_mib),
    }))


if __name__ == "__main__":
    main()
