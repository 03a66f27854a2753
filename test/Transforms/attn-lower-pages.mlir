// RUN: attune-opt %s --attn-lower-pages | FileCheck %s
// RUN: attune-opt %s --attn-lower-to-reference | FileCheck %s

// attn.gather_pages becomes one linalg.generic that reads every element
// through the block table (0 past the length); attn.append_pages a loop over
// sequences and new rows that inserts each [H, D] row into its page. Both
// check lengths and page ids at run time first.

// CHECK-LABEL: func.func @gather
// CHECK-SAME: (%[[CACHE:.*]]: tensor<64x16x2x128xbf16>, %[[TABLE:.*]]: tensor<?x8xi32>, %[[LENS:.*]]: tensor<?xi32>)
// CHECK: cf.assert %{{.*}}, "attn.gather_pages: block_table and seq_lens batch sizes do not match"
// CHECK: %[[NPAGES:.*]] = tensor.dim %[[CACHE]], %{{.*}} : tensor<64x16x2x128xbf16>
// CHECK: scf.for %[[B:.*]] = %{{.*}} to %{{.*}}
// CHECK: %[[LEN:.*]] = tensor.extract %[[LENS]][%[[B]]]
// CHECK: cf.assert %{{.*}}, "attn.gather_pages: a length is negative or exceeds the block table's pages x page size"
// Pages [0, ceil(len / 16)) hold rows below the length: only those are read.
// CHECK: %[[END:.*]] = arith.ceildivui %{{.*}}, %c16
// CHECK: scf.for %[[P:.*]] = %{{.*}} to %[[END]]
// CHECK: %[[ID:.*]] = tensor.extract %[[TABLE]][%[[B]], %[[P]]]
// CHECK: %[[IDX:.*]] = arith.index_cast %[[ID]] : i32 to index
// CHECK: arith.cmpi slt, %[[IDX]], %[[NPAGES]]
// CHECK: cf.assert %{{.*}}, "attn.gather_pages: a page id in block_table is outside the cache"
// CHECK: %[[E:.*]] = tensor.empty(%{{.*}}) : tensor<?x2x128x128xbf16>
// CHECK: linalg.generic {{.*}} outs(%[[E]] : tensor<?x2x128x128xbf16>)
// CHECK-DAG: %[[GB:.*]] = linalg.index 0
// CHECK-DAG: %[[GH:.*]] = linalg.index 1
// CHECK-DAG: %[[GJ:.*]] = linalg.index 2
// CHECK-DAG: %[[GF:.*]] = linalg.index 3
// CHECK: %[[GLEN:.*]] = tensor.extract %[[LENS]][%[[GB]]]
// CHECK: %[[IN:.*]] = arith.cmpi slt, %[[GJ]], %{{.*}}
// CHECK: scf.if %[[IN]] -> (bf16)
// CHECK: %[[PI:.*]] = arith.divui %[[GJ]], %c16
// CHECK: tensor.extract %[[TABLE]][%[[GB]], %[[PI]]]
// CHECK: %[[SLOT:.*]] = arith.remui %[[GJ]], %c16
// CHECK: %[[X:.*]] = tensor.extract %[[CACHE]][%{{.*}}, %[[SLOT]], %[[GH]], %[[GF]]] : tensor<64x16x2x128xbf16>
// CHECK: scf.yield %[[X]] : bf16
// CHECK: } else {
// CHECK: arith.constant 0.000000e+00 : bf16
func.func @gather(%cache: tensor<64x16x2x128xbf16>, %table: tensor<?x8xi32>,
                  %lens: tensor<?xi32>) -> tensor<?x2x128x128xbf16> {
  %k = attn.gather_pages %cache[%table] lengths(%lens)
      : tensor<64x16x2x128xbf16>, tensor<?x8xi32>, tensor<?xi32>
      -> tensor<?x2x128x128xbf16>
  return %k : tensor<?x2x128x128xbf16>
}

// An HND cache ([pages, H, P, D]) and bshd rows: the row's [H, D] slice
// goes to (page, :, slot, :).
// CHECK-LABEL: func.func @append
// CHECK-SAME: (%[[ROWS:.*]]: tensor<?x?x2x128xf16>, %[[CACHE:.*]]: tensor<64x2x16x128xf16>, %[[TABLE:.*]]: tensor<?x8xi32>, %[[LENS:.*]]: tensor<?xi32>)
// CHECK: %[[S:.*]] = tensor.dim %[[ROWS]], %c1
// CHECK: cf.assert %{{.*}}, "attn.append_pages: block_table and rows batch sizes do not match"
// CHECK: scf.for %[[B:.*]] =
// CHECK: %[[END:.*]] = arith.addi %{{.*}}, %[[S]] : index
// CHECK: cf.assert %{{.*}}, "attn.append_pages: a length plus the new rows exceeds the block table's pages x page size, or is negative"
// Pages [len / 16, ceil((len + S) / 16)) are written.
// CHECK: %[[FIRST:.*]] = arith.divui %{{.*}}, %c16
// CHECK: %[[LAST:.*]] = arith.ceildivui %[[END]], %c16
// CHECK: scf.for %{{.*}} = %[[FIRST]] to %[[LAST]]
// CHECK: cf.assert %{{.*}}, "attn.append_pages: a page id in block_table is outside the cache"
// CHECK: %[[FLAGS:.*]] = linalg.fill ins(%c0_i8 : i8) outs(%{{.*}} : tensor<?x16xi8>)
// CHECK: %[[OUT:.*]]:2 = scf.for %[[SB:.*]] = %{{.*}} iter_args(%[[C0:.*]] = %[[CACHE]], %[[F0:.*]] = %[[FLAGS]])
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %[[S]] {{.*}} iter_args(%[[C1:.*]] = %[[C0]], %[[F1:.*]] = %[[F0]])
// CHECK: %[[PAGE:.*]] = arith.index_cast
// CHECK: %[[SLOT:.*]] = arith.remui
// CHECK: %[[FLAG:.*]] = tensor.extract %[[F1]][%[[PAGE]], %[[SLOT]]]
// CHECK: cf.assert %{{.*}}, "attn.append_pages: two rows are written to the same row of a page"
// CHECK: %[[MARKED:.*]] = tensor.insert %c1_i8 into %[[F1]][%[[PAGE]], %[[SLOT]]]
// CHECK: %[[ROW:.*]] = tensor.extract_slice %[[ROWS]][%[[SB]], %[[R]], 0, 0] [1, 1, 2, 128] [1, 1, 1, 1] : tensor<?x?x2x128xf16> to tensor<2x128xf16>
// CHECK: %[[NEW:.*]] = tensor.insert_slice %[[ROW]] into %[[C1]][%[[PAGE]], 0, %[[SLOT]], 0] [1, 2, 1, 128] [1, 1, 1, 1] : tensor<2x128xf16> into tensor<64x2x16x128xf16>
// CHECK: scf.yield %[[NEW]], %[[MARKED]]
// CHECK: return %[[OUT]]#0
func.func @append(%new: tensor<?x?x2x128xf16>, %cache: tensor<64x2x16x128xf16>,
                  %table: tensor<?x8xi32>, %lens: tensor<?xi32>)
    -> tensor<64x2x16x128xf16> {
  %c = attn.append_pages %new into %cache[%table] lengths(%lens)
      {layout = #attn.layout<bshd>, cache_layout = #attn.layout<bhsd>}
      : tensor<?x?x2x128xf16>, tensor<64x2x16x128xf16>, tensor<?x8xi32>,
        tensor<?xi32>
  return %c : tensor<64x2x16x128xf16>
}
