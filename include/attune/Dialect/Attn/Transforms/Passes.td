//===- Passes.td - Attn dialect transformation passes ------*- tablegen -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_DIALECT_ATTN_TRANSFORMS_PASSES_TD
#define ATTUNE_DIALECT_ATTN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnLowerToReference : Pass<"attn-lower-to-reference"> {
  let summary = "Lower attn.attention to the naive materialised linalg form";
  let description = [{
    Rewrites every `attn.attention` into the textbook evaluation of its
    semantics on tensors: the full `[B, Hq, Sq, Sk]` f32 score matrix from a
    `linalg.generic` contraction (reading K and V through `h floordiv g`
    index maps, so grouped-query heads never copy K or V, and addressing
    `bshd` operands through permuted maps, never a transpose), the user's
    mask and score regions inlined per element (the score is evaluated only
    where the mask holds), a row max, exponentials, a row sum, the P.V
    contraction and the normalisation. Fully masked rows give O = 0 and
    lse = -inf. Inputs of f16/bf16 are widened to f32; O is rounded back to
    the input element type. Dynamic sizes that must agree (batch of Q/K/V,
    sequence length of K/V) are checked at run time with `cf.assert`.

    This is the executable meaning of the op: O(S^2) memory and no tiling,
    meant as a second oracle and a baseline for the fused paths. Every
    `attn.rope`, `attn.merge`, `attn.gather_pages`, `attn.append_pages`,
    `attn.unpack`, `attn.pack`, `attn.lsh_buckets` and
    `attn.nearest_centroid` is lowered too, as `attn-lower-rope`,
    `attn-lower-merge`, `attn-lower-pages`, `attn-lower-varlen` and
    `attn-lower-hashing` do.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def AttnLowerMerge : Pass<"attn-lower-merge"> {
  let summary = "Lower attn.merge to linalg";
  let description = [{
    Rewrites every `attn.merge` into two `linalg.generic` ops on tensors
    (docs/Merge.md): lse, the log of the sum of the partials' exponentials
    with the largest partial lse subtracted first, and O, each partial
    weighted by exp(lse_i - lse), in f32, rounded once to O's element type.
    Rows whose partials are all fully masked (every lse_i = -inf) give O = 0
    and lse = -inf. Dynamic sizes of the partials that must agree are
    checked at run time with `cf.assert`. Both targets' pipelines and
    `attn-lower-to-reference` lower every merge this way.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def AttnLowerPages : Pass<"attn-lower-pages"> {
  let summary = "Lower the paged KV cache ops to linalg and loops";
  let description = [{
    Rewrites every `attn.gather_pages` into one `linalg.generic` that reads
    each element of the gathered tensor from its page (rows past the
    sequence's length are 0), and every `attn.append_pages` into a loop
    over the sequences and new rows that inserts each `[H, D]` row into its
    page with `tensor.insert_slice` (docs/PagedKV.md). Both check at run
    time (`cf.assert`) that the batch sizes agree, that every length (plus
    the new rows) is within the block table, and that every page id read or
    written is in the cache; the append also that no two rows are written
    to one place (a flag per row of the cache). Both targets run it after their
    attention conversion, which has fused the gathers that feed a key or
    value into the kernel's loads; `attn-lower-to-reference` lowers every
    paged op this way.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def AttnLowerVarlen : Pass<"attn-lower-varlen"> {
  let summary = "Lower the varlen (packed batch) ops to linalg and loops";
  let description = [{
    Rewrites every `attn.unpack` into one `linalg.generic` that reads each
    element of the padded batch from its packed row (rows past a
    sequence's length are 0), and every `attn.pack` into a zero fill and a
    loop over the sequences' rows that inserts each `[H, D]` row at its
    packed position with `tensor.insert_slice` (docs/Varlen.md). Both first
    check the offsets at run time (`cf.assert`): at least one entry, from at
    least 0 to at most the packed rows, non-decreasing, no sequence longer
    than the padded length. Both targets run it after their attention
    conversion, which has fused the unpacks that feed attention into the
    kernel's loads; `attn-lower-to-reference` lowers every varlen op this
    way.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def AttnLowerRope : Pass<"attn-lower-rope"> {
  let summary = "Lower attn.rope to a materialised linalg.generic";
  let description = [{
    Rewrites every `attn.rope` into one `linalg.generic` over its input's
    four dimensions that writes the rotated tensor (docs/Rope.md): the body
    reads each feature's partner with `tensor.extract` and rotates in f64,
    the angle from the position, `base`, `scaling` and `freq_scales`.
    Dynamic sizes of `positions` and `freq_scales` that must agree with the
    input are checked at run time with `cf.assert`.
    Both targets run it after their attention conversion, which has fused
    the ropes that feed a query or key into the kernel's loads; what is left
    is materialised here. `attn-lower-to-reference` lowers every rope this
    way.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def AttnLowerBlockSelection : Pass<"attn-lower-block-selection"> {
  let summary = "Lower attn.topk_blocks (the NSA / MoBA gate) to linalg";
  let description = [{
    Rewrites every `attn.topk_blocks` into `linalg.generic` ops
    (docs/BlockSelection.md): the f64 block sums of Q and K (a reduction
    over a block's rows in order, each row read at its clamped index and
    zero past the end), their dot products over the features in order and
    one division by the blocks' row counts, `top_k` argmax passes (pass p
    finds the p-th best candidate: eligible, not forced, not NaN, after
    the previous pick in the order "larger score, then lower key block"),
    and the i8 map of forced blocks and candidates up to the last pick. A
    dynamic batch size that must equal the other input's is checked with
    `cf.assert`. Both targets and `attn-lower-to-reference` lower the op
    this way.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def AttnLowerLinearAttention : Pass<"attn-lower-linear-attention"> {
  let summary = "Lower attn.linear_attention (elu + 1, FAVOR+) to linalg";
  let description = [{
    Rewrites every `attn.linear_attention` into linalg ops on f32 tensors
    in the canonical [B, H, S, ...] order (docs/LinearAttention.md): the
    feature maps (FAVOR+: a contraction with the features, exponents
    shifted by each query's and each key head's largest), then
    contractions: without `causal`, phi(K)^T V and the column sums of
    phi(K), applied to phi(Q); with `causal`, the keys in chunks of
    `chunk` rows, each chunk's state, their exclusive prefix over chunks
    (a contraction with the strictly lower triangle of ones), and per
    chunk of queries the prefix plus the masked products within the
    chunk. A last op divides (0 where the denominator is 0: a row with no
    keys) into the result's layout and element type. Dynamic batch sizes
    and sequence lengths that must agree are checked with `cf.assert`.
    Both targets and `attn-lower-to-reference` lower the op with it.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def AttnLowerHashing : Pass<"attn-lower-hashing"> {
  let summary = "Lower the bucket-id ops (lsh_buckets, nearest_centroid, sort_ids, permute)";
  let description = [{
    Rewrites every `attn.lsh_buckets` and `attn.nearest_centroid` into a
    `linalg.generic` contraction of the input with the rotations or
    centroids into f64 scores, in order of the features, and a
    `linalg.generic` argmax over the buckets with two outputs, the best
    value and its i32 index (docs/Hashing.md). The argmax takes a larger
    value, or an equal one with a lower index, so its result does not
    depend on the order of the candidates; NaN never wins. A dynamic head
    count that must equal the parameters' is checked with `cf.assert`.
    `attn.sort_ids` becomes a counting sort of each row in `scf.for` loops
    on tensors (count each id, checked in `[0, num_ids)` with `cf.assert`;
    prefix sums; every position in order to its id's next place).
    `attn.permute` becomes a loop nest that checks its order (entries in
    `[0, S)`; with `inverse`, a scatter of the inverse order that fails on
    a repeated entry) and a `linalg.generic` gather of rows.
    Both targets and `attn-lower-to-reference` lower the ops this way.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def AttnCluster : Pass<"attn-cluster"> {
  let summary = "Attention over bucket ids as attention over rows sorted by id";
  let description = [{
    Rewrites every `attn.attention` whose mask holds, alone or as a
    conjunct of `arith.andi`, the equality of two bucket ids
    `ids_q[c..., b, h, i] == ids_k[c..., b, h / g, j]` (captures computed
    by `attn.lsh_buckets` or `attn.nearest_centroid`, which bound them;
    `c...` constant, e.g. the hash round) into the same attention over
    queries and keys sorted by id (docs/Hashing.md, "The clustering
    pass"):

    ```
    %oq, %sq = attn.sort_ids %ids_q ; %ok, %sk = attn.sort_ids %ids_k
    %o' = attention over attn.permute(Q, %oq), attn.permute(K, %ok) and
          attn.permute(V, %ok), with the mask's ids read as %sq[.., i] and
          %sk[.., j] and every other use of i and j as %oq[.., i], %ok[.., j]
    %o  = attn.permute %o', %oq {inverse}       (lse likewise)
    ```

    The result is the original op's: every position keeps its meaning
    (causal masks, the Reformer's self-mask, biases), only the order in
    which rows are visited changes. Sorted ids make the id ranges of a
    tile narrow, so `attn-sparsify`'s classifier skips every tile pair
    whose buckets differ: the cost falls from `Sq * Sk` to about the sum
    over buckets of `|bucket_q| * |bucket_k|`. Ops already tiled
    (with a `tiles` region) and ids of unknown range are left alone.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def AttnTile : Pass<"attn-tile"> {
  let summary = "Choose the tiling of attn.attention (the tiled online-softmax form)";
  let description = [{
    Puts every `attn.attention` into the tiled form that both targets lower:
    sets `tile_sizes(Tq, Tk)`, the queries and keys of one step of the
    online-softmax loop nest (one parallel task / CTA per
    (batch, head, q-tile); within it, k-tiles in order with a running max,
    running sum and f32 accumulator, normalised once at the end, exp2 with the
    scale folded in). An op that already has tile sizes keeps them unless
    `force` is set. With `fit-keys` (the CPU pipeline sets it), an op whose
    key length `Sk` is static and below `tile-k` gets the smallest power of
    two >= max(Sk, 8) instead: the keys past `Sk` in a tile cost as much as
    real ones (Linformer's 32 projected keys in tiles of 64: its attention
    1.3x faster, bench/RESULTS.md).

    Without `attn-sparsify` the op has no tile classifier, so every k-tile
    of a masked op is visited and masked element by element; see
    docs/Rationale.md ("The tiled form") for why the loop nest itself is
    built by each target's conversion from this description.
  }];
  let options = [
    Option<"tileQ", "tile-q", "int64_t", "64", "queries per tile">,
    Option<"tileK", "tile-k", "int64_t", "64", "keys per tile">,
    Option<"force", "force", "bool", "false",
           "replace tile sizes an op already has">,
    Option<"fitKeys", "fit-keys", "bool", "false",
           "shrink the key tile to a static key length below it">
  ];
}

def AttnSparsify : Pass<"attn-sparsify"> {
  let summary = "Derive the tile classifier of attn.attention from its mask";
  let description = [{
    Gives every masked `attn.attention` a `tiles` region: IR that classifies
    any box `[b, h, i0..i1, j0..j1]` of the index space as empty (skip the
    tile), full (no mask needed) or partial, computed by the same interval
    abstract interpretation as `attn-print-tile-map` (docs/MaskAnalysis.md),
    but on run-time values: dynamic sizes and scalar captures are known when
    it runs. Data-dependent masks (a `tensor.extract` of a capture at
    indices that vary over the box, e.g. document ids) get a small block map:
    the classifier reads the min and max of the ids the box touches (at most
    1024 elements; beyond that the tile is partial).

    The classifier is target-independent IR (arith, scf, tensor.extract);
    `convert-attn-to-cpu` and `convert-attn-to-nvvm` inline it once per
    (q-tile, k-tile). An op without a mask gets no classifier (every tile is
    full); an op that already has one keeps it.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

#endif // ATTUNE_DIALECT_ATTN_TRANSFORMS_PASSES_TD
