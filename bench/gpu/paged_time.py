#!/usr/bin/env python3
#===- bench/gpu/paged_time.py - Paged KV decode vs contiguous and peers ---===#
#
# Part of the Attune project.
#
# Decoding over a paged KV cache on the GPU (issue 14's row: B = 32,
# Hq = 32, Hkv = 8, D = 128, bf16, pages of 16 rows, L = 4k ... 32k), same
# run, one query token per sequence:
#
#   paged        bench/gpu/paged/bench_paged_decode.mlir: K/V read from
#                pages in random order through the block table
#   contiguous   bench/gpu/paged/bench_contiguous_decode.mlir: the same
#                attention on contiguous K/V [B, 8, L, 128]
#   sdpa         torch SDPA (enable_gqa) on the contiguous K/V
#   flex_paged   FlexAttention's paged attention (torch.nn.attention.
#                experimental._paged_attention.PagedAttention: the same
#                table, the caches as [1, Hkv, pages x 16, D], a block mask
#                of 16-key blocks converted to pages once, outside the
#                timing; flex_attention compiled, enable_gqa)
#   flashinfer   FlashInfer's BatchDecodeWithPagedKVCacheWrapper (NHD, the
#                same pages and table; planned once outside the timing),
#                where flashinfer is importable (flashinfer_setup.sh)
#   copy         a device-to-device copy of as many bytes as K and V hold:
#                bandwidth = 2 bytes / time (read and write)
#
# Bandwidth of a decode = the bytes of K and V it must read / time. Every
# output is compared with SDPA's. `--fill F` gives every sequence
# F x L keys in a block table (and contiguous K/V) of L rows, as a server's
# table sized for the longest context holds shorter sequences; SDPA then
# reads the F x L keys alone. Then, each in a fresh process (a failed
# device-side assertion ends the CUDA context): a block table entry outside
# the cache and a length past the table, with the runtime's host-side
# capture checks off, must fail the launch, not return.
#
# Run (on the GPU machine, PYTHONPATH=python, the runtime built):
#   python3 bench/gpu/paged_time.py --artifacts DIR [--lengths 4096,32768]
#       [--batch 32] [--fill 1.0] [--skip-flex] [--skip-bad]
#
#===----------------------------------------------------------------------===#

import argparse
import subprocess
import sys

import torch
import torch.nn.functional as F

import attune.cuda as acuda
from timing import median_seconds

B, HQ, HKV, D, P = 32, 32, 8, 128, 16


def paged_inputs(L, seed, length=None):
    """Contiguous K/V and the same rows as pages in random order; every
    sequence `length` (default L) keys long."""
    dev, bf = "cuda", torch.bfloat16
    g = torch.Generator(device=dev).manual_seed(seed)
    q = torch.randn(B, HQ, 1, D, generator=g, device=dev, dtype=bf)
    k = torch.randn(B, HKV, L, D, generator=g, device=dev, dtype=bf)
    v = torch.randn(B, HKV, L, D, generator=g, device=dev, dtype=bf)
    pages = B * L // P
    table = torch.randperm(pages, generator=g, device=dev).view(B, L // P)
    table = table.to(torch.int32)

    def paged(x):
        cache = torch.empty(pages, P, HKV, D, device=dev, dtype=bf)
        cache[table.flatten().long()] = x.view(B, HKV, L // P, P, D).permute(
            0, 2, 3, 1, 4).reshape(pages, P, HKV, D)
        return cache
    lens = torch.full((B,), L if length is None else length, device=dev,
                      dtype=torch.int32)
    return q, k, v, paged(k), paged(v), table, lens


def flex_paged(q, kc, vc, table, lens):
    """FlexAttention's paged decode over the same pages, as a callable
    (None, with the reason printed, where this torch lacks it)."""
    try:
        from torch.nn.attention.experimental._paged_attention import (
            PagedAttention)
        from torch.nn.attention.flex_attention import (create_block_mask,
                                                       flex_attention)
    except ImportError as e:
        print(f"# flex_paged unavailable: {e}")
        return None
    b, m = table.shape
    pages = kc.shape[0]
    pa = PagedAttention(pages, P, b, device=q.device.type)
    pa.page_table[:, :m] = table.long()
    rows = torch.arange(b, device=q.device).unsqueeze(1).expand(b, m)
    pa.physical_to_logical[rows.flatten(), table.flatten().long()] = (
        torch.arange(m, device=q.device).repeat(b))
    pa.capacity[:] = m * P

    def cache(x):  # [N, P, Hkv, D] -> FlexAttention's [1, Hkv, N P, D]
        return x.permute(2, 0, 1, 3).reshape(1, x.shape[2], -1, x.shape[3])
    k, v = cache(kc), cache(vc)

    def keep(bb, h, i, j):
        return j < lens[bb]
    logical = create_block_mask(keep, b, None, q.shape[2], m * P,
                                device=q.device.type, BLOCK_SIZE=(128, P))
    mask = pa.convert_logical_block_mask(logical, kv_len=lens)
    flex = torch.compile(flex_attention, dynamic=False)
    # The query batch is b; the caches' batch is 1 (every page in one row).
    return lambda: flex(q, k, v, block_mask=mask, enable_gqa=True)


def flashinfer_paged(q, kc, vc, table, lens):
    """FlashInfer's BatchDecodeWithPagedKVCacheWrapper over the same pages
    (NHD) and table, planned once outside the timing, as a callable (None,
    with the reason printed, where flashinfer is not importable:
    bench/gpu/flashinfer_setup.sh carries it to the GPU machine)."""
    try:
        from flashinfer.decode import BatchDecodeWithPagedKVCacheWrapper
    except ImportError as e:
        print(f"# flashinfer unavailable: {e}")
        return None
    b, dev = table.shape[0], q.device
    used = (lens + P - 1) // P                      # pages per sequence
    indptr = torch.zeros(b + 1, dtype=torch.int32, device=dev)
    indptr[1:] = torch.cumsum(used, 0)
    indices = torch.cat([table[i, :int(used[i])] for i in range(b)])
    last = (lens - (used - 1) * P).to(torch.int32)
    workspace = torch.empty(128 << 20, dtype=torch.uint8, device=dev)
    wrapper = BatchDecodeWithPagedKVCacheWrapper(workspace, "NHD")
    wrapper.plan(indptr, indices.contiguous(), last, HQ, HKV, D, P,
                 pos_encoding_mode="NONE", q_data_type=q.dtype,
                 kv_data_type=kc.dtype)
    q3 = q.view(b, HQ, D)                          # one token per sequence
    return lambda: wrapper.run(q3, (kc, vc)).view(b, HQ, 1, D)


def timings(args):
    paged = acuda.load(f"{args.artifacts}/bench_paged_decode",
                       check_captures=False)
    contiguous = acuda.load(f"{args.artifacts}/bench_contiguous_decode",
                            check_captures=False)
    print(f"# {torch.cuda.get_device_name()}, torch {torch.__version__}; "
          f"B={B} Hq={HQ} Hkv={HKV} D={D} P={P} Sq=1 bf16 fill={args.fill}; "
          f"ms (GB/s of K+V)")
    for L in (int(x) for x in args.lengths.split(",")):
        n = max(1, round(L * args.fill))
        q, k, v, kc, vc, table, lens = paged_inputs(L, L, n)
        # The keys of the sequences, for SDPA (and the bytes a decode reads).
        kn, vn = k[:, :, :n], v[:, :, :n]
        o = torch.empty(B, HQ, 1, D, device="cuda", dtype=torch.bfloat16)
        o2 = torch.empty_like(o)
        ref = F.scaled_dot_product_attention(q, kn, vn, enable_gqa=True)
        paged(q, kc, vc, table, lens, out=o)
        contiguous(q, k, v, lens, out=o2)
        flex = None if args.skip_flex else flex_paged(q, kc, vc, table, lens)
        fi = flashinfer_paged(q, kc, vc, table, lens)
        outs = [o, o2] + ([flex()] if flex else []) + ([fi()] if fi else [])
        torch.cuda.synchronize()
        err = max(float((x.float() - ref.float()).abs().max()) for x in outs)
        kv_bytes = 2 * kn.numel() * kn.element_size()
        src = torch.empty(kv_bytes // 2, device="cuda", dtype=torch.bfloat16)
        dst = torch.empty_like(src)
        rows = {
            "paged": lambda: paged(q, kc, vc, table, lens, out=o),
            "contiguous": lambda: contiguous(q, k, v, lens, out=o2),
            "sdpa": lambda: F.scaled_dot_product_attention(q, kn, vn,
                                                           enable_gqa=True),
            "copy": lambda: dst.copy_(src),
        }
        if flex:
            rows["flex_paged"] = flex
        if fi:
            rows["flashinfer"] = fi
        t = {n: median_seconds(fn, iters=30)
             for n, fn in rows.items()}
        bw = {n: kv_bytes / t[n] / 1e9 for n in rows}
        bw["copy"] = 2 * kv_bytes / t["copy"] / 1e9
        cells = "  ".join(f"{n} {t[n] * 1e3:.3f} ({bw[n]:.0f})" for n in rows)
        if fi:
            cells += (f"  paged vs flashinfer "
                      f"{t['flashinfer'] / t['paged']:.2f}x")
        print(f"L={L}: {cells}  paged/copy-BW {bw['paged'] / bw['copy']:.2f}"
              f"  paged vs sdpa {t['sdpa'] / t['paged']:.2f}x  paged vs "
              f"contiguous {t['contiguous'] / t['paged']:.2f}x  max|err| "
              f"{err:.2e}", flush=True)
        del q, k, v, kn, vn, kc, vc, src, dst


def bad_call(args):
    """One call with a broken table or length; exits 0 if it failed."""
    paged = acuda.load(f"{args.artifacts}/bench_paged_decode",
                       check_captures=False)
    L = 1024
    q, k, v, kc, vc, table, lens = paged_inputs(L, 1)
    if args.bad == "page":
        table[3, 5] = kc.shape[0]          # one past the last page
    else:
        lens[2] = L + 1                    # past the table's M P rows
    o = torch.empty(B, HQ, 1, D, device="cuda", dtype=torch.bfloat16)
    try:
        paged(q, kc, vc, table, lens, out=o)
        torch.cuda.synchronize()
    except Exception as e:  # noqa: BLE001
        print(f"bad {args.bad}: the call failed as it must: "
              f"{str(e).splitlines()[0][:200]}")
        return 0
    print(f"bad {args.bad}: FAIL, the call returned")
    return 1


def main():
    global B
    ap = argparse.ArgumentParser()
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--lengths", default="4096,8192,16384,32768")
    ap.add_argument("--batch", type=int, default=B,
                    help="sequences (the issue's row: 32)")
    ap.add_argument("--fill", type=float, default=1.0,
                    help="each sequence's keys / the table's rows L")
    ap.add_argument("--skip-flex", action="store_true",
                    help="without FlexAttention's paged attention")
    ap.add_argument("--skip-bad", action="store_true",
                    help="time only, without the bad-table calls")
    ap.add_argument("--bad", choices=["page", "length"],
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    B = args.batch
    if args.bad:
        return bad_call(args)
    timings(args)
    status = 0
    if args.skip_bad:
        return status
    for bad in ("page", "length"):
        run = subprocess.run([sys.executable, __file__, "--artifacts",
                              args.artifacts, "--bad", bad],
                             capture_output=True, text=True)
        print(run.stdout.strip() or run.stderr.strip()[-300:])
        status |= run.returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
