// GPU check of a varlen batch (docs/Varlen.md) in bshd, D = 128, bf16, and
// no mask: the zero rows past each sequence's keys take part like any
// other (score 0), and O is returned padded, [3, Tq, 4, 128], rows past
// each sequence's queries included (their queries are zero rows too).
//
// Expects: Q [Tq, 4, 128], K and V [Tk, 4, 128] (Tq named Sq, Tk Sk);
// cu_q and cu_k [4] offsets non-decreasing in [0, Tq] and [0, Tk] (the GPU
// check draws them by the manifest's names cu_seqlens_q and _k).

func.func @varlen_check_bshd_d128(
    %q_packed: tensor<?x4x128xbf16> {attn.dims = ["Sq", 4, 128]},
    %k_packed: tensor<?x4x128xbf16> {attn.dims = ["Sk", 4, 128]},
    %v_packed: tensor<?x4x128xbf16> {attn.dims = ["Sk", 4, 128]},
    %cu_q: tensor<4xi32> {attn.range = [0, 100000]},
    %cu_k: tensor<4xi32> {attn.range = [0, 100000]})
    -> tensor<3x?x4x128xbf16> {
  %c0 = arith.constant 0 : index
  %tq = tensor.dim %q_packed, %c0 : tensor<?x4x128xbf16>
  %tk = tensor.dim %k_packed, %c0 : tensor<?x4x128xbf16>
  %q = attn.unpack %q_packed[%cu_q] max_len(%tq : index)
      {layout = #attn.layout<bshd>}
      : tensor<?x4x128xbf16>, tensor<4xi32> -> tensor<3x?x4x128xbf16>
  %k = attn.unpack %k_packed[%cu_k] max_len(%tk : index)
      {layout = #attn.layout<bshd>}
      : tensor<?x4x128xbf16>, tensor<4xi32> -> tensor<3x?x4x128xbf16>
  %v = attn.unpack %v_packed[%cu_k] max_len(%tk : index)
      {layout = #attn.layout<bshd>}
      : tensor<?x4x128xbf16>, tensor<4xi32> -> tensor<3x?x4x128xbf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<3x?x4x128xbf16>, tensor<3x?x4x128xbf16>,
                       tensor<3x?x4x128xbf16>)
      layout(bshd)
      -> tensor<3x?x4x128xbf16>
  return %o : tensor<3x?x4x128xbf16>
}
