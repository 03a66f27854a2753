// Keys rotated after they are gathered from pages (a cache of unrotated
// keys, as some servers keep to re-rope on a context change): the CPU
// kernel stages each key row from its page and rotates it on the way, the
// rope's positions being the gathered rows' (the offset form). Q and K
// share the rope's parameters; interleaved pairs, partial rotary, f32, P = 3.

func.func @rope_of_gathered(
    %q: tensor<?x4x?x32xf32>,
    %k_cache: tensor<50x3x2x32xf32>, %v_cache: tensor<50x3x2x32xf32>,
    %table: tensor<?x10xi32> {attn.dims = ["B", 10], attn.range = [0, 50]},
    %lens: tensor<?xi32> {attn.dims = ["B"], attn.range = [0, 31]})
    -> tensor<?x4x?x32xf32> {
  %k = attn.gather_pages %k_cache[%table] lengths(%lens)
      : tensor<50x3x2x32xf32>, tensor<?x10xi32>, tensor<?xi32>
      -> tensor<?x2x30x32xf32>
  %v = attn.gather_pages %v_cache[%table] lengths(%lens)
      : tensor<50x3x2x32xf32>, tensor<?x10xi32>, tensor<?xi32>
      -> tensor<?x2x30x32xf32>
  %c5 = arith.constant 5 : index
  %qr = attn.rope %q offset(%c5 : index)
      {rotary_dim = 24, style = #attn.rope_style<interleaved>}
      : tensor<?x4x?x32xf32>
  %kr = attn.rope %k {rotary_dim = 24, style = #attn.rope_style<interleaved>}
      : tensor<?x2x30x32xf32>
  %o = attn.attention
      ins(%qr, %kr, %v : tensor<?x4x?x32xf32>, tensor<?x2x30x32xf32>,
                         tensor<?x2x30x32xf32>)
      captures(%lens : tensor<?xi32>)
      -> tensor<?x4x?x32xf32>
    mask(%b, %h, %i, %j, %l) {
      %n = tensor.extract %l[%b] : tensor<?xi32>
      %len = arith.index_cast %n : i32 to index
      %keep = arith.cmpi slt, %j, %len : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x4x?x32xf32>
}
