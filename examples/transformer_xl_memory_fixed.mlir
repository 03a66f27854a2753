// Transformer-XL's memory with a fixed length, M = 64 cached positions: as
// transformer_xl_memory.mlir (K and V are tensor.concat of the memory and
// the current segment along the sequence, read from the two tensors by the
// kernels' loads on both targets), but the memory's length is static, so
// the mask is a constant offset and the attention's key length is 64 + Sq:
//
//   mask(b, h, i, j) = j <= i + 64
//
// Expects: Q, K_cur and V_cur [B, 8, Sq, 64], K_mem and V_mem [B, 8, 64, 64],
// f32.

func.func @transformer_xl_memory_fixed(
    %q: tensor<?x8x?x64xf32>,
    %k: tensor<?x8x?x64xf32> {attn.dims = ["B", 8, "Sq", 64]},
    %v: tensor<?x8x?x64xf32> {attn.dims = ["B", 8, "Sq", 64]},
    %k_mem: tensor<?x8x64x64xf32> {attn.dims = ["B", 8, 64, 64]},
    %v_mem: tensor<?x8x64x64xf32> {attn.dims = ["B", 8, 64, 64]})
    -> tensor<?x8x?x64xf32> {
  %keys = tensor.concat dim(2) %k_mem, %k
      : (tensor<?x8x64x64xf32>, tensor<?x8x?x64xf32>) -> tensor<?x8x?x64xf32>
  %values = tensor.concat dim(2) %v_mem, %v
      : (tensor<?x8x64x64xf32>, tensor<?x8x?x64xf32>) -> tensor<?x8x?x64xf32>
  %o = attn.attention
      ins(%q, %keys, %values : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>,
                               tensor<?x8x?x64xf32>)
      -> tensor<?x8x?x64xf32>
    mask(%b, %h, %i, %j) {
      %c64 = arith.constant 64 : index
      %pos = arith.addi %i, %c64 : index
      %keep = arith.cmpi ule, %j, %pos : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x64xf32>
}
