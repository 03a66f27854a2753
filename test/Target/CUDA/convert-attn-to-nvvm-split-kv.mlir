// RUN: attune-opt %s -split-input-file --attn-sparsify --convert-attn-to-nvvm | FileCheck %s

/// Split-KV decode over a paged cache whose sequences may be shorter than
/// their block table (8 pages of 16 rows), keys past the length masked. The
/// splits share the key tiles of the sequence's rows, not the table's: the
/// decode kernel asks the classifier once whether the keys from the first
/// tile past the length to the table's end are all empty, and if so ends
/// the range there; then split x takes tiles [x p, x p + p) of it, p =
/// ceil(tiles / splits) in 32 bits (the splits are o_part's dimension 0).

// CHECK-LABEL: gpu.func @padded_decode
// CHECK:         %[[LEN32:.*]] = memref.load %{{.*}}[%[[BATCH:.*]]] : memref<?xi32>
// CHECK-NEXT:    %[[LEN:.*]] = arith.index_cast %[[LEN32]] : i32 to index
// CHECK:         %[[TILES:.*]] = arith.ceildivui %[[SK:.*]], %[[TK:.*]] : index
// CHECK:         %[[ROWTILES:.*]] = arith.ceildivui %[[LEN]], %{{.*}} : index
// CHECK-NEXT:    %[[TAIL:.*]] = arith.minui %[[ROWTILES]], %[[TILES]] : index
// CHECK:         %[[TAILCOL:.*]] = arith.muli %[[TAIL]], %{{.*}} : index
// CHECK-NEXT:    %[[HASTAIL:.*]] = arith.cmpi ult, %[[TAILCOL]], %[[SK]] : index
// CHECK-NEXT:    %[[EMPTY:.*]] = scf.if %[[HASTAIL]] -> (i1) {
// CHECK:           memref.load %{{.*}} : memref<?xi32>
// CHECK:         } else {
// CHECK-NEXT:      %[[TRUE:.*]] = arith.constant true
// CHECK-NEXT:      scf.yield %[[TRUE]] : i1
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[END:.*]] = arith.select %[[EMPTY]], %[[TAIL]], %[[TILES]] : index
// CHECK:         %[[SPLITS:.*]] = memref.dim %{{.*}}, %{{.*}} : memref<?x?x8x?x64xf32>
// CHECK:         %[[PER32:.*]] = arith.ceildivui %{{.*}}, %{{.*}} : i32
// CHECK-NEXT:    %[[PER:.*]] = arith.index_castui %[[PER32]] : i32 to index
// CHECK-NEXT:    %[[SKIP:.*]] = arith.muli %[[X:.*]], %[[PER]] : index
// CHECK-NEXT:    %[[FIRST:.*]] = arith.addi %{{.*}}, %[[SKIP]] : index
// CHECK-NEXT:    %[[NEXT:.*]] = arith.addi %[[FIRST]], %[[PER]] : index
// CHECK-NEXT:    arith.minui %[[END]], %[[NEXT]] : index
// CHECK-LABEL: gpu.func @padded_combine
func.func @padded(%q: tensor<?x8x?x64xbf16>,
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
      captures(%lens : tensor<?xi32>)
      -> tensor<?x8x?x64xbf16>
    mask(%b, %h, %i, %j, %len) {
      %l = tensor.extract %len[%b] : tensor<?xi32>
      %li = arith.index_cast %l : i32 to index
      %keep = arith.cmpi ult, %j, %li : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x64xbf16>
}

// -----

/// Packed (varlen) keys and values under dense queries: the decode kernel is
/// built, reads sequence b's keys from row cu_k[b] with its length as the
/// row count, and its splits share that sequence's tiles when the keys past
/// it are masked (j < lk).
// CHECK-LABEL: gpu.func @varlen_keys_fwd
// CHECK-LABEL: gpu.func @varlen_keys_decode
// CHECK:         cf.assert %{{.*}}, "attn.unpack: cu_seqlens is negative
// CHECK:         %[[LEN:.*]] = arith.select %{{.*}}, %{{.*}}, %{{.*}} : index
// CHECK:         %[[TILES:.*]] = arith.ceildivui %{{.*}}, %{{.*}} : index
// CHECK:         %[[ROWTILES:.*]] = arith.ceildivui %[[LEN]], %{{.*}} : index
// CHECK-NEXT:    %[[TAIL:.*]] = arith.minui %[[ROWTILES]], %[[TILES]] : index
// CHECK:         scf.if %{{.*}} -> (i1) {
// CHECK:         arith.select %{{.*}}, %[[TAIL]], %{{.*}} : index
// CHECK-LABEL: gpu.func @varlen_keys_combine
func.func @varlen_keys(%q: tensor<3x8x?x64xbf16>,
                       %k_packed: tensor<?x2x64xbf16>,
                       %v_packed: tensor<?x2x64xbf16>,
                       %cu_k: tensor<4xi32>) -> tensor<3x8x?x64xbf16> {
  %c0 = arith.constant 0 : index
  %tk = tensor.dim %k_packed, %c0 : tensor<?x2x64xbf16>
  %k = attn.unpack %k_packed[%cu_k] max_len(%tk : index)
      : tensor<?x2x64xbf16>, tensor<4xi32> -> tensor<3x2x?x64xbf16>
  %v = attn.unpack %v_packed[%cu_k] max_len(%tk : index)
      : tensor<?x2x64xbf16>, tensor<4xi32> -> tensor<3x2x?x64xbf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<3x8x?x64xbf16>, tensor<3x2x?x64xbf16>,
                       tensor<3x2x?x64xbf16>)
      captures(%cu_k : tensor<4xi32>)
      -> tensor<3x8x?x64xbf16>
    mask(%b, %h, %i, %j, %ck) {
      %c1 = arith.constant 1 : index
      %b1 = arith.addi %b, %c1 : index
      %k0 = tensor.extract %ck[%b] : tensor<4xi32>
      %k1 = tensor.extract %ck[%b1] : tensor<4xi32>
      %lk32 = arith.subi %k1, %k0 : i32
      %lk = arith.index_cast %lk32 : i32 to index
      %keep = arith.cmpi slt, %j, %lk : index
      attn.yield %keep : i1
    }
  return %o : tensor<3x8x?x64xbf16>
}
