// GPU check of decoding over a varlen batch of keys (docs/Varlen.md): the
// queries are dense, [3, 8, Sq, 128] (the last Sq positions of each
// sequence), the keys and values packed, [Tk, 2, 128] (GQA, 4 query heads
// per K/V head), bf16, and the mask keeps each sequence's own keys,
// bottom-right causal as in a decoding step or a chunked prefill:
//
//   mask(b, h, i, j) = j < lk  and  j + Sq <= i + lk
//
// with lk = cu_k[b + 1] - cu_k[b]. For Sq <= 4 the CUDA target runs the
// split-KV decode kernel (the packed keys are rows like any source's, and
// the splits share each sequence's own key tiles, not the padded length
// Tk); longer queries the forward kernel. Random cuts give empty sequences
// (every row fully masked: O = 0) and queries with no key before them.
//
// Expects: Q [3, 8, Sq, 128]; K and V [Tk, 2, 128] (Tk named Sk); cu_k [4]
// offsets non-decreasing in [0, Tk] (the GPU check draws them by the
// manifest's name cu_seqlens_k).

func.func @varlen_check_kv_decode_d128(
    %q: tensor<3x8x?x128xbf16> {attn.dims = [3, 8, "Sq", 128]},
    %k_packed: tensor<?x2x128xbf16> {attn.dims = ["Sk", 2, 128]},
    %v_packed: tensor<?x2x128xbf16> {attn.dims = ["Sk", 2, 128]},
    %cu_k: tensor<4xi32> {attn.range = [0, 100000]})
    -> tensor<3x8x?x128xbf16> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %tk = tensor.dim %k_packed, %c0 : tensor<?x2x128xbf16>
  %sq = tensor.dim %q, %c2 : tensor<3x8x?x128xbf16>
  %k = attn.unpack %k_packed[%cu_k] max_len(%tk : index)
      : tensor<?x2x128xbf16>, tensor<4xi32> -> tensor<3x2x?x128xbf16>
  %v = attn.unpack %v_packed[%cu_k] max_len(%tk : index)
      : tensor<?x2x128xbf16>, tensor<4xi32> -> tensor<3x2x?x128xbf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<3x8x?x128xbf16>, tensor<3x2x?x128xbf16>,
                       tensor<3x2x?x128xbf16>)
      captures(%cu_k, %sq : tensor<4xi32>, index)
      -> tensor<3x8x?x128xbf16>
    mask(%b, %h, %i, %j, %ck, %nq) {
      %c1 = arith.constant 1 : index
      %b1 = arith.addi %b, %c1 : index
      %k0 = tensor.extract %ck[%b] : tensor<4xi32>
      %k1 = tensor.extract %ck[%b1] : tensor<4xi32>
      %lk32 = arith.subi %k1, %k0 : i32
      %lk = arith.index_cast %lk32 : i32 to index
      %in = arith.cmpi slt, %j, %lk : index
      %jq = arith.addi %j, %nq : index
      %ik = arith.addi %i, %lk : index
      %causal = arith.cmpi sle, %jq, %ik : index
      %keep = arith.andi %in, %causal : i1
      attn.yield %keep : i1
    }
  return %o : tensor<3x8x?x128xbf16>
}
