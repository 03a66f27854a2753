// RoPE benchmark (bench/gpu/rope_time.py; issue 14's row): Q and K rotated
// by attn.rope (half pairing, base 500000 as in Llama 3, positions = row),
// then causal attention, H = 16, D = 128 (hidden 2048), bf16; the same
// attention as bench/gpu/specs/bench_causal_d128.mlir.

func.func @bench_rope_causal_d128(%q: tensor<?x16x?x128xbf16>,
                                  %k: tensor<?x16x?x128xbf16>,
                                  %v: tensor<?x16x?x128xbf16>)
    -> tensor<?x16x?x128xbf16> {
  %qr = attn.rope %q {base = 500000.0} : tensor<?x16x?x128xbf16>
  %kr = attn.rope %k {base = 500000.0} : tensor<?x16x?x128xbf16>
  %o = attn.attention
      ins(%qr, %kr, %v : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>,
                         tensor<?x16x?x128xbf16>)
      -> tensor<?x16x?x128xbf16>
    mask(%b, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x16x?x128xbf16>
}
