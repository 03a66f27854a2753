// RUN: attune-opt %s --attn-tile="tile-q=64 tile-k=32" --convert-attn-to-nvvm | FileCheck %s

/// K and V as tensor.concat of a memory and the current segment along the
/// sequence (Transformer-XL): the kernels take both parts and read each key
/// and value row from its part; the concatenation is not copied into them.

// CHECK-LABEL: gpu.func @memory_fwd
// CHECK-SAME:    (%[[Q:.*]]: memref<?x8x?x64xbf16>, %[[K:.*]]: memref<?x8x?x64xbf16>, %[[V:.*]]: memref<?x8x?x64xbf16>, %[[KM:.*]]: memref<?x8x?x64xbf16>, %[[VM:.*]]: memref<?x8x?x64xbf16>, %{{.*}}: memref<?x8x?x64xbf16>) kernel
// CHECK-NOT:     tensor.concat
/// The key length is the memory's plus the segment's.
// CHECK:         %[[LK:.*]] = memref.dim %[[K]], %{{.*}} : memref<?x8x?x64xbf16>
// CHECK-NEXT:    arith.addi %{{.*}}, %[[LK]] : index
/// A row at or past the memory's length comes from the segment.
// CHECK:         arith.cmpi uge
// CHECK:         arith.select %{{.*}}, %{{.*}}, %{{.*}} : !llvm.ptr<1>
// CHECK:         nvvm.cp.async.shared.global
// CHECK-LABEL: gpu.func @memory_decode
// CHECK-NOT:     tensor.concat
// CHECK-LABEL: gpu.func @memory_combine
func.func @memory(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>,
                  %v: tensor<?x8x?x64xbf16>, %k_mem: tensor<?x8x?x64xbf16>,
                  %v_mem: tensor<?x8x?x64xbf16>) -> tensor<?x8x?x64xbf16> {
  %c2 = arith.constant 2 : index
  %m = tensor.dim %k_mem, %c2 : tensor<?x8x?x64xbf16>
  %keys = tensor.concat dim(2) %k_mem, %k
      : (tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>) -> tensor<?x8x?x64xbf16>
  %values = tensor.concat dim(2) %v_mem, %v
      : (tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>) -> tensor<?x8x?x64xbf16>
  %o = attn.attention
      ins(%q, %keys, %values : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>,
                               tensor<?x8x?x64xbf16>)
      captures(%m : index) -> tensor<?x8x?x64xbf16>
    mask(%b, %h, %i, %j, %mem) {
      %pos = arith.addi %i, %mem : index
      %keep = arith.cmpi ule, %j, %pos : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x64xbf16>
}
