//===- HashKernels.cpp - attn.sort_ids and attn.permute -*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The steps of a CUDA program that sort bucket ids and reorder rows by them
// (docs/Hashing.md, "The clustering pass"; docs/CUDATarget.md, "Programs").
//
// attn.sort_ids: one CTA per row, a counting sort in shared memory. The
// CTA's threads count the ids with shared atomics (the range checked by a
// device-side assertion), one thread turns the counts into each id's first
// place, then the row is placed chunk by chunk of one id per thread: a
// thread's place is its id's next place plus the number of lower threads
// of the chunk with the same id (read from the chunk's ids in shared
// memory), so positions of one id keep their order, and the last thread of
// each id in the chunk advances that id's next place. Stable, exact, and
// O(S * threads) shared-memory reads per row; rows run in parallel.
//
// attn.permute: one thread per element, a gather by the order (checked in
// range) or, with `inverse`, a scatter. A scatter by an order that is not a
// permutation would leave rows unwritten, so the program compiler only
// takes inverse permutes by an order of attn.sort_ids.
//
//===----------------------------------------------------------------------===//

#include "StepKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace attune;
using namespace attune::cuda;
namespace json = llvm::json;

FailureOr<LinalgKernel>
attune::cuda::emitSortIdsKernel(OpBuilder &b, attn::SortIdsOp op,
                                StringRef name, ProgramSizes &sizes,
                                const BufferNamer &bufferOf) {
  Location loc = op.getLoc();
  int64_t numIds = op.getNumIds();
  if (numIds > kMaxSortIds)
    return op.emitError("CUDA target: attn.sort_ids with num_ids = ")
               << numIds << " needs more shared memory than its kernel has "
               << "(at most " << kMaxSortIds << " ids; the CPU target "
               << "compiles it)",
           failure();
  Value ids = op.getIds();
  auto type = cast<RankedTensorType>(ids.getType());
  int64_t rank = type.getRank();
  LinalgKernel kernel;
  StepKernelBuilder kb(b, loc, name, attn::KernelRole::linalg, sizes, bufferOf,
                       kernel);
  // One CTA per row: rows = the product of the leading dimensions.
  json::Value rows = 1;
  SmallVector<Value> lead;
  for (int64_t d = 0; d + 1 < rank; ++d) {
    FailureOr<json::Value> n = sizes.dim(ids, d);
    if (failed(n))
      return failure();
    rows = ProgramSizes::combine("mul", std::move(rows), sizes.name(*n));
    lead.push_back(kb.materialize(sizes.name(*n)));
  }
  json::Value rowsName = sizes.name(rows);
  kb.setPoints(
      sizes.name(ProgramSizes::combine("mul", rowsName, kStepThreads)));
  kernel.grid =
      json::Array{json::Array{rowsName}, json::Array{}, json::Array{}};
  FailureOr<Value> length = kb.size(ids, rank - 1);
  FailureOr<Value> orderBuffer = kb.buffer(op.getOrder());
  FailureOr<Value> sortedBuffer = kb.buffer(op.getSorted());
  if (failed(length) || failed(orderBuffer) || failed(sortedBuffer))
    return failure();
  Type i32 = b.getI32Type();
  Value next = kb.workgroupBuffer(MemRefType::get({numIds}, i32));
  Value chunk = kb.workgroupBuffer(MemRefType::get({kStepThreads}, i32));

  OpBuilder &in = kb.body();
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(in, loc, v);
  };
  auto i32c = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(in, loc, i32, v);
  };
  using P = arith::CmpIPredicate;
  auto cmp = [&](P predicate, Value x, Value y) -> Value {
    return arith::CmpIOp::create(in, loc, predicate, x, y);
  };
  auto barrier = [&] { gpu::BarrierOp::create(in, loc); };
  Value threads = idx(kStepThreads);
  Value row = arith::DivUIOp::create(in, loc, kb.point(), threads);
  Value tid = arith::RemUIOp::create(in, loc, kb.point(), threads);
  // The row's leading indices, last dimension fastest.
  SmallVector<Value> at(rank - 1);
  Value rest = row;
  for (int64_t d = rank - 2; d >= 0; --d) {
    at[d] = arith::RemUIOp::create(in, loc, rest, lead[d]);
    rest = arith::DivUIOp::create(in, loc, rest, lead[d]);
  }
  auto element = [&](Value s) {
    SmallVector<Value> index(at);
    index.push_back(s);
    return index;
  };
  // Loops over a thread's share [tid, end) step threads; `body` at each.
  auto strided = [&](Value end, function_ref<void(Value)> body) {
    auto loop = scf::ForOp::create(in, loc, tid, end, threads);
    OpBuilder::InsertionGuard guard(in);
    in.setInsertionPointToStart(loop.getBody());
    body(loop.getInductionVar());
  };
  bool failedLoad = false;
  auto loadId = [&](Value s) -> Value {
    FailureOr<Value> x = kb.load(in, ids, element(s));
    if (failed(x)) {
      failedLoad = true;
      return i32c(0);
    }
    return *x;
  };

  // Counts, zeroed, then one shared atomic per position.
  strided(idx(numIds), [&](Value n) {
    memref::StoreOp::create(in, loc, i32c(0), next, ValueRange{n});
  });
  barrier();
  strided(*length, [&](Value s) {
    Value x = loadId(s);
    cf::AssertOp::create(in, loc,
                         arith::AndIOp::create(in, loc, cmp(P::sge, x, i32c(0)),
                                               cmp(P::slt, x, i32c(numIds))),
                         "attn.sort_ids: an id is outside [0, num_ids)");
    Value at = arith::IndexCastOp::create(in, loc, in.getIndexType(), x);
    memref::AtomicRMWOp::create(in, loc, arith::AtomicRMWKind::addi, i32c(1),
                                next, ValueRange{at});
  });
  barrier();
  // Each id's first place: an exclusive scan, by one thread.
  auto first = scf::IfOp::create(in, loc, cmp(P::eq, tid, idx(0)),
                                 /*withElseRegion=*/false);
  {
    OpBuilder::InsertionGuard guard(in);
    in.setInsertionPointToStart(first.thenBlock());
    auto scan = scf::ForOp::create(in, loc, idx(0), idx(numIds), idx(1),
                                   ValueRange{i32c(0)});
    in.setInsertionPointToStart(scan.getBody());
    Value n = scan.getInductionVar(), run = scan.getRegionIterArg(0);
    Value count = memref::LoadOp::create(in, loc, next, ValueRange{n});
    memref::StoreOp::create(in, loc, run, next, ValueRange{n});
    scf::YieldOp::create(
        in, loc, ValueRange{arith::AddIOp::create(in, loc, run, count)});
  }
  barrier();

  // The positions, a chunk of one per thread at a time.
  auto chunks = scf::ForOp::create(in, loc, idx(0), *length, threads);
  {
    OpBuilder::InsertionGuard guard(in);
    in.setInsertionPointToStart(chunks.getBody());
    Value s = arith::AddIOp::create(in, loc, chunks.getInductionVar(), tid);
    Value valid = cmp(P::ult, s, *length);
    auto read = scf::IfOp::create(in, loc, TypeRange{i32}, valid,
                                  /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard inner(in);
      in.setInsertionPointToStart(read.thenBlock());
      scf::YieldOp::create(in, loc, ValueRange{loadId(s)});
      in.setInsertionPointToStart(read.elseBlock());
      scf::YieldOp::create(in, loc, ValueRange{i32c(-1)});
    }
    Value x = read.getResult(0);
    memref::StoreOp::create(in, loc, x, chunk, ValueRange{tid});
    barrier();
    // The lower threads of the chunk with this id, and whether a higher
    // one has it too.
    auto count = scf::ForOp::create(in, loc, idx(0), threads, idx(1),
                                    ValueRange{i32c(0), i32c(0)});
    {
      OpBuilder::InsertionGuard inner(in);
      in.setInsertionPointToStart(count.getBody());
      Value t = count.getInductionVar();
      Value other = memref::LoadOp::create(in, loc, chunk, ValueRange{t});
      Value same = arith::ExtUIOp::create(in, loc, i32, cmp(P::eq, other, x));
      Value lower = arith::ExtUIOp::create(in, loc, i32, cmp(P::ult, t, tid));
      Value higher = arith::ExtUIOp::create(in, loc, i32, cmp(P::ugt, t, tid));
      scf::YieldOp::create(
          in, loc,
          ValueRange{arith::AddIOp::create(
                         in, loc, count.getRegionIterArg(0),
                         arith::AndIOp::create(in, loc, same, lower)),
                     arith::OrIOp::create(
                         in, loc, count.getRegionIterArg(1),
                         arith::AndIOp::create(in, loc, same, higher))});
    }
    Value rank = count.getResult(0);
    Value last = cmp(P::eq, count.getResult(1), i32c(0));
    auto place = scf::IfOp::create(in, loc, TypeRange{i32}, valid,
                                   /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard inner(in);
      in.setInsertionPointToStart(place.thenBlock());
      Value id = arith::IndexCastOp::create(in, loc, in.getIndexType(), x);
      Value base = memref::LoadOp::create(in, loc, next, ValueRange{id});
      Value pos = arith::AddIOp::create(in, loc, base, rank);
      Value p = arith::IndexCastOp::create(in, loc, in.getIndexType(), pos);
      Value position = arith::IndexCastOp::create(in, loc, i32, s);
      memref::StoreOp::create(in, loc, position, *orderBuffer, element(p));
      memref::StoreOp::create(in, loc, x, *sortedBuffer, element(p));
      scf::YieldOp::create(in, loc, ValueRange{pos});
      in.setInsertionPointToStart(place.elseBlock());
      scf::YieldOp::create(in, loc, ValueRange{i32c(0)});
    }
    // Every thread has read its id's next place before any advances it.
    barrier();
    auto advance =
        scf::IfOp::create(in, loc, arith::AndIOp::create(in, loc, valid, last),
                          /*withElseRegion=*/false);
    {
      OpBuilder::InsertionGuard inner(in);
      in.setInsertionPointToStart(advance.thenBlock());
      Value id = arith::IndexCastOp::create(in, loc, in.getIndexType(), x);
      memref::StoreOp::create(
          in, loc, arith::AddIOp::create(in, loc, place.getResult(0), i32c(1)),
          next, ValueRange{id});
    }
    barrier();
  }
  if (failedLoad)
    return failure();
  return kernel;
}

FailureOr<LinalgKernel>
attune::cuda::emitPermuteKernel(OpBuilder &b, attn::PermuteOp op,
                                StringRef name, ProgramSizes &sizes,
                                const BufferNamer &bufferOf) {
  Location loc = op.getLoc();
  Value input = op.getInput(), order = op.getOrder();
  int64_t rank = cast<RankedTensorType>(input.getType()).getRank();
  attn::LayoutDims dims = op.getLayoutDims();
  LinalgKernel kernel;
  StepKernelBuilder kb(b, loc, name, attn::KernelRole::linalg, sizes, bufferOf,
                       kernel);
  // One thread per element, the last dimension fastest.
  json::Value count = 1;
  SmallVector<Value> extent;
  for (int64_t d = 0; d < rank; ++d) {
    FailureOr<json::Value> n = sizes.dim(input, d);
    if (failed(n))
      return failure();
    count = ProgramSizes::combine("mul", std::move(count), sizes.name(*n));
    extent.push_back(kb.materialize(sizes.name(*n)));
  }
  kb.setPoints(sizes.name(count));
  FailureOr<Value> result = kb.buffer(op.getResult());
  if (failed(result))
    return failure();
  SmallVector<Value> orderSizes;
  for (int64_t d = 0; d < 3; ++d) {
    FailureOr<Value> n = kb.size(order, d);
    if (failed(n))
      return failure();
    orderSizes.push_back(*n);
  }

  OpBuilder &in = kb.body();
  using P = arith::CmpIPredicate;
  auto cmp = [&](P predicate, Value x, Value y) -> Value {
    return arith::CmpIOp::create(in, loc, predicate, x, y);
  };
  unsigned rowDims[3] = {dims.batch, dims.head, dims.seq};
  Value sameSizes;
  for (int64_t k = 0; k < 3; ++k) {
    Value same = cmp(P::eq, orderSizes[k], extent[rowDims[k]]);
    sameSizes =
        sameSizes ? arith::AndIOp::create(in, loc, sameSizes, same) : same;
  }
  cf::AssertOp::create(in, loc, sameSizes,
                       "attn.permute: order and input sizes do not match");
  SmallVector<Value> at(rank);
  Value rest = kb.point();
  for (int64_t d = rank - 1; d >= 0; --d) {
    at[d] = arith::RemUIOp::create(in, loc, rest, extent[d]);
    rest = arith::DivUIOp::create(in, loc, rest, extent[d]);
  }
  FailureOr<Value> entry =
      kb.load(in, order, {at[dims.batch], at[dims.head], at[dims.seq]});
  if (failed(entry))
    return failure();
  Value zero = arith::ConstantIntOp::create(in, loc, entry->getType(), 0);
  Value length =
      arith::IndexCastOp::create(in, loc, entry->getType(), extent[dims.seq]);
  cf::AssertOp::create(in, loc,
                       arith::AndIOp::create(in, loc, cmp(P::sge, *entry, zero),
                                             cmp(P::slt, *entry, length)),
                       "attn.permute: an entry of order is outside [0, S)");
  SmallVector<Value> other(at);
  other[dims.seq] =
      arith::IndexCastOp::create(in, loc, in.getIndexType(), *entry);
  bool inverse = op.getInverse();
  FailureOr<Value> value = kb.load(in, input, inverse ? at : other);
  if (failed(value))
    return failure();
  memref::StoreOp::create(in, loc, *value, *result, inverse ? other : at);
  return kernel;
}
