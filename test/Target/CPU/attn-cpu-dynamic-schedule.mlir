// RUN: attune-opt %s --attn-cpu-dynamic-schedule | FileCheck %s

// A worksharing loop without a schedule gets schedule(guided); one that has
// a schedule keeps it.

// CHECK-LABEL: func.func @unscheduled
// CHECK: omp.wsloop schedule(guided)
func.func @unscheduled(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%n) step (%c1) {
        omp.yield
      }
    }
    omp.terminator
  }
  return
}

// CHECK-LABEL: func.func @scheduled
// CHECK: omp.wsloop schedule(static)
func.func @scheduled(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  omp.parallel {
    omp.wsloop schedule(static) {
      omp.loop_nest (%i) : index = (%c0) to (%n) step (%c1) {
        omp.yield
      }
    }
    omp.terminator
  }
  return
}
