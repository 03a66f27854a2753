// Check of attn.topk_blocks (docs/BlockSelection.md) in [B, S, H, D] with
// D = 128, f16, MQA (4 query heads on one K/V head), query blocks of 32
// and key blocks of 8 (a q-tile spans several key blocks' choices), the
// 4 best key blocks, 2 sinks, no local block, not causal. The map is not
// returned (a CUDA program's results are sized by its arguments' symbols;
// test/Integration/CPU/block_selection.test compares maps exactly).
//
// Expects: Q [B, Sq, 4, 128], K and V [B, Sk, 1, 128], f16.

func.func @topk_check_bshd_d128(
    %q: tensor<?x?x4x128xf16>, %k: tensor<?x?x1x128xf16>,
    %v: tensor<?x?x1x128xf16>)
    -> tensor<?x?x4x128xf16> {
  %keep = attn.topk_blocks %q, %k {block_q = 32, block_k = 8, top_k = 4,
                                   sink = 2, layout = #attn.layout<bshd>}
      : tensor<?x?x4x128xf16>, tensor<?x?x1x128xf16> -> tensor<?x4x?x?xi8>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x?x4x128xf16>, tensor<?x?x1x128xf16>,
                       tensor<?x?x1x128xf16>)
      captures(%keep : tensor<?x4x?x?xi8>)
      layout(bshd)
      -> tensor<?x?x4x128xf16>
    mask(%b, %h, %i, %j, %map) {
      %c32 = arith.constant 32 : index
      %c8 = arith.constant 8 : index
      %qb = arith.divui %i, %c32 : index
      %kb = arith.divui %j, %c8 : index
      %flag = tensor.extract %map[%b, %h, %qb, %kb] : tensor<?x4x?x?xi8>
      %zero = arith.constant 0 : i8
      %kept = arith.cmpi ne, %flag, %zero : i8
      attn.yield %kept : i1
    }
  return %o : tensor<?x?x4x128xf16>
}
