// Block-diagonal (chunked local) attention: the sequence is cut into
// fixed-size segments of `seg` tokens and each token attends only within its
// own segment. This is the chunk mask of Llama 4's chunked-attention layers
// (which also add causal, j <= i), of blockwise / local attention in vision
// models over flattened windows, and of packing equal-length sequences into
// one batch row.
//
//   mask(b, h, i, j) = i / seg == j / seg      (integer division)
//
// with seg = 32, a constant. Every tile of the mask is either fully empty or
// fully kept when the query and key tile sizes divide seg. This is also
// segmented attention (fixed-length segments): the empty tiles are skipped,
// so the cost is O(S * seg * D), linear in S (bench/RESULTS.md, "Segmented
// attention on the CPU").
//
// Expects: Q [B, 8, Sq, 64], K and V [B, 8, Sk, 64], f32; no captures.
// With Sq > Sk, queries in segments that hold no key are fully masked
// (O = 0, lse = -inf).

func.func @block_diagonal(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>,
                          %v: tensor<?x8x?x64xf32>) -> tensor<?x8x?x64xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>,
                       tensor<?x8x?x64xf32>)
      -> tensor<?x8x?x64xf32>
    mask(%b, %h, %i, %j) {
      %seg = arith.constant 32 : index
      %qs = arith.divui %i, %seg : index
      %ks = arith.divui %j, %seg : index
      %keep = arith.cmpi eq, %qs, %ks : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x64xf32>
}
