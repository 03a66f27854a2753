// examples/varlen.mlir with the padded length given statically as the
// longest sequence, 1536 (FlashAttention's max_seqlen), instead of the
// packed size: for bench/RESULTS.md ("Varlen batches on the CPU"), run with
// Sq = Sk = 4096 and sequences of 512, 1024, 1536 and 1024 tokens.

func.func @varlen_max(
    %q_packed: tensor<?x8x64xbf16> {attn.dims = ["Sq", 8, 64]},
    %k_packed: tensor<?x2x64xbf16> {attn.dims = ["Sk", 2, 64]},
    %v_packed: tensor<?x2x64xbf16> {attn.dims = ["Sk", 2, 64]},
    %cu_q: tensor<5xi32> {attn.range = [0, 100000]},
    %cu_k: tensor<5xi32> {attn.range = [0, 100000]})
    -> tensor<?x8x64xbf16> {
  %c0 = arith.constant 0 : index
  %tq = tensor.dim %q_packed, %c0 : tensor<?x8x64xbf16>
  %tk = tensor.dim %k_packed, %c0 : tensor<?x2x64xbf16>
  %q = attn.unpack %q_packed[%cu_q]
      : tensor<?x8x64xbf16>, tensor<5xi32> -> tensor<4x8x1536x64xbf16>
  %k = attn.unpack %k_packed[%cu_k]
      : tensor<?x2x64xbf16>, tensor<5xi32> -> tensor<4x2x1536x64xbf16>
  %v = attn.unpack %v_packed[%cu_k]
      : tensor<?x2x64xbf16>, tensor<5xi32> -> tensor<4x2x1536x64xbf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<4x8x1536x64xbf16>, tensor<4x2x1536x64xbf16>,
                       tensor<4x2x1536x64xbf16>)
      captures(%cu_q, %cu_k : tensor<5xi32>, tensor<5xi32>)
      -> tensor<4x8x1536x64xbf16>
    mask(%b, %h, %i, %j, %cq, %ck) {
      %c1 = arith.constant 1 : index
      %b1 = arith.addi %b, %c1 : index
      %q0 = tensor.extract %cq[%b] : tensor<5xi32>
      %q1 = tensor.extract %cq[%b1] : tensor<5xi32>
      %k0 = tensor.extract %ck[%b] : tensor<5xi32>
      %k1 = tensor.extract %ck[%b1] : tensor<5xi32>
      %lq32 = arith.subi %q1, %q0 : i32
      %lk32 = arith.subi %k1, %k0 : i32
      %lq = arith.index_cast %lq32 : i32 to index
      %lk = arith.index_cast %lk32 : i32 to index
      %qin = arith.cmpi slt, %i, %lq : index
      %kin = arith.cmpi slt, %j, %lk : index
      %jq = arith.addi %j, %lq : index
      %ik = arith.addi %i, %lk : index
      %causal = arith.cmpi sle, %jq, %ik : index
      %in = arith.andi %qin, %kin : i1
      %keep = arith.andi %in, %causal : i1
      attn.yield %keep : i1
    }
  %o_packed = attn.pack %o[%cu_q] total(%tq : index)
      : tensor<4x8x1536x64xbf16>, tensor<5xi32> -> tensor<?x8x64xbf16>
  return %o_packed : tensor<?x8x64xbf16>
}
