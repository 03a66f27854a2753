// Transformer-XL's segment-level recurrence with the memory concatenated in
// the spec: the keys and values of the current segment (Sq positions) are
// appended to M cached memory positions from earlier segments by
// tensor.concat along the sequence, and query i, at absolute position M + i,
// attends causally over memory and segment:
//
//   K = concat(K_mem, K_cur),  V = concat(V_mem, V_cur)   (M + Sq keys)
//   mask(b, h, i, j) = j <= i + M
//
// M is read from the memory's shape (tensor.dim) and captured by the mask.
// Unlike transformer_xl.mlir, where the caller concatenates, this function
// takes the memory and the segment separately (with a static memory length:
// transformer_xl_memory_fixed.mlir). Both targets read each key and value
// row from the memory or the segment as they stage a tile
// (docs/OperandLoads.md): the concatenation is never materialised.
//
// Expects: Q, K_cur and V_cur [B, 8, Sq, 64], K_mem and V_mem [B, 8, M, 64]
// with M named Sk (so attune-run's Sk is the memory length here), f32.

func.func @transformer_xl_memory(
    %q: tensor<?x8x?x64xf32>,
    %k: tensor<?x8x?x64xf32> {attn.dims = ["B", 8, "Sq", 64]},
    %v: tensor<?x8x?x64xf32> {attn.dims = ["B", 8, "Sq", 64]},
    %k_mem: tensor<?x8x?x64xf32> {attn.dims = ["B", 8, "Sk", 64]},
    %v_mem: tensor<?x8x?x64xf32> {attn.dims = ["B", 8, "Sk", 64]})
    -> tensor<?x8x?x64xf32> {
  %c2 = arith.constant 2 : index
  %mem_len = tensor.dim %k_mem, %c2 : tensor<?x8x?x64xf32>
  %keys = tensor.concat dim(2) %k_mem, %k
      : (tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>) -> tensor<?x8x?x64xf32>
  %values = tensor.concat dim(2) %v_mem, %v
      : (tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>) -> tensor<?x8x?x64xf32>
  %o = attn.attention
      ins(%q, %keys, %values : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>,
                               tensor<?x8x?x64xf32>)
      captures(%mem_len : index)
      -> tensor<?x8x?x64xf32>
    mask(%b, %h, %i, %j, %m) {
      %pos = arith.addi %i, %m : index
      %keep = arith.cmpi ule, %j, %pos : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x64xf32>
}
