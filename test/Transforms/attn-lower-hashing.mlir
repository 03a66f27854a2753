// RUN: attune-opt %s --attn-lower-hashing | FileCheck %s
// RUN: attune-opt %s --attn-lower-to-reference | FileCheck %s --check-prefix=REF

// attn.lsh_buckets becomes a contraction of the input with the rotations
// into f64 scores [rounds, B, H, S, n / 2] (the features a reduction
// before the buckets) and an argmax over the buckets with two outputs,
// the best value (from -inf) and its i32 index (from 0); each score is
// offered as bucket c and, negated, as bucket c + n / 2.

// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d3, d2, d4)>
// CHECK-DAG: #[[ROT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, 0, d4, d5)>
// CHECK-DAG: #[[ROTH:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d2, d4, d5)>
// CHECK-DAG: #[[Y:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d5)>
// CHECK-LABEL: func.func @lsh_bshd_shared
// CHECK-SAME: (%[[IN:.*]]: tensor<?x?x2x16xbf16>, %[[R:.*]]: tensor<3x1x16x4xf32>)
// CHECK: %[[E:.*]] = tensor.empty(%{{.*}}, %{{.*}}) : tensor<3x?x2x?x4xf64>
// CHECK: %[[Z:.*]] = linalg.fill ins(%{{.*}} : f64) outs(%[[E]] : tensor<3x?x2x?x4xf64>)
// CHECK: %[[S:.*]] = linalg.generic {indexing_maps = [#[[X]], #[[ROT]], #[[Y]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%[[IN]], %[[R]] : tensor<?x?x2x16xbf16>, tensor<3x1x16x4xf32>) outs(%[[Z]] : tensor<3x?x2x?x4xf64>)
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f64
// CHECK: arith.addf %{{.*}}, %{{.*}} : f64
// CHECK: linalg.fill ins(%cst{{.*}} : f64) outs(%{{.*}} : tensor<3x?x2x?xf64>)
// CHECK: %[[I0:.*]] = linalg.fill ins(%c0_i32 : i32) outs(%{{.*}} : tensor<3x?x2x?xi32>)
// CHECK: %[[AM:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[S]] : tensor<3x?x2x?x4xf64>)
// CHECK: ^bb0(%[[V:.*]]: f64, %[[BEST:.*]]: f64, %[[ID:.*]]: i32):
// CHECK: %[[C:.*]] = linalg.index 4 : index
// CHECK: %[[NEG:.*]] = arith.negf %[[V]] : f64
// CHECK: %[[CI:.*]] = arith.index_cast %[[C]] : index to i32
// CHECK: %[[CN:.*]] = arith.addi %{{.*}}, %c4_i32 : i32
// CHECK: %[[GT:.*]] = arith.cmpf ogt, %[[V]], %[[BEST]] : f64
// CHECK: %[[EQ:.*]] = arith.cmpf oeq, %[[V]], %[[BEST]] : f64
// CHECK: %[[LO:.*]] = arith.cmpi slt, %[[CI]], %[[ID]] : i32
// CHECK: %[[TIE:.*]] = arith.andi %[[EQ]], %[[LO]] : i1
// CHECK: %[[TAKE:.*]] = arith.ori %[[GT]], %[[TIE]] : i1
// CHECK: %[[B1:.*]] = arith.select %[[TAKE]], %[[V]], %[[BEST]] : f64
// CHECK: %[[I1:.*]] = arith.select %[[TAKE]], %[[CI]], %[[ID]] : i32
// CHECK: arith.cmpf ogt, %[[NEG]], %[[B1]] : f64
// CHECK: arith.cmpi slt, %[[CN]], %[[I1]] : i32
// CHECK: linalg.yield
// CHECK: return %[[AM]]#1 : tensor<3x?x2x?xi32>
// REF-LABEL: func.func @lsh_bshd_shared
// REF-NOT: attn.lsh_buckets %
// REF: return
func.func @lsh_bshd_shared(%x: tensor<?x?x2x16xbf16>, %rot: tensor<3x1x16x4xf32>)
    -> tensor<3x?x2x?xi32> {
  %0 = attn.lsh_buckets %x, %rot {layout = #attn.layout<bshd>}
      : tensor<?x?x2x16xbf16>, tensor<3x1x16x4xf32> -> tensor<3x?x2x?xi32>
  return %0 : tensor<3x?x2x?xi32>
}

// Per-head rotations with a dynamic head count: checked at run time.
// CHECK-LABEL: func.func @lsh_dynamic_heads
// CHECK: cf.assert %{{.*}}, "attn.lsh_buckets: parameter and input head counts do not match"
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[ROTH]], #[[Y]]]
func.func @lsh_dynamic_heads(%x: tensor<1x?x8x16xf32>, %rot: tensor<1x4x16x2xf32>)
    -> tensor<1x1x?x8xi32> {
  %0 = attn.lsh_buckets %x, %rot
      : tensor<1x?x8x16xf32>, tensor<1x4x16x2xf32> -> tensor<1x1x?x8xi32>
  return %0 : tensor<1x1x?x8xi32>
}

// attn.nearest_centroid: the dots x . mu as f64 [B, H, S, k], half the
// squared norm of each centroid [H, k], and the argmax of dot - norm / 2.
// CHECK-LABEL: func.func @centroid
// CHECK-SAME: (%[[IN:.*]]: tensor<2x3x5x8xf16>, %[[MU:.*]]: tensor<3x6x8xf32>)
// CHECK: %[[DOTS:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%[[IN]], %[[MU]] : tensor<2x3x5x8xf16>, tensor<3x6x8xf32>) outs(%{{.*}} : tensor<2x3x5x6xf64>)
// CHECK: %[[NORMS:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[MU]] : tensor<3x6x8xf32>) outs(%{{.*}} : tensor<3x6xf64>)
// CHECK: arith.mulf %[[M:.*]], %[[M]] : f64
// CHECK: %[[AM:.*]]:2 = linalg.generic {{.*}} ins(%[[DOTS]], %[[NORMS]] : tensor<2x3x5x6xf64>, tensor<3x6xf64>) outs(%{{.*}}, %{{.*}} : tensor<2x3x5xf64>, tensor<2x3x5xi32>)
// CHECK: ^bb0(%[[DOT:.*]]: f64, %[[N:.*]]: f64, %{{.*}}: f64, %{{.*}}: i32):
// CHECK: %[[HALF:.*]] = arith.mulf %[[N]], %cst{{.*}} : f64
// CHECK: arith.subf %[[DOT]], %[[HALF]] : f64
// CHECK: return %[[AM]]#1 : tensor<2x3x5xi32>
// REF-LABEL: func.func @centroid
// REF-NOT: attn.nearest_centroid %
// REF: return
func.func @centroid(%x: tensor<2x3x5x8xf16>, %mu: tensor<3x6x8xf32>)
    -> tensor<2x3x5xi32> {
  %0 = attn.nearest_centroid %x, %mu
      : tensor<2x3x5x8xf16>, tensor<3x6x8xf32> -> tensor<2x3x5xi32>
  return %0 : tensor<2x3x5xi32>
}

// attn.sort_ids: per row (one loop per leading dimension), a counting sort
// on tensors: count each id (checked in [0, num_ids)) into counts[id + 1],
// prefix sums, then every position in order to its id's next place.
// CHECK-LABEL: func.func @sort
// CHECK: %[[COUNTS:.*]] = linalg.fill ins(%{{.*}} : index) outs(%{{.*}} : tensor<9xindex>)
// CHECK: scf.for %[[B:[^ ]*]] = %c0{{.*}} to %dim step %c1{{.*}} iter_args
// CHECK: scf.for %[[H:[^ ]*]] = %c0{{.*}} to %c2{{.*}} step %c1{{.*}} iter_args
// CHECK: scf.for %[[S:[^ ]*]] = %c0{{.*}} to %{{.*}} step %c1{{.*}} iter_args(%{{.*}} = %[[COUNTS]])
// CHECK: tensor.extract %{{.*}}[%[[B]], %[[H]], %[[S]]] : tensor<?x2x?xi32>
// CHECK: arith.cmpi ult, %{{.*}}, %c8
// CHECK: cf.assert %{{.*}}, "attn.sort_ids: an id is outside [0, num_ids)"
// CHECK: scf.for %{{.*}} = %c1{{.*}} to %c9{{.*}} step %c1
// CHECK: scf.for
// CHECK: tensor.insert %{{.*}} into %{{.*}}[%[[B]], %[[H]], %{{.*}}] : tensor<?x2x?xi32>
// CHECK: tensor.insert %{{.*}} into %{{.*}}[%[[B]], %[[H]], %{{.*}}] : tensor<?x2x?xi32>
// REF-LABEL: func.func @sort
// REF-NOT: attn.sort_ids %
// REF: return
func.func @sort(%ids: tensor<?x2x?xi32>) -> (tensor<?x2x?xi32>, tensor<?x2x?xi32>) {
  %o, %s = attn.sort_ids %ids {num_ids = 8} : tensor<?x2x?xi32>
  return %o, %s : tensor<?x2x?xi32>, tensor<?x2x?xi32>
}

// attn.permute: the order's entries checked in [0, S) in a loop nest, then
// a gather of rows; with `inverse`, the loop also scatters the inverse
// order into a tensor filled with -1, checking that no entry repeats.
// CHECK-LABEL: func.func @permute
// CHECK: cf.assert %{{.*}}, "attn.permute: an entry of order is outside [0, S)"
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?x2x?x4xf32>)
// CHECK: %[[ROW:.*]] = tensor.extract %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] : tensor<?x2x?xi32>
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: tensor.extract %{{.*}} : tensor<?x2x?x4xf32>
// CHECK: linalg.fill ins(%c-1_i32 : i32)
// CHECK: cf.assert %{{.*}}, "attn.permute: a row of order is not a permutation (an entry repeats)"
// CHECK: tensor.insert
// REF-LABEL: func.func @permute
// REF-NOT: attn.permute %
// REF: return
func.func @permute(%x: tensor<?x2x?x4xf32>, %o: tensor<?x2x?xi32>)
    -> (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) {
  %y = attn.permute %x, %o : tensor<?x2x?x4xf32>, tensor<?x2x?xi32>
  %z = attn.permute %x, %o {inverse} : tensor<?x2x?x4xf32>, tensor<?x2x?xi32>
  return %y, %z : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>
}
