// RUN: attune-opt %s --attn-lower-linear-attention | FileCheck %s
// RUN: attune-opt %s --attn-lower-linear-attention | FileCheck %s --check-prefix=GONE

// attn.linear_attention becomes linalg ops on f32 tensors in the canonical
// [B, H, S, ...] order (docs/LinearAttention.md, "Lowering"): the feature
// maps (elu + 1, or the FAVOR+ exponents, a contraction with the features,
// shifted by their maxima), the sums over keys as contractions (two
// inputs, a reduction loop), the query heads of a key head grouped by an
// expand_shape; causal in chunks of keys with the exclusive prefix over
// chunks a contraction with the strictly lower triangle and the own chunk
// masked; one division, 0 where the denominator is, rounded into the
// result's layout and element type.

// No op is left (the run-time checks' messages name it, with a colon).
// GONE-NOT: {{attn\.linear_attention[^:]}}

// CHECK-DAG: #[[ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[HEAD3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[BSHD:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d1, d3)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[ZOUT:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[HEAD4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK-DAG: #[[ID5:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
// CHECK-DAG: #[[OUT5:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[KVK:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d2)>
// CHECK-DAG: #[[KVV:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
// CHECK-DAG: #[[DENZ:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4)>
// CHECK-DAG: #[[XW:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[WMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d4, d3)>
// CHECK-DAG: #[[CZ:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4, d3)>
// CHECK-DAG: #[[TRI5:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d2, d4)>
// CHECK-DAG: #[[WIN:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d4)>
// CHECK-DAG: #[[BSHD5:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d3)>
// CHECK-DAG: #[[ID6:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
// CHECK-DAG: #[[NUMQ:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d5)>
// CHECK-DAG: #[[NUMKV:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d5, d4)>
// CHECK-DAG: #[[OUT6:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4)>
// CHECK-DAG: #[[CKVK:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d5, d3)>
// CHECK-DAG: #[[CKVV:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d5, d4)>
// CHECK-DAG: #[[TRI6:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d2, d5)>
// CHECK-DAG: #[[PKV:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d5, d3, d4)>
// CHECK-DAG: #[[PZ6:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d3, d5)>
// CHECK-DAG: #[[Q7:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3, d4, d6)>
// CHECK-DAG: #[[P7:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d3, d6, d5)>
// CHECK-DAG: #[[K7:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d3, d5, d6)>
// CHECK-DAG: #[[OUT7:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3, d4, d5)>

// Non-causal elu, GQA (4 query heads on 2 key heads), static, bf16, Dv = 6
// != D = 8: no run-time check, no chunks; KV = phi(K)^T V and z = sum_j
// phi(K_j) per key head, the query heads grouped as [B, Hk, g, Sq, r].
// CHECK-LABEL: func.func @elu_gqa_bf16
// CHECK-SAME: (%[[Q:.*]]: tensor<2x4x16x8xbf16>, %[[K:.*]]: tensor<2x2x12x8xbf16>, %[[V:.*]]: tensor<2x2x12x6xbf16>)
// CHECK-NOT: cf.assert
// phi(x) = x + 1 if x > 0, exp(x) otherwise, in f32.
// CHECK: %[[PHIQ:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[Q]] : tensor<2x4x16x8xbf16>) outs(%{{.*}} : tensor<2x4x16x8xf32>)
// CHECK: %[[X:.*]] = arith.extf %{{.*}} : bf16 to f32
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[POS:.*]] = arith.cmpf ogt, %[[X]], %[[ZERO]] : f32
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[PLUS:.*]] = arith.addf %[[X]], %[[ONE]] : f32
// CHECK: %[[EXP:.*]] = math.exp %[[X]] : f32
// CHECK: %[[PHI:.*]] = arith.select %[[POS]], %[[PLUS]], %[[EXP]] : f32
// CHECK: linalg.yield %[[PHI]] : f32
// CHECK: %[[PHIK:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[K]] : tensor<2x2x12x8xbf16>) outs(%{{.*}} : tensor<2x2x12x8xf32>)
// CHECK: math.exp
// The values only widened.
// CHECK: %[[VF:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[V]] : tensor<2x2x12x6xbf16>) outs(%{{.*}} : tensor<2x2x12x6xf32>)
// CHECK-NEXT: ^bb0(%[[VIN:.*]]: bf16, %{{.*}}: f32):
// CHECK-NEXT: %[[VX:.*]] = arith.extf %[[VIN]] : bf16 to f32
// CHECK-NEXT: linalg.yield %[[VX]] : f32
// KV[b, h, f, e] = sum_j phiK[j, f] v[j, e]: loops (b, h, f, e, j).
// CHECK: %[[KV:.*]] = linalg.generic {indexing_maps = [#[[KVK]], #[[KVV]], #[[OUT5]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[PHIK]], %[[VF]] : tensor<2x2x12x8xf32>, tensor<2x2x12x6xf32>) outs(%{{.*}} : tensor<2x2x8x6xf32>)
// CHECK: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK: %[[P:.*]] = arith.mulf %[[A]], %[[B]] : f32
// CHECK: %[[S:.*]] = arith.addf %[[ACC]], %[[P]] : f32
// CHECK: linalg.yield %[[S]] : f32
// z[b, h, f] = sum_j phiK[j, f]: loops (b, h, j, f).
// CHECK: %[[Z:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[ZOUT]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%[[PHIK]] : tensor<2x2x12x8xf32>) outs(%{{.*}} : tensor<2x2x8xf32>)
// No chunks, no triangle, no slices.
// CHECK-NOT: arith.uitofp
// CHECK-NOT: tensor.extract_slice
// CHECK: %[[GQ:.*]] = tensor.expand_shape %[[PHIQ]] {{\[\[}}0], [1, 2], [3], [4]] output_shape [2, 2, 2, 16, 8] : tensor<2x4x16x8xf32> into tensor<2x2x2x16x8xf32>
// num = phi(Q) KV: loops (b, hk, g, i, e, f); den = phi(Q) z.
// CHECK: %[[NUM:.*]] = linalg.generic {indexing_maps = [#[[NUMQ]], #[[NUMKV]], #[[OUT6]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[GQ]], %[[KV]] : tensor<2x2x2x16x8xf32>, tensor<2x2x8x6xf32>) outs(%{{.*}} : tensor<2x2x2x16x6xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: %[[DEN:.*]] = linalg.generic {indexing_maps = [#[[ID5]], #[[DENZ]], #[[OUT5]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[GQ]], %[[Z]] : tensor<2x2x2x16x8xf32>, tensor<2x2x8xf32>) outs(%{{.*}} : tensor<2x2x2x16xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: %[[DENC:.*]] = tensor.collapse_shape %[[DEN]] {{\[\[}}0], [1, 2], [3]] : tensor<2x2x2x16xf32> into tensor<2x4x16xf32>
// CHECK: %[[NUMC:.*]] = tensor.collapse_shape %[[NUM]] {{\[\[}}0], [1, 2], [3], [4]] : tensor<2x2x2x16x6xf32> into tensor<2x4x16x6xf32>
// O = num / den, 0 where den = 0, rounded to bf16; no row is read through
// tensor.extract (the rows are the loops').
// CHECK-NOT: tensor.extract
// CHECK: %[[INIT:.*]] = linalg.fill ins(%{{.*}} : bf16) outs(%{{.*}} : tensor<2x4x16x6xbf16>)
// CHECK: %[[O:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[ROW]], #[[ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[NUMC]], %[[DENC]] : tensor<2x4x16x6xf32>, tensor<2x4x16xf32>) outs(%[[INIT]] : tensor<2x4x16x6xbf16>)
// CHECK: ^bb0(%[[N:.*]]: f32, %[[D:.*]]: f32, %{{.*}}: bf16):
// CHECK: %[[Z0:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[SOME:.*]] = arith.cmpf une, %[[D]], %[[Z0]] : f32
// CHECK: %[[RATIO:.*]] = arith.divf %[[N]], %[[D]] : f32
// CHECK: %[[SEL:.*]] = arith.select %[[SOME]], %[[RATIO]], %[[Z0]] : f32
// CHECK: %[[T:.*]] = arith.truncf %[[SEL]] : f32 to bf16
// CHECK: linalg.yield %[[T]] : bf16
// CHECK: return %[[O]] : tensor<2x4x16x6xbf16>
func.func @elu_gqa_bf16(%q: tensor<2x4x16x8xbf16>, %k: tensor<2x2x12x8xbf16>,
                        %v: tensor<2x2x12x6xbf16>) -> tensor<2x4x16x6xbf16> {
  %0 = attn.linear_attention %q, %k, %v
      : tensor<2x4x16x8xbf16>, tensor<2x2x12x8xbf16>, tensor<2x2x12x6xbf16>
     -> tensor<2x4x16x6xbf16>
  return %0 : tensor<2x4x16x6xbf16>
}

// Causal elu, GQA, dynamic batch and lengths, f32, chunks of 16 keys.
// CHECK-LABEL: func.func @elu_causal_dynamic
// CHECK-SAME: (%[[Q:.*]]: tensor<?x4x?x8xf32>, %[[K:.*]]: tensor<?x2x?x8xf32>, %[[V:.*]]: tensor<?x2x?x6xf32>)
// The dynamic sizes are checked at run time.
// CHECK: %[[QB:.*]] = tensor.dim %[[Q]], %c0
// CHECK: %[[KB:.*]] = tensor.dim %[[K]], %c0
// CHECK: %[[SAME:.*]] = arith.cmpi eq, %[[QB]], %[[KB]] : index
// CHECK: cf.assert %[[SAME]], "attn.linear_attention: query and key batch sizes do not match"
// CHECK: %[[VB:.*]] = tensor.dim %[[V]], %c0
// CHECK: %[[KB2:.*]] = tensor.dim %[[K]], %c0
// CHECK: %[[SAMEB:.*]] = arith.cmpi eq, %[[VB]], %[[KB2]] : index
// CHECK: cf.assert %[[SAMEB]], "attn.linear_attention: value and key batch sizes do not match"
// CHECK: %[[VS:.*]] = tensor.dim %[[V]], %c2
// CHECK: %[[KS:.*]] = tensor.dim %[[K]], %c2
// CHECK: %[[SAMES:.*]] = arith.cmpi eq, %[[VS]], %[[KS]] : index
// CHECK: cf.assert %[[SAMES]], "attn.linear_attention: value and key sequence lengths do not match"
// CHECK-NOT: cf.assert
// CHECK: %[[PHIQ:.*]] = linalg.generic {{.*}} ins(%[[Q]] : tensor<?x4x?x8xf32>) outs(%{{.*}} : tensor<?x4x?x8xf32>)
// CHECK: math.exp
// CHECK: %[[PHIK:.*]] = linalg.generic {{.*}} ins(%[[K]] : tensor<?x2x?x8xf32>) outs(%{{.*}} : tensor<?x2x?x8xf32>)
// CHECK: math.exp
// N = ceil(Sk / 16) key chunks; the queries' key positions start in chunk
// c0 = max(Sk - Sq, 0) / 16 and span nQc = min(N - c0, Sq) chunks.
// CHECK: %[[SQ:.*]] = tensor.dim %[[PHIQ]], %c2
// CHECK: %[[SK:.*]] = tensor.dim %[[PHIK]], %c2
// CHECK: %[[C16:.*]] = arith.constant 16 : index
// CHECK: %[[N:.*]] = arith.ceildivui %[[SK]], %[[C16]] : index
// CHECK: %[[DIFF:.*]] = arith.subi %[[SK]], %[[SQ]] : index
// CHECK: %[[OFF:.*]] = arith.maxsi %[[DIFF]], %{{.*}} : index
// CHECK: %[[C0:.*]] = arith.divui %[[OFF]], %[[C16]] : index
// CHECK: %[[REST:.*]] = arith.subi %[[N]], %[[C0]] : index
// CHECK: %[[NQ:.*]] = arith.minsi %[[REST]], %[[SQ]] : index
// CHECK: %[[FIRST:.*]] = arith.muli %[[C0]], %[[C16]] : index
// The keys and values padded with zero rows to N * 16 rows.
// CHECK: %[[ROWS:.*]] = arith.muli %[[N]], %[[C16]] : index
// CHECK: %[[PK:.*]] = linalg.generic {indexing_maps = [#[[ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%{{.*}} : tensor<?x2x?x8xf32>)
// CHECK: %[[KJ:.*]] = linalg.index 2 : index
// CHECK: %[[KIN:.*]] = arith.cmpi ult, %[[KJ]], %[[SK]] : index
// CHECK: %[[KCL:.*]] = arith.select %[[KIN]], %[[KJ]], %{{.*}} : index
// CHECK: %[[KX:.*]] = tensor.extract %[[PHIK]][%{{.*}}, %{{.*}}, %[[KCL]], %{{.*}}] : tensor<?x2x?x8xf32>
// CHECK: arith.select %[[KIN]], %[[KX]], %{{.*}} : f32
// CHECK: %[[PV:.*]] = linalg.generic {indexing_maps = [#[[ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%{{.*}} : tensor<?x2x?x6xf32>)
// CHECK: tensor.extract %[[V]][%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : tensor<?x2x?x6xf32>
// [B, Hk, N, 16, F] views.
// CHECK: %[[KCH:.*]] = tensor.expand_shape %[[PK]] {{\[\[}}0], [1], [2, 3], [4]] output_shape [%{{.*}}, 2, %[[N]], 16, 8] : tensor<?x2x?x8xf32> into tensor<?x2x?x16x8xf32>
// CHECK: %[[VCH:.*]] = tensor.expand_shape %[[PV]] {{\[\[}}0], [1], [2, 3], [4]] output_shape [%{{.*}}, 2, %[[N]], 16, 6] : tensor<?x2x?x6xf32> into tensor<?x2x?x16x6xf32>
// Per chunk: KVc (loops b, h, c, f, e, jj) and zc (b, h, c, f, jj).
// CHECK: %[[KVC:.*]] = linalg.generic {indexing_maps = [#[[CKVK]], #[[CKVV]], #[[OUT6]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[KCH]], %[[VCH]] : tensor<?x2x?x16x8xf32>, tensor<?x2x?x16x6xf32>) outs(%{{.*}} : tensor<?x2x?x8x6xf32>)
// CHECK: %[[ZC:.*]] = linalg.generic {indexing_maps = [#[[CZ]], #[[OUT5]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[KCH]] : tensor<?x2x?x16x8xf32>) outs(%{{.*}} : tensor<?x2x?x8xf32>)
// The strictly lower triangle L[c, c'] = (c' < c) as 0.0 or 1.0.
// CHECK: %[[TE:.*]] = tensor.empty(%[[N]], %[[N]]) : tensor<?x?xf32>
// CHECK: %[[TRI:.*]] = linalg.generic {indexing_maps = [#[[ID2]]], iterator_types = ["parallel", "parallel"]} outs(%[[TE]] : tensor<?x?xf32>)
// CHECK: %[[TR:.*]] = linalg.index 0 : index
// CHECK: %[[TC:.*]] = linalg.index 1 : index
// CHECK: %[[BEFORE:.*]] = arith.cmpi ult, %[[TC]], %[[TR]] : index
// CHECK: %[[ONEF:.*]] = arith.uitofp %[[BEFORE]] : i1 to f32
// CHECK: linalg.yield %[[ONEF]] : f32
// The exclusive prefixes over chunks: contractions with the triangle.
// CHECK: %[[PRE:.*]] = linalg.generic {indexing_maps = [#[[TRI6]], #[[PKV]], #[[OUT6]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[TRI]], %[[KVC]] : tensor<?x?xf32>, tensor<?x2x?x8x6xf32>) outs(%{{.*}} : tensor<?x2x?x8x6xf32>)
// CHECK: %[[PREZ:.*]] = linalg.generic {indexing_maps = [#[[TRI5]], #[[KVV]], #[[OUT5]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[TRI]], %[[ZC]] : tensor<?x?xf32>, tensor<?x2x?x8xf32>) outs(%{{.*}} : tensor<?x2x?x8xf32>)
// The queries placed at their key positions: row t holds query
// c0 * 16 + t - (Sk - Sq), zero where that is not a query.
// CHECK: %[[QROWS:.*]] = arith.muli %[[NQ]], %[[C16]] : index
// CHECK: %[[PLACED:.*]] = linalg.generic {indexing_maps = [#[[ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%{{.*}} : tensor<?x4x?x8xf32>)
// CHECK: %[[T:.*]] = linalg.index 2 : index
// CHECK: %[[FT:.*]] = arith.addi %[[FIRST]], %[[T]] : index
// CHECK: %[[I:.*]] = arith.subi %[[FT]], %{{.*}} : index
// CHECK-DAG: %[[ILOW:.*]] = arith.cmpi sge, %[[I]], %{{.*}} : index
// CHECK-DAG: %[[IHIGH:.*]] = arith.cmpi slt, %[[I]], %[[SQ]] : index
// CHECK: %[[IVALID:.*]] = arith.andi %[[ILOW]], %[[IHIGH]] : i1
// CHECK: %[[ICL:.*]] = arith.select %[[IVALID]], %[[I]], %{{.*}} : index
// CHECK: %[[QX:.*]] = tensor.extract %[[PHIQ]][%{{.*}}, %{{.*}}, %[[ICL]], %{{.*}}] : tensor<?x4x?x8xf32>
// CHECK: arith.select %[[IVALID]], %[[QX]], %{{.*}} : f32
// CHECK: %[[GQ:.*]] = tensor.expand_shape %[[PLACED]] {{\[\[}}0], [1, 2], [3, 4], [5]] output_shape [%{{.*}}, 2, 2, %[[NQ]], 16, 8] : tensor<?x4x?x8xf32> into tensor<?x2x2x?x16x8xf32>
// The keys, values and prefixes from the first query chunk c0 on.
// CHECK: %[[KOWNS:.*]] = tensor.extract_slice %[[PK]][0, 0, %[[FIRST]], 0] [%{{.*}}, 2, %[[QROWS]], 8] [1, 1, 1, 1] : tensor<?x2x?x8xf32> to tensor<?x2x?x8xf32>
// CHECK: %[[KOWN:.*]] = tensor.expand_shape %[[KOWNS]] {{\[\[}}0], [1], [2, 3], [4]] output_shape [%{{.*}}, 2, %[[NQ]], 16, 8] : tensor<?x2x?x8xf32> into tensor<?x2x?x16x8xf32>
// CHECK: %[[VOWNS:.*]] = tensor.extract_slice %[[PV]][0, 0, %[[FIRST]], 0] [%{{.*}}, 2, %[[QROWS]], 6] [1, 1, 1, 1] : tensor<?x2x?x6xf32> to tensor<?x2x?x6xf32>
// CHECK: %[[VOWN:.*]] = tensor.expand_shape %[[VOWNS]] {{\[\[}}0], [1], [2, 3], [4]] output_shape [%{{.*}}, 2, %[[NQ]], 16, 6] : tensor<?x2x?x6xf32> into tensor<?x2x?x16x6xf32>
// CHECK: %[[PREOWN:.*]] = tensor.extract_slice %[[PRE]][0, 0, %[[C0]], 0, 0] [%{{.*}}, 2, %[[NQ]], 8, 6] [1, 1, 1, 1, 1] : tensor<?x2x?x8x6xf32> to tensor<?x2x?x8x6xf32>
// CHECK: %[[PREZOWN:.*]] = tensor.extract_slice %[[PREZ]][0, 0, %[[C0]], 0] [%{{.*}}, 2, %[[NQ]], 8] [1, 1, 1, 1] : tensor<?x2x?x8xf32> to tensor<?x2x?x8xf32>
// The earlier chunks: loops (b, hk, g, qc, ii, e, f) and (..., ii, f).
// CHECK: %[[NUM0:.*]] = linalg.generic {indexing_maps = [#[[Q7]], #[[P7]], #[[OUT7]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[GQ]], %[[PREOWN]] : tensor<?x2x2x?x16x8xf32>, tensor<?x2x?x8x6xf32>) outs(%{{.*}} : tensor<?x2x2x?x16x6xf32>)
// CHECK: %[[DEN0:.*]] = linalg.generic {indexing_maps = [#[[ID6]], #[[PZ6]], #[[OUT6]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[GQ]], %[[PREZOWN]] : tensor<?x2x2x?x16x8xf32>, tensor<?x2x?x8xf32>) outs(%{{.*}} : tensor<?x2x2x?x16xf32>)
// The own chunk: C x C scores, masked to jj <= ii, times V into num.
// CHECK: %[[SCORES:.*]] = linalg.generic {indexing_maps = [#[[Q7]], #[[K7]], #[[OUT7]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[GQ]], %[[KOWN]] : tensor<?x2x2x?x16x8xf32>, tensor<?x2x?x16x8xf32>) outs(%{{.*}} : tensor<?x2x2x?x16x16xf32>)
// CHECK: %[[MASKED:.*]] = linalg.generic {indexing_maps = [#[[ID6]], #[[ID6]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%[[SCORES]] : tensor<?x2x2x?x16x16xf32>) outs(%{{.*}} : tensor<?x2x2x?x16x16xf32>)
// CHECK: ^bb0(%[[SC:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[II:.*]] = linalg.index 4 : index
// CHECK: %[[JJ:.*]] = linalg.index 5 : index
// CHECK: %[[SEEN:.*]] = arith.cmpi ule, %[[JJ]], %[[II]] : index
// CHECK: %[[MS:.*]] = arith.select %[[SEEN]], %[[SC]], %{{.*}} : f32
// CHECK: linalg.yield %[[MS]] : f32
// CHECK: %[[NUM:.*]] = linalg.generic {indexing_maps = [#[[Q7]], #[[P7]], #[[OUT7]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[MASKED]], %[[VOWN]] : tensor<?x2x2x?x16x16xf32>, tensor<?x2x?x16x6xf32>) outs(%[[NUM0]] : tensor<?x2x2x?x16x6xf32>)
// CHECK: %[[DEN:.*]] = linalg.generic {indexing_maps = [#[[ID6]], #[[OUT6]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[MASKED]] : tensor<?x2x2x?x16x16xf32>) outs(%[[DEN0]] : tensor<?x2x2x?x16xf32>)
// CHECK: %[[DENC:.*]] = tensor.collapse_shape %[[DEN]] {{\[\[}}0], [1, 2], [3, 4]] : tensor<?x2x2x?x16xf32> into tensor<?x4x?xf32>
// CHECK: %[[NUMC:.*]] = tensor.collapse_shape %[[NUM]] {{\[\[}}0], [1, 2], [3, 4], [5]] : tensor<?x2x2x?x16x6xf32> into tensor<?x4x?x6xf32>
// The division reads query i's row p - c0 * 16 (p = i + Sk - Sq), through
// a loop of extent min(Sk, 1); f32, so no rounding.
// CHECK: %[[INIT:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<?x4x?x6xf32>)
// CHECK: %[[OSQ:.*]] = tensor.dim %[[Q]], %c2
// CHECK: %[[OSK:.*]] = tensor.dim %[[K]], %c2
// CHECK: %[[ODIFF:.*]] = arith.subi %[[OSK]], %[[OSQ]] : index
// CHECK: %[[EXTENT:.*]] = arith.minsi %[[OSK]], %c1{{.*}} : index
// CHECK: %[[WINDOW:.*]] = tensor.empty(%[[EXTENT]]) : tensor<?xf32>
// CHECK: %[[O:.*]] = linalg.generic {indexing_maps = [#[[WIN]], #[[OUT5]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[WINDOW]] : tensor<?xf32>) outs(%[[INIT]] : tensor<?x4x?x6xf32>)
// CHECK: ^bb0(%{{.*}}: f32, %[[OUT:.*]]: f32):
// CHECK: %[[OB:.*]] = linalg.index 0 : index
// CHECK: %[[OH:.*]] = linalg.index 1 : index
// CHECK: %[[OI:.*]] = linalg.index 2 : index
// CHECK: %[[OE:.*]] = linalg.index 3 : index
// CHECK: %[[POSN:.*]] = arith.addi %[[OI]], %[[ODIFF]] : index
// CHECK: %[[SEES:.*]] = arith.cmpi sge, %[[POSN]], %[[ZI:.*]] : index
// CHECK: %[[REL:.*]] = arith.subi %[[POSN]], %[[FIRST]] : index
// CHECK: %[[OROW:.*]] = arith.select %[[SEES]], %[[REL]], %[[ZI]] : index
// CHECK: %[[NV:.*]] = tensor.extract %[[NUMC]][%[[OB]], %[[OH]], %[[OROW]], %[[OE]]] : tensor<?x4x?x6xf32>
// CHECK: %[[DV:.*]] = tensor.extract %[[DENC]][%[[OB]], %[[OH]], %[[OROW]]] : tensor<?x4x?xf32>
// CHECK: %[[Z0:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[NZ:.*]] = arith.cmpf une, %[[DV]], %[[Z0]] : f32
// CHECK: %[[SOME:.*]] = arith.andi %[[NZ]], %[[SEES]] : i1
// CHECK: %[[RATIO:.*]] = arith.divf %[[NV]], %[[DV]] : f32
// CHECK: %[[SEL:.*]] = arith.select %[[SOME]], %[[RATIO]], %[[Z0]] : f32
// CHECK-NOT: arith.truncf
// CHECK: %[[R:.*]] = arith.addf %[[OUT]], %[[SEL]] : f32
// CHECK: linalg.yield %[[R]] : f32
// CHECK: return %[[O]] : tensor<?x4x?x6xf32>
func.func @elu_causal_dynamic(%q: tensor<?x4x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                              %v: tensor<?x2x?x6xf32>) -> tensor<?x4x?x6xf32> {
  %0 = attn.linear_attention %q, %k, %v {causal, chunk = 16}
      : tensor<?x4x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x6xf32>
     -> tensor<?x4x?x6xf32>
  return %0 : tensor<?x4x?x6xf32>
}

// FAVOR+, non-causal, MQA, static [B, S, H, D], f16 with bf16 features and
// scale 0.25: x' = 0.5 x read in the layout; the exponents x' w (a
// contraction over D with the features widened to f32); the queries
// shifted by their row maxima, the keys' e - |x'|^2 / 2 by the head's
// maximum (the rows' maxima first); the result written back in
// [B, S, H, Dv] and rounded to f16.
// CHECK-LABEL: func.func @favor_bshd_f16
// CHECK-SAME: (%[[Q:.*]]: tensor<1x7x2x8xf16>, %[[K:.*]]: tensor<1x9x1x8xf16>, %[[V:.*]]: tensor<1x9x1x4xf16>, %[[W:.*]]: tensor<8x5xbf16>)
// CHECK-NOT: cf.assert
// CHECK: %[[XQ:.*]] = linalg.generic {indexing_maps = [#[[BSHD]], #[[ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[Q]] : tensor<1x7x2x8xf16>) outs(%{{.*}} : tensor<1x2x7x8xf32>)
// CHECK: %[[QX:.*]] = arith.extf %{{.*}} : f16 to f32
// CHECK: %[[ROOT:.*]] = arith.constant 5.000000e-01 : f32
// CHECK: arith.mulf %[[QX]], %[[ROOT]] : f32
// CHECK: %[[WQ:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[W]] : tensor<8x5xbf16>) outs(%{{.*}} : tensor<8x5xf32>)
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: %[[EQ:.*]] = linalg.generic {indexing_maps = [#[[XW]], #[[WMAP]], #[[OUT5]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[XQ]], %[[WQ]] : tensor<1x2x7x8xf32>, tensor<8x5xf32>) outs(%{{.*}} : tensor<1x2x7x5xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[QM0:.*]] = linalg.fill ins(%[[NEGINF]] : f32) outs(%{{.*}} : tensor<1x2x7xf32>)
// CHECK: %[[QMAX:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[ROW]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[EQ]] : tensor<1x2x7x5xf32>) outs(%[[QM0]] : tensor<1x2x7xf32>)
// CHECK: ^bb0(%[[QE:.*]]: f32, %[[QACC:.*]]: f32):
// CHECK: arith.maximumf %[[QACC]], %[[QE]] : f32
// CHECK: %[[PHIQ:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[ROW]], #[[ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[EQ]], %[[QMAX]] : tensor<1x2x7x5xf32>, tensor<1x2x7xf32>) outs(%{{.*}} : tensor<1x2x7x5xf32>)
// CHECK: ^bb0(%[[E:.*]]: f32, %[[M:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[SH:.*]] = arith.subf %[[E]], %[[M]] : f32
// CHECK: %[[EX:.*]] = math.exp %[[SH]] : f32
// CHECK: linalg.yield %[[EX]] : f32
// The keys.
// CHECK: %[[XK:.*]] = linalg.generic {indexing_maps = [#[[BSHD]], #[[ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[K]] : tensor<1x9x1x8xf16>) outs(%{{.*}} : tensor<1x1x9x8xf32>)
// CHECK: %[[WK:.*]] = linalg.generic {{.*}} ins(%[[W]] : tensor<8x5xbf16>) outs(%{{.*}} : tensor<8x5xf32>)
// CHECK: %[[EK:.*]] = linalg.generic {indexing_maps = [#[[XW]], #[[WMAP]], #[[OUT5]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[XK]], %[[WK]] : tensor<1x1x9x8xf32>, tensor<8x5xf32>) outs(%{{.*}} : tensor<1x1x9x5xf32>)
// |x'|^2 per key.
// CHECK: %[[NORM:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[ROW]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[XK]] : tensor<1x1x9x8xf32>) outs(%{{.*}} : tensor<1x1x9xf32>)
// CHECK: ^bb0(%[[NX:.*]]: f32, %[[NACC:.*]]: f32):
// CHECK: %[[SQR:.*]] = arith.mulf %[[NX]], %[[NX]] : f32
// CHECK: arith.addf %[[NACC]], %[[SQR]] : f32
// The rows' maxima of e - |x'|^2 / 2, then the head's.
// CHECK: %[[RMAX:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[ROW]], #[[ROW]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[EK]], %[[NORM]] : tensor<1x1x9x5xf32>, tensor<1x1x9xf32>) outs(%{{.*}} : tensor<1x1x9xf32>)
// CHECK: ^bb0(%[[RE:.*]]: f32, %[[RN:.*]]: f32, %[[RACC:.*]]: f32):
// CHECK: %[[HALFC:.*]] = arith.constant 5.000000e-01 : f32
// CHECK: %[[HALF:.*]] = arith.mulf %[[RN]], %[[HALFC]] : f32
// CHECK: %[[RX:.*]] = arith.subf %[[RE]], %[[HALF]] : f32
// CHECK: arith.maximumf %[[RACC]], %[[RX]] : f32
// CHECK: %[[HMAX:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[HEAD3]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[RMAX]] : tensor<1x1x9xf32>) outs(%{{.*}} : tensor<1x1xf32>)
// CHECK: arith.maximumf
// CHECK: %[[PHIK:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[ROW]], #[[HEAD4]], #[[ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[EK]], %[[NORM]], %[[HMAX]] : tensor<1x1x9x5xf32>, tensor<1x1x9xf32>, tensor<1x1xf32>) outs(%{{.*}} : tensor<1x1x9x5xf32>)
// CHECK: ^bb0(%[[KE:.*]]: f32, %[[KN:.*]]: f32, %[[KM:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[KHALF:.*]] = arith.mulf %[[KN]], %{{.*}} : f32
// CHECK: %[[KX:.*]] = arith.subf %[[KE]], %[[KHALF]] : f32
// CHECK: %[[KSH:.*]] = arith.subf %[[KX]], %[[KM]] : f32
// CHECK: %[[KEXP:.*]] = math.exp %[[KSH]] : f32
// CHECK: linalg.yield %[[KEXP]] : f32
// The values in the canonical order, then KV and z over r = 5 features.
// CHECK: %[[VF:.*]] = linalg.generic {indexing_maps = [#[[BSHD]], #[[ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[V]] : tensor<1x9x1x4xf16>) outs(%{{.*}} : tensor<1x1x9x4xf32>)
// CHECK: %[[KV:.*]] = linalg.generic {indexing_maps = [#[[KVK]], #[[KVV]], #[[OUT5]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[PHIK]], %[[VF]] : tensor<1x1x9x5xf32>, tensor<1x1x9x4xf32>) outs(%{{.*}} : tensor<1x1x5x4xf32>)
// CHECK: %[[Z:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[ZOUT]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%[[PHIK]] : tensor<1x1x9x5xf32>) outs(%{{.*}} : tensor<1x1x5xf32>)
// CHECK: %[[GQ:.*]] = tensor.expand_shape %[[PHIQ]] {{\[\[}}0], [1, 2], [3], [4]] output_shape [1, 1, 2, 7, 5] : tensor<1x2x7x5xf32> into tensor<1x1x2x7x5xf32>
// CHECK: %[[NUM:.*]] = linalg.generic {indexing_maps = [#[[NUMQ]], #[[NUMKV]], #[[OUT6]]], {{.*}} ins(%[[GQ]], %[[KV]] : tensor<1x1x2x7x5xf32>, tensor<1x1x5x4xf32>) outs(%{{.*}} : tensor<1x1x2x7x4xf32>)
// CHECK: %[[DEN:.*]] = linalg.generic {indexing_maps = [#[[ID5]], #[[DENZ]], #[[OUT5]]], {{.*}} ins(%[[GQ]], %[[Z]] : tensor<1x1x2x7x5xf32>, tensor<1x1x5xf32>) outs(%{{.*}} : tensor<1x1x2x7xf32>)
// CHECK: %[[DENC:.*]] = tensor.collapse_shape %[[DEN]]
// CHECK: %[[NUMC:.*]] = tensor.collapse_shape %[[NUM]]
// CHECK: %[[O:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[ROW]], #[[BSHD]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[NUMC]], %[[DENC]] : tensor<1x2x7x4xf32>, tensor<1x2x7xf32>) outs(%{{.*}} : tensor<1x7x2x4xf16>)
// CHECK: arith.cmpf une
// CHECK: arith.divf
// CHECK: %[[SEL:.*]] = arith.select
// CHECK: %[[T:.*]] = arith.truncf %[[SEL]] : f32 to f16
// CHECK: linalg.yield %[[T]] : f16
// CHECK: return %[[O]] : tensor<1x7x2x4xf16>
func.func @favor_bshd_f16(%q: tensor<1x7x2x8xf16>, %k: tensor<1x9x1x8xf16>,
                          %v: tensor<1x9x1x4xf16>, %w: tensor<8x5xbf16>)
    -> tensor<1x7x2x4xf16> {
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<8x5xbf16>)
      {feature_map = #attn.feature_map<favor>, scale = 0.25,
       layout = #attn.layout<bshd>}
      : tensor<1x7x2x8xf16>, tensor<1x9x1x8xf16>, tensor<1x9x1x4xf16>
     -> tensor<1x7x2x4xf16>
  return %0 : tensor<1x7x2x4xf16>
}

// FAVOR+, causal, GQA, dynamic [B, S, H, D], bf16, f32 features and the
// scale defaulted to 1 / sqrt(8), the largest chunk: the run-time checks
// read the sequence length from dimension 1, the padded values read V in
// its layout, the features are not widened, and the division writes
// [B, S, H, Dv] in bf16 through the min(Sk, 1) window.
// CHECK-LABEL: func.func @favor_causal_bshd
// CHECK-SAME: (%[[Q:.*]]: tensor<?x?x4x8xbf16>, %[[K:.*]]: tensor<?x?x2x8xbf16>, %[[V:.*]]: tensor<?x?x2x3xbf16>, %[[W:.*]]: tensor<8x3xf32>)
// CHECK: tensor.dim %[[Q]], %c0
// CHECK: tensor.dim %[[K]], %c0
// CHECK: cf.assert %{{.*}}, "attn.linear_attention: query and key batch sizes do not match"
// CHECK: tensor.dim %[[V]], %c0
// CHECK: tensor.dim %[[K]], %c0
// CHECK: cf.assert %{{.*}}, "attn.linear_attention: value and key batch sizes do not match"
// CHECK: %[[VS:.*]] = tensor.dim %[[V]], %c1
// CHECK: %[[KS:.*]] = tensor.dim %[[K]], %c1
// CHECK: %[[SAMES:.*]] = arith.cmpi eq, %[[VS]], %[[KS]] : index
// CHECK: cf.assert %[[SAMES]], "attn.linear_attention: value and key sequence lengths do not match"
// sqrt(1 / sqrt(8)) = 8^(-1/4).
// CHECK: %[[XQ:.*]] = linalg.generic {indexing_maps = [#[[BSHD]], #[[ID4]]], {{.*}} ins(%[[Q]] : tensor<?x?x4x8xbf16>) outs(%{{.*}} : tensor<?x4x?x8xf32>)
// CHECK: arith.constant 0.594603{{[0-9]*}} : f32
// The features are f32 already.
// CHECK-NOT: ins(%[[W]] : tensor<8x3xf32>) outs
// CHECK: %[[EQ:.*]] = linalg.generic {indexing_maps = [#[[XW]], #[[WMAP]], #[[OUT5]]], {{.*}} ins(%[[XQ]], %[[W]] : tensor<?x4x?x8xf32>, tensor<8x3xf32>) outs(%{{.*}} : tensor<?x4x?x3xf32>)
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: %[[EK:.*]] = linalg.generic {indexing_maps = [#[[XW]], #[[WMAP]], #[[OUT5]]], {{.*}} ins(%{{.*}}, %[[W]] : tensor<?x2x?x8xf32>, tensor<8x3xf32>) outs(%{{.*}} : tensor<?x2x?x3xf32>)
// CHECK: arith.maximumf
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: %[[C4096:.*]] = arith.constant 4096 : index
// CHECK: arith.ceildivui %{{.*}}, %[[C4096]] : index
// The padded values: V read at [b, s, h, e].
// CHECK: linalg.generic {indexing_maps = [#[[ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%{{.*}} : tensor<?x2x?x3xf32>)
// CHECK: %[[VB:.*]] = linalg.index 0 : index
// CHECK: %[[VH:.*]] = linalg.index 1 : index
// CHECK: %[[VJ:.*]] = linalg.index 2 : index
// CHECK: %[[VE:.*]] = linalg.index 3 : index
// CHECK: %[[VIN:.*]] = arith.cmpi ult, %[[VJ]], %{{.*}} : index
// CHECK: %[[VCL:.*]] = arith.select %[[VIN]], %[[VJ]], %{{.*}} : index
// CHECK: tensor.extract %[[V]][%[[VB]], %[[VCL]], %[[VH]], %[[VE]]] : tensor<?x?x2x3xbf16>
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1], [2, 3], [4]] output_shape [%{{.*}}, 2, %{{.*}}, 4096, 3] : tensor<?x2x?x3xf32> into tensor<?x2x?x4096x3xf32>
// CHECK: arith.uitofp %{{.*}} : i1 to f32
// CHECK: tensor.extract_slice
// CHECK: arith.cmpi ule
// CHECK: %[[EXTENT:.*]] = arith.minsi %{{.*}}, %c1{{.*}} : index
// CHECK: %[[WINDOW:.*]] = tensor.empty(%[[EXTENT]]) : tensor<?xf32>
// CHECK: %[[O:.*]] = linalg.generic {indexing_maps = [#[[WIN]], #[[BSHD5]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[WINDOW]] : tensor<?xf32>) outs(%{{.*}} : tensor<?x?x4x3xbf16>)
// CHECK: ^bb0(%{{.*}}: f32, %[[OUT:.*]]: bf16):
// CHECK: arith.divf
// CHECK: %[[SEL:.*]] = arith.select
// CHECK: %[[T:.*]] = arith.truncf %[[SEL]] : f32 to bf16
// CHECK: %[[R:.*]] = arith.addf %[[OUT]], %[[T]] : bf16
// CHECK: linalg.yield %[[R]] : bf16
// CHECK: return %[[O]] : tensor<?x?x4x3xbf16>
func.func @favor_causal_bshd(%q: tensor<?x?x4x8xbf16>, %k: tensor<?x?x2x8xbf16>,
                             %v: tensor<?x?x2x3xbf16>, %w: tensor<8x3xf32>)
    -> tensor<?x?x4x3xbf16> {
  %0 = attn.linear_attention %q, %k, %v features(%w : tensor<8x3xf32>)
      {feature_map = #attn.feature_map<favor>, causal, chunk = 4096,
       layout = #attn.layout<bshd>}
      : tensor<?x?x4x8xbf16>, tensor<?x?x2x8xbf16>, tensor<?x?x2x3xbf16>
     -> tensor<?x?x4x3xbf16>
  return %0 : tensor<?x?x4x3xbf16>
}
