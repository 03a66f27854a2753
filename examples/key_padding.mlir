// Key padding mask: a batch of sequences of different lengths padded to a
// common Sk; batch entry b has len[b] real keys and the rest is padding. The
// attention_mask of BERT-style encoders (HuggingFace), and the per-sequence
// cache length of batched decoding (FlashAttention's `cache_seqlens`, vLLM's
// seq_lens).
//
//   mask(b, h, i, j) = j < len[b]
//
// Only keys are masked; padded query rows are computed as usual and the caller
// ignores them. A sequence with len[b] = 0 has every key masked: all of its
// rows are fully masked and give O = 0, lse = -inf. The comparison is signed,
// so a negative length also masks everything (it cannot wrap to a huge value).
//
// Expects: Q [B, 8, Sq, 64], K and V [B, 8, Sk, 64], f32; capture
// len : tensor<B x i32>, random lengths in [0, 40) (lengths >= Sk mean
// "no padding").

func.func @key_padding(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>,
                       %v: tensor<?x8x?x64xf32>,
                       %len: tensor<?xi32> {attn.dims = ["B"], attn.range = [0, 40]})
    -> tensor<?x8x?x64xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>,
                       tensor<?x8x?x64xf32>)
      captures(%len : tensor<?xi32>)
      -> tensor<?x8x?x64xf32>
    mask(%b, %h, %i, %j, %lens) {
      %n = tensor.extract %lens[%b] : tensor<?xi32>
      %ni = arith.index_cast %n : i32 to index
      %keep = arith.cmpi slt, %j, %ni : index
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x64xf32>
}
