// GPU check of a varlen batch (docs/Varlen.md) with a static padded length
// (2048 rows, no max_len), one sequence, D = 256, bf16, K and V one packed
// tensor (MQA: one K/V head for 4 query heads), causal within the sequence
// (top-left), and O packed back by a fused attn.pack.
//
// Expects: Q [Tq, 4, 256] (Tq named Sq, at most 2048), KV [Tk, 1, 256] (Sk,
// at most 2048); cu_q and cu_k [2] offsets non-decreasing in [0, Tq] and
// [0, Tk].

func.func @varlen_check_static_d256(
    %q_packed: tensor<?x4x256xbf16> {attn.dims = ["Sq", 4, 256]},
    %kv_packed: tensor<?x1x256xbf16> {attn.dims = ["Sk", 1, 256]},
    %cu_q: tensor<2xi64> {attn.range = [0, 100000]},
    %cu_k: tensor<2xi64> {attn.range = [0, 100000]})
    -> tensor<?x4x256xbf16> {
  %c0 = arith.constant 0 : index
  %tq = tensor.dim %q_packed, %c0 : tensor<?x4x256xbf16>
  %q = attn.unpack %q_packed[%cu_q]
      : tensor<?x4x256xbf16>, tensor<2xi64> -> tensor<1x4x2048x256xbf16>
  %kv = attn.unpack %kv_packed[%cu_k]
      : tensor<?x1x256xbf16>, tensor<2xi64> -> tensor<1x1x2048x256xbf16>
  %o = attn.attention
      ins(%q, %kv, %kv : tensor<1x4x2048x256xbf16>,
                         tensor<1x1x2048x256xbf16>,
                         tensor<1x1x2048x256xbf16>)
      -> tensor<1x4x2048x256xbf16>
    mask(%b, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
  %o_packed = attn.pack %o[%cu_q] total(%tq : index)
      : tensor<1x4x2048x256xbf16>, tensor<2xi64> -> tensor<?x4x256xbf16>
  return %o_packed : tensor<?x4x256xbf16>
}
