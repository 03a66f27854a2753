// GPU benchmark spec: causal sliding window of W = 1024 keys (Mistral-style
// local attention) at S = 8192, H = 16, D = 128, bf16, bhsd; B / Sq / Sk
// dynamic. Same mask as examples/sliding_window.mlir with W = 1024:
//
//   mask(b, h, i, j) = j <= i  and  i < j + W     (i - j < W, never negative)
//
// Query i sees keys i - 1023 .. i (1024 keys, itself included). FlexAttention
// runs the same mask, (q >= kv) & (q - kv < 1024), in bench/gpu/run.py.
//
// Expects: Q, K, V [B, 16, S, 128] bf16; no captures.

func.func @bench_window(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>,
                        %v: tensor<?x16x?x128xbf16>) -> tensor<?x16x?x128xbf16> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>,
                       tensor<?x16x?x128xbf16>)
      -> tensor<?x16x?x128xbf16>
    mask(%b, %h, %i, %j) {
      %w = arith.constant 1024 : index
      %causal = arith.cmpi ule, %j, %i : index
      %jw = arith.addi %j, %w : index
      %near = arith.cmpi ult, %i, %jw : index
      %keep = arith.andi %causal, %near : i1
      attn.yield %keep : i1
    }
  return %o : tensor<?x16x?x128xbf16>
}
