// Sliding-window (local) causal attention, as in Mistral 7B (W = 4096) and
// the local layers of Gemma 2 / Gemma 3: query i attends to the W most recent
// keys, itself included:
//
//   mask(b, h, i, j) = j <= i  and  i - j < W,   written  j <= i  and  i < j + W
//
// (the second form never goes negative in unsigned index arithmetic). W = 16
// here, a constant, so a compiler can see which tiles are empty. Top-left
// aligned like causal.mlir; for decoding with a KV cache shift i by Sk - Sq as
// in causal_bottom_right.mlir.
//
// Expects: Q [B, 8, Sq, 128], K and V [B, 8, Sk, 128], f32; no captures.

func.func @sliding_window(%q: tensor<?x8x?x128xf32>, %k: tensor<?x8x?x128xf32>,
                          %v: tensor<?x8x?x128xf32>) -> tensor<?x8x?x128xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x128xf32>, tensor<?x8x?x128xf32>,
                       tensor<?x8x?x128xf32>)
      -> tensor<?x8x?x128xf32>
    mask(%b, %h, %i, %j) {
      %w = arith.constant 16 : index
      %causal = arith.cmpi ule, %j, %i : index
      %jw = arith.addi %j, %w : index
      %near = arith.cmpi ult, %i, %jw : index
      %keep = arith.andi %causal, %near : i1
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x128xf32>
}
