// GPU check spec (no benchmark row): causal grouped-query attention with
// head size 256, the largest the CUDA target takes, f32 Q/K/V (attunec's
// --gpu-element-type=bf16, the default of build_artifacts.sh, retypes them
// to the bf16 kernels; compiled as written they take the f32 planes path).
// bhsd, 4 query heads sharing 2 K/V heads; B / Sq / Sk dynamic.
//
//   mask(b, h, i, j) = j <= i
//
// Head size 256 has no wgmma kernel (D must be 64 or 128 there): it runs the
// mma.sync kernel on both chips. bench/gpu/run.py checks it at every size of
// its list (decode included) against the float32 reference.
//
// Expects: Q [B, 4, Sq, 256], K and V [B, 2, Sk, 256].

func.func @check_gqa_d256(%q: tensor<?x4x?x256xf32>, %k: tensor<?x2x?x256xf32>,
                          %v: tensor<?x2x?x256xf32>) -> tensor<?x4x?x256xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x4x?x256xf32>, tensor<?x2x?x256xf32>,
                       tensor<?x2x?x256xf32>)
      -> tensor<?x4x?x256xf32>
    mask(%b, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x4x?x256xf32>
}
