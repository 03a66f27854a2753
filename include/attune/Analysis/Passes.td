//===- Passes.td - Analysis passes -------------------------*- tablegen -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_ANALYSIS_PASSES_TD
#define ATTUNE_ANALYSIS_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnPrintTileMap : Pass<"attn-print-tile-map"> {
  let summary = "Print the empty / full / partial tile map of every attn.attention";
  let description = [{
    Classifies every (query tile, key tile) of every `attn.attention` for
    the given sizes with the mask analysis (abstract interpretation of the
    mask region over index intervals; see docs/MaskAnalysis.md) and prints
    the map to stdout, one line per query tile:

    ```
    tile map of @causal #0: Sq = 256, Sk = 256, tiles 64 x 64, b in [0, 0], h in [0, 0]
      |+...|
      |#+..|
      |##+.|
      |###+|
      16 tiles (4 x 4): 6 full, 4 partial, 6 empty; non-empty 10/16 (62.5%)
    ```

    `.` is an empty tile (every element masked: skipped), `#` a full one (no
    element masked: no mask evaluation), `+` a partial one (some elements
    masked, or the analysis cannot tell: it never calls a tile empty or
    full wrongly). The IR is not changed; use `-o /dev/null` to see only
    the maps.

    Sizes: `seq-q` and `seq-k` default to the static sequence lengths of Q
    and K. The map holds for every batch index in `[0, batch)` and for head
    `head` (or every head with `head=-1`). Scalar captures defined by
    `arith.constant` or by `tensor.dim` of a tensor (static sizes, or Q/K/V's
    batch and sequence sizes from the options) are known; `captures` gives
    the others, one entry per capture: an integer, `lo:hi`, or `?` (any
    value). For a tensor capture the interval bounds its elements.

    With `refine=<n>`, a partial tile is bisected and its pieces classified
    (up to n more classifications per tile): it becomes full or empty if
    every piece is. This recovers tiles that straddle the boundary between
    two cases of an `and` / `or` (e.g. tiles that are not aligned with a
    segment or window size), at up to n times the cost on partial tiles.

    Bounds: a map has at most 2^20 tiles and `refine` is at most 1024;
    larger requests are an error rather than hours of work.

    With `svg=<path>` the map is also written as an SVG picture (several
    ops: `<path>` gets `.1`, `.2`, ... before its extension for the second
    op on).
  }];
  let options = [
    Option<"seqQ", "seq-q", "int64_t", /*default=*/"0",
           "Query sequence length (0: Q's static size)">,
    Option<"seqK", "seq-k", "int64_t", /*default=*/"0",
           "Key sequence length (0: K's static size)">,
    Option<"batch", "batch", "int64_t", /*default=*/"1",
           "Batch size B: the map holds for every b in [0, B)">,
    Option<"head", "head", "int64_t", /*default=*/"0",
           "Query head index h, or -1 for all heads">,
    Option<"tileQ", "tile-q", "int64_t", /*default=*/"64",
           "Query rows per tile">,
    Option<"tileK", "tile-k", "int64_t", /*default=*/"64",
           "Keys per tile">,
    Option<"refine", "refine", "unsigned", /*default=*/"0",
           "Extra classifications per partial tile, on bisected pieces "
           "(0: none)">,
    Option<"svgPath", "svg", "std::string", /*default=*/"\"\"",
           "Also write the map as an SVG picture to this path">,
    ListOption<"captureValues", "captures", "std::string",
               "Value of each capture: an integer, lo:hi, or ? (unknown)">
  ];
}

#endif // ATTUNE_ANALYSIS_PASSES_TD
