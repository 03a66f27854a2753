//===- ClassTable.cpp - The k-tiles a CTA visits ----------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Which k-tiles a CTA visits and how: the causal bounds (emitKeyTileRanges),
// a split-KV CTA's share of them, the op's tile classifier (empty tiles are
// neither loaded nor computed, full ones skip the mask), and for masked ops
// the class table: the CTA's threads classify its k-tiles cooperatively into
// shared memory, once, and the k-loop then runs only over the non-empty
// band. Without it every thread ran the classifier for every tile (9x
// slower on 8 packed documents, bench/RESULTS.md).
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

using namespace mlir;
using namespace attune;
using namespace attune::attn;
using namespace attune::cuda;

void KernelEmitter::emitTileRange() {
  // The k-tiles this q-tile visits (causal bounds, else all), and the
  // classifier of one of them.
  Value rows = arith::MinUIOp::create(
      b, loc, idx(tileQ), arith::SubIOp::create(b, loc, seqQ, rowBegin));
  ranges = emitKeyTileRanges(b, loc, op, rowBegin, rows, seqK, tileK);
  lastRow = add(rowBegin, arith::SubIOp::create(b, loc, rows, idx(1)));
  if (maxSplits) {
    // This split's share of the k-tiles [begin, end); the launch's split
    // count is the partial results' dimension 0. Keys past the rows of K's
    // source (a paged or varlen sequence's length) are zero rows that a
    // mask such as `j < len[b]` usually excludes: when the classifier finds
    // them all empty, the splits share only the tiles below, so a sequence
    // shorter than its block table still spreads over every split.
    Value end = ranges.end;
    if (hasClassTable) {
      Value rowTiles =
          arith::CeilDivUIOp::create(b, loc, keyRows[0].count, idx(tileK));
      Value tailBegin = arith::MinUIOp::create(b, loc, rowTiles, end);
      Value tailCol = mul(tailBegin, idx(tileK));
      auto tailEmpty = scf::IfOp::create(
          b, loc, ult(tailCol, seqK),
          [&](OpBuilder &, Location) {
            Value lastCol = arith::SubIOp::create(b, loc, seqK, idx(1));
            scf::YieldOp::create(
                b, loc, ValueRange{classifyKeys(tailCol, lastCol).empty});
          },
          [&](OpBuilder &, Location) {
            scf::YieldOp::create(
                b, loc, ValueRange{arith::ConstantIntOp::create(b, loc, 1, 1)});
          });
      end = select(tailEmpty.getResult(0), tailBegin, end);
    }
    Value count = arith::SubIOp::create(
        b, loc, arith::MaxUIOp::create(b, loc, end, ranges.begin),
        ranges.begin);
    Value splits = memref::DimOp::create(b, loc, oPart, 0);
    // In 32 bits: a 64-bit division is a long routine whose registers made
    // the D = 192 decode kernel spill, and 2^32 k-tiles of 16 keys would
    // not fit in any GPU's memory.
    Type i32Type = b.getI32Type();
    auto narrow = [&](Value v) {
      return arith::IndexCastUIOp::create(b, loc, i32Type, v);
    };
    Value perSplit = arith::IndexCastUIOp::create(
        b, loc, b.getIndexType(),
        arith::CeilDivUIOp::create(b, loc, narrow(count), narrow(splits)));
    Value first = add(ranges.begin, mul(splitIndex, perSplit));
    ranges.begin = first;
    ranges.end = arith::MinUIOp::create(b, loc, end, add(first, perSplit));
  }
  tableBegin = ranges.begin;
  if (hasClassTable) {
    // The table: tiles [begin, begin + tableCount) classified by all
    // threads; the loop range shrinks to the non-empty ones.
    Type i32Type = b.getI32Type();
    Value tableBase = idx(tableOffset());
    Value minSlot =
        gep(smem, add(tableBase, idx(kClassTableTiles)), b.getI8Type());
    Value maxSlot =
        gep(smem, add(tableBase, idx(kClassTableTiles + 4)), b.getI8Type());
    Value noTile = i32(-1);
    scf::IfOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, idx(0)),
        [&](OpBuilder &, Location) {
          LLVM::StoreOp::create(b, loc, noTile, minSlot, 4);
          LLVM::StoreOp::create(b, loc, i32(0), maxSlot, 4);
          scf::YieldOp::create(b, loc);
        });
    syncTiles();
    Value limit = arith::MinUIOp::create(
        b, loc, ranges.end, add(ranges.begin, idx(kClassTableTiles)));
    Value start = add(ranges.begin, tid);
    scf::ForOp::create(
        b, loc, start, limit, idx(threads), ValueRange{},
        [&](OpBuilder &, Location, Value kt, ValueRange) {
          Value cls = classify(kt);
          Value rel = arith::SubIOp::create(b, loc, kt, ranges.begin);
          LLVM::StoreOp::create(b, loc, cls,
                                gep(smem, add(tableBase, rel), b.getI8Type()));
          scf::IfOp::create(b, loc, isVisited(cls), [&](OpBuilder &, Location) {
            Value rel32 = arith::IndexCastOp::create(b, loc, i32Type, rel);
            LLVM::AtomicRMWOp::create(b, loc, LLVM::AtomicBinOp::umin, minSlot,
                                      rel32, LLVM::AtomicOrdering::monotonic);
            LLVM::AtomicRMWOp::create(
                b, loc, LLVM::AtomicBinOp::umax, maxSlot,
                arith::AddIOp::create(b, loc, rel32, i32(1)),
                LLVM::AtomicOrdering::monotonic);
            scf::YieldOp::create(b, loc);
          });
          scf::YieldOp::create(b, loc);
        });
    syncTiles();
    tableCount = arith::SubIOp::create(b, loc, limit, ranges.begin);
    Value first = arith::IndexCastUIOp::create(
        b, loc, b.getIndexType(),
        LLVM::LoadOp::create(b, loc, i32Type, minSlot, 4));
    Value last = arith::IndexCastUIOp::create(
        b, loc, b.getIndexType(),
        LLVM::LoadOp::create(b, loc, i32Type, maxSlot, 4));
    Value covered = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                          limit, ranges.end);
    Value newBegin =
        add(ranges.begin, arith::MinUIOp::create(b, loc, first, tableCount));
    ranges.end = select(covered, add(ranges.begin, last), ranges.end);
    ranges.begin = newBegin;
  }
}

TileClassValues KernelEmitter::classifyKeys(Value colBegin, Value lastCol) {
  SmallVector<Value> captures;
  for (Value capture : op.getCaptures())
    captures.push_back(operands->lookup(capture));
  TileClassValues cls = emitTileClass(
      b, loc, op, ValueRange{batch, head, rowBegin, lastRow, colBegin, lastCol},
      captures);
  // Packed heads: empty if empty for every head, full if full for all.
  for (int64_t k = 1; k < packedHeads; ++k) {
    TileClassValues other =
        emitTileClass(b, loc, op,
                      ValueRange{batch, add(head, idx(k)), rowBegin, lastRow,
                                 colBegin, lastCol},
                      captures);
    cls.empty = arith::AndIOp::create(b, loc, cls.empty, other.empty);
    cls.full = arith::AndIOp::create(b, loc, cls.full, other.full);
  }
  return cls;
}

Value KernelEmitter::classify(Value kt) {
  Type i8 = b.getI8Type();
  Value colBegin = mul(kt, idx(tileK));
  Value cols = arith::MinUIOp::create(
      b, loc, idx(tileK), arith::SubIOp::create(b, loc, seqK, colBegin));
  Value lastCol = add(colBegin, arith::SubIOp::create(b, loc, cols, idx(1)));
  TileClassValues cls = classifyKeys(colBegin, lastCol);
  // The causal ranges refine the classifier.
  Value rangeFull = arith::AndIOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, kt,
                            ranges.fullBegin),
      ult(kt, ranges.fullEnd));
  Value full = arith::OrIOp::create(b, loc, cls.full, rangeFull);
  auto c8 = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(b, loc, i8, v);
  };
  return select(
      cls.empty, c8(AttentionOp::kTileEmpty),
      select(full, c8(AttentionOp::kTileFull), c8(AttentionOp::kTilePartial)));
}

Value KernelEmitter::isVisited(Value cls) {
  Type i8 = b.getI8Type();
  return arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ne, cls,
      arith::ConstantIntOp::create(b, loc, i8, AttentionOp::kTileEmpty));
}

Value KernelEmitter::classifyIfInRange(Value kt) {
  Type i8 = b.getI8Type();
  auto ifOp = scf::IfOp::create(
      b, loc, ult(kt, ranges.end),
      [&](OpBuilder &, Location) {
        Value cls;
        if (hasClassTable) {
          // Past the table (very long Sk), classify on the fly.
          Value rel = arith::SubIOp::create(b, loc, kt, tableBegin);
          auto inTable = scf::IfOp::create(
              b, loc, ult(rel, tableCount),
              [&](OpBuilder &, Location) {
                Value address =
                    gep(smem, add(idx(tableOffset()), rel), b.getI8Type());
                scf::YieldOp::create(
                    b, loc,
                    ValueRange{LLVM::LoadOp::create(b, loc, i8, address)});
              },
              [&](OpBuilder &, Location) {
                scf::YieldOp::create(b, loc, ValueRange{classify(kt)});
              });
          cls = inTable.getResult(0);
        } else {
          cls = classify(kt);
        }
        scf::YieldOp::create(b, loc, ValueRange{cls});
      },
      [&](OpBuilder &, Location) {
        scf::YieldOp::create(b, loc,
                             ValueRange{arith::ConstantIntOp::create(
                                 b, loc, i8, AttentionOp::kTileEmpty)});
      });
  return ifOp.getResult(0);
}
