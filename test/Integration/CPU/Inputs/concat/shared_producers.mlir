// One rope as both Q and K, and one concat as both K and V (self-attention
// over a memory and a segment, with V = K): each producer is fused once for
// two operands and erased once. Then K = V = rope(concat): the key is
// staged from the concat's inputs and rotated, the value must be the
// rotated rows too (the rope is materialised for it, never skipped).
func.func @shared_producers(
    %x: tensor<?x2x?x16xf32> {attn.dims = ["B", 2, "Sq", 16]},
    %m: tensor<?x2x?x16xf32> {attn.dims = ["B", 2, "Sk", 16]})
    -> (tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>) {
  %r = attn.rope %x : tensor<?x2x?x16xf32>
  %o1 = attn.attention ins(%r, %r, %x : tensor<?x2x?x16xf32>,
                           tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>)
      -> tensor<?x2x?x16xf32>
  %kv = tensor.concat dim(2) %m, %x
      : (tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>) -> tensor<?x2x?x16xf32>
  %o2 = attn.attention ins(%x, %kv, %kv : tensor<?x2x?x16xf32>,
                           tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>)
      -> tensor<?x2x?x16xf32>
  %kvr = attn.rope %kv : tensor<?x2x?x16xf32>
  %o3 = attn.attention ins(%x, %kvr, %kvr : tensor<?x2x?x16xf32>,
                           tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>)
      -> tensor<?x2x?x16xf32>
  return %o1, %o2, %o3
      : tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>
}
