//===- ForwardKernel.cpp - The attention kernel -----------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// FlashAttention-2 on tensor cores: one CTA computes Tq query rows of one
// (batch, head) (or, split-KV, one split of the keys for every query); warp
// w owns 16 m rows. The kernel: thread indices and base pointers, the
// k-tiles to visit (ClassTable.cpp), the prologue (Q and the first K/V tiles
// in flight; Q rotated in shared memory by a fused attn.rope), the k-loop that
// keeps the next tiles in flight while tile t is computed (ForwardSteps.cpp),
// and the epilogue O / l and lse. docs/CUDATarget.md describes the whole
// design.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

#include <cmath>
#include <limits>
#include <optional>

using namespace mlir;
using namespace attune;
using namespace attune::attn;
using namespace attune::cuda;

void KernelEmitter::emitThreadIndices(Value smemBase) {
  smem = smemBase;
  tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  splitWarp = Value();
  if (splitWarps > 1) {
    // Each warp is a CTA of its own to the code below: its lanes are the
    // threads, its share of the shared memory the tiles.
    splitWarp = divu(tid, kWarpSize);
    tid = remu(tid, kWarpSize);
    smem = gep(smem, mul(splitWarp, idx(splitWarpBytes())), b.getI8Type());
  }
  lane = remu(tid, kWarpSize);
  warp = divu(tid, kWarpSize);
  // Shared-window addresses fit in 32 bits.
  sharedBase = LLVM::PtrToIntOp::create(b, loc, b.getI32Type(), smem);
  if (useWgmma) {
    // The tiles start at the swizzle's repeat (sharedBytes has the slack).
    Value aligned = arith::AndIOp::create(
        b, loc,
        arith::AddIOp::create(b, loc, sharedBase, i32(kSwizzleAtomBytes - 1)),
        i32(-kSwizzleAtomBytes));
    Value skip = arith::SubIOp::create(b, loc, aligned, sharedBase);
    smem =
        gep(smem, arith::IndexCastUIOp::create(b, loc, b.getIndexType(), skip),
            b.getI8Type());
    sharedBase = aligned;
  }
  qFragments = fragmentOffsets(add(mul(warp, idx(16 * mTiles)), remu(lane, 16)),
                               mul(divu(lane, 16), idx(8)), qkCols);
  kFragments = fragmentOffsets(add(remu(lane, 8), mul(divu(lane, 16), idx(8))),
                               mul(remu(divu(lane, 8), 2), idx(8)), qkCols);
  vFragments =
      fragmentOffsets(add(remu(lane, 8), mul(remu(divu(lane, 8), 2), idx(8))),
                      mul(divu(lane, 16), idx(8)), vCols);
}

void KernelEmitter::emitBlockPointers(IRMapping &args, ValueRange outputs) {
  blockX = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  splitIndex =
      splitWarp ? add(mul(blockX, idx(splitWarps)), splitWarp) : blockX;
  Value qTile = maxSplits ? idx(0) : blockX;
  Value blockY = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  batch = gpu::BlockIdOp::create(b, loc, gpu::Dimension::z);
  if (packedHeads) {
    // Block y is the K/V head; `head` is the first query head of its group.
    kvHead = blockY;
    head = mul(kvHead, idx(packedHeads));
  } else {
    head = blockY;
    kvHead = divu(head, op.getGroupSize());
  }
  rowBegin = mul(qTile, idx(tileQ));

  emitOperandRows(args, outputs);
}

void KernelEmitter::emit(IRMapping &args, ValueRange outputs, Value smemBase) {
  operands = &args;
  emitThreadIndices(smemBase);
  emitBlockPointers(args, outputs);
  if (!packedOutput) {
    emitAttention(outputs);
    return;
  }
  // O goes through a fused attn.pack: the CTA zeroes its share of the rows
  // no sequence covers, and a tile wholly past its sequence's rows, whose
  // rows the pack drops, is not computed (the condition is the same for
  // the whole CTA, so its barriers stay uniform).
  zeroUncoveredRows();
  scf::IfOp::create(b, loc, ult(rowBegin, outputRows.count),
                    [&](OpBuilder &, Location) {
                      emitAttention(outputs);
                      scf::YieldOp::create(b, loc);
                    });
}

void KernelEmitter::emitAttention(ValueRange outputs) {
  emitTileRange();

  // Per-element region ops that are the same for the whole CTA, once.
  if (Block *score = op.getScoreBlock())
    hoistInvariants(score);
  if (Block *mask = op.getMaskBlock())
    hoistInvariants(mask);
  // Packed heads make h vary per row: positions are not (i, j) alone.
  if (!packedHeads) {
    if (Block *score = op.getScoreBlock())
      findAffineCasts(score);
    if (Block *mask = op.getMaskBlock())
      findAffineCasts(mask);
  }

  // Prologue: Q and the first stages - 1 k-tiles in flight (one commit
  // group each, Q with the first), then Q's fragments once Q has landed.
  zeroFeaturePadding();
  for (int64_t p = 0; p < planes; ++p)
    copyTileAsync(queryPlaneRows(p), rowBegin, idx(p * qPlane), tileQ, headDim,
                  qkCols, useWgmma);
  // Classes of the tiles in flight, the current one first.
  SmallVector<Value> classes;
  for (int64_t ahead = 0; ahead < stages - 1; ++ahead) {
    Value kt = ahead ? add(ranges.begin, idx(ahead)) : ranges.begin;
    classes.push_back(classifyIfInRange(kt));
    scf::IfOp::create(b, loc, isVisited(classes.back()),
                      [&](OpBuilder &, Location) {
                        loadKeyValue(kt, idx(ahead));
                        scf::YieldOp::create(b, loc);
                      });
    NVVM::CpAsyncCommitGroupOp::create(b, loc);
  }
  NVVM::CpAsyncWaitGroupOp::create(b, loc, stages - 2);
  fenceForWgmma();
  syncTiles();
  if (queryRope) {
    // RoPE on load: the Q tile rotated in place, once per CTA.
    rotateQueryTile();
    fenceForWgmma();
    syncTiles();
  }
  if (qInRegisters) {
    queryFragments.resize(mTiles);
    for (int64_t mt = 0; mt < mTiles; ++mt)
      for (int64_t kk = 0; kk < headSteps; ++kk)
        queryFragments[mt].push_back(loadQueryFragment(mt, kk));
  }

  // The k-tile loop: prefetch tile t + stages - 1 into the buffer of tile
  // t - 1 while tile t is computed.
  // Loop state: O fragments, then m and l of each row the thread holds,
  // then the classes of tiles t ... t + stages - 2.
  int64_t rowsPerThread = 2 * mTiles;
  int64_t numState = 1 + 2 * rowsPerThread;
  auto oType = VectorType::get({mTiles * valueTiles * 4}, b.getF32Type());
  Value negInf = f32(-std::numeric_limits<double>::infinity());
  SmallVector<Value> init{vector::BroadcastOp::create(b, loc, oType, f32(0.0))};
  init.append(rowsPerThread, negInf);
  init.append(rowsPerThread, f32(0.0));
  llvm::append_range(init, classes);
  auto buildLoop = [&](Value lower, Value upper, ValueRange initial,
                       ScorePath path, bool prefetch = true) {
    return scf::ForOp::create(
        b, loc, lower, upper, idx(1), initial,
        [&](OpBuilder &, Location, Value kt, ValueRange iter) {
          Value buffer =
              remu(arith::SubIOp::create(b, loc, kt, ranges.begin), stages);
          Value next = add(kt, idx(stages - 1));
          Value nextClass =
              prefetch ? classifyIfInRange(next)
                       : arith::ConstantIntOp::create(b, loc, b.getI8Type(),
                                                      AttentionOp::kTileEmpty);
          // Every warp is done with the buffer of tile t - 1.
          syncTiles();
          if (prefetch)
            scf::IfOp::create(
                b, loc, isVisited(nextClass), [&](OpBuilder &, Location) {
                  Value isFirst = arith::CmpIOp::create(
                      b, loc, arith::CmpIPredicate::eq, buffer, idx(0));
                  loadKeyValue(next, select(isFirst, idx(stages - 1),
                                            arith::SubIOp::create(
                                                b, loc, buffer, idx(1))));
                  scf::YieldOp::create(b, loc);
                });
          NVVM::CpAsyncCommitGroupOp::create(b, loc);
          // All groups but the newest stages - 1 are complete: tile t has
          // landed.
          NVVM::CpAsyncWaitGroupOp::create(b, loc, stages - 1);
          fenceForWgmma();
          syncTiles();
          Value cls = iter[numState];
          SmallVector<Type> types(iter.take_front(numState).getTypes());
          auto visit = scf::IfOp::create(b, loc, types, isVisited(cls),
                                         /*withElseRegion=*/true);
          {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPointToStart(visit.thenBlock());
            scf::YieldOp::create(
                b, loc,
                emitKeyTile(kt, buffer, cls, iter.take_front(numState), path));
            b.setInsertionPointToStart(visit.elseBlock());
            scf::YieldOp::create(b, loc, iter.take_front(numState));
          }
          SmallVector<Value> yields(visit.getResults());
          llvm::append_range(yields, iter.drop_front(numState + 1));
          yields.push_back(nextClass);
          scf::YieldOp::create(b, loc, yields);
        });
  };
  scf::ForOp loop;
  if (!op.getMaskBlock() && !op.getScoreBlock()) {
    // Every tile is full and all but the one that crosses Sk take the fast
    // path: that one is peeled into a loop of its own, so that the main
    // loop carries no element-wise code (whose registers made dense
    // D = 128 at 128 x 64 spill), as FlashAttention-2 peels its masked
    // iterations.
    Value inside = arith::MaxUIOp::create(
        b, loc, ranges.begin,
        arith::MinUIOp::create(
            b, loc, ranges.end,
            arith::DivUIOp::create(b, loc, seqK, idx(tileK))));
    scf::ForOp main = buildLoop(ranges.begin, inside, init, ScorePath::Fast);
    // The tile that crosses Sk is the last: nothing to prefetch.
    loop = buildLoop(inside, ranges.end, main.getResults(),
                     ScorePath::Elementwise, /*prefetch=*/false);
  } else {
    loop = buildLoop(ranges.begin, ranges.end, init, ScorePath::Either);
  }

  // Epilogue: O / l, lse = (m + log2 l) ln 2; rows with l = 0 (every key
  // masked) give O = 0 and lse = -inf.
  SmallVector<Value> o;
  for (int64_t k = 0; k < mTiles * valueTiles * 4; ++k)
    o.push_back(vector::ExtractOp::create(b, loc, loop.getResult(0),
                                          ArrayRef<int64_t>{k}));
  assert((maxSplits || outputRows.count) &&
         "the output is needed without split-KV");
  // lse [B, H, Sq]: built here, after the loop, where its pointer's
  // arithmetic has always been emitted.
  std::optional<OperandRows> lseRows;
  if (outputs.size() > 1)
    lseRows = stridedRows(outputs[1], LayoutDims{0, 1, 2, 3}, head, seqQ);
  Value colBase = mul(remu(lane, 4), idx(2));
  for (int64_t r = 0; r < rowsPerThread; ++r) {
    int64_t mt = r / 2, half = r % 2;
    Value m = loop.getResult(1 + r);
    Value l = loop.getResult(1 + rowsPerThread + r);
    l = fadd(l, shuffleXor(l, 1));
    l = fadd(l, shuffleXor(l, 2));
    Value positive =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, l, f32(0.0));
    Value inverse =
        select(positive, arith::DivFOp::create(b, loc, f32(1.0), l), f32(0.0));
    Value row = add(fragmentRow(mt), idx(8 * half));
    if (maxSplits)
      storePartialRow(o, mt, half, row, m, l, positive, inverse, colBase);
    else
      storeOutputRow(o, mt, half, row, m, l, positive, inverse, colBase,
                     lseRows ? &*lseRows : nullptr);
  }
  if (maxSplits && splitWarps > 1)
    mergeSplitWarps();
}

void KernelEmitter::syncTiles() {
  if (splitWarps > 1)
    NVVM::SyncWarpOp::create(b, loc, i32(-1));
  else
    gpu::BarrierOp::create(b, loc);
}

void KernelEmitter::storeOutputRow(ArrayRef<Value> o, int64_t mt, int64_t half,
                                   Value row, Value m, Value l, Value positive,
                                   Value inverse, Value colBase,
                                   const OperandRows *lse) {
  scf::IfOp::create(b, loc, ult(row, outputRows.count), [&](OpBuilder &,
                                                             Location) {
    RowStart start = rowStart(outputRows, row);
    for (int64_t dt = 0; dt < valueDim / 8; ++dt) {
      int64_t first = (mt * valueTiles + dt) * 4 + 2 * half;
      Value y = fmul(o[first + 1], inverse);
      Value x = fmul(o[first], inverse);
      Value pair =
          outputType.isF32()
              ? vector::FromElementsOp::create(
                    b, loc, VectorType::get({2}, outputType), ValueRange{x, y})
              : pack(x, y);
      Value address =
          rowAddress(outputRows, start, add(colBase, idx(dt * 8)));
      LLVM::StoreOp::create(b, loc, pair, address,
                            /*alignment=*/outputType.isF32() ? 8 : 4);
    }
    if (lse) {
      Value ln2 = f32(std::log(2.0));
      Value value = select(positive, fmul(fadd(m, log2(l)), ln2),
                           f32(-std::numeric_limits<double>::infinity()));
      scf::IfOp::create(b, loc,
                        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                              remu(lane, 4), idx(0)),
                        [&](OpBuilder &, Location) {
                          LLVM::StoreOp::create(
                              b, loc, value,
                              rowAddress(*lse, rowStart(*lse, row)),
                              /*alignment=*/4);
                          scf::YieldOp::create(b, loc);
                        });
    }
    scf::YieldOp::create(b, loc);
  });
}
