// RUN: attune-opt %s --attn-lower-rope | FileCheck %s
// RUN: attune-opt %s --attn-lower-to-reference | FileCheck %s --check-prefix=REF

// attn.rope becomes one elementwise linalg.generic over the input that
// reads each feature's partner with tensor.extract and rotates in f64.

// CHECK-LABEL: func.func @half_partial
// CHECK-SAME: (%[[X:.*]]: tensor<2x4x16x64xbf16>, %[[P:.*]]: tensor<2x16xi32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x4x16x64xbf16>
// CHECK: linalg.generic {{.*}} ins(%[[X]] : tensor<2x4x16x64xbf16>) outs(%[[E]] : tensor<2x4x16x64xbf16>)
// CHECK: ^bb0(%[[IN:.*]]: bf16, %{{.*}}: bf16):
// CHECK-DAG: %[[B:.*]] = linalg.index 0
// CHECK-DAG: %[[H:.*]] = linalg.index 1
// CHECK-DAG: %[[S:.*]] = linalg.index 2
// CHECK-DAG: %[[F:.*]] = linalg.index 3
// Features past rotary_dim = 32 are copied.
// CHECK: %[[INSIDE:.*]] = arith.cmpi ult, %[[F]], %c32
// CHECK: %[[FC:.*]] = arith.minui %[[F]], %c31
// Half pairing: (f, f + 16) for f < 16, (f, f - 16) above.
// CHECK: %[[FIRST:.*]] = arith.cmpi ult, %[[FC]], %c16
// CHECK: %[[K:.*]] = arith.select %[[FIRST]], %[[FC]], %{{.*}}
// CHECK: %[[PART:.*]] = arith.select %[[FIRST]], %{{.*}}, %[[K]]
// CHECK: %[[XP:.*]] = tensor.extract %[[X]][%[[B]], %[[H]], %[[S]], %[[PART]]]
// CHECK: %[[POS:.*]] = tensor.extract %[[P]][%[[B]], %[[S]]] : tensor<2x16xi32>
// CHECK: arith.sitofp %[[POS]] : i32 to f64
// CHECK: math.exp
// CHECK: %[[C:.*]] = math.cos %[[A:.*]] : f64
// CHECK: %[[SN:.*]] = math.sin %[[A]] : f64
// CHECK: %[[Y32:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK: %[[Y:.*]] = arith.truncf %[[Y32]] : f32 to bf16
// CHECK: %[[R:.*]] = arith.select %[[INSIDE]], %[[Y]], %[[IN]] : bf16
// CHECK: linalg.yield %[[R]]
// REF-LABEL: func.func @half_partial
// REF: linalg.generic
// REF: math.cos
// REF-NOT: attn.rope
func.func @half_partial(%x: tensor<2x4x16x64xbf16>, %p: tensor<2x16xi32>)
    -> tensor<2x4x16x64xbf16> {
  %0 = attn.rope %x positions(%p : tensor<2x16xi32>) {rotary_dim = 32}
      : tensor<2x4x16x64xbf16>
  return %0 : tensor<2x4x16x64xbf16>
}

// Interleaved pairs (2k, 2k + 1); the position is offset + s, in the
// bshd layout's dimension 1.
// CHECK-LABEL: func.func @interleaved_offset
// CHECK-DAG: %[[S:.*]] = linalg.index 1
// CHECK-DAG: %[[F:.*]] = linalg.index 3
// CHECK: %[[FC:.*]] = arith.minui %[[F]], %c7
// CHECK: arith.divui %[[FC]], %c2
// CHECK: %[[PART:.*]] = arith.xori %[[FC]], %c1
// CHECK: tensor.extract %{{.*}}[%{{.*}}, %[[S]], %{{.*}}, %[[PART]]]
// CHECK: %[[W:.*]] = arith.index_cast %{{.*}} : i32 to index
// CHECK: arith.addi %[[W]], %[[S]] : index
// CHECK: math.cos
func.func @interleaved_offset(%x: tensor<1x16x2x8xf32>, %o: i32)
    -> tensor<1x16x2x8xf32> {
  %0 = attn.rope %x offset(%o : i32)
      {style = #attn.rope_style<interleaved>, layout = #attn.layout<bshd>}
      : tensor<1x16x2x8xf32>
  return %0 : tensor<1x16x2x8xf32>
}

/// Sizes the verifier cannot compare are checked at run time: positions
/// against the input's B and S, freq_scales against rotary_dim / 2. A
/// static size is compared as a constant.
// CHECK-LABEL: func.func @dynamic_shape_checks
// CHECK-SAME: (%[[X:.*]]: tensor<?x4x16x64xf32>, %[[P:.*]]: tensor<?x?xi32>, %[[FS:.*]]: tensor<?xf32>)
// CHECK: %[[PB:.*]] = tensor.dim %[[P]], %c0
// CHECK: %[[XB:.*]] = tensor.dim %[[X]], %c0
// CHECK: %[[SAMEB:.*]] = arith.cmpi eq, %[[PB]], %[[XB]]
// CHECK: cf.assert %[[SAMEB]], "attn.rope: positions and input batch sizes do not match"
// CHECK: %[[PS:.*]] = tensor.dim %[[P]], %c1
// CHECK: %[[SAMES:.*]] = arith.cmpi eq, %[[PS]], %c16
// CHECK: cf.assert %[[SAMES]], "attn.rope: positions and input sequence lengths do not match"
// CHECK: %[[NF:.*]] = tensor.dim %[[FS]], %c0
// CHECK: %[[SAMEF:.*]] = arith.cmpi eq, %[[NF]], %c16
// CHECK: cf.assert %[[SAMEF]], "attn.rope: freq_scales and rotary_dim / 2 do not match"
// CHECK: linalg.generic
// REF-LABEL: func.func @dynamic_shape_checks
// REF-COUNT-3: cf.assert
// REF: linalg.generic
func.func @dynamic_shape_checks(%x: tensor<?x4x16x64xf32>, %p: tensor<?x?xi32>,
                                %s: tensor<?xf32>) -> tensor<?x4x16x64xf32> {
  %0 = attn.rope %x positions(%p : tensor<?x?xi32>) freq_scales(%s : tensor<?xf32>)
      {rotary_dim = 32} : tensor<?x4x16x64xf32>
  return %0 : tensor<?x4x16x64xf32>
}

/// Static sizes were compared by the verifier: no run-time check.
// CHECK-LABEL: func.func @negative_static_shape_checks
// CHECK-NOT: cf.assert
// CHECK: linalg.generic
func.func @negative_static_shape_checks(%x: tensor<2x4x16x64xf32>,
                                        %p: tensor<2x16xi32>,
                                        %s: tensor<32xf32>)
    -> tensor<2x4x16x64xf32> {
  %0 = attn.rope %x positions(%p : tensor<2x16xi32>) freq_scales(%s : tensor<32xf32>)
      : tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}
