// Rotary position embedding (RoPE) fused into attention, as Llama 3 uses it
// for chunked prefill and decode with a KV cache: Q and K are rotated by
// their positions before the scores, Q's rows sitting at the last Sq of the
// Sk positions (bottom-right causal, as in causal_bottom_right.mlir):
//
//   K'[b,h,j,:] = rope(K[b,h,j,:], position j)
//   Q'[b,h,i,:] = rope(Q[b,h,i,:], position i + Sk - Sq)
//   O = attention(Q', K', V) with mask j + Sq <= i + Sk
//
// rope rotates feature pairs (f, f + 64) by the angle p * 500000^(-2k/128)
// of frequency k = f mod 64 (the "half" pairing of GPT-NeoX and Llama; base
// 500000 as in Llama 3; docs/Rope.md). Grouped-query heads: 8 query heads
// share 2 K/V heads. The CPU target applies the rotation as it loads Q and
// K tiles: no rotated copy of Q or K is written. The CUDA target rotates Q
// and K by a kernel of their own into workspaces the attention reads
// (docs/CUDATarget.md, "attn.rope").
//
// Expects: Q [B, 8, Sq, 128], K and V [B, 2, Sk, 128], f32; no captures.

func.func @rope(%q: tensor<?x8x?x128xf32>, %k: tensor<?x2x?x128xf32>,
                %v: tensor<?x2x?x128xf32>) -> tensor<?x8x?x128xf32> {
  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : tensor<?x8x?x128xf32>
  %sk = tensor.dim %k, %c2 : tensor<?x2x?x128xf32>
  %first = arith.subi %sk, %sq : index
  %qr = attn.rope %q offset(%first : index) {base = 500000.0}
      : tensor<?x8x?x128xf32>
  %kr = attn.rope %k {base = 500000.0} : tensor<?x2x?x128xf32>
  %o = attn.attention
      ins(%qr, %kr, %v : tensor<?x8x?x128xf32>, tensor<?x2x?x128xf32>,
                         tensor<?x2x?x128xf32>)
      captures(%sq, %sk : index, index)
      -> tensor<?x8x?x128xf32>
    mask(%b, %h, %i, %j, %nq, %nk) {
      %jq = arith.addi %j, %nq : index
      %ik = arith.addi %i, %nk : index
      %keep = arith.cmpi ule, %jq, %ik : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x128xf32>
}
