// A block map returned from a CUDA program next to the attention it feeds:
// its [B, H, ceil(Sq / 16), ceil(Sk / 16)] is derived from the argument
// sizes, and the runtime sizes results by the arguments' symbols only.
func.func @topk_map_returned(%q: tensor<?x4x?x64xbf16>,
                             %k: tensor<?x4x?x64xbf16>,
                             %v: tensor<?x4x?x64xbf16>)
    -> (tensor<?x4x?x64xbf16>, tensor<?x4x?x?xi8>) {
  %keep = attn.topk_blocks %q, %k {block_q = 16, block_k = 16, top_k = 2}
      : tensor<?x4x?x64xbf16>, tensor<?x4x?x64xbf16> -> tensor<?x4x?x?xi8>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x4x?x64xbf16>, tensor<?x4x?x64xbf16>,
                       tensor<?x4x?x64xbf16>)
      captures(%keep : tensor<?x4x?x?xi8>)
      -> tensor<?x4x?x64xbf16>
    mask(%b, %h, %i, %j, %map) {
      %c16 = arith.constant 16 : index
      %qb = arith.divui %i, %c16 : index
      %kb = arith.divui %j, %c16 : index
      %flag = tensor.extract %map[%b, %h, %qb, %kb] : tensor<?x4x?x?xi8>
      %zero = arith.constant 0 : i8
      %kept = arith.cmpi ne, %flag, %zero : i8
      attn.yield %kept : i1
    }
  return %o, %keep : tensor<?x4x?x64xbf16>, tensor<?x4x?x?xi8>
}
