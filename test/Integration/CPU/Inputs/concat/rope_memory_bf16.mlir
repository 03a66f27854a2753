// A KV cache of M positions before a segment of Sq, concatenated along the
// sequence and rotated by rope (positions 0 .. M + Sq - 1), bf16, bshd,
// grouped-query heads: the kernel stages each key row from the cache or
// the segment and rotates it; V rows from the two as well. Causal over
// absolute positions: query i sits at M + i. Sk names M.
func.func @rope_memory_bf16(
    %q: tensor<?x?x4x32xbf16> {attn.dims = ["B", "Sq", 4, 32]},
    %k: tensor<?x?x2x32xbf16> {attn.dims = ["B", "Sq", 2, 32]},
    %v: tensor<?x?x2x32xbf16> {attn.dims = ["B", "Sq", 2, 32]},
    %km: tensor<?x?x2x32xbf16> {attn.dims = ["B", "Sk", 2, 32]},
    %vm: tensor<?x?x2x32xbf16> {attn.dims = ["B", "Sk", 2, 32]})
    -> tensor<?x?x4x32xbf16> {
  %c1 = arith.constant 1 : index
  %m = tensor.dim %km, %c1 : tensor<?x?x2x32xbf16>
  %keys = tensor.concat dim(1) %km, %k
      : (tensor<?x?x2x32xbf16>, tensor<?x?x2x32xbf16>) -> tensor<?x?x2x32xbf16>
  %values = tensor.concat dim(1) %vm, %v
      : (tensor<?x?x2x32xbf16>, tensor<?x?x2x32xbf16>) -> tensor<?x?x2x32xbf16>
  %qr = attn.rope %q offset(%m : index) {layout = #attn.layout<bshd>}
      : tensor<?x?x4x32xbf16>
  %kr = attn.rope %keys {layout = #attn.layout<bshd>} : tensor<?x?x2x32xbf16>
  %o = attn.attention
      ins(%qr, %kr, %values : tensor<?x?x4x32xbf16>, tensor<?x?x2x32xbf16>,
                              tensor<?x?x2x32xbf16>)
      captures(%m : index) layout(bshd) -> tensor<?x?x4x32xbf16>
    mask(%b, %h, %i, %j, %mm) {
      %pos = arith.addi %i, %mm : index
      %keep = arith.cmpi ule, %j, %pos : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x?x4x32xbf16>
}
