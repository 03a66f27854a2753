// RUN: attune-opt %s --attn-tile="tile-q=64 tile-k=32" --convert-attn-to-nvvm | FileCheck %s

/// K and V as attn.gather_pages of a paged KV cache (pages of 16 rows, 8
/// pages per sequence): the kernels take the caches, the block table and the
/// lengths, and read each key and value row from its page; no gathered copy
/// exists. With 16 rows per copy pass, every pass lies on one page, so a key
/// tile of 32 rows reads two table entries, not one per chunk. A length past
/// the table, or a page id outside the cache on a row below the length,
/// fails a device-side assertion.

// CHECK-LABEL: gpu.func @paged_fwd
// CHECK-SAME:    (%{{.*}}: memref<?x8x?x64xbf16>, %[[KC:.*]]: memref<?x16x2x64xbf16>, %[[VC:.*]]: memref<?x16x2x64xbf16>, %[[TABLE:.*]]: memref<?x8xi32>, %[[LENS:.*]]: memref<?xi32>, %{{.*}}: memref<?x8x?x64xbf16>) kernel
// CHECK-NOT:     = attn.gather_pages
// CHECK:         %[[LEN:.*]] = memref.load %[[LENS]][%[[BATCH:.*]]] : memref<?xi32>
// CHECK:         cf.assert %{{.*}}, "attn.gather_pages: a sequence length is outside [0, pages in its block table x page size]"
/// The first tile's copies, then the k-loop's: per key tile, two pages of K,
/// then two of V.
// CHECK-COUNT-4: memref.load %[[TABLE]][%[[BATCH]], %{{.*}}] : memref<?x8xi32>
// CHECK-NOT:     memref.load %[[TABLE]]
// CHECK:         nvvm.cp.async.commit.group
// CHECK:         scf.for
// CHECK-COUNT-4: memref.load %[[TABLE]][%[[BATCH]], %{{.*}}] : memref<?x8xi32>
// CHECK-NOT:     memref.load %[[TABLE]]
// CHECK:         nvvm.cp.async.commit.group
// CHECK-LABEL: gpu.func @paged_decode
// CHECK-NOT:     = attn.gather_pages
// CHECK:         memref.load %{{.*}} : memref<?x8xi32>
// CHECK:         cf.assert %{{.*}}, "attn.gather_pages: a block table entry of a row below the sequence's length is not a page of the cache"
// CHECK-LABEL: gpu.func @paged_combine
func.func @paged(%q: tensor<?x8x?x64xbf16>,
                 %k_cache: tensor<?x16x2x64xbf16>,
                 %v_cache: tensor<?x16x2x64xbf16>,
                 %table: tensor<?x8xi32>, %lens: tensor<?xi32>)
    -> tensor<?x8x?x64xbf16> {
  %k = attn.gather_pages %k_cache[%table] lengths(%lens)
      : tensor<?x16x2x64xbf16>, tensor<?x8xi32>, tensor<?xi32>
      -> tensor<?x2x128x64xbf16>
  %v = attn.gather_pages %v_cache[%table] lengths(%lens)
      : tensor<?x16x2x64xbf16>, tensor<?x8xi32>, tensor<?xi32>
      -> tensor<?x2x128x64xbf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xbf16>, tensor<?x2x128x64xbf16>,
                       tensor<?x2x128x64xbf16>)
      -> tensor<?x8x?x64xbf16>
  return %o : tensor<?x8x?x64xbf16>
}
