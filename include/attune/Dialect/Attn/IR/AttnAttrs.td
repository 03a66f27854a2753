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

#endif // ATTUNE_DIALECT_ATTN_IR_ATTNATTRS_TD
