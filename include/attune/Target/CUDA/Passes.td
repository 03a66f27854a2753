//===- Passes.td - CUDA target passes ----------------------*- tablegen -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_TARGET_CUDA_PASSES_TD
#define ATTUNE_TARGET_CUDA_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertAttnToNVVM : Pass<"convert-attn-to-nvvm", "::mlir::ModuleOp"> {
  let summary = "Lower attn.attention to a FlashAttention-2 CUDA kernel";
  let description = [{
    Replaces every function whose body is one tiled `attn.attention` (after
    `attn-tile` and `attn-sparsify`) by a `gpu.func` kernel in a `gpu.module`
    (the module gets `gpu.container_module`): one CTA per
    (q-tile, head, batch), `Tq / 16` warps that each own 16 query rows,
    K and V tiles brought into shared memory with `cp.async` (16 bytes per
    thread and copy, zero-filled past Sk) and double-buffered, fragments
    read with `ldmatrix` (`.trans` for V) from an XOR-swizzled layout that
    avoids bank conflicts, `mma.sync.m16n8k16` in bf16 or f16 with f32
    accumulators, the online softmax on the accumulator fragments (row max
    and sum across each quad with `shfl.sync.bfly`), P converted to bf16/f16
    in registers as the A operand of P.V, exp2 with the scale and log2(e)
    folded into one multiply, the op's tile classifier evaluated per k-tile
    (empty tiles are neither loaded nor computed; the mask and score regions
    are applied per fragment element, with its (i, j), only where needed),
    GQA through the K/V head index, either layout through the tensors'
    strides, and `lse`.

    The kernel's parameters are the function's arguments, then its results
    as out-parameters, each a memref (see docs/CUDAArtifacts.md for the ABI);
    its launch rules are one typed attribute, `attn.kernel =
    #attn.kernel<role = ..., block = ..., shared_bytes = ..., tile_q = ...>`
    (the kernel's role, threads, dynamic shared memory, tile sizes; for
    `fwd`, grid.x = ceil(Sq / tile_q), grid.y = Hq, grid.z = B), which the
    artifact writer reads.

    With `mma=wgmma` (or `auto`, which `attn-cuda-pipeline` passes for
    sm_90a) the forward kernel issues Hopper's `wgmma.mma_async` instead:
    warpgroups of 64 rows, Q, K and V in the 128-byte swizzle layout read by
    descriptor, P from registers (docs/CUDATarget.md).

    The warp-level operations are emitted as NVVM ops: MLIR 22's
    `nvgpu.mma.sync` cannot lower bf16 operands, and its `nvgpu.ldmatrix`
    results leave unresolved casts after lowering; `ldmatrix` is inline PTX
    whose address carries the fragment's constant offset as an immediate;
    see docs/CUDATarget.md.
  }];
  let options = [
    Option<"decodeTileK", "decode-tile-k", "int64_t", /*default=*/"0",
           "Keys per k-tile of the split-KV decode kernel at most (0: the "
           "forward kernel's, capped at 64 for D <= 64, else 32)">,
    Option<"mma", "mma", "std::string", /*default=*/"\"sync\"",
           "Tensor-core instructions of the forward kernel: sync "
           "(mma.sync), wgmma (sm_90a's wgmma.mma_async where the op and "
           "tile sizes allow it: 16-bit inputs, Tq a multiple of 64 up to "
           "256, Tk a multiple of 16) or auto (wgmma where it measured faster)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def ConvertAttnToNVGPU : Pass<"convert-attn-to-nvgpu", "::mlir::ModuleOp"> {
  let summary = "Deprecated name of convert-attn-to-nvvm";
  let description = [{
    The former name of `convert-attn-to-nvvm` (the pass emits NVVM, LLVM
    and inline PTX, no nvgpu ops), kept for one release: the same pass with
    the same options. It will be removed in the next release.
  }];
  let options = [
    Option<"decodeTileK", "decode-tile-k", "int64_t", /*default=*/"0",
           "Keys per k-tile of the split-KV decode kernel at most (0: the "
           "forward kernel's, capped at 64 for D <= 64, else 32)">,
    Option<"mma", "mma", "std::string", /*default=*/"\"sync\"",
           "Tensor-core instructions of the forward kernel: sync "
           "(mma.sync), wgmma (sm_90a's wgmma.mma_async where the op and "
           "tile sizes allow it: 16-bit inputs, Tq a multiple of 64 up to "
           "256, Tk a multiple of 16) or auto (wgmma where it measured faster)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
}

#endif // ATTUNE_TARGET_CUDA_PASSES_TD
