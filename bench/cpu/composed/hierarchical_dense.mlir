// The dense equivalent of examples/hierarchical.mlir for bench/RESULTS.md
// ("Cascade and hierarchical attention on the CPU"): full-resolution causal
// attention at the same shape (4 heads, D = 64, f32), the O(S^2) cost the
// hierarchical form replaces by a window plus pooled blocks.

func.func @hierarchical_dense(%q: tensor<?x4x?x64xf32>, %k: tensor<?x4x?x64xf32>,
                              %v: tensor<?x4x?x64xf32>)
    -> (tensor<?x4x?x64xf32>, tensor<?x4x?xf32>) {
  %o, %lse = attn.attention
      ins(%q, %k, %v : tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>,
                       tensor<?x4x?x64xf32>)
      -> tensor<?x4x?x64xf32>, tensor<?x4x?xf32>
    mask(%b, %h, %i, %j) {
      %keep = arith.cmpi ule, %j, %i : index
      attn.yield %keep : i1
    }
  return %o, %lse : tensor<?x4x?x64xf32>, tensor<?x4x?xf32>
}
