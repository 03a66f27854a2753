// RUN: attune-opt %s --attn-tile="tile-q=64 tile-k=64" --convert-attn-to-nvvm | FileCheck %s

/// The score region runs at the masked elements of a partial tile too
/// (their scores become -inf after), but docs/Semantics.md promises its
/// capture reads in bounds only where the mask keeps the key: here t[b, h,
/// i, i - j] is read at j > i only when masked. Each index of such a read is
/// clamped into the capture (min with max(size, 1) - 1) before the load,
/// so no element reads outside it (Transformer-XL's relative terms faulted
/// at Sq = Sk = 1000 before).

// CHECK-LABEL: gpu.func @relative_fwd
// CHECK:         %[[SIZE:.*]] = memref.dim %{{.*}}, %c3{{.*}} : memref<1x2x?x?xf32>
// CHECK-NEXT:    %[[ATLEAST1:.*]] = arith.maxui %[[SIZE]], %{{.*}} : index
// CHECK-NEXT:    %[[LAST:.*]] = arith.subi %[[ATLEAST1]], %{{.*}} : index
// CHECK-NEXT:    %[[INDEX:.*]] = arith.minui %{{.*}}, %[[LAST]] : index
// CHECK-NEXT:    memref.load %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %[[INDEX]]] : memref<1x2x?x?xf32>
func.func @relative(%q: tensor<1x2x?x64xbf16>, %k: tensor<1x2x?x64xbf16>,
                    %v: tensor<1x2x?x64xbf16>, %t: tensor<1x2x?x?xf32>)
    -> tensor<1x2x?x64xbf16> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>)
      captures(%t : tensor<1x2x?x?xf32>) -> tensor<1x2x?x64xbf16>
    mask(%b, %h, %i, %j, %c) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
    score(%s, %b, %h, %i, %j, %c) {
      %r = arith.subi %i, %j : index
      %x = tensor.extract %c[%b, %h, %i, %r] : tensor<1x2x?x?xf32>
      %y = arith.addf %s, %x : f32
      attn.yield %y : f32
    }
  return %o : tensor<1x2x?x64xbf16>
}
