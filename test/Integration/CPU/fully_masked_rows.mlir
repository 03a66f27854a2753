// Rows whose keys are all masked give O = 0 and lse = -inf, never NaN.
// `j < i` leaves row 0 with no keys, and `i != 5` empties row 5 too; the
// lse result makes attune-run check the -inf positions exactly.
//
// RUN: attune-run %s --check --sizes B=2,Sq=17,Sk=17 | FileCheck %s
// RUN: attune-run %s --check --sizes B=1,Sq=113,Sk=40 | FileCheck %s
// RUN: attune-run %s --check --sizes B=1,Sq=1,Sk=1 | FileCheck %s

// CHECK: check result #0: {{.*}} PASS
// CHECK: check result #1: {{.*}} PASS

func.func @strictly_causal(%q: tensor<?x2x?x16xf32>, %k: tensor<?x2x?x16xf32>,
                           %v: tensor<?x2x?x16xf32>)
    -> (tensor<?x2x?x16xf32>, tensor<?x2x?xf32>) {
  %o, %lse = attn.attention
      ins(%q, %k, %v : tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>,
                       tensor<?x2x?x16xf32>)
      -> tensor<?x2x?x16xf32>, tensor<?x2x?xf32>
    mask(%b, %h, %i, %j) {
      %c5 = arith.constant 5 : index
      %before = arith.cmpi ult, %j, %i : index
      %not5 = arith.cmpi ne, %i, %c5 : index
      %keep = arith.andi %before, %not5 : i1
      attn.yield %keep : i1
    }
  return %o, %lse : tensor<?x2x?x16xf32>, tensor<?x2x?xf32>
}
