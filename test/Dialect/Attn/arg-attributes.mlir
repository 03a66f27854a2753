// RUN: attune-opt %s -split-input-file -verify-diagnostics

// `attn.dims` / `attn.range` on spec arguments tell drivers such as
// attune-run how to make inputs; mistakes in them are errors, not silently
// ignored metadata.

func.func @valid(%lens: tensor<?xi32> {attn.dims = ["B"], attn.range = [0, 40]},
                 %ids: tensor<?x4xi32> {attn.dims = ["B", 4]},
                 %slopes: tensor<8xf32> {attn.range = [0.0, 1.0]}) {
  return
}

// -----

// expected-error @+1 {{'attn.dims' on argument #0: expected 1 entries, got 2}}
func.func @dims_rank(%lens: tensor<?xi32> {attn.dims = ["B", "Sq"]}) {
  return
}

// -----

// expected-error @+1 {{'attn.dims' on argument #0: expected size B, Sq or Sk, got 'S'}}
func.func @dims_symbol(%lens: tensor<?xi32> {attn.dims = ["S"]}) {
  return
}

// -----

// expected-error @+1 {{'attn.dims' on argument #0: dimension 0 is static (4), not 'B'}}
func.func @dims_static(%lens: tensor<4xi32> {attn.dims = ["B"]}) {
  return
}

// -----

// expected-error @+1 {{'attn.dims' on argument #0: entry 1 must name a dynamic size or equal the static one}}
func.func @dims_wrong_static(%ids: tensor<?x4xi32> {attn.dims = ["B", 5]}) {
  return
}

// -----

// expected-error @+1 {{'attn.dims' on argument #0: expected an array on a ranked tensor argument}}
func.func @dims_scalar(%n: index {attn.dims = ["B"]}) {
  return
}

// -----

// expected-error @+1 {{'attn.range' on argument #0: expected lo < hi}}
func.func @range_empty(%n: index {attn.range = [4, 4]}) {
  return
}

// -----

// expected-error @+1 {{'attn.range' on argument #0: expected [lo, hi]}}
func.func @range_arity(%n: index {attn.range = [4]}) {
  return
}

// -----

// expected-error @+1 {{'attn.range' on argument #0: expected numbers, got "a"}}
func.func @range_type(%n: index {attn.range = ["a", 4]}) {
  return
}

// -----

// expected-error @+1 {{unknown argument attribute 'attn.dim' (expected attn.dims or attn.range)}}
func.func @misspelt(%lens: tensor<?xi32> {attn.dim = ["B"]}) {
  return
}
