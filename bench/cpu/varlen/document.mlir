// The dense equivalent of examples/varlen.mlir for bench/RESULTS.md
// ("Varlen batches on the CPU"): the same packed sequences as one batch row
// of T = Sq tokens with a document mask (FlexAttention's way for packed
// sequences): doc[i] == doc[j] and j <= i, 8 query heads on 2 K/V heads,
// D = 64, bf16. doc : [1, Sq] i32 holds each token's sequence index
// (sorted: test/Integration/CPU/Inputs/sorted_ids.py).

func.func @document(
    %q: tensor<1x8x?x64xbf16>, %k: tensor<1x2x?x64xbf16>,
    %v: tensor<1x2x?x64xbf16>,
    %doc: tensor<1x?xi32> {attn.dims = [1, "Sq"], attn.range = [0, 64]})
    -> tensor<1x8x?x64xbf16> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<1x8x?x64xbf16>, tensor<1x2x?x64xbf16>,
                       tensor<1x2x?x64xbf16>)
      captures(%doc : tensor<1x?xi32>)
      -> tensor<1x8x?x64xbf16>
    mask(%b, %h, %i, %j, %d) {
      %di = tensor.extract %d[%b, %i] : tensor<1x?xi32>
      %dj = tensor.extract %d[%b, %j] : tensor<1x?xi32>
      %same = arith.cmpi eq, %di, %dj : i32
      %causal = arith.cmpi ule, %j, %i : index
      %keep = arith.andi %same, %causal : i1
      attn.yield %keep : i1
    }
  return %o : tensor<1x8x?x64xbf16>
}
