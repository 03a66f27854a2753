// GPT-J-style rope (interleaved pairs, partial rotary: 24 of D = 40) with
// per-token positions for Q and K (e.g. left-padded batches), positions up
// to 10^6 so that the angle's range reduction matters, and a causal mask
// over the positions themselves. 24 features: a vector tail at 16 lanes;
// D = 40: a tail at both widths.
func.func @interleaved_partial(
    %q: tensor<?x4x?x40xf32>, %k: tensor<?x4x?x40xf32>, %v: tensor<?x4x?x40xf32>,
    %pq: tensor<?x?xi32> {attn.dims = ["B", "Sq"], attn.range = [0, 1000000]},
    %pk: tensor<?x?xi64> {attn.dims = ["B", "Sk"], attn.range = [0, 1000000]})
    -> tensor<?x4x?x40xf32> {
  %qr = attn.rope %q positions(%pq : tensor<?x?xi32>)
      {rotary_dim = 24, style = #attn.rope_style<interleaved>}
      : tensor<?x4x?x40xf32>
  %kr = attn.rope %k positions(%pk : tensor<?x?xi64>)
      {rotary_dim = 24, style = #attn.rope_style<interleaved>}
      : tensor<?x4x?x40xf32>
  %o = attn.attention
      ins(%qr, %kr, %v : tensor<?x4x?x40xf32>, tensor<?x4x?x40xf32>,
                         tensor<?x4x?x40xf32>)
      captures(%pq, %pk : tensor<?x?xi32>, tensor<?x?xi64>)
      -> tensor<?x4x?x40xf32>
    mask(%b, %h, %i, %j, %a, %c) {
      %x = tensor.extract %a[%b, %i] : tensor<?x?xi32>
      %y = tensor.extract %c[%b, %j] : tensor<?x?xi64>
      %xw = arith.extsi %x : i32 to i64
      %keep = arith.cmpi sle, %y, %xw : i64
      attn.yield %keep : i1
    }
  return %o : tensor<?x4x?x40xf32>
}
