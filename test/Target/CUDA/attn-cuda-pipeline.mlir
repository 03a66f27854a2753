// The PTX is an escaped string attribute: one instruction per line first.
// RUN: attune-opt %s --attn-cuda-pipeline="chip=sm_90a" | sed 's/\\0A/\n/g' | FileCheck %s
// RUN: attune-opt %s --attn-cuda-pipeline="chip=sm_80" | sed 's/\\0A/\n/g' | FileCheck %s --check-prefix=SM80
// An unknown mma is an error on every chip.
// RUN: not attune-opt %s --attn-cuda-pipeline="chip=sm_80 mma=mfma" 2>&1 | FileCheck %s --check-prefix=MMA
// MMA: error: convert-attn-to-nvvm: unknown mma 'mfma' (expected sync, wgmma or auto)

/// The whole pipeline ends in a gpu.binary holding PTX from LLVM's NVPTX
/// backend. On sm_90a the forward kernel issues wgmma.mma_async (operands
/// from shared memory by descriptor, after a proxy fence); the decode
/// kernel, like every kernel on sm_80, tensor-core mma.sync with ldmatrix
/// (.trans for V); all load with cp.async (zero fill), reduce rows with quad
/// shuffles and exponentiate with ex2.approx.

// CHECK:     gpu.binary @attn_kernels
// CHECK:     .target sm_90a
// CHECK:     .entry causal_fwd(
// CHECK-DAG: cp.async.cg.shared.global
// CHECK-DAG: fence.proxy.async.shared::cta
// CHECK-DAG: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// CHECK-DAG: shfl.sync.bfly.b32
// CHECK-DAG: ex2.approx.ftz.f32
// CHECK:     .entry causal_decode(
// CHECK-DAG: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK-DAG: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK:     .entry causal_combine(
// SM80:     .target sm_80
// SM80:     .entry causal_fwd(
// SM80-NOT: wgmma
// SM80-DAG: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// SM80-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// SM80-DAG: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// SM80:     .entry causal_decode(
func.func @causal(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>,
                  %v: tensor<?x8x?x64xbf16>) -> tensor<?x8x?x64xbf16> {
  %o = attn.attention ins(%q, %k, %v : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>)
      -> tensor<?x8x?x64xbf16>
    mask(%b, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x64xbf16>
}
