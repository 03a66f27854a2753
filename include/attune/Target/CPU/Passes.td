//===- Passes.td - CPU target passes -----------------------*- tablegen -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_TARGET_CPU_PASSES_TD
#define ATTUNE_TARGET_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnCPUEntryPoints : Pass<"attn-cpu-entry-points", "::mlir::ModuleOp"> {
  let summary = "Give public functions the C calling convention of the runtime";
  let description = [{
    Runs on bufferized code. Every public `func.func` that returns memrefs
    gets one trailing out-parameter per result, of the same type: the
    result is copied into it (after a run-time check that the caller's
    buffer has the result's sizes, so a wrong buffer aborts with a message
    rather than being overrun) and the function returns nothing. Unlike
    upstream `buffer-results-to-out-params`, dynamic shapes are supported:
    the caller knows the result sizes from the shape rules of the spec.
    A result that the function allocates itself (`memref.alloc`) and returns
    once is instead computed directly in the caller's buffer: the
    allocation is replaced by the out-parameter, with the same size check,
    and no copy is made.

    Public functions are also marked `llvm.emit_c_interface`, so that
    `_mlir_ciface_<name>` takes pointers to memref descriptors.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::memref::MemRefDialect"
  ];
}

def AttnCPUCheckLimits : Pass<"attn-cpu-check-limits"> {
  let summary = "Refuse attention ops the CPU target cannot compile in bounded time";
  let description = [{
    Runs first in `attn-cpu-pipeline`. Fails with a diagnostic on every
    `attn.attention` whose head size `D` or `Dv` exceeds 4096
    (`attune::cpu::kMaxHeadSize`; the largest in use is 256, and code size
    and compile time of the fused kernel grow with it), and on every static
    shape of its operands, results and captures whose size in bytes does not
    fit in 64 bits (no buffer of it could be addressed). It also refuses a
    `tensor.expand_shape` with more than one dynamic size in a reassociation
    group, whose memref form upstream's `expand-strided-metadata` crashes on
    in LLVM 22, and a `tensor.dim` or `memref.dim` of a constant dimension
    outside `[0, rank)` (undefined behaviour, which an upstream fold of the
    pipeline crashes on).
  }];
}

def AttnCPUReadOnlyArguments
    : Pass<"attn-cpu-read-only-arguments", "::mlir::ModuleOp"> {
  let summary = "Keep bufferization from writing into the caller's inputs";
  let description = [{
    Runs before One-Shot Bufferize. Tensors have value semantics, but
    bufferization of function boundaries takes tensor arguments as writable
    buffers by default, so an op around the attention whose init is an
    argument (an elementwise op turned into linalg.generic, a linalg op
    written with `outs(%arg)`) would overwrite the caller's input in place.
    This pass marks every tensor argument of every function defined in the
    module `bufferization.writable = false`: such ops then write into a
    copy.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect"];
}

def AttnCPUCopiesToLinalg : Pass<"attn-cpu-copies-to-linalg"> {
  let summary = "Turn strided memref.copy into linalg.copy, lowered to loops";
  let description = [{
    Runs on bufferized code, before `convert-linalg-to-loops`. Upstream
    lowers a `memref.copy` between buffers that are not both contiguous
    (the subviews that `tensor.concat` and `tensor.insert_slice` bufferize
    to) into a call of `memrefCopy` from MLIR's C runner utilities, which
    neither the JIT nor a C program linking an `attunec` object provides.
    This pass rewrites each such copy into `linalg.copy`, which becomes
    plain loops; copies between contiguous identity-layout buffers stay
    `memref.copy` (an `llvm.memcpy`).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def AttnCPUInnermostParallel : Pass<"attn-cpu-innermost-parallel"> {
  let summary = "Put a contraction's stride-1 output loop innermost";
  let description = [{
    Runs before `convert-linalg-to-loops`. A `linalg.generic` with
    reduction loops whose output's last dimension is a parallel loop `d`,
    read by every input that uses it as its last dimension (stride 1), gets
    `d` as its innermost loop (upstream `interchangeGenericOp`; the other
    loops keep their order). Written with the reduction innermost, such an
    op (Linformer's projections `E . K` over the sequence,
    `examples/linformer.mlir`) lowers to a scalar float reduction, which
    LLVM does not vectorise without reassociation; with `d` innermost the
    inner loop is an elementwise multiply-add over contiguous rows, which
    LLVM's loop vectoriser turns into vector FMAs, and every element's sum
    keeps its order. A single reduction loop then moves outside the
    parallel loops after it while those span at most 4096 output elements
    (static sizes; 16 KiB of f32 accumulators stay in L1) and one parallel
    loop stays outside it, for the threads: `E . K` as
    (b, h, s, p, d) reads each row of K once instead of once per projected
    row p. Measured in bench/RESULTS.md ("Linformer on the CPU", "Linalg
    steps on threads").
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def AttnCPUParallelLinalg : Pass<"attn-cpu-parallel-linalg"> {
  let summary = "Run the linalg ops outside the kernels on threads";
  let description = [{
    Runs on buffers, before `convert-scf-to-openmp`. Each linalg op that is
    not inside a parallel loop already (the attention kernels' bodies) is
    lowered to `scf.for` loops (upstream `linalgOpToLoops`, the op's loop
    order), and its leading loops that are parallel iterators, each indexing
    every output by itself, short of the innermost loop (which LLVM
    vectorises), become one `scf.parallel`, so that
    `convert-scf-to-openmp` runs them on threads; the loops after the band
    (a reduction, and a stride-1 loop that `attn-cpu-innermost-parallel`
    put innermost) stay serial inside it. Distinct iterations of the band
    write distinct elements, and each element's sum keeps its order. Ops
    with a static iteration space below 2^14 points stay serial (a fork and
    join of the OpenMP team costs more), as do ops without such a band.
    The linalg ops of a program (Linformer's projections, pooling, a
    merge's combine) used to run on one core. Measured in bench/RESULTS.md
    ("Linalg steps on threads").
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def AttnCPUDynamicSchedule : Pass<"attn-cpu-dynamic-schedule"> {
  let summary = "Give OpenMP worksharing loops a guided schedule";
  let description = [{
    Runs after `convert-scf-to-openmp`: every `omp.wsloop` without a
    schedule gets `schedule(guided)`, so that threads take the attention
    kernel's (batch, head, query tile) iterations in ranges that shrink as
    the loop drains, instead of one contiguous range each. Iterations differ
    in cost (masks empty whole tiles; varlen and paged batches hold
    sequences of different lengths), and with a static split the thread
    that holds the long sequences finishes last. Measured (bench/RESULTS.md,
    "Varlen batches on the CPU"): a varlen batch 1.4x faster, other kernels
    within noise; `schedule(dynamic)`, one iteration per hand-out, cost 5%
    on the 2048 short iterations of a block-diagonal mask, guided 2%.
  }];
  let dependentDialects = ["::mlir::omp::OpenMPDialect"];
}

def ConvertAttnToCPU : Pass<"convert-attn-to-cpu"> {
  let summary = "Lower attn.attention to fused, tiled, vectorised CPU loops";
  let description = [{
    FlashAttention for CPUs. Each `attn.attention` becomes a parallel loop
    over (batch, head, query tile) whose iterations run the online softmax
    over the key tiles that the tile classifier (`attn-sparsify`) says are
    non-empty, with the op's `tile_sizes` (`attn-tile`; this pass's
    `tile-q`/`tile-k` for ops without them):
    the Q.K^T and P.V products in register-blocked FMA microkernels
    (4 x 2 vectors of 8 f32 lanes for AVX2, 8 x 2 vectors of 16 lanes for
    AVX-512; scores are kept transposed with queries in the vector lanes, so
    K is read in place), a vector polynomial exp2 with the scale
    and log2(e) folded into one multiply, the mask evaluated only on tiles
    not classified full, the score region applied per element, running max,
    sum and accumulator kept per tile, and the normalisation deferred to the
    end. f16/bf16 inputs are widened to f32 as they are loaded. Memory is
    O(tile) per thread; no [Sq, Sk] buffer is ever allocated.

    The loop over (batch, head, query tile) is an `scf.parallel`, which the
    CPU pipeline turns into OpenMP. Every head size takes this kernel: when
    the vector width does not divide D, Q^T packing ends in a masked load;
    when it does not divide Dv, O's last Dv mod lanes features are computed
    transposed (queries in the lanes, V read in place); the P.V product
    loops over blocks of features, so that the IR does not grow with Dv.
    The tile sizes, vector width and register blocks come from one place,
    the CPU KernelPlan; Q, K, V, O and lse are reached only through the
    operand-rows seam (docs/OperandLoads.md).
  }];
  let options = [
    Option<"tileQ", "tile-q", "int64_t", /*default=*/"kDefaultTileQ",
           "Query rows per tile of ops without tile_sizes (a multiple of 2 vectors)">,
    Option<"tileK", "tile-k", "int64_t", /*default=*/"kDefaultTileK",
           "Keys per tile of ops without tile_sizes (a multiple of the register block's 4 or 8 keys)">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"8",
           "f32 lanes per vector: 8 (AVX2) or 16 (AVX-512)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

#endif // ATTUNE_TARGET_CPU_PASSES_TD
