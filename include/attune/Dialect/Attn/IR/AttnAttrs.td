//===- AttnAttrs.td - Attn dialect attributes --------------*- tablegen -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_DIALECT_ATTN_IR_ATTNATTRS_TD
#define ATTUNE_DIALECT_ATTN_IR_ATTNATTRS_TD

include "attune/Dialect/Attn/IR/AttnBase.td"
include "mlir/IR/EnumAttr.td"

def Attn_LayoutBHSD : I32EnumAttrCase<"bhsd", 0>;
def Attn_LayoutBSHD : I32EnumAttrCase<"bshd", 1>;

/// The order of the four dimensions of Q, K, V and O.
def Attn_LayoutEnum : I32EnumAttr<"Layout",
    "dimension order of the Q/K/V/O tensors",
    [Attn_LayoutBHSD, Attn_LayoutBSHD]> {
  let cppNamespace = "::attune::attn";
  let genSpecializedAttr = 0;
}

def Attn_LayoutAttr : EnumAttr<Attn_Dialect, Attn_LayoutEnum, "layout"> {
  let summary = "dimension order of Q, K, V and O: bhsd (default) or bshd";
  let assemblyFormat = "`<` $value `>`";
}

def Attn_RopeStyleHalf : I32EnumAttrCase<"half", 0>;
def Attn_RopeStyleInterleaved : I32EnumAttrCase<"interleaved", 1>;

/// Which features `attn.rope` rotates together.
def Attn_RopeStyleEnum : I32EnumAttr<"RopeStyle",
    "pairing of the features attn.rope rotates",
    [Attn_RopeStyleHalf, Attn_RopeStyleInterleaved]> {
  let cppNamespace = "::attune::attn";
  let genSpecializedAttr = 0;
}

def Attn_RopeStyleAttr : EnumAttr<Attn_Dialect, Attn_RopeStyleEnum, "rope_style"> {
  let summary = "feature pairing of attn.rope: half (GPT-NeoX, Llama) or "
                "interleaved (GPT-J)";
  let assemblyFormat = "`<` $value `>`";
}

def Attn_FeatureMapElu : I32EnumAttrCase<"elu", 0>;
def Attn_FeatureMapFavor : I32EnumAttrCase<"favor", 1>;

/// The feature map of `attn.linear_attention`.
def Attn_FeatureMapEnum : I32EnumAttr<"FeatureMap",
    "feature map of attn.linear_attention",
    [Attn_FeatureMapElu, Attn_FeatureMapFavor]> {
  let cppNamespace = "::attune::attn";
  let genSpecializedAttr = 0;
}

def Attn_FeatureMapAttr : EnumAttr<Attn_Dialect, Attn_FeatureMapEnum,
                                   "feature_map"> {
  let summary = "feature map of attn.linear_attention: elu (elu + 1, "
                "Katharopoulos et al.) or favor (FAVOR+ positive random "
                "features, the Performer)";
  let assemblyFormat = "`<` $value `>`";
}

def Attn_KernelRoleFwd : I32EnumAttrCase<"fwd", 0>;
def Attn_KernelRoleDecode : I32EnumAttrCase<"decode", 1>;
def Attn_KernelRoleCombine : I32EnumAttrCase<"combine", 2>;
def Attn_KernelRolePlanes : I32EnumAttrCase<"planes", 3>;
def Attn_KernelRoleRope : I32EnumAttrCase<"rope", 4>;
def Attn_KernelRoleLinalg : I32EnumAttrCase<"linalg", 5>;
def Attn_KernelRoleAppend : I32EnumAttrCase<"append", 6>;

/// What a kernel of the CUDA target computes.
def Attn_KernelRoleEnum : I32EnumAttr<"KernelRole",
    "what a CUDA kernel computes",
    [Attn_KernelRoleFwd, Attn_KernelRoleDecode, Attn_KernelRoleCombine,
     Attn_KernelRolePlanes, Attn_KernelRoleRope, Attn_KernelRoleLinalg,
     Attn_KernelRoleAppend]> {
  let cppNamespace = "::attune::attn";
  let genSpecializedAttr = 0;
}

def Attn_KernelAttr : AttrDef<Attn_Dialect, "Kernel"> {
  let mnemonic = "kernel";
  let summary = "launch contract of a kernel of the CUDA target";
  let description = [{
    Set by `convert-attn-to-nvvm` on each `gpu.func` it emits (as the
    discardable attribute `attn.kernel`) and read by the artifact writer,
    which turns it into the kernel's entry of `manifest.json`
    (docs/CUDAArtifacts.md):

    - `role`: `fwd` (grid = (ceil(Sq / tile_q), Hq, B)), `decode` (split-KV,
      grid = (splits, Hq / heads_per_cta, B), for Sq <= max_sq; `block` / 32
      warps per CTA, each a split; a launch of one CTA per row group merges
      them and stores O), `combine` (merges the splits after a launch of
      several CTAs per row group, grid = (Sq, Hq, B)), `planes` (f32 inputs:
      writes `operand` as `planes` bf16 planes, grid = (ceil(S / rows), H,
      B)), `rope` (writes `operand` rotated by its `attn.rope` to the
      workspace `<operand>_rope`, grid = (ceil(S / rows), H, B)) or
      `linalg` (a linalg step of a program: one thread, or for a long
      reduction one warp, per point of the op's parallel iteration space,
      grid = (ceil(points / block), 1, 1); a contraction's tiled kernel,
      grid = (output tiles, chunks of k, batch))
      or `append` (an `attn.append_pages` step of a program, in place: one
      thread per flag to clear, then one per element of the rows, the same
      grid).
    - `block`: threads per CTA (block = (block, 1, 1)); `shared_bytes`: its
      dynamic shared memory.
    - `tile_q`, `tile_k`: queries per CTA and keys per k-tile (fwd, decode).
    - `splits`, `heads_per_cta`, `max_sq`: the decode kernel's most key
      splits (a launch's count is the manifest's `decode_splits`), query
      heads packed per CTA, and longest Sq.
    - `operand`, `planes`, `rows`: the plane and rope kernels' tensor (`q`,
      `k` or `v`), planes and rows per CTA.

    Parameters at their defaults (0, 1 for `heads_per_cta`, "" for
    `operand`) are not printed:

    ```mlir
    #attn.kernel<role = fwd, block = 128, shared_bytes = 51208, tile_q = 128, tile_k = 64>
    ```
  }];
  let parameters = (ins
    EnumParameter<Attn_KernelRoleEnum>:$role,
    "int64_t":$block,
    DefaultValuedParameter<"int64_t", "0">:$shared_bytes,
    DefaultValuedParameter<"int64_t", "0">:$tile_q,
    DefaultValuedParameter<"int64_t", "0">:$tile_k,
    DefaultValuedParameter<"int64_t", "0">:$splits,
    DefaultValuedParameter<"int64_t", "1">:$heads_per_cta,
    DefaultValuedParameter<"int64_t", "0">:$max_sq,
    StringRefParameter<"tensor split into planes", [{""}]>:$operand,
    DefaultValuedParameter<"int64_t", "0">:$planes,
    DefaultValuedParameter<"int64_t", "0">:$rows
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let extraClassDeclaration = [{
    /// The name of the discardable attribute that holds it on a kernel.
    static ::llvm::StringRef getAttrName() { return "attn.kernel"; }
  }];
}

#endif // ATTUNE_DIALECT_ATTN_IR_ATTNATTRS_TD
