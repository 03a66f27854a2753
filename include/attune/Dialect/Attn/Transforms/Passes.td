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
    meant as a second oracle and a baseline for the fused paths.
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

#endif // ATTUNE_DIALECT_ATTN_TRANSFORMS_PASSES_TD
