//===- AttnBase.td - Attn dialect definition ---------------*- tablegen -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The `attn` dialect: declarative attention variants.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_DIALECT_ATTN_IR_ATTNBASE_TD
#define ATTUNE_DIALECT_ATTN_IR_ATTNBASE_TD

include "mlir/IR/OpBase.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::attune::attn";
  let summary = "Declarative attention variants";
  let description = [{
    The `attn` dialect describes scaled dot-product attention and its
    variants (masks, score modifiers, grouped-query heads, layouts) as one op,
    `attn.attention`, whose mask and score are regions rather than tensors. A
    compiler can then analyse the mask (to skip empty tiles), fuse the score
    function into the kernel and pick the tiling, without ever materialising
    an S x S matrix.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasRegionArgAttrVerify = 1;
}

/// Base class of every op of the dialect.
class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits>;

#endif // ATTUNE_DIALECT_ATTN_IR_ATTNBASE_TD
