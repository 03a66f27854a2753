// GPU check of attn.lsh_buckets (docs/Hashing.md): f16 rows in [B, S, H,
// D] with D = 64, 16 buckets per round, two rounds of per-head rotations
// (f16), GQA (4 query heads on 2 K/V heads; Q hashed with rot_q [2, 4,
// 64, 8], K with rot_k [2, 2, 64, 8], query head h meeting K/V head h / 2);
// the attention keeps round 1's buckets and the causal mask. The ids are results too, so the
// check compares them exactly with the reference's.
//
// Expects: Q [B, Sq, 4, 64], K and V [B, Sk, 2, 64], f16; rot_q and rot_k
// f16, N(0, 1).

func.func @hash_check_lsh_bshd_d64(
    %q: tensor<?x?x4x64xf16>, %k: tensor<?x?x2x64xf16>,
    %v: tensor<?x?x2x64xf16>, %rot_q: tensor<2x4x64x8xf16>,
    %rot_k: tensor<2x2x64x8xf16>)
    -> (tensor<?x?x4x64xf16>, tensor<2x?x4x?xi32>, tensor<2x?x2x?xi32>) {
  %qb = attn.lsh_buckets %q, %rot_q {layout = #attn.layout<bshd>}
      : tensor<?x?x4x64xf16>, tensor<2x4x64x8xf16> -> tensor<2x?x4x?xi32>
  %kb = attn.lsh_buckets %k, %rot_k {layout = #attn.layout<bshd>}
      : tensor<?x?x2x64xf16>, tensor<2x2x64x8xf16> -> tensor<2x?x2x?xi32>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x?x4x64xf16>, tensor<?x?x2x64xf16>,
                       tensor<?x?x2x64xf16>)
      captures(%qb, %kb : tensor<2x?x4x?xi32>, tensor<2x?x2x?xi32>)
      layout(bshd)
      -> tensor<?x?x4x64xf16>
    mask(%b, %h, %i, %j, %qi, %ki) {
      %c1 = arith.constant 1 : index
      %c2 = arith.constant 2 : index
      %hk = arith.divui %h, %c2 : index
      %bi = tensor.extract %qi[%c1, %b, %h, %i] : tensor<2x?x4x?xi32>
      %bj = tensor.extract %ki[%c1, %b, %hk, %j] : tensor<2x?x2x?xi32>
      %same = arith.cmpi eq, %bi, %bj : i32
      %causal = arith.cmpi ule, %j, %i : index
      %keep = arith.andi %same, %causal : i1
      attn.yield %keep : i1
    }
  return %o, %qb, %kb : tensor<?x?x4x64xf16>, tensor<2x?x4x?xi32>,
                        tensor<2x?x2x?xi32>
}
