// RUN: attune-opt %s -split-input-file -verify-diagnostics --convert-attn-to-nvvm

func.func @head_size_not_multiple_of_8(%q: tensor<1x8x16x36xbf16>, %k: tensor<1x8x16x36xbf16>,
                     %v: tensor<1x8x16x36xbf16>) -> tensor<1x8x16x36xbf16> {
  // expected-error @+1 {{convert-attn-to-nvvm: head sizes must be multiples of 8 in [8, 256], got 36}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x8x16x36xbf16>, tensor<1x8x16x36xbf16>, tensor<1x8x16x36xbf16>)
      -> tensor<1x8x16x36xbf16>
  return %o : tensor<1x8x16x36xbf16>
}

// -----

func.func @value_head_size_too_large(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x8x16x64xbf16>,
                     %v: tensor<1x8x16x264xbf16>) -> tensor<1x8x16x264xbf16> {
  // expected-error @+1 {{convert-attn-to-nvvm: head sizes must be multiples of 8 in [8, 256], got 264}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x8x16x64xbf16>, tensor<1x8x16x64xbf16>, tensor<1x8x16x264xbf16>)
      -> tensor<1x8x16x264xbf16>
  return %o : tensor<1x8x16x264xbf16>
}

// -----

func.func @tiles(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x8x16x64xbf16>,
                 %v: tensor<1x8x16x64xbf16>) -> tensor<1x8x16x64xbf16> {
  // expected-error @+1 {{convert-attn-to-nvvm: expected tile_sizes (attn-tile) with queries a multiple of 16 up to 128, or of 32 up to 256, and keys a multiple of 16}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x8x16x64xbf16>, tensor<1x8x16x64xbf16>, tensor<1x8x16x64xbf16>)
      tile_sizes(24, 64) -> tensor<1x8x16x64xbf16>
  return %o : tensor<1x8x16x64xbf16>
}

// -----

func.func @extra_work(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x8x16x64xbf16>,
                      %v: tensor<1x8x16x64xbf16>) -> tensor<1x8x16x64xbf16> {
  %q2 = arith.addf %q, %q : tensor<1x8x16x64xbf16>
  // expected-error @+1 {{convert-attn-to-nvvm: only constants, tensor sizes and the concatenations, gathers of pages, unpacks or ropes Q, K and V are read from may be computed before the attention (found 'arith.addf')}}
  %o = attn.attention ins(%q2, %k, %v : tensor<1x8x16x64xbf16>, tensor<1x8x16x64xbf16>, tensor<1x8x16x64xbf16>)
      -> tensor<1x8x16x64xbf16>
  return %o : tensor<1x8x16x64xbf16>
}

// -----

func.func @constant_query(%k: tensor<1x8x16x64xbf16>, %v: tensor<1x8x16x64xbf16>) -> tensor<1x8x16x64xbf16> {
  %q = arith.constant dense<1.0> : tensor<1x8x16x64xbf16>
  // expected-error @+1 {{convert-attn-to-nvvm: Q, K and V must be function arguments}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x8x16x64xbf16>, tensor<1x8x16x64xbf16>, tensor<1x8x16x64xbf16>)
      -> tensor<1x8x16x64xbf16>
  return %o : tensor<1x8x16x64xbf16>
}

// -----

// -----

func.func @rope_used_elsewhere(%q: tensor<1x2x16x64xbf16>, %k: tensor<1x2x16x64xbf16>,
                               %v: tensor<1x2x16x64xbf16>) -> tensor<1x2x16x64xbf16> {
  %c2 = arith.constant 2 : index
  %kr = attn.rope %k : tensor<1x2x16x64xbf16>
  %n = tensor.dim %kr, %c2 : tensor<1x2x16x64xbf16>
  // expected-error @+1 {{convert-attn-to-nvvm: the attn.rope read as K may only be used by the attention}}
  %o = attn.attention ins(%q, %kr, %v : tensor<1x2x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x64xbf16>) -> tensor<1x2x16x64xbf16>
  return %o : tensor<1x2x16x64xbf16>
}

// -----

func.func @rope_of_computed(%q: tensor<1x2x16x64xbf16>, %k: tensor<1x2x16x64xbf16>,
                            %v: tensor<1x2x16x64xbf16>, %pos: tensor<16xi32>) -> tensor<1x2x16x64xbf16> {
  %c = arith.constant dense<3> : tensor<16xi32>
  %qr = attn.rope %q positions(%c : tensor<16xi32>) : tensor<1x2x16x64xbf16>
  // expected-error @+1 {{convert-attn-to-nvvm: the input, positions and frequency scales of the attn.rope read as Q must be function arguments}}
  %o = attn.attention ins(%qr, %k, %v : tensor<1x2x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x64xbf16>) -> tensor<1x2x16x64xbf16>
  return %o : tensor<1x2x16x64xbf16>
}

// -----

func.func @concat_of_heads(%q: tensor<1x8x16x64xbf16>, %k0: tensor<1x4x16x64xbf16>,
                           %k1: tensor<1x4x16x64xbf16>, %v: tensor<1x8x16x64xbf16>) -> tensor<1x8x16x64xbf16> {
  %k = tensor.concat dim(1) %k0, %k1 : (tensor<1x4x16x64xbf16>, tensor<1x4x16x64xbf16>) -> tensor<1x8x16x64xbf16>
  // expected-error @+1 {{convert-attn-to-nvvm: Q, K and V must be function arguments, or K and V a tensor.concat of function arguments along the sequence (dimension 2) or attn.gather_pages of a paged cache, or any of them an attn.unpack of a function argument in the attention's layout or an attn.rope of one; K is not}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x8x16x64xbf16>, tensor<1x8x16x64xbf16>, tensor<1x8x16x64xbf16>)
      -> tensor<1x8x16x64xbf16>
  return %o : tensor<1x8x16x64xbf16>
}

// -----

func.func @concat_of_keys_only(%q: tensor<1x8x16x64xbf16>, %k0: tensor<1x8x8x64xbf16>,
                               %k1: tensor<1x8x8x64xbf16>, %v: tensor<1x8x16x64xbf16>) -> tensor<1x8x16x64xbf16> {
  %k = tensor.concat dim(2) %k0, %k1 : (tensor<1x8x8x64xbf16>, tensor<1x8x8x64xbf16>) -> tensor<1x8x16x64xbf16>
  // expected-error @+1 {{convert-attn-to-nvvm: K and V must be concatenations of as many parts (K has 2, V 1)}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x8x16x64xbf16>, tensor<1x8x16x64xbf16>, tensor<1x8x16x64xbf16>)
      -> tensor<1x8x16x64xbf16>
  return %o : tensor<1x8x16x64xbf16>
}

// -----

func.func @concat_parts_of_other_lengths(
    %q: tensor<1x8x?x64xbf16>,
    %k0: tensor<1x8x?x64xbf16> {attn.dims = [1, 8, "Sk", 64]}, %k1: tensor<1x8x?x64xbf16>,
    %v0: tensor<1x8x?x64xbf16> {attn.dims = [1, 8, "Sq", 64]}, %v1: tensor<1x8x?x64xbf16>) -> tensor<1x8x?x64xbf16> {
  %k = tensor.concat dim(2) %k0, %k1 : (tensor<1x8x?x64xbf16>, tensor<1x8x?x64xbf16>) -> tensor<1x8x?x64xbf16>
  %v = tensor.concat dim(2) %v0, %v1 : (tensor<1x8x?x64xbf16>, tensor<1x8x?x64xbf16>) -> tensor<1x8x?x64xbf16>
  // expected-error @+1 {{convert-attn-to-nvvm: part 0 of the K and V concatenations must have the same sequence length, the same static size or the same attn.dims name (K's is Sk, V's Sq)}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x8x?x64xbf16>, tensor<1x8x?x64xbf16>, tensor<1x8x?x64xbf16>)
      -> tensor<1x8x?x64xbf16>
  return %o : tensor<1x8x?x64xbf16>
}

// -----

func.func @concat_used_twice(%q: tensor<1x8x16x64xbf16>, %k0: tensor<1x8x8x64xbf16>,
                             %k1: tensor<1x8x8x64xbf16>) -> tensor<1x8x16x64xbf16> {
  %k = tensor.concat dim(2) %k0, %k1 : (tensor<1x8x8x64xbf16>, tensor<1x8x8x64xbf16>) -> tensor<1x8x16x64xbf16>
  %c0 = arith.constant 0 : index
  %x = tensor.dim %k, %c0 : tensor<1x8x16x64xbf16>
  // expected-error @+1 {{convert-attn-to-nvvm: the tensor.concat read as K may only be used by the attention}}
  %o = attn.attention ins(%q, %k, %k : tensor<1x8x16x64xbf16>, tensor<1x8x16x64xbf16>, tensor<1x8x16x64xbf16>)
      -> tensor<1x8x16x64xbf16>
  return %o : tensor<1x8x16x64xbf16>
}

// -----

func.func @paged_key_only(%q: tensor<2x8x1x64xbf16>, %kc: tensor<9x16x2x64xbf16>,
                          %v: tensor<2x2x32x64xbf16>, %t: tensor<2x2xi32>,
                          %n: tensor<2xi32>) -> tensor<2x8x1x64xbf16> {
  %k = attn.gather_pages %kc[%t] lengths(%n) : tensor<9x16x2x64xbf16>, tensor<2x2xi32>, tensor<2xi32> -> tensor<2x2x32x64xbf16>
  // expected-error @+1 {{convert-attn-to-nvvm: K and V must both be attn.gather_pages in the attention's layout, or neither}}
  %o = attn.attention ins(%q, %k, %v : tensor<2x8x1x64xbf16>, tensor<2x2x32x64xbf16>, tensor<2x2x32x64xbf16>)
      -> tensor<2x8x1x64xbf16>
  return %o : tensor<2x8x1x64xbf16>
}

// -----

func.func @paged_other_tables(%q: tensor<2x8x1x64xbf16>, %kc: tensor<9x16x2x64xbf16>,
                              %vc: tensor<9x16x2x64xbf16>, %t: tensor<2x2xi32>,
                              %t2: tensor<2x2xi32>, %n: tensor<2xi32>) -> tensor<2x8x1x64xbf16> {
  %k = attn.gather_pages %kc[%t] lengths(%n) : tensor<9x16x2x64xbf16>, tensor<2x2xi32>, tensor<2xi32> -> tensor<2x2x32x64xbf16>
  %v = attn.gather_pages %vc[%t2] lengths(%n) : tensor<9x16x2x64xbf16>, tensor<2x2xi32>, tensor<2xi32> -> tensor<2x2x32x64xbf16>
  // expected-error @+1 {{convert-attn-to-nvvm: the attn.gather_pages read as K and V must use the same block table and lengths}}
  %o = attn.attention ins(%q, %k, %v : tensor<2x8x1x64xbf16>, tensor<2x2x32x64xbf16>, tensor<2x2x32x64xbf16>)
      -> tensor<2x8x1x64xbf16>
  return %o : tensor<2x8x1x64xbf16>
}

// -----

func.func @paged_used_twice(%q: tensor<2x8x1x64xbf16>, %kc: tensor<9x16x2x64xbf16>,
                            %t: tensor<2x2xi32>, %n: tensor<2xi32>) -> tensor<2x8x1x64xbf16> {
  %k = attn.gather_pages %kc[%t] lengths(%n) : tensor<9x16x2x64xbf16>, tensor<2x2xi32>, tensor<2xi32> -> tensor<2x2x32x64xbf16>
  %c0 = arith.constant 0 : index
  %x = tensor.dim %k, %c0 : tensor<2x2x32x64xbf16>
  // expected-error @+1 {{convert-attn-to-nvvm: the attn.gather_pages read as K may only be used by the attention}}
  %o = attn.attention ins(%q, %k, %k : tensor<2x8x1x64xbf16>, tensor<2x2x32x64xbf16>, tensor<2x2x32x64xbf16>)
      -> tensor<2x8x1x64xbf16>
  return %o : tensor<2x8x1x64xbf16>
}

// -----

func.func @paged_f32(%q: tensor<2x8x1x64xf32>, %kc: tensor<9x16x2x64xf32>,
                     %t: tensor<2x2xi32>, %n: tensor<2xi32>) -> tensor<2x8x1x64xf32> {
  %k = attn.gather_pages %kc[%t] lengths(%n) : tensor<9x16x2x64xf32>, tensor<2x2xi32>, tensor<2xi32> -> tensor<2x2x32x64xf32>
  // expected-error @+1 {{convert-attn-to-nvvm: a paged KV cache must be bf16 or f16 on this target}}
  %o = attn.attention ins(%q, %k, %k : tensor<2x8x1x64xf32>, tensor<2x2x32x64xf32>, tensor<2x2x32x64xf32>)
      -> tensor<2x8x1x64xf32>
  return %o : tensor<2x8x1x64xf32>
}

// -----

func.func @append_pages(%q: tensor<2x8x1x64xbf16>, %kc: tensor<9x16x2x64xbf16>,
                        %new: tensor<2x2x1x64xbf16>, %t: tensor<2x2xi32>,
                        %n: tensor<2xi32>) -> tensor<9x16x2x64xbf16> {
  // expected-error @+1 {{convert-attn-to-nvvm: attn.append_pages is not supported by the CUDA target yet (the CPU target compiles it; docs/PagedKV.md)}}
  %c = attn.append_pages %new into %kc[%t] lengths(%n) : tensor<2x2x1x64xbf16>, tensor<9x16x2x64xbf16>, tensor<2x2xi32>, tensor<2xi32>
  return %c : tensor<9x16x2x64xbf16>
}

// -----

// Varlen batches (docs/Varlen.md): what the kernels cannot read or write.

func.func @unpack_used_elsewhere(%qp: tensor<?x2x64xbf16>, %k: tensor<2x2x?x64xbf16>,
                                 %v: tensor<2x2x?x64xbf16>, %cu: tensor<3xi32>) -> tensor<2x2x16x64xbf16> {
  %c2 = arith.constant 2 : index
  %q = attn.unpack %qp[%cu] : tensor<?x2x64xbf16>, tensor<3xi32> -> tensor<2x2x16x64xbf16>
  %n = tensor.dim %q, %c2 : tensor<2x2x16x64xbf16>
  // expected-error @+1 {{convert-attn-to-nvvm: the attn.unpack read as Q may only be used by the attention (the kernels read its packed rows; it is never materialised)}}
  %o = attn.attention ins(%q, %k, %v : tensor<2x2x16x64xbf16>, tensor<2x2x?x64xbf16>, tensor<2x2x?x64xbf16>) -> tensor<2x2x16x64xbf16>
  return %o : tensor<2x2x16x64xbf16>
}

// -----

func.func @unpack_f32(%q: tensor<2x2x16x64xf32>, %kp: tensor<?x2x64xf32>,
                      %v: tensor<2x2x16x64xf32>, %cu: tensor<3xi32>) -> tensor<2x2x16x64xf32> {
  %k = attn.unpack %kp[%cu] : tensor<?x2x64xf32>, tensor<3xi32> -> tensor<2x2x16x64xf32>
  // expected-error @+1 {{convert-attn-to-nvvm: the attn.unpack read as K must be bf16 or f16 on this target}}
  %o = attn.attention ins(%q, %k, %v : tensor<2x2x16x64xf32>, tensor<2x2x16x64xf32>, tensor<2x2x16x64xf32>) -> tensor<2x2x16x64xf32>
  return %o : tensor<2x2x16x64xf32>
}

// -----

func.func @padded_output_short_max_len(%qp: tensor<?x2x64xbf16>, %k: tensor<2x2x?x64xbf16>,
                                       %v: tensor<2x2x?x64xbf16>, %cu: tensor<3xi32>) -> tensor<2x2x?x64xbf16> {
  %c64 = arith.constant 64 : index
  %q = attn.unpack %qp[%cu] max_len(%c64 : index) : tensor<?x2x64xbf16>, tensor<3xi32> -> tensor<2x2x?x64xbf16>
  // expected-error @+1 {{convert-attn-to-nvvm: the max_len of the attn.unpack read as Q must be the packed queries' row count (tensor.dim of them along 0) when O is returned padded}}
  %o = attn.attention ins(%q, %k, %v : tensor<2x2x?x64xbf16>, tensor<2x2x?x64xbf16>, tensor<2x2x?x64xbf16>) -> tensor<2x2x?x64xbf16>
  return %o : tensor<2x2x?x64xbf16>
}

// -----

func.func @pack_with_lse(%qp: tensor<?x2x64xbf16>, %k: tensor<2x2x?x64xbf16>,
                         %v: tensor<2x2x?x64xbf16>, %cu: tensor<3xi32>) -> tensor<?x2x64xbf16> {
  %c0 = arith.constant 0 : index
  %t = tensor.dim %qp, %c0 : tensor<?x2x64xbf16>
  %q = attn.unpack %qp[%cu] max_len(%t : index) : tensor<?x2x64xbf16>, tensor<3xi32> -> tensor<2x2x?x64xbf16>
  // expected-error @+1 {{convert-attn-to-nvvm: an attention whose O goes through attn.pack may not have an lse result on this target}}
  %o, %lse = attn.attention ins(%q, %k, %v : tensor<2x2x?x64xbf16>, tensor<2x2x?x64xbf16>, tensor<2x2x?x64xbf16>) -> tensor<2x2x?x64xbf16>, tensor<2x2x?xf32>
  %p = attn.pack %o[%cu] total(%t : index) : tensor<2x2x?x64xbf16>, tensor<3xi32> -> tensor<?x2x64xbf16>
  return %p : tensor<?x2x64xbf16>
}

// -----

func.func @pack_other_total(%qp: tensor<?x2x64xbf16>, %k: tensor<2x2x?x64xbf16>,
                            %v: tensor<2x2x?x64xbf16>, %cu: tensor<3xi32>, %t2: index) -> tensor<?x2x64xbf16> {
  %c0 = arith.constant 0 : index
  %t = tensor.dim %qp, %c0 : tensor<?x2x64xbf16>
  %q = attn.unpack %qp[%cu] max_len(%t : index) : tensor<?x2x64xbf16>, tensor<3xi32> -> tensor<2x2x?x64xbf16>
  // expected-error @+1 {{convert-attn-to-nvvm: the total of the attn.pack of O must be static or the packed queries' row count (tensor.dim of the packed Q along 0) on this target}}
  %o = attn.attention ins(%q, %k, %v : tensor<2x2x?x64xbf16>, tensor<2x2x?x64xbf16>, tensor<2x2x?x64xbf16>) -> tensor<2x2x?x64xbf16>
  %p = attn.pack %o[%cu] total(%t2 : index) : tensor<2x2x?x64xbf16>, tensor<3xi32> -> tensor<?x2x64xbf16>
  return %p : tensor<?x2x64xbf16>
}
