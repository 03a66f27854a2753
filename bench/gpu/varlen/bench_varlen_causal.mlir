// Varlen prefill benchmark (bench/gpu/varlen_time.py; issue 14's row): 16
// sequences packed back to back as [T, 16, 128] bf16 (hidden 2048), causal
// within each sequence, O packed back. cu [17] i32 offsets from 0 to T.

func.func @bench_varlen_causal(
    %q_packed: tensor<?x16x128xbf16> {attn.dims = ["Sq", 16, 128]},
    %k_packed: tensor<?x16x128xbf16> {attn.dims = ["Sk", 16, 128]},
    %v_packed: tensor<?x16x128xbf16> {attn.dims = ["Sk", 16, 128]},
    %cu: tensor<17xi32> {attn.range = [0, 1000000]})
    -> tensor<?x16x128xbf16> {
  %c0 = arith.constant 0 : index
  %tq = tensor.dim %q_packed, %c0 : tensor<?x16x128xbf16>
  %tk = tensor.dim %k_packed, %c0 : tensor<?x16x128xbf16>
  %q = attn.unpack %q_packed[%cu] max_len(%tq : index)
      : tensor<?x16x128xbf16>, tensor<17xi32> -> tensor<16x16x?x128xbf16>
  %k = attn.unpack %k_packed[%cu] max_len(%tk : index)
      : tensor<?x16x128xbf16>, tensor<17xi32> -> tensor<16x16x?x128xbf16>
  %v = attn.unpack %v_packed[%cu] max_len(%tk : index)
      : tensor<?x16x128xbf16>, tensor<17xi32> -> tensor<16x16x?x128xbf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<16x16x?x128xbf16>, tensor<16x16x?x128xbf16>,
                       tensor<16x16x?x128xbf16>)
      captures(%cu : tensor<17xi32>)
      -> tensor<16x16x?x128xbf16>
    mask(%b, %h, %i, %j, %c) {
      %c1 = arith.constant 1 : index
      %b1 = arith.addi %b, %c1 : index
      %s0 = tensor.extract %c[%b] : tensor<17xi32>
      %s1 = tensor.extract %c[%b1] : tensor<17xi32>
      %len32 = arith.subi %s1, %s0 : i32
      %len = arith.index_cast %len32 : i32 to index
      %qin = arith.cmpi slt, %i, %len : index
      %causal = arith.cmpi ule, %j, %i : index
      %keep = arith.andi %qin, %causal : i1
      attn.yield %keep : i1
    }
  %o_packed = attn.pack %o[%cu] total(%tq : index)
      : tensor<16x16x?x128xbf16>, tensor<17xi32> -> tensor<?x16x128xbf16>
  return %o_packed : tensor<?x16x128xbf16>
}
