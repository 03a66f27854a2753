#===- bench/gpu/timing.py - CUDA-event timing for the bench scripts ------===#
#
# Part of the Attune project.
#
# The median time of a GPU callable, shared by the side-by-side scripts
# (concat_time.py, paged_time.py, segmented_time.py).
#
#===----------------------------------------------------------------------===#

import torch


def median_seconds(fn, iters=20):
    """Median seconds of `fn` over `iters` CUDA-event-timed calls, after 3
    warm-up calls."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    st = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    en = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    for i in range(iters):
        st[i].record()
        fn()
        en[i].record()
    torch.cuda.synchronize()
    ts = sorted(s.elapsed_time(e) for s, e in zip(st, en))
    return ts[len(ts) // 2] / 1e3
