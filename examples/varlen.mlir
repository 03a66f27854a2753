// Varlen (jagged) attention, FlashAttention's flash_attn_varlen_func: B
// sequences of different lengths packed back to back, B given at run time
// by the offsets' size (B + 1), queries as
// [Tq, 8, 64] and keys and values as [Tk, 2, 64] (grouped-query heads),
// sequence b being rows [cu_q[b], cu_q[b + 1]) of the queries and
// [cu_k[b], cu_k[b + 1]) of the keys, bf16. attn.unpack presents each
// sequence as one batch row with positions from its own start, attention
// runs per sequence, and attn.pack writes the rows back packed
// (docs/Varlen.md). With lq, lk the lengths of sequence b, the mask is
// causal within the sequence, bottom-right aligned as FlashAttention's
// causal=True when lq != lk:
//
//   mask(b, h, i, j) = i < lq  and  j < lk  and  j + lq <= i + lk
//
// The first two conjuncts exclude the zero rows past each sequence (and
// make the tiles past it empty, so they are skipped, not computed); no
// [T, T] mask exists anywhere. The padded length is the packed size, an
// upper bound on every sequence's length.
//
// Targets: CPU and CUDA. Both read each sequence's rows from the packed
// tensors as they load a tile and store O's rows in their packed places.
//
// Expects: Q [Tq, 8, 64], K and V [Tk, 2, 64], bf16 (Tq named Sq, Tk named
// Sk); cu_q and cu_k [B + 1] i32 offsets (B sequences, at least 1 on CUDA;
// the CUDA manifest names their size B_plus_1), non-decreasing from 0 to
// at most Tq, Tk. Random inputs are not valid offsets:
// test/Integration/CPU/varlen.test passes valid ones
// (Inputs/varlen_offsets.py), and the GPU check draws them
// (bench/gpu/run.py, by the manifest's names cu_seqlens_q and _k).

func.func @varlen(
    %q_packed: tensor<?x8x64xbf16> {attn.dims = ["Sq", 8, 64]},
    %k_packed: tensor<?x2x64xbf16> {attn.dims = ["Sk", 2, 64]},
    %v_packed: tensor<?x2x64xbf16> {attn.dims = ["Sk", 2, 64]},
    %cu_q: tensor<?xi32> {attn.range = [0, 100000]},
    %cu_k: tensor<?xi32> {attn.range = [0, 100000]})
    -> tensor<?x8x64xbf16> {
  %c0 = arith.constant 0 : index
  %tq = tensor.dim %q_packed, %c0 : tensor<?x8x64xbf16>
  %tk = tensor.dim %k_packed, %c0 : tensor<?x2x64xbf16>
  %q = attn.unpack %q_packed[%cu_q] max_len(%tq : index)
      : tensor<?x8x64xbf16>, tensor<?xi32> -> tensor<?x8x?x64xbf16>
  %k = attn.unpack %k_packed[%cu_k] max_len(%tk : index)
      : tensor<?x2x64xbf16>, tensor<?xi32> -> tensor<?x2x?x64xbf16>
  %v = attn.unpack %v_packed[%cu_k] max_len(%tk : index)
      : tensor<?x2x64xbf16>, tensor<?xi32> -> tensor<?x2x?x64xbf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>,
                       tensor<?x2x?x64xbf16>)
      captures(%cu_q, %cu_k : tensor<?xi32>, tensor<?xi32>)
      -> tensor<?x8x?x64xbf16>
    mask(%b, %h, %i, %j, %cq, %ck) {
      %c1 = arith.constant 1 : index
      %b1 = arith.addi %b, %c1 : index
      %q0 = tensor.extract %cq[%b] : tensor<?xi32>
      %q1 = tensor.extract %cq[%b1] : tensor<?xi32>
      %k0 = tensor.extract %ck[%b] : tensor<?xi32>
      %k1 = tensor.extract %ck[%b1] : tensor<?xi32>
      %lq32 = arith.subi %q1, %q0 : i32
      %lk32 = arith.subi %k1, %k0 : i32
      %lq = arith.index_cast %lq32 : i32 to index
      %lk = arith.index_cast %lk32 : i32 to index
      %qin = arith.cmpi slt, %i, %lq : index
      %kin = arith.cmpi slt, %j, %lk : index
      %jq = arith.addi %j, %lq : index
      %ik = arith.addi %i, %lk : index
      %causal = arith.cmpi sle, %jq, %ik : index
      %in = arith.andi %qin, %kin : i1
      %keep = arith.andi %in, %causal : i1
      attn.yield %keep : i1
    }
  %o_packed = attn.pack %o[%cu_q] total(%tq : index)
      : tensor<?x8x?x64xbf16>, tensor<?xi32> -> tensor<?x8x64xbf16>
  return %o_packed : tensor<?x8x64xbf16>
}
