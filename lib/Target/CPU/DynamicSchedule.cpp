//===- DynamicSchedule.cpp - Dynamic OpenMP schedule for kernels -*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The attention kernel's parallel loop (batch, head, query tile) has
// iterations of very unequal cost: masks empty whole tiles, and a varlen or
// paged batch holds sequences of different lengths. OpenMP's default static
// schedule hands each thread one contiguous range, so the thread with the
// long sequences finishes last. The guided schedule hands out ranges that
// shrink as the loop drains: few hand-outs while much work is left, single
// iterations at the end to even out the threads (see the pass description
// for what was measured).
//
//===----------------------------------------------------------------------===//

#include "attune/Target/CPU/Passes.h"

#include "mlir/Dialect/OpenMP/OpenMPDialect.h"

namespace attune::cpu {
#define GEN_PASS_DEF_ATTNCPUDYNAMICSCHEDULE
#include "attune/Target/CPU/Passes.h.inc"
} // namespace attune::cpu

using namespace mlir;

namespace {
struct AttnCPUDynamicSchedule
    : attune::cpu::impl::AttnCPUDynamicScheduleBase<AttnCPUDynamicSchedule> {
  using Base::Base;
  void runOnOperation() override {
    getOperation()->walk([&](omp::WsloopOp loop) {
      if (loop.getScheduleKind())
        return; // Chosen by someone else.
      loop.setScheduleKind(omp::ClauseScheduleKind::Guided);
    });
  }
};
} // namespace
