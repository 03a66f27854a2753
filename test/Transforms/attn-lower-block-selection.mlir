// RUN: attune-opt %s --attn-lower-block-selection | FileCheck %s
// RUN: attune-opt %s --attn-lower-to-reference | FileCheck %s --check-prefix=REF

// attn.topk_blocks becomes linalg.generic ops only (docs/BlockSelection.md,
// "Lowering"): the f64 block sums of Q [B, H, nQb, D] and of K transposed
// [B, Hk, D, nKb], each a reduction over a block's rows (loop 3, its extent
// given by a pooling window operand) that reads the input with
// tensor.extract and adds zero for a row past the end; the dot products of
// the sums over d (the GQA key head h floordiv g in the key sums' map); one
// division by the blocks' row counts; top_k argmax passes over kb, each
// after the previous pass's pick; and the i8 map, forced or a candidate at
// or before the last pick.
//
// Operands built in one C++ call's argument list come in an order the host
// compiler picks: those are checked with CHECK-DAG.

// CHECK-DAG: #[[WIN:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d3)>
// CHECK-DAG: #[[QSUM:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[KSUM:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d2)>
// CHECK-DAG: #[[QS:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[KS:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d3, d4)>
// CHECK-DAG: #[[KSMHA:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[PWQ:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d3, d4)>
// CHECK-DAG: #[[PWK:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d3, d2)>

// CHECK-LABEL: func.func @gqa_causal
// CHECK-SAME: (%[[Q:.*]]: tensor<?x4x?x8xbf16>, %[[K:.*]]: tensor<?x2x?x8xbf16>)
// The dynamic batch sizes are checked at run time.
// CHECK: %[[QB:.*]] = tensor.dim %[[Q]], %c0
// CHECK: %[[KB:.*]] = tensor.dim %[[K]], %c0
// CHECK: %[[SAME:.*]] = arith.cmpi eq, %[[QB]], %[[KB]] : index
// CHECK: cf.assert %[[SAME]], "attn.topk_blocks: query and key batch sizes do not match"
// CHECK: %[[SQ:.*]] = tensor.dim %[[Q]], %c2
// CHECK: %[[SK:.*]] = tensor.dim %[[K]], %c2
// The blocks: ceil(Sq / 16) query blocks, ceil(Sk / 32) key blocks.
// CHECK: %[[NQB:.*]] = arith.ceildivui %[[SQ]], %c16 : index
// CHECK: %[[NKB:.*]] = arith.ceildivui %[[SK]], %c32 : index
//
// The query block sums: a window of 16 rows.
// CHECK: %[[QE:.*]] = tensor.empty(%{{.*}}, %[[NQB]]) : tensor<?x4x?x8xf64>
// CHECK: %[[QZ:.*]] = linalg.fill ins(%{{.*}} : f64) outs(%[[QE]] : tensor<?x4x?x8xf64>)
// CHECK: %[[QWIN:.*]] = tensor.empty() : tensor<16xf64>
// CHECK: %[[QSUMS:.*]] = linalg.generic {indexing_maps = [#[[WIN]], #[[QSUM]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%[[QWIN]] : tensor<16xf64>) outs(%[[QZ]] : tensor<?x4x?x8xf64>)
// CHECK: ^bb0(%{{.*}}: f64, %[[ACC:.*]]: f64):
// CHECK: %[[B:.*]] = linalg.index 0 : index
// CHECK: %[[H:.*]] = linalg.index 1 : index
// CHECK: %[[BLK:.*]] = linalg.index 2 : index
// CHECK: %[[T:.*]] = linalg.index 3 : index
// CHECK: %[[D:.*]] = linalg.index 4 : index
// CHECK: %[[START:.*]] = arith.muli %[[BLK]], %c16{{.*}} : index
// CHECK: %[[R:.*]] = arith.addi %[[START]], %[[T]] : index
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[R]], %[[SQ]] : index
// CHECK: %[[CL:.*]] = arith.select %[[IN]], %[[R]], %c0{{.*}} : index
// CHECK: %[[X:.*]] = tensor.extract %[[Q]][%[[B]], %[[H]], %[[CL]], %[[D]]] : tensor<?x4x?x8xbf16>
// CHECK: %[[X32:.*]] = arith.extf %[[X]] : bf16 to f32
// CHECK: %[[X64:.*]] = arith.extf %[[X32]] : f32 to f64
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK: %[[V:.*]] = arith.select %[[IN]], %[[X64]], %[[ZERO]] : f64
// CHECK: %[[SUM:.*]] = arith.addf %[[ACC]], %[[V]] : f64
// CHECK: linalg.yield %[[SUM]] : f64
//
// The key block sums, transposed: [B, Hk, D, nKb], a window of 32 rows.
// CHECK: tensor.empty(%{{.*}}, %[[NKB]]) : tensor<?x2x8x?xf64>
// CHECK: %[[KWIN:.*]] = tensor.empty() : tensor<32xf64>
// CHECK: %[[KSUMS:.*]] = linalg.generic {indexing_maps = [#[[WIN]], #[[KSUM]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%[[KWIN]] : tensor<32xf64>) outs(%{{.*}} : tensor<?x2x8x?xf64>)
// CHECK: %[[KR:.*]] = arith.addi %{{.*}}, %{{.*}} : index
// CHECK: %[[KIN:.*]] = arith.cmpi ult, %[[KR]], %[[SK]] : index
// CHECK: %[[KCL:.*]] = arith.select %[[KIN]], %[[KR]], %c0{{.*}} : index
// CHECK: tensor.extract %[[K]][%{{.*}}, %{{.*}}, %[[KCL]], %{{.*}}] : tensor<?x2x?x8xbf16>
// CHECK: %[[KV64:.*]] = arith.extf %{{.*}} : f32 to f64
// CHECK: arith.select %[[KIN]], %[[KV64]], %{{.*}} : f64
// CHECK: arith.addf
//
// The dot products: d a reduction before kb, key head h floordiv 2.
// CHECK: %[[DOTS:.*]] = linalg.generic {indexing_maps = [#[[QS]], #[[KS]], #[[QSUM]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%[[QSUMS]], %[[KSUMS]] : tensor<?x4x?x8xf64>, tensor<?x2x8x?xf64>) outs(%{{.*}} : tensor<?x4x?x?xf64>)
// CHECK: ^bb0(%[[QV:.*]]: f64, %[[KV:.*]]: f64, %[[DACC:.*]]: f64):
// CHECK: %[[P:.*]] = arith.mulf %[[QV]], %[[KV]] : f64
// CHECK: arith.addf %[[DACC]], %[[P]] : f64
//
// One division by nq(qb) * nk(kb) = min(16, Sq - 16 qb) * min(32, Sk - 32 kb).
// CHECK: %[[SCORES:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[DOTS]] : tensor<?x4x?x?xf64>) outs(%{{.*}} : tensor<?x4x?x?xf64>)
// CHECK: ^bb0(%[[DOT:.*]]: f64, %{{.*}}: f64):
// CHECK-DAG: %[[DQB:.*]] = linalg.index 2 : index
// CHECK-DAG: %[[DKB:.*]] = linalg.index 3 : index
// CHECK-DAG: %[[QSTART:.*]] = arith.muli %[[DQB]], %c16{{.*}} : index
// CHECK-DAG: %[[QREM:.*]] = arith.subi %[[SQ]], %[[QSTART]] : index
// CHECK-DAG: %[[QROWS:.*]] = arith.minsi %c16{{.*}}, %[[QREM]] : index
// CHECK-DAG: %[[QROWSI:.*]] = arith.index_cast %[[QROWS]] : index to i64
// CHECK-DAG: %[[QROWSF:.*]] = arith.sitofp %[[QROWSI]] : i64 to f64
// CHECK-DAG: %[[KSTART:.*]] = arith.muli %[[DKB]], %c32{{.*}} : index
// CHECK-DAG: %[[KREM:.*]] = arith.subi %[[SK]], %[[KSTART]] : index
// CHECK-DAG: %[[KROWS:.*]] = arith.minsi %c32{{.*}}, %[[KREM]] : index
// CHECK-DAG: %[[KROWSI:.*]] = arith.index_cast %[[KROWS]] : index to i64
// CHECK-DAG: %[[KROWSF:.*]] = arith.sitofp %[[KROWSI]] : i64 to f64
// CHECK: %[[COUNT:.*]] = arith.mulf %[[QROWSF]], %[[KROWSF]] : f64
// CHECK: %[[SCORE:.*]] = arith.divf %[[DOT]], %[[COUNT]] : f64
// CHECK: linalg.yield %[[SCORE]] : f64
//
// Pass 0: the best candidate from (-inf, -1).
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFFF0000000000000 : f64
// CHECK: %[[BEST0:.*]] = linalg.fill ins(%[[NEGINF]] : f64) outs(%{{.*}} : tensor<?x4x?xf64>)
// CHECK: %[[NONE:.*]] = arith.constant -1 : i32
// CHECK: %[[ID0:.*]] = linalg.fill ins(%[[NONE]] : i32) outs(%{{.*}} : tensor<?x4x?xi32>)
// CHECK: %[[P0:.*]]:2 = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ROW]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[SCORES]] : tensor<?x4x?x?xf64>) outs(%[[BEST0]], %[[ID0]] : tensor<?x4x?xf64>, tensor<?x4x?xi32>)
// CHECK: ^bb0(%[[S0:.*]]: f64, %[[B0:.*]]: f64, %[[I0:.*]]: i32):
// last = min(Sq, (qb + 1) * 16) - 1 + Sk - Sq; causal: eligible when
// kb * 32 <= last; forced: kb < sink = 1, or diag - local < kb <= diag with
// last >= 0 and diag = floor(last / 32); a candidate: eligible, not forced,
// not NaN.
// CHECK: %[[QB0:.*]] = linalg.index 2 : index
// CHECK: %[[KB0:.*]] = linalg.index 3 : index
// CHECK: %[[NEXT:.*]] = arith.addi %[[QB0]], %c1{{.*}} : index
// CHECK: %[[QEND:.*]] = arith.muli %[[NEXT]], %c16{{.*}} : index
// CHECK: %[[END:.*]] = arith.minsi %[[SQ]], %[[QEND]] : index
// CHECK-DAG: %[[SQ1:.*]] = arith.addi %[[SQ]], %c1{{.*}} : index
// CHECK-DAG: %[[ENDK:.*]] = arith.addi %[[END]], %[[SK]] : index
// CHECK: %[[LAST:.*]] = arith.subi %[[ENDK]], %[[SQ1]] : index
// CHECK: %[[FIRSTKEY:.*]] = arith.muli %[[KB0]], %c32{{.*}} : index
// CHECK: %[[ELIG:.*]] = arith.cmpi sle, %[[FIRSTKEY]], %[[LAST]] : index
// CHECK: %[[SINK:.*]] = arith.cmpi slt, %[[KB0]], %c1{{.*}} : index
// CHECK: %[[DIAG:.*]] = arith.floordivsi %[[LAST]], %c32{{.*}} : index
// CHECK-DAG: %[[LOW:.*]] = arith.subi %[[DIAG]], %c1{{.*}} : index
// CHECK-DAG: %[[ABOVE:.*]] = arith.cmpi sgt, %[[KB0]], %[[LOW]] : index
// CHECK-DAG: %[[BELOW:.*]] = arith.cmpi sle, %[[KB0]], %[[DIAG]] : index
// CHECK-DAG: %[[SEES:.*]] = arith.cmpi sge, %[[LAST]], %c0{{.*}} : index
// CHECK-DAG: %[[IN2:.*]] = arith.andi %[[SEES]], %[[BELOW]] : i1
// CHECK-DAG: %[[LOCAL:.*]] = arith.andi %[[IN2]], %[[ABOVE]] : i1
// CHECK: %[[EITHER:.*]] = arith.ori %[[SINK]], %[[LOCAL]] : i1
// CHECK: %[[FORCED:.*]] = arith.andi %[[ELIG]], %[[EITHER]] : i1
// CHECK: %[[NOTFORCED:.*]] = arith.xori %[[FORCED]], %{{.*}} : i1
// CHECK: %[[ORD:.*]] = arith.cmpf ord, %[[S0]], %[[S0]] : f64
// CHECK: %[[EN:.*]] = arith.andi %[[ELIG]], %[[NOTFORCED]] : i1
// CHECK: %[[CAND0:.*]] = arith.andi %[[EN]], %[[ORD]] : i1
// CHECK: %[[KB032:.*]] = arith.index_cast %[[KB0]] : index to i32
// Taken when a candidate and the first, larger, or equal with a lower kb.
// CHECK: %[[FIRST:.*]] = arith.cmpi slt, %[[I0]], %c0_i32 : i32
// CHECK: %[[GT:.*]] = arith.cmpf ogt, %[[S0]], %[[B0]] : f64
// CHECK: %[[EQ:.*]] = arith.cmpf oeq, %[[S0]], %[[B0]] : f64
// CHECK: %[[LOWER:.*]] = arith.cmpi slt, %[[KB032]], %[[I0]] : i32
// CHECK: %[[TIE:.*]] = arith.andi %[[EQ]], %[[LOWER]] : i1
// CHECK: %[[BETTER:.*]] = arith.ori %[[GT]], %[[TIE]] : i1
// CHECK: %[[ANY:.*]] = arith.ori %[[FIRST]], %[[BETTER]] : i1
// CHECK: %[[TAKE0:.*]] = arith.andi %[[CAND0]], %[[ANY]] : i1
// CHECK: %[[NB0:.*]] = arith.select %[[TAKE0]], %[[S0]], %[[B0]] : f64
// CHECK: %[[NI0:.*]] = arith.select %[[TAKE0]], %[[KB032]], %[[I0]] : i32
// CHECK: linalg.yield %[[NB0]], %[[NI0]] : f64, i32
//
// Pass 1: restricted to the candidates after pass 0's pick.
// CHECK: %[[P1:.*]]:2 = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ROW]], #[[ROW]], #[[ROW]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[SCORES]], %[[P0]]#0, %[[P0]]#1 : tensor<?x4x?x?xf64>, tensor<?x4x?xf64>, tensor<?x4x?xi32>) outs(%{{.*}}, %{{.*}} : tensor<?x4x?xf64>, tensor<?x4x?xi32>)
// CHECK: ^bb0(%[[S1:.*]]: f64, %[[PV:.*]]: f64, %[[PI:.*]]: i32, %{{.*}}: f64, %{{.*}}: i32):
// CHECK: %[[KB1:.*]] = linalg.index 3 : index
// CHECK: %[[ORD1:.*]] = arith.cmpf ord, %[[S1]], %[[S1]] : f64
// CHECK: %[[CAND1:.*]] = arith.andi %{{.*}}, %[[ORD1]] : i1
// CHECK: %[[KB132:.*]] = arith.index_cast %[[KB1]] : index to i32
// CHECK: %[[LT1:.*]] = arith.cmpf olt, %[[S1]], %[[PV]] : f64
// CHECK: %[[EQ1:.*]] = arith.cmpf oeq, %[[S1]], %[[PV]] : f64
// CHECK: %[[LATER1:.*]] = arith.cmpi sgt, %[[KB132]], %[[PI]] : i32
// CHECK: %[[PICKED1:.*]] = arith.cmpi sge, %[[PI]], %c0_i32 : i32
// CHECK: %[[TIE1:.*]] = arith.andi %[[EQ1]], %[[LATER1]] : i1
// CHECK: %[[WORSE1:.*]] = arith.ori %[[LT1]], %[[TIE1]] : i1
// CHECK: %[[AFTER1:.*]] = arith.andi %[[PICKED1]], %[[WORSE1]] : i1
// CHECK: arith.andi %[[CAND1]], %[[AFTER1]] : i1
// CHECK: linalg.yield
//
// top_k = 2: no third pass.
// CHECK-NOT: iterator_types = ["parallel", "parallel", "parallel", "reduction"]
//
// The map: forced, or a candidate not after the last pick, as i8.
// CHECK: %[[MAP:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[SCORES]], %[[P1]]#0, %[[P1]]#1 : tensor<?x4x?x?xf64>, tensor<?x4x?xf64>, tensor<?x4x?xi32>) outs(%{{.*}} : tensor<?x4x?x?xi8>)
// CHECK: ^bb0(%[[SM:.*]]: f64, %[[LV:.*]]: f64, %[[LI:.*]]: i32, %{{.*}}: i8):
// CHECK: arith.cmpf olt, %[[SM]], %[[LV]] : f64
// CHECK: arith.cmpf oeq, %[[SM]], %[[LV]] : f64
// CHECK: arith.cmpi sgt, %{{.*}}, %[[LI]] : i32
// CHECK: arith.cmpi sge, %[[LI]], %c0_i32 : i32
// CHECK: %[[CHOSEN:.*]] = arith.xori %{{.*}}, %{{.*}} : i1
// CHECK: arith.cmpf ord, %[[SM]], %[[SM]] : f64
// CHECK: %[[SEL:.*]] = arith.andi %{{.*}}, %[[CHOSEN]] : i1
// CHECK: %[[KEEP:.*]] = arith.ori %{{.*}}, %[[SEL]] : i1
// CHECK: %[[FLAG:.*]] = arith.extui %[[KEEP]] : i1 to i8
// CHECK: linalg.yield %[[FLAG]] : i8
// CHECK: return %[[MAP]] : tensor<?x4x?x?xi8>
// REF-LABEL: func.func @gqa_causal
// REF: cf.assert %{{.*}}, "attn.topk_blocks: query and key batch sizes do not match"
// REF: arith.extui %{{.*}} : i1 to i8
// REF-NOT: attn.topk_blocks
// REF: return
func.func @gqa_causal(%q: tensor<?x4x?x8xbf16>, %k: tensor<?x2x?x8xbf16>)
    -> tensor<?x4x?x?xi8> {
  %0 = attn.topk_blocks %q, %k {block_q = 16, block_k = 32, top_k = 2,
                                local = 1, sink = 1, causal}
      : tensor<?x4x?x8xbf16>, tensor<?x2x?x8xbf16> -> tensor<?x4x?x?xi8>
  return %0 : tensor<?x4x?x?xi8>
}

// top_k = 0, static [B, S, H, D], MHA, not causal: no run-time check (the
// batch sizes are static), no sums, scores or passes (nothing is
// selected), and the map only the forced blocks.
// CHECK-LABEL: func.func @forced_only_bshd
// CHECK-SAME: (%[[Q:.*]]: tensor<2x10x3x4xf32>, %[[K:.*]]: tensor<2x7x3x4xf32>)
// CHECK-NOT: cf.assert
// CHECK-NOT: tensor.extract
// CHECK: %[[MAP:.*]] = linalg.generic {indexing_maps = [#[[ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%{{.*}} : tensor<2x3x3x2xi8>)
// The sink test (kb < 1); no candidate, so no score is compared.
// CHECK-NOT: arith.cmpf
// CHECK: arith.cmpi slt, %{{.*}}, %c1{{.*}} : index
// CHECK-NOT: arith.cmpf
// CHECK: %[[FLAG:.*]] = arith.extui %{{.*}} : i1 to i8
// CHECK: linalg.yield %[[FLAG]] : i8
// CHECK: return %[[MAP]] : tensor<2x3x3x2xi8>
// REF-LABEL: func.func @forced_only_bshd
// REF-NOT: cf.assert
// REF-NOT: attn.topk_blocks
// REF: return
func.func @forced_only_bshd(%q: tensor<2x10x3x4xf32>, %k: tensor<2x7x3x4xf32>)
    -> tensor<2x3x3x2xi8> {
  %0 = attn.topk_blocks %q, %k {block_q = 4, block_k = 4, top_k = 0,
                                sink = 1, layout = #attn.layout<bshd>}
      : tensor<2x10x3x4xf32>, tensor<2x7x3x4xf32> -> tensor<2x3x3x2xi8>
  return %0 : tensor<2x3x3x2xi8>
}

// top_k = 3: three passes, each reading the one before, and the map reads
// the third.
// CHECK-LABEL: func.func @three_passes
// CHECK: %[[P0:.*]]:2 = linalg.generic {{.*}} ins(%[[S:[^ ,]*]] : tensor<1x2x3x5xf64>) outs(%{{.*}}, %{{.*}} : tensor<1x2x3xf64>, tensor<1x2x3xi32>)
// CHECK: %[[P1:.*]]:2 = linalg.generic {{.*}} ins(%[[S]], %[[P0]]#0, %[[P0]]#1 : {{.*}}) outs(%{{.*}}, %{{.*}} : tensor<1x2x3xf64>, tensor<1x2x3xi32>)
// CHECK: %[[P2:.*]]:2 = linalg.generic {{.*}} ins(%[[S]], %[[P1]]#0, %[[P1]]#1 : {{.*}}) outs(%{{.*}}, %{{.*}} : tensor<1x2x3xf64>, tensor<1x2x3xi32>)
// CHECK-NOT: outs(%{{.*}}, %{{.*}} : tensor<1x2x3xf64>, tensor<1x2x3xi32>)
// CHECK: linalg.generic {{.*}} ins(%[[S]], %[[P2]]#0, %[[P2]]#1 : {{.*}}) outs(%{{.*}} : tensor<1x2x3x5xi8>)
// CHECK: return
func.func @three_passes(%q: tensor<1x2x9x8xf16>, %k: tensor<1x2x9x8xf16>)
    -> tensor<1x2x3x5xi8> {
  %0 = attn.topk_blocks %q, %k {block_q = 3, block_k = 2, top_k = 3}
      : tensor<1x2x9x8xf16>, tensor<1x2x9x8xf16> -> tensor<1x2x3x5xi8>
  return %0 : tensor<1x2x3x5xi8>
}

// Learned projections, static [B, S, H, D], MHA: the inputs read at [b,
// row, h, d]; the query sums [B, H, nQb, D] times wq ([D, P]) into [B, H,
// nQb, P], the transposed key sums [B, H, D, nKb] times wk into [B, H, P,
// nKb], d a reduction before the innermost dimension; the scores over P.
// CHECK-LABEL: func.func @learned_bshd
// CHECK-SAME: (%[[Q:.*]]: tensor<2x10x3x4xbf16>, %[[K:.*]]: tensor<2x7x3x4xbf16>, %[[WQ:.*]]: tensor<4x5xf32>, %[[WK:.*]]: tensor<4x5xbf16>)
// CHECK: %[[QSUMS:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<4xf64>) outs(%{{.*}} : tensor<2x3x3x4xf64>)
// CHECK: %[[B:.*]] = linalg.index 0 : index
// CHECK: %[[H:.*]] = linalg.index 1 : index
// CHECK: %[[D:.*]] = linalg.index 4 : index
// CHECK: %[[CL:.*]] = arith.select %{{.*}}, %{{.*}}, %c0{{.*}} : index
// CHECK: tensor.extract %[[Q]][%[[B]], %[[CL]], %[[H]], %[[D]]] : tensor<2x10x3x4xbf16>
// CHECK: %[[KSUMS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x3x4x2xf64>)
// CHECK: %[[QP:.*]] = linalg.generic {indexing_maps = [#[[QS]], #[[PWQ]], #[[QSUM]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%[[QSUMS]], %[[WQ]] : tensor<2x3x3x4xf64>, tensor<4x5xf32>) outs(%{{.*}} : tensor<2x3x3x5xf64>)
// CHECK: arith.extf %{{.*}} : f32 to f64
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: %[[KP:.*]] = linalg.generic {indexing_maps = [#[[KSMHA]], #[[PWK]], #[[QSUM]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%[[KSUMS]], %[[WK]] : tensor<2x3x4x2xf64>, tensor<4x5xbf16>) outs(%{{.*}} : tensor<2x3x5x2xf64>)
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: linalg.generic {{.*}} ins(%[[QP]], %[[KP]] : tensor<2x3x3x5xf64>, tensor<2x3x5x2xf64>) outs(%{{.*}} : tensor<2x3x3x2xf64>)
// REF-LABEL: func.func @learned_bshd
// REF-NOT: attn.topk_blocks
// REF: return
func.func @learned_bshd(%q: tensor<2x10x3x4xbf16>, %k: tensor<2x7x3x4xbf16>,
                        %wq: tensor<4x5xf32>, %wk: tensor<4x5xbf16>)
    -> tensor<2x3x3x2xi8> {
  %0 = attn.topk_blocks %q, %k projections(%wq, %wk
      : tensor<4x5xf32>, tensor<4x5xbf16>)
      {block_q = 4, block_k = 4, top_k = 1, layout = #attn.layout<bshd>}
      : tensor<2x10x3x4xbf16>, tensor<2x7x3x4xbf16> -> tensor<2x3x3x2xi8>
  return %0 : tensor<2x3x3x2xi8>
}
