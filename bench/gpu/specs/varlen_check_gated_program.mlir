// GPU check of a varlen batch inside a program (docs/Varlen.md,
// docs/CUDATarget.md "Programs"): an attention step whose Q, K and V are
// unpacked from packed rows and whose O is packed back (a dynamic number of
// sequences, B + 1 offsets), then a linalg step on the packed O, the output
// gate of gated attention: O_gated = O * sigmoid(G), G a per-token,
// per-feature gate [Tq, 6, 96] computed elsewhere. D = 96, grouped-query
// heads (6 query heads over 2 K/V heads), bf16, causal within each
// sequence (bottom-right aligned when lq != lk). Rows of O that no
// sequence covers are 0 before the gate, and stay 0.
//
// Expects: Q and G [Tq, 6, 96] (Tq named Sq), K and V [Tk, 2, 96] (Tk
// named Sk), bf16; cu_q and cu_k [B + 1] i32 offsets, non-decreasing from
// 0 to at most Tq, Tk (the GPU check draws them by their manifest names
// cu_seqlens_q and cu_seqlens_k; test/Integration/CPU/varlen.test passes
// valid ones).

func.func @varlen_check_gated_program(
    %q_packed: tensor<?x6x96xbf16> {attn.dims = ["Sq", 6, 96]},
    %k_packed: tensor<?x2x96xbf16> {attn.dims = ["Sk", 2, 96]},
    %v_packed: tensor<?x2x96xbf16> {attn.dims = ["Sk", 2, 96]},
    %cu_q: tensor<?xi32> {attn.range = [0, 100000]},
    %cu_k: tensor<?xi32> {attn.range = [0, 100000]},
    %gate: tensor<?x6x96xbf16> {attn.dims = ["Sq", 6, 96]})
    -> tensor<?x6x96xbf16> {
  %c0 = arith.constant 0 : index
  %tq = tensor.dim %q_packed, %c0 : tensor<?x6x96xbf16>
  %tk = tensor.dim %k_packed, %c0 : tensor<?x2x96xbf16>
  %q = attn.unpack %q_packed[%cu_q] max_len(%tq : index)
      : tensor<?x6x96xbf16>, tensor<?xi32> -> tensor<?x6x?x96xbf16>
  %k = attn.unpack %k_packed[%cu_k] max_len(%tk : index)
      : tensor<?x2x96xbf16>, tensor<?xi32> -> tensor<?x2x?x96xbf16>
  %v = attn.unpack %v_packed[%cu_k] max_len(%tk : index)
      : tensor<?x2x96xbf16>, tensor<?xi32> -> tensor<?x2x?x96xbf16>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x6x?x96xbf16>, tensor<?x2x?x96xbf16>,
                       tensor<?x2x?x96xbf16>)
      captures(%cu_q, %cu_k : tensor<?xi32>, tensor<?xi32>)
      -> tensor<?x6x?x96xbf16>
    mask(%b, %h, %i, %j, %cq, %ck) {
      %c1 = arith.constant 1 : index
      %b1 = arith.addi %b, %c1 : index
      %q0 = tensor.extract %cq[%b] : tensor<?xi32>
      %q1 = tensor.extract %cq[%b1] : tensor<?xi32>
      %k0 = tensor.extract %ck[%b] : tensor<?xi32>
      %k1 = tensor.extract %ck[%b1] : tensor<?xi32>
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
      : tensor<?x6x?x96xbf16>, tensor<?xi32> -> tensor<?x6x96xbf16>
  %empty = tensor.empty(%tq) : tensor<?x6x96xbf16>
  %gated = linalg.generic {
      indexing_maps = [affine_map<(t, h, d) -> (t, h, d)>,
                       affine_map<(t, h, d) -> (t, h, d)>,
                       affine_map<(t, h, d) -> (t, h, d)>],
      iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%o_packed, %gate : tensor<?x6x96xbf16>, tensor<?x6x96xbf16>)
      outs(%empty : tensor<?x6x96xbf16>) {
    ^bb0(%x: bf16, %g: bf16, %out: bf16):
      %one = arith.constant 1.0 : f32
      %xf = arith.extf %x : bf16 to f32
      %gf = arith.extf %g : bf16 to f32
      %ng = arith.negf %gf : f32
      %e = math.exp %ng : f32
      %den = arith.addf %one, %e : f32
      %y = arith.divf %xf, %den : f32
      %yb = arith.truncf %y : f32 to bf16
      linalg.yield %yb : bf16
  } -> tensor<?x6x96xbf16>
  return %gated : tensor<?x6x96xbf16>
}
