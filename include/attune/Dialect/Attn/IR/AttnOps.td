//===- AttnOps.td - Attn dialect operations ----------------*- tablegen -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_DIALECT_ATTN_IR_ATTNOPS_TD
#define ATTUNE_DIALECT_ATTN_IR_ATTNOPS_TD

include "attune/Dialect/Attn/IR/AttnBase.td"
include "attune/Dialect/Attn/IR/AttnAttrs.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/InferIntRangeInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpAsmInterface.td"

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

def Attn_AttentionOp : Attn_Op<"attention", [
    IsolatedFromAbove, Pure,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>,
    DeclareOpInterfaceMethods<InferIntRangeInterface,
                              ["inferResultRangesFromOptional"]>]> {
  let summary = "scaled dot-product attention with a mask and a score region";
  let description = [{
    Computes, for every batch `b`, query head `h`, query `i` and key `j`:

    ```
    S[b,h,i,j]  = scale * sum_d Q[b,h,i,d] * K[b,h/g,j,d]     g = Hq / Hkv
    S'[b,h,i,j] = score(S[b,h,i,j], b, h, i, j, captures...)  if mask(b, h, i, j, captures...)
                = -inf                                        otherwise
    O[b,h,i,:]  = sum_j softmax_j(S'[b,h,i,:]) * V[b,h/g,j,:]
    lse[b,h,i]  = log sum_j exp(S'[b,h,i,j])
    ```

    `Q` is `[B, Hq, Sq, D]`, `K` is `[B, Hkv, Sk, D]` and `V` is
    `[B, Hkv, Sk, Dv]` in the default `bhsd` layout; with `layout(bshd)` the
    sequence and head dimensions of all four tensors are swapped. `Hq` must be
    a multiple of `Hkv`: query head `h` reads key/value head `h / (Hq / Hkv)`
    (grouped-query and multi-query attention, without copying K or V). The
    head sizes `D`, `Dv` and head counts are static; `B`, `Sq` and `Sk` may
    be dynamic. Q, K and V share one element type (f32, f16 or bf16);
    products accumulate in f32; `O` has Q's element type and `lse` is f32.

    `scale` defaults to `1/sqrt(D)` and must be positive, finite and at most
    `FLT_MAX / (4 D 65504^2)` (about `3e26` for `D = 64`): with inputs as
    large as f16's 65504, `scale * sum_d Q K` then stays finite in f32 with a
    factor 4 of headroom for the score region.

    The score and mask regions must not have undefined behaviour, which
    the verifier refuses where it can see it: an integer division or
    remainder (`arith.divsi`, `divui`, `remsi`, `remui`, `ceildivsi`,
    `ceildivui`, `floordivsi` and their `index` counterparts) needs a
    divisor that integer range analysis proves nonzero, and for the signed
    ones not `-1` unless the dividend cannot be the most negative value (in
    practice: divide by a constant other than 0 and -1); `tensor.dim` with a
    constant index needs the index to be a dimension of its operand, in the
    regions and for a captured size.

    The optional `score` region receives the scaled score `s : f32`, the
    indices `b, h, i, j : index` and one block argument per capture, and
    yields the modified score as `f32` in natural-log units. The optional
    `mask` region receives `b, h, i, j` and the captures and yields `i1`
    (true = attend). Both are isolated from above and side-effect free; an
    absent region means identity / attend everywhere. Indices are absolute
    positions in Q and K: when `Sq != Sk` no alignment is implied, and a
    bottom-right aligned causal mask is written `j <= i + (Sk - Sq)` with the
    sizes passed as captures or constants.

    A row whose keys are all masked gives `O = 0` and `lse = -inf`.

    Every dimension of Q, K and V is below 2^31, so the index arguments of
    the regions lie in `[0, 2^31 - 1)`; the op tells integer range analysis
    so (`InferIntRangeInterface`), and `arith-int-range-narrowing` can then
    compute region arithmetic such as ALiBi's `j - i` in 32 bits.

    **Tiled form.** Two optional parts describe how the op is to be computed
    and never change its value; users do not write them, `attn-tile` and
    `attn-sparsify` add them and both targets consume them:

    - `tile_sizes(Tq, Tk)`: queries and keys per tile of the online-softmax
      loop nest (one q-tile per parallel task; k-tiles visited in order).
    - a `tiles` region, the tile classifier: it receives a box of the index
      space, `b, h, i0, i1, j0, j1 : index` (queries i0..i1 and keys j0..j1,
      inclusive, of batch b and head h) and the captures, and yields an `i8`
      class: 0 = every element of the box is masked (the tile is skipped),
      2 = none is (the mask is not evaluated), 1 = unknown / mixed. It must be
      sound for every box; `attn-sparsify` derives it from the mask region by
      interval analysis. Without it every tile is treated as partial (or as
      full when there is no mask).

    Example (grouped-query causal attention with ALiBi):

    ```mlir
    %o = attn.attention ins(%q, %k, %v : tensor<1x8x128x64xf16>,
                            tensor<1x2x128x64xf16>, tensor<1x2x128x64xf16>)
        captures(%slopes : tensor<8xf32>) -> tensor<1x8x128x64xf16>
      score(%s, %b, %h, %i, %j, %sl) {
        %m = tensor.extract %sl[%h] : tensor<8xf32>
        %ii = arith.index_cast %i : index to i64
        %jj = arith.index_cast %j : index to i64
        %d = arith.subi %jj, %ii : i64
        %df = arith.sitofp %d : i64 to f32
        %bias = arith.mulf %m, %df : f32
        %r = arith.addf %s, %bias : f32
        attn.yield %r : f32
      }
      mask(%b, %h, %i, %j, %sl) {
        %c = arith.cmpi ule, %j, %i : index
        attn.yield %c : i1
      }
    ```
  }];

  let arguments = (ins
    AnyRankedTensor:$query,
    AnyRankedTensor:$key,
    AnyRankedTensor:$value,
    Variadic<AnyType>:$captures,
    OptionalAttr<F32Attr>:$scale,
    DefaultValuedAttr<Attn_LayoutAttr, "::attune::attn::Layout::bhsd">:$layout,
    OptionalAttr<DenseI64ArrayAttr>:$tile_sizes
  );
  let results = (outs
    AnyRankedTensor:$output,
    Optional<AnyRankedTensor>:$lse
  );
  let regions = (region MaxSizedRegion<1>:$score, MaxSizedRegion<1>:$mask,
                        MaxSizedRegion<1>:$tiles);

  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let hasRegionVerifier = 1;

  let builders = [
    /// Builds an op with empty score and mask regions. `lseType` may be null
    /// for an op without the second result; `scale` may be null for the
    /// default 1/sqrt(D).
    OpBuilder<(ins "::mlir::Type":$outputType, "::mlir::Type":$lseType,
      "::mlir::Value":$query, "::mlir::Value":$key, "::mlir::Value":$value,
      "::mlir::ValueRange":$captures, "::mlir::FloatAttr":$scale,
      "::attune::attn::Layout":$layout)>
  ];

  let extraClassDeclaration = [{
    /// Number of leading index arguments (b, h, i, j) of both regions.
    static constexpr unsigned kNumIndexArgs = 4;

    /// Position of each logical dimension in the 4-D Q/K/V/O tensors.
    LayoutDims getLayoutDims() { return ::attune::attn::getLayoutDims(getLayout()); }

    /// Static head size D of Q and K.
    int64_t getHeadSize();
    /// Static head size Dv of V and O.
    int64_t getValueHeadSize();
    /// Static number of query heads Hq.
    int64_t getNumQueryHeads();
    /// Static number of key/value heads Hkv.
    int64_t getNumKVHeads();
    /// Hq / Hkv: how many query heads share one key/value head.
    int64_t getGroupSize() { return getNumQueryHeads() / getNumKVHeads(); }
    /// The scale applied to Q.K^T: the `scale` attribute or 1/sqrt(D).
    double getScaleValue();
    /// The largest `scale` the verifier accepts for head size D:
    /// FLT_MAX / (4 D 65504^2), so that D products of inputs as large as
    /// f16's 65504 stay finite in f32 with headroom for the score region.
    static double getMaxScale(int64_t headSize);

    /// The entry block of the score region, or null when it is absent.
    ::mlir::Block *getScoreBlock() {
      return getScore().empty() ? nullptr : &getScore().front();
    }
    /// The entry block of the mask region, or null when it is absent.
    ::mlir::Block *getMaskBlock() {
      return getMask().empty() ? nullptr : &getMask().front();
    }
    /// The entry block of the tile classifier region, or null when absent.
    ::mlir::Block *getTilesBlock() {
      return getTiles().empty() ? nullptr : &getTiles().front();
    }
    /// Number of leading index arguments (b, h, i0, i1, j0, j1) of the tiles
    /// region.
    static constexpr unsigned kNumTileIndexArgs = 6;
    /// The classes the tiles region yields (i8).
    static constexpr int64_t kTileEmpty = 0, kTilePartial = 1, kTileFull = 2;
    /// Tile sizes (Tq, Tk) chosen by attn-tile, if any.
    std::optional<std::pair<int64_t, int64_t>> getTileSizesPair() {
      std::optional<::llvm::ArrayRef<int64_t>> sizes = getTileSizes();
      if (sizes && sizes->size() == 2)
        return std::make_pair((*sizes)[0], (*sizes)[1]);
      return std::nullopt;
    }

    /// The value yielded by a region's terminator.
    static ::mlir::Value getYieldedValue(::mlir::Block *block);

    // Region arguments by role. Every region's block takes its leading
    // arguments (score: s, b, h, i, j; mask: b, h, i, j; tiles: b, h, i0,
    // i1, j0, j1), then one per capture; these accessors name them so that
    // no code counts positions. They take the entry block of one of this
    // op's regions (found through its parent) and assume a verified op.

    /// Whether `block` is the entry block of the score region.
    static bool isScoreBlock(::mlir::Block *block);
    /// Number of arguments of `block` before its captures.
    static unsigned getNumLeadingArgs(::mlir::Block *block);
    /// The index argument `dim` (b, h, i or j) of a score or mask block.
    static ::mlir::BlockArgument getIndexArg(::mlir::Block *block,
                                             RegionDim dim);
    /// The index arguments (b, h, i, j) of a score or mask block.
    static ::mlir::Block::BlockArgListType getIndexArgs(::mlir::Block *block);
    /// The score argument `s` of the score region's block.
    static ::mlir::BlockArgument getScoreArg(::mlir::Block *scoreBlock);
    /// The box arguments (b, h, i0, i1, j0, j1) of the tiles region's block.
    static ::mlir::Block::BlockArgListType
    getTileBoxArgs(::mlir::Block *tilesBlock);
    /// The capture arguments of `block`, one per capture operand, in order.
    static ::mlir::Block::BlockArgListType getCaptureArgs(::mlir::Block *block);
    /// The argument of `block` that stands for capture operand `n`.
    static ::mlir::BlockArgument getCaptureArg(::mlir::Block *block,
                                               unsigned n) {
      return getCaptureArgs(block)[n];
    }
    /// If `value` is a capture argument of `block`, its capture number.
    static std::optional<unsigned> getCaptureNumber(::mlir::Block *block,
                                                    ::mlir::Value value);
  }];
}

//===----------------------------------------------------------------------===//
// MergeOp
//===----------------------------------------------------------------------===//

def Attn_MergeOp : Attn_Op<"merge", [Pure, SameVariadicOperandSize]> {
  let summary = "combine partial attention results exactly";
  let description = [{
    Merges n >= 1 partial results `(O_i, lse_i)` of attention over disjoint
    sets of keys into the result over their union (docs/Merge.md):

    ```
    lse[b,h,s]   = log sum_i exp(lse_i[b,h,s])            (-inf if all are)
    O[b,h,s,:]   = sum_i exp(lse_i[b,h,s] - lse[b,h,s]) * O_i[b,h,s,:]
                                                           (0 if lse = -inf)
    ```

    Every `O_i` has the type of the first result (`[B, H, S, Dv]`, or
    `[B, S, H, Dv]` with `layout(bshd)`; f32, f16 or bf16) and every
    `lse_i` is f32 `[B, H, S]`, the second result's type. The sums are
    computed in f32 with the largest `lse_i` subtracted first; O is
    rounded once to its element type. Uses: split-KV decode, cascade
    attention (a shared prefix attended once, merged with each request's
    suffix), hierarchical attention (local keys at full resolution merged
    with pooled distant ones), multi-round LSH.

    ```mlir
    %o, %lse = attn.merge (%o1, %lse1), (%o2, %lse2)
        : tensor<?x8x?x64xbf16>, tensor<?x8x?xf32>
    ```
  }];

  let arguments = (ins
    Variadic<AnyRankedTensor>:$outputs,
    Variadic<AnyRankedTensor>:$lses,
    DefaultValuedAttr<Attn_LayoutAttr, "::attune::attn::Layout::bhsd">:$layout
  );
  let results = (outs AnyRankedTensor:$output, AnyRankedTensor:$lse);

  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// Position of each logical dimension in the 4-D outputs.
    LayoutDims getLayoutDims() { return ::attune::attn::getLayoutDims(getLayout()); }
  }];
}

//===----------------------------------------------------------------------===//
// RopeOp
//===----------------------------------------------------------------------===//

def Attn_RopeOp : Attn_Op<"rope", [Pure, AttrSizedOperandSegments,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "rotary position embedding of queries or keys";
  let description = [{
    Rotates pairs of features of every row of a 4-D query or key tensor
    (`[B, H, S, D]`, or `[B, S, H, D]` with `layout(bshd)`) by an angle
    proportional to the row's position, as in RoFormer (docs/Rope.md has
    the exact semantics). With `R = rotary_dim` (default `D`, even, at
    most `D`), frequency `k` in `[0, R/2)` and position `p`:

    ```
    theta_k = freq_scales[k] * base^(-2k / R)      (freq_scales: 1 if absent)
    a(p, k) = (p / scaling) * theta_k
    half (GPT-NeoX, Llama):  pairs (k, k + R/2)
    interleaved (GPT-J):     pairs (2k, 2k + 1)
    y[first]  = x[first] cos a - x[second] sin a
    y[second] = x[second] cos a + x[first] sin a
    y[f]      = x[f]                               for f >= R
    ```

    The position of row `s` of batch `b` is `positions[b, s]` (a `[B, S]`
    integer tensor) or `positions[s]` (`[S]`), else `offset + s` (an
    integer scalar), else `s`. The result has the input's type; it is
    computed in at least f32 (the angle in f64) and rounded once. When the
    result is the query or key of `attn.attention`, the targets apply the
    rotation as they load the tile and no rotated tensor exists; the fused
    form skips the rounding to the element type.

    ```mlir
    %qr = attn.rope %q positions(%pos : tensor<?x?xi32>)
        {rotary_dim = 64, base = 10000.0, style = #attn.rope_style<half>}
        : tensor<?x32x?x128xbf16>
    ```
  }];

  let arguments = (ins
    AnyRankedTensor:$input,
    Optional<AnyRankedTensor>:$positions,
    Optional<AnySignlessIntegerOrIndex>:$offset,
    Optional<AnyRankedTensor>:$freq_scales,
    OptionalAttr<I64Attr>:$rotary_dim,
    DefaultValuedAttr<F64Attr, "10000.0">:$base,
    DefaultValuedAttr<F64Attr, "1.0">:$scaling,
    DefaultValuedAttr<Attn_RopeStyleAttr,
                      "::attune::attn::RopeStyle::half">:$style,
    DefaultValuedAttr<Attn_LayoutAttr, "::attune::attn::Layout::bhsd">:$layout
  );
  let results = (outs AnyRankedTensor:$result);

  let assemblyFormat = [{
    $input
    (`positions` `(` $positions^ `:` type($positions) `)`)?
    (`offset` `(` $offset^ `:` type($offset) `)`)?
    (`freq_scales` `(` $freq_scales^ `:` type($freq_scales) `)`)?
    attr-dict `:` type($input)
  }];
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// Position of each logical dimension in the 4-D input.
    LayoutDims getLayoutDims() { return ::attune::attn::getLayoutDims(getLayout()); }
    /// The static head size D.
    int64_t getHeadSize();
    /// The number of rotated features R: `rotary_dim`, or D without it.
    int64_t getNumRotated();
    /// theta_k without `freq_scales`: base^(-2k / R), in double precision.
    double getInverseFrequency(int64_t k);
    /// The feature rotated with feature `f` (f < R), and whether `f` is the
    /// first of its pair (y = x cos - partner sin) or the second (y = x cos
    /// + partner sin).
    std::pair<int64_t, bool> getPartner(int64_t f);
    /// The frequency index k of feature `f` (f < R).
    int64_t getFrequencyIndex(int64_t f);
  }];
}

//===----------------------------------------------------------------------===//
// LshBucketsOp, NearestCentroidOp
//===----------------------------------------------------------------------===//

def Attn_LshBucketsOp : Attn_Op<"lsh_buckets", [Pure]> {
  let summary = "bucket ids of angular locality-sensitive hashing (Reformer)";
  let description = [{
    Hashes every row of a 4-D query or key tensor `x` (`[B, H, S, D]`, or
    `[B, S, H, D]` with `layout(bshd)`) into one of `n` buckets per round by
    a random rotation, as in the Reformer (docs/Hashing.md has the exact
    semantics). `rotations` is `[rounds, H, D, n / 2]` (or `[rounds, 1, D,
    n / 2]`, shared by the heads); the result is `[rounds, B, H, S]` i32:

    ```
    y[r,b,h,s,c]  = sum_d x[b,h,s,d] * rotations[r,h,d,c]     (c < n/2)
    ids[r,b,h,s]  = argmax over [y[r,b,h,s,:] ; -y[r,b,h,s,:]]
    ```

    The argmax is the lowest index among the largest values; NaN values
    are ignored, and a row with none above -inf gets bucket 0. The sums are
    computed in f64, in order of d, so the ids are those of exact
    arithmetic for bf16 and f16 inputs and rotations. Feed the ids to an
    `attn.attention` mask `ids_q[r,b,h,i] == ids_k[r,b,h,j]`.

    ```mlir
    %ids = attn.lsh_buckets %k, %rot
        : tensor<?x8x?x64xbf16>, tensor<4x8x64x32xf32> -> tensor<4x?x8x?xi32>
    ```
  }];

  let arguments = (ins
    AnyRankedTensor:$input,
    AnyRankedTensor:$rotations,
    DefaultValuedAttr<Attn_LayoutAttr, "::attune::attn::Layout::bhsd">:$layout
  );
  let results = (outs AnyRankedTensor:$result);

  let assemblyFormat = [{
    $input `,` $rotations attr-dict `:` type($input) `,` type($rotations)
    `->` type($result)
  }];
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// Position of each logical dimension in the 4-D input.
    LayoutDims getLayoutDims() { return ::attune::attn::getLayoutDims(getLayout()); }
    /// The number of buckets n (twice the rotations' last dimension).
    int64_t getNumBuckets() {
      return 2 * getRotations().getType().getDimSize(3);
    }
  }];
}

def Attn_NearestCentroidOp : Attn_Op<"nearest_centroid", [Pure]> {
  let summary = "ids of the nearest centroid (Routing Transformer)";
  let description = [{
    Routes every row of a 4-D query or key tensor `x` (`[B, H, S, D]`, or
    `[B, S, H, D]` with `layout(bshd)`) to the nearest of `k` centroids of
    its head in Euclidean distance, as the Routing Transformer's k-means
    routing does (docs/Hashing.md). `centroids` is `[H, k, D]` (or `[1, k,
    D]`, shared by the heads); the result is `[B, H, S]` i32:

    ```
    ids[b,h,s] = argmin_c sum_d (x[b,h,s,d] - centroids[h,c,d])^2
               = argmax_c (sum_d x[b,h,s,d] centroids[h,c,d]
                           - 1/2 sum_d centroids[h,c,d]^2)
    ```

    The second form is the one computed, in f64, in order of d; the argmax
    is the lowest index among the largest values, NaN ignored, 0 if none is
    above -inf (as attn.lsh_buckets).

    ```mlir
    %ids = attn.nearest_centroid %q, %centroids
        : tensor<?x8x?x64xbf16>, tensor<8x16x64xf32> -> tensor<?x8x?xi32>
    ```
  }];

  let arguments = (ins
    AnyRankedTensor:$input,
    AnyRankedTensor:$centroids,
    DefaultValuedAttr<Attn_LayoutAttr, "::attune::attn::Layout::bhsd">:$layout
  );
  let results = (outs AnyRankedTensor:$result);

  let assemblyFormat = [{
    $input `,` $centroids attr-dict `:` type($input) `,` type($centroids)
    `->` type($result)
  }];
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// Position of each logical dimension in the 4-D input.
    LayoutDims getLayoutDims() { return ::attune::attn::getLayoutDims(getLayout()); }
  }];
}

def Attn_SortIdsOp : Attn_Op<"sort_ids", [Pure, AllTypesMatch<["ids", "sorted"]>,
    AllTypesMatch<["ids", "order"]>]> {
  let summary = "stable order of positions by bucket id";
  let description = [{
    Sorts the positions of every row of `ids` (the last dimension, `S`;
    every leading index, e.g. `[B, H]`, is a row of its own) by id, keeping
    positions of one id in increasing order (a stable sort), as the
    clustering of bucketed attention needs (docs/Hashing.md):

    ```
    order[..., t]  = the position of the t-th smallest (ids[..., s], s)
    sorted[..., t] = ids[..., order[..., t]]
    ```

    The ids must lie in `[0, num_ids)`: the targets sort by counting (one
    pass to count each id, one to place every position) in O(S + num_ids)
    per row, and check the range at run time. The results have the type of
    `ids` (i32).

    ```mlir
    %order, %sorted = attn.sort_ids %ids {num_ids = 64}
        : tensor<?x8x?xi32>
    ```
  }];

  let arguments = (ins AnyRankedTensor:$ids, I64Attr:$num_ids);
  let results = (outs AnyRankedTensor:$order, AnyRankedTensor:$sorted);

  let assemblyFormat = [{
    $ids attr-dict `:` type($ids)
  }];
  let hasVerifier = 1;
}

def Attn_PermuteOp : Attn_Op<"permute", [Pure,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "rows of queries, keys, values or results in another order";
  let description = [{
    Reorders the rows of every (batch, head) of `input` (`[B, H, S, D]`, or
    `[B, S, H, D]` with `layout(bshd)`, or a `[B, H, S]` tensor of one
    value per row such as lse) by `order` (`[B, H, S]` i32), as the
    clustering of bucketed attention does with the order of
    `attn.sort_ids` (docs/Hashing.md):

    ```
    y[b, h, t] = x[b, h, order[b, h, t]]       (gather)
    y[b, h, order[b, h, t]] = x[b, h, t]       (with `inverse`: scatter)
    ```

    Every entry of `order` must lie in `[0, S)`; with `inverse`, each row
    of `order` must be a permutation of `[0, S)`. Both are checked at run
    time (the oracle names the first offending entry).

    ```mlir
    %qs = attn.permute %q, %order : tensor<?x8x?x64xbf16>, tensor<?x8x?xi32>
    %o = attn.permute %os, %order {inverse}
        : tensor<?x8x?x64xbf16>, tensor<?x8x?xi32>
    ```
  }];

  let arguments = (ins
    AnyRankedTensor:$input,
    AnyRankedTensor:$order,
    UnitAttr:$inverse,
    DefaultValuedAttr<Attn_LayoutAttr, "::attune::attn::Layout::bhsd">:$layout
  );
  let results = (outs AnyRankedTensor:$result);

  let assemblyFormat = [{
    $input `,` $order attr-dict `:` type($input) `,` type($order)
  }];
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// Position of the batch, head and sequence dimensions in the input
    /// (rank 4 by the layout; rank 3 is [B, H, S]).
    LayoutDims getLayoutDims() {
      if (getInput().getType().getRank() == 3)
        return LayoutDims{0, 1, 2, 3};
      return ::attune::attn::getLayoutDims(getLayout());
    }
  }];
}

//===----------------------------------------------------------------------===//
// TopkBlocksOp
//===----------------------------------------------------------------------===//

def Attn_TopkBlocksOp : Attn_Op<"topk_blocks", [Pure,
    AttrSizedOperandSegments]> {
  let summary = "the key blocks each query block keeps (NSA, MoBA gating)";
  let description = [{
    Scores every (query block, key block) pair by the dot product of the
    blocks' mean query and mean key and keeps, per query block, the
    `top_k` best key blocks plus the `sink` first and the `local` blocks
    at the query block's own position, as Native Sparse Attention's and
    MoBA's gates do (docs/BlockSelection.md has the exact semantics). `q`
    is `[B, H, Sq, D]` and `k` `[B, Hk, Sk, D]` (or `[B, S, H, D]` with
    `layout(bshd)`), `H` a multiple of `Hk`; the result is i8 `[B, H,
    ceil(Sq / block_q), ceil(Sk / block_k)]`, 1 where kept:

    ```
    score[qb, kb] = (sum_d Qsum[qb, d] * Ksum[kb, d]) / (nq(qb) * nk(kb))
    keep[qb, kb]  = forced(qb, kb) or kb is among the top_k candidates
    ```

    The block sums and the dot products are f64, in order, so the map is
    the same on every target (exact for bf16 and f16 inputs). With
    `causal`, a key block after every query of the block (aligned to the
    end, `j <= i + Sk - Sq`) is neither kept nor a candidate. Feed the map
    to an `attn.attention` mask `keep[b, h, i / block_q, j / block_k] != 0`.

    With `projections(%wq, %wk)` (both `[D, P]`, static, f32, f16 or
    bf16), a learned gate: the pooled query and key are projected first,
    `score = ((Qsum . wq) . (Ksum . wk)) / (nq * nk)`.

    ```mlir
    %keep = attn.topk_blocks %q, %k {block_q = 64, block_k = 64, top_k = 16,
                                     local = 1, sink = 1, causal}
        : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x8x?x?xi8>
    %learned = attn.topk_blocks %q, %k projections(%wq, %wk
        : tensor<64x32xf32>, tensor<64x32xf32>) {block_q = 64, block_k = 64,
                                                 top_k = 16}
        : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x8x?x?xi8>
    ```
  }];

  let arguments = (ins
    AnyRankedTensor:$q,
    AnyRankedTensor:$k,
    Optional<AnyRankedTensor>:$q_proj,
    Optional<AnyRankedTensor>:$k_proj,
    I64Attr:$block_q,
    I64Attr:$block_k,
    I64Attr:$top_k,
    DefaultValuedAttr<I64Attr, "0">:$local,
    DefaultValuedAttr<I64Attr, "0">:$sink,
    UnitAttr:$causal,
    DefaultValuedAttr<Attn_LayoutAttr, "::attune::attn::Layout::bhsd">:$layout
  );
  let results = (outs AnyRankedTensor:$result);

  let assemblyFormat = [{
    $q `,` $k
    (`projections` `(` $q_proj^ `,` $k_proj `:` type($q_proj) `,` type($k_proj)
     `)`)?
    attr-dict `:` type($q) `,` type($k) `->` type($result)
  }];
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// Position of each logical dimension in the 4-D inputs.
    LayoutDims getLayoutDims() { return ::attune::attn::getLayoutDims(getLayout()); }
  }];
}

//===----------------------------------------------------------------------===//
// LinearAttentionOp
//===----------------------------------------------------------------------===//

def Attn_LinearAttentionOp : Attn_Op<"linear_attention", [Pure]> {
  let summary = "kernelised attention: elu + 1 or FAVOR+ (Performer)";
  let description = [{
    Attention with the softmax kernel replaced by a dot product of feature
    maps (docs/LinearAttention.md has the exact semantics), in O(S r Dv)
    per head:

    ```
    O[i] = sum_{j in J(i)} (phi(q_i) . phi(k_j)) v_j
         / sum_{j in J(i)} (phi(q_i) . phi(k_j))
    elu:   phi(x) = elu(x) + 1
    favor: phi(x)[f] = exp(x' . w[:, f] - |x'|^2 / 2) / sqrt(r),
           x' = sqrt(scale) x
    ```

    `J(i)` is every key, or with `causal` the keys `j <= i + Sk - Sq`; a
    row with no keys gives 0. `q` is `[B, H, Sq, D]`, `k` `[B, Hk, Sk, D]`
    and `v` `[B, Hk, Sk, Dv]` (or `[B, S, H, D]` with `layout(bshd)`), `H`
    a multiple of `Hk`; the result `[B, H, Sq, Dv]`. FAVOR+ takes its
    random features `w` (`[D, r]`) as `features(%w)`. The features and
    sums are f32; causal runs in chunks of `chunk` keys.

    ```mlir
    %o = attn.linear_attention %q, %k, %v
        {feature_map = #attn.feature_map<elu>, causal}
        : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>,
          tensor<?x2x?x64xbf16> -> tensor<?x8x?x64xbf16>
    %p = attn.linear_attention %q, %k, %v features(%w : tensor<64x128xf32>)
        {feature_map = #attn.feature_map<favor>}
        : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>,
          tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
    ```
  }];

  let arguments = (ins
    AnyRankedTensor:$q,
    AnyRankedTensor:$k,
    AnyRankedTensor:$v,
    Optional<AnyRankedTensor>:$features,
    DefaultValuedAttr<Attn_FeatureMapAttr,
                      "::attune::attn::FeatureMap::elu">:$feature_map,
    OptionalAttr<F64Attr>:$scale,
    UnitAttr:$causal,
    DefaultValuedAttr<I64Attr, "64">:$chunk,
    DefaultValuedAttr<Attn_LayoutAttr, "::attune::attn::Layout::bhsd">:$layout
  );
  let results = (outs AnyRankedTensor:$result);

  let assemblyFormat = [{
    $q `,` $k `,` $v
    (`features` `(` $features^ `:` type($features) `)`)?
    attr-dict `:` type($q) `,` type($k) `,` type($v) `->` type($result)
  }];
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// Position of each logical dimension in the 4-D operands.
    LayoutDims getLayoutDims() { return ::attune::attn::getLayoutDims(getLayout()); }
    /// The FAVOR+ scale: the attribute, else 1 / sqrt(D).
    double getFavorScale();
    /// The number of features r: D for elu, w's columns for favor.
    int64_t getFeatureCount();
  }];
}

//===----------------------------------------------------------------------===//
// GatherPagesOp, AppendPagesOp
//===----------------------------------------------------------------------===//

def Attn_GatherPagesOp : Attn_Op<"gather_pages", [Pure]> {
  let summary = "the keys or values of a paged KV cache, as one sequence";
  let description = [{
    Reads a paged KV cache through a block table (docs/PagedKV.md). The
    cache holds `N` pages of `P` rows: `[N, P, H, D]` (`cache_layout(bshd)`,
    the default; vLLM's and FlashInfer's NHD) or `[N, H, P, D]`
    (`cache_layout(bhsd)`, HND). `block_table` (`[B, M]`, integer) lists
    the pages of each sequence in order and `seq_lens` (`[B]`, integer) its
    length. The result is `[B, H, M * P, D]` (or `[B, M * P, H, D]` with
    `layout(bshd)`) in the cache's element type:

    ```
    result[b, h, j, :] = cache[block_table[b, j / P], j mod P, h, :]  if j < seq_lens[b]
                       = 0                                            otherwise
    ```

    It is an error if some `seq_lens[b]` is outside `[0, M * P]`, or if a
    page that holds rows below `seq_lens[b]` is outside `[0, N)`; entries
    of pages wholly past the length are never read (they may be padding
    such as -1). The zero rows past the length are keys like any other:
    the attention excludes them with a mask `j < seq_lens[b]`. When the
    result is the key or value of `attn.attention`, the targets read the
    rows from the pages as they load a tile, and no gathered tensor exists.

    ```mlir
    %k = attn.gather_pages %k_cache[%block_table] lengths(%seq_lens)
        : tensor<512x16x8x128xbf16>, tensor<?x64xi32>, tensor<?xi32>
        -> tensor<?x8x1024x128xbf16>
    ```
  }];

  let arguments = (ins
    AnyRankedTensor:$cache,
    AnyRankedTensor:$block_table,
    AnyRankedTensor:$seq_lens,
    DefaultValuedAttr<Attn_LayoutAttr, "::attune::attn::Layout::bhsd">:$layout,
    DefaultValuedAttr<Attn_LayoutAttr,
                      "::attune::attn::Layout::bshd">:$cache_layout
  );
  let results = (outs AnyRankedTensor:$result);

  let assemblyFormat = [{
    $cache `[` $block_table `]` `lengths` `(` $seq_lens `)` attr-dict `:`
    type($cache) `,` type($block_table) `,` type($seq_lens) `->`
    type($result)
  }];
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// Position of each logical dimension in the 4-D result.
    LayoutDims getLayoutDims() { return ::attune::attn::getLayoutDims(getLayout()); }
    /// Position of each dimension in the cache: pages as the batch, the
    /// rows of a page as the sequence.
    LayoutDims getCacheDims() { return ::attune::attn::getLayoutDims(getCacheLayout()); }
    /// The static page size P.
    int64_t getPageSize() {
      return getCache().getType().getDimSize(getCacheDims().seq);
    }
  }];
}

def Attn_AppendPagesOp : Attn_Op<"append_pages", [Pure,
    AllTypesMatch<["cache", "result"]>]> {
  let summary = "write new rows of keys or values into a paged KV cache";
  let description = [{
    Appends `S` rows per sequence to a paged KV cache (docs/PagedKV.md).
    `cache`, `block_table` and `seq_lens` are as for `attn.gather_pages`,
    `seq_lens` being the lengths before the append; `rows` is
    `[B, H, S, D]` (or `[B, S, H, D]` with `layout(bshd)`) in the cache's
    element type. The result is the cache with, for every `b`, `h` and
    `r < S`, at `p = seq_lens[b] + r`:

    ```
    result[block_table[b, p / P], p mod P, h, :] = rows[b, h, r, :]
    ```

    and every other row unchanged. It is an error if some `seq_lens[b]` is
    negative or `seq_lens[b] + S > M * P`, if a page written is outside
    `[0, N)`, or if two rows are written to the same place. RoPE on the
    new keys is an `attn.rope` of `rows`, with positions `seq_lens[b] + r`
    (the offset form takes one offset for the batch; use `positions` when
    the lengths differ).

    ```mlir
    %k_cache2 = attn.append_pages %k_new into %k_cache[%block_table]
        lengths(%seq_lens)
        : tensor<?x8x1x128xbf16>, tensor<512x16x8x128xbf16>, tensor<?x64xi32>,
          tensor<?xi32>
    ```
  }];

  let arguments = (ins
    AnyRankedTensor:$rows,
    AnyRankedTensor:$cache,
    AnyRankedTensor:$block_table,
    AnyRankedTensor:$seq_lens,
    DefaultValuedAttr<Attn_LayoutAttr, "::attune::attn::Layout::bhsd">:$layout,
    DefaultValuedAttr<Attn_LayoutAttr,
                      "::attune::attn::Layout::bshd">:$cache_layout
  );
  let results = (outs AnyRankedTensor:$result);

  let assemblyFormat = [{
    $rows `into` $cache `[` $block_table `]` `lengths` `(` $seq_lens `)`
    attr-dict `:` type($rows) `,` type($cache) `,` type($block_table) `,`
    type($seq_lens)
  }];
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// Position of each logical dimension in the 4-D rows.
    LayoutDims getLayoutDims() { return ::attune::attn::getLayoutDims(getLayout()); }
    /// Position of each dimension in the cache (see attn.gather_pages).
    LayoutDims getCacheDims() { return ::attune::attn::getLayoutDims(getCacheLayout()); }
    /// The static page size P.
    int64_t getPageSize() {
      return getCache().getType().getDimSize(getCacheDims().seq);
    }
  }];
}

//===----------------------------------------------------------------------===//
// UnpackOp, PackOp
//===----------------------------------------------------------------------===//

def Attn_UnpackOp : Attn_Op<"unpack", [Pure]> {
  let summary = "the sequences of a packed (varlen) batch, one per batch row";
  let description = [{
    Reads a *varlen* batch (FlashAttention's `flash_attn_varlen_func`,
    docs/Varlen.md): `B` sequences of different lengths packed back to back
    as `[T, H, D]`, sequence `b` being rows `[cu_seqlens[b], cu_seqlens[b +
    1])`. The result is `[B, H, S, D]` (or `[B, S, H, D]` with
    `layout(bshd)`), `B = size(cu_seqlens) - 1`, in the packed tensor's
    element type:

    ```
    result[b, h, r, :] = packed[cu_seqlens[b] + r, h, :]   if r < cu_seqlens[b + 1] - cu_seqlens[b]
                       = 0                                  otherwise
    ```

    `S` is the result's static sequence size or, when that is dynamic, the
    `max_len` operand. It is an error if `cu_seqlens` decreases, starts
    below 0, ends past `T`, or holds a sequence longer than `S`. Positions
    `r` are relative to each sequence's start, so a causal or window mask
    written over `i` and `j` applies within each sequence; the rows past a
    sequence's length are zeros that attention must mask (`j <
    cu_seqlens[b + 1] - cu_seqlens[b]`). When the result is an operand of
    `attn.attention`, the targets read the rows from the packed tensor as
    they load a tile, and no padded tensor exists.

    ```mlir
    %q = attn.unpack %q_packed[%cu_seqlens] max_len(%max : index)
        : tensor<?x32x128xbf16>, tensor<?xi32> -> tensor<?x32x?x128xbf16>
    ```
  }];

  let arguments = (ins
    AnyRankedTensor:$packed,
    AnyRankedTensor:$cu_seqlens,
    Optional<Index>:$max_len,
    DefaultValuedAttr<Attn_LayoutAttr, "::attune::attn::Layout::bhsd">:$layout
  );
  let results = (outs AnyRankedTensor:$result);

  let assemblyFormat = [{
    $packed `[` $cu_seqlens `]` (`max_len` `(` $max_len^ `:` type($max_len) `)`)?
    attr-dict `:` type($packed) `,` type($cu_seqlens) `->` type($result)
  }];
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// Position of each logical dimension in the 4-D result.
    LayoutDims getLayoutDims() { return ::attune::attn::getLayoutDims(getLayout()); }
  }];
}

def Attn_PackOp : Attn_Op<"pack", [Pure]> {
  let summary = "pack the rows of a batch of sequences back to back (varlen)";
  let description = [{
    The inverse of `attn.unpack` (docs/Varlen.md): the first `cu_seqlens[b
    + 1] - cu_seqlens[b]` rows of each batch row `b` of `input` (`[B, H, S,
    D]`, or `[B, S, H, D]` with `layout(bshd)`) are written to rows
    `[cu_seqlens[b], cu_seqlens[b + 1])` of a `[T, H, D]` result; rows of
    the result that no sequence covers are 0. `T` is the result's static
    size or, when that is dynamic, the `total` operand. Errors as for
    `attn.unpack`.

    ```mlir
    %o_packed = attn.pack %o[%cu_seqlens] total(%t : index)
        : tensor<?x32x?x128xbf16>, tensor<?xi32> -> tensor<?x32x128xbf16>
    ```
  }];

  let arguments = (ins
    AnyRankedTensor:$input,
    AnyRankedTensor:$cu_seqlens,
    Optional<Index>:$total,
    DefaultValuedAttr<Attn_LayoutAttr, "::attune::attn::Layout::bhsd">:$layout
  );
  let results = (outs AnyRankedTensor:$result);

  let assemblyFormat = [{
    $input `[` $cu_seqlens `]` (`total` `(` $total^ `:` type($total) `)`)?
    attr-dict `:` type($input) `,` type($cu_seqlens) `->` type($result)
  }];
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// Position of each logical dimension in the 4-D input.
    LayoutDims getLayoutDims() { return ::attune::attn::getLayoutDims(getLayout()); }
  }];
}

//===----------------------------------------------------------------------===//
// YieldOp
//===----------------------------------------------------------------------===//

def Attn_YieldOp : Attn_Op<"yield", [
    Pure, Terminator, ReturnLike, HasParent<"AttentionOp">]> {
  let summary = "yields the value of a score or mask region";
  let description = [{
    Terminates the `score` region of `attn.attention` with the modified score
    (`f32`) or its `mask` region with the decision (`i1`).

    ```mlir
    attn.yield %keep : i1
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

#endif // ATTUNE_DIALECT_ATTN_IR_ATTNOPS_TD
