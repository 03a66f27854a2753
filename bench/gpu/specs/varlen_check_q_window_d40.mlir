// GPU check of a varlen batch (docs/Varlen.md) whose queries alone are
// packed: K and V stay padded [2, 2, Sk, 40] (GQA, 6 query heads per K/V
// head), D = 40 (not a multiple of 16), f16, a sliding window of 24 keys
// counted from each sequence's start, and O packed back by a fused
// attn.pack whose offsets are Q's. Rows of the output no sequence covers
// must come out zero, and queries past the keys have none in their window
// (fully masked: O = 0).
//
// Expects: Q [Tq, 12, 40] (Tq named Sq); K and V [2, 2, Sk, 40]; cu_q [3]
// offsets non-decreasing in [0, Tq].

func.func @varlen_check_q_window_d40(
    %q_packed: tensor<?x12x40xf16> {attn.dims = ["Sq", 12, 40]},
    %k: tensor<2x2x?x40xf16>, %v: tensor<2x2x?x40xf16>,
    %cu_q: tensor<3xi32> {attn.range = [0, 100000]})
    -> tensor<?x12x40xf16> {
  %c0 = arith.constant 0 : index
  %tq = tensor.dim %q_packed, %c0 : tensor<?x12x40xf16>
  %q = attn.unpack %q_packed[%cu_q] max_len(%tq : index)
      : tensor<?x12x40xf16>, tensor<3xi32> -> tensor<2x12x?x40xf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<2x12x?x40xf16>, tensor<2x2x?x40xf16>,
                       tensor<2x2x?x40xf16>)
      -> tensor<2x12x?x40xf16>
    mask(%b, %h, %i, %j) {
      %w = arith.constant 24 : index
      %causal = arith.cmpi ule, %j, %i : index
      %jw = arith.addi %j, %w : index
      %near = arith.cmpi ult, %i, %jw : index
      %keep = arith.andi %causal, %near : i1
      attn.yield %keep : i1
    }
  %o_packed = attn.pack %o[%cu_q] total(%tq : index)
      : tensor<2x12x?x40xf16>, tensor<3xi32> -> tensor<?x12x40xf16>
  return %o_packed : tensor<?x12x40xf16>
}
