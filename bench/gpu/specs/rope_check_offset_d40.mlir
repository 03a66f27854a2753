// GPU check of attn.rope (docs/Rope.md) by an offset and a positions
// vector: f16, D = 40 (not a multiple of 16), base 500000, linear scaling
// 4; Q at positions Sk - Sq + i (bottom-right), K at positions given per
// row (some negative) on its first 24 features only (half pairing: (k,
// k + 12)); causal bottom-right.
//
// Expects: Q [B, 2, Sq, 40], K and V [B, 2, Sk, 40] f16; k_pos [Sk] i64 in
// [-50, 5000).

func.func @rope_check_offset_d40(
    %q: tensor<?x2x?x40xf16>, %k: tensor<?x2x?x40xf16>,
    %v: tensor<?x2x?x40xf16>,
    %k_pos: tensor<?xi64> {attn.dims = ["Sk"], attn.range = [-50, 5000]})
    -> tensor<?x2x?x40xf16> {
  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : tensor<?x2x?x40xf16>
  %sk = tensor.dim %k, %c2 : tensor<?x2x?x40xf16>
  %first = arith.subi %sk, %sq : index
  %qr = attn.rope %q offset(%first : index) {base = 500000.0, scaling = 4.0}
      : tensor<?x2x?x40xf16>
  %kr = attn.rope %k positions(%k_pos : tensor<?xi64>)
      {base = 500000.0, scaling = 4.0, rotary_dim = 24}
      : tensor<?x2x?x40xf16>
  %o = attn.attention
      ins(%qr, %kr, %v : tensor<?x2x?x40xf16>, tensor<?x2x?x40xf16>,
                         tensor<?x2x?x40xf16>)
      captures(%sq, %sk : index, index)
      -> tensor<?x2x?x40xf16>
    mask(%b, %h, %i, %j, %nq, %nk) {
      %jq = arith.addi %j, %nq : index
      %ik = arith.addi %i, %nk : index
      %keep = arith.cmpi ule, %jq, %ik : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x2x?x40xf16>
}
