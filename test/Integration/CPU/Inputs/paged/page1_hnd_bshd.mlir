// attn.gather_pages with pages of one row, an HND cache ([pages, H, 1, D])
// and bshd keys and values; key padding only (padded query rows are
// computed like the others); f32, D = 40 (a head size with a vector tail at
// both widths). Lengths take every value in [0, 200], 0 giving fully
// masked rows.

func.func @page1_hnd_bshd(
    %q: tensor<?x?x2x40xf32>,
    %k_cache: tensor<300x2x1x40xf32>, %v_cache: tensor<300x2x1x40xf32>,
    %table: tensor<?x200xi32> {attn.dims = ["B", 200], attn.range = [0, 300]},
    %lens: tensor<?xi32> {attn.dims = ["B"], attn.range = [0, 201]})
    -> tensor<?x?x2x40xf32> {
  %k = attn.gather_pages %k_cache[%table] lengths(%lens)
      {layout = #attn.layout<bshd>, cache_layout = #attn.layout<bhsd>}
      : tensor<300x2x1x40xf32>, tensor<?x200xi32>, tensor<?xi32>
      -> tensor<?x200x2x40xf32>
  %v = attn.gather_pages %v_cache[%table] lengths(%lens)
      {layout = #attn.layout<bshd>, cache_layout = #attn.layout<bhsd>}
      : tensor<300x2x1x40xf32>, tensor<?x200xi32>, tensor<?xi32>
      -> tensor<?x200x2x40xf32>
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x?x2x40xf32>, tensor<?x200x2x40xf32>,
                       tensor<?x200x2x40xf32>)
      captures(%lens : tensor<?xi32>)
      -> tensor<?x?x2x40xf32> attributes {layout = #attn.layout<bshd>}
    mask(%b, %h, %i, %j, %l) {
      %n = tensor.extract %l[%b] : tensor<?xi32>
      %len = arith.index_cast %n : i32 to index
      %keep = arith.cmpi slt, %j, %len : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x?x2x40xf32>
}
