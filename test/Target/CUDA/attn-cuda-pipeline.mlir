// The PTX is an escaped string attribute: one instruction per line first.
// RUN: attune-opt %s --attn-cuda-pipeline="chip=sm_90a" | sed 's/\\0A/\n/g' | FileCheck %s
// RUN: attune-opt %s --attn-cuda-pipeline="chip=sm_80" | sed 's/\\0A/\n/g' | FileCheck %s --check-prefix=SM80

/// The whole pipeline ends in a gpu.binary holding PTX from LLVM's NVPTX
/// backend: tensor-core mma.sync, ldmatrix (.trans for V), cp.async with
/// zero fill, quad shuffles, ex2.approx.

// CHECK:     gpu.binary @attn_kernels
// CHECK:     .target sm_90a
// CHECK:     .entry causal_fwd(
// CHECK-DAG: cp.async.cg.shared.global
// CHECK-DAG: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK-DAG: shfl.sync.bfly.b32
// CHECK-DAG: ex2.approx.ftz.f32
// CHECK-DAG: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK:     .entry causal_decode(
// CHECK:     .entry causal_combine(
// SM80: .target sm_80
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
