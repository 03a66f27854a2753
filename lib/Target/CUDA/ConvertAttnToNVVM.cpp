//===- ConvertAttnToNVVM.cpp - attn.attention to CUDA kernels ---*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The kernel conversion: every function whose body is one tiled
// attn.attention becomes kernels in a gpu.module, as the op's KernelPlan
// says: the forward kernel, for short queries the split-KV decode and
// combine kernels, and for f32 inputs the plane kernels first. The kernels'
// bodies come from KernelEmitter (KernelEmitter.h lists its files); this
// file holds the pass and the module-level rewrites around the emitter
// (32-bit region arithmetic, capture reads as memref reads, hardware tanh).
// docs/CUDATarget.md describes the whole design.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"
#include "OperandSources.h"

#include "attune/Dialect/Attn/Utils/RegionLowering.h"
#include "attune/Support/PassOptions.h"

#include "mlir/Analysis/DataFlow/DeadCodeAnalysis.h"
#include "mlir/Analysis/DataFlow/IntegerRangeAnalysis.h"
#include "mlir/Analysis/DataFlowFramework.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <functional>
#include <optional>

namespace attune::cuda {
#define GEN_PASS_DEF_CONVERTATTNTONVVM
#define GEN_PASS_DEF_CONVERTATTNTONVGPU
#include "attune/Target/CUDA/Passes.h.inc"
} // namespace attune::cuda

using namespace mlir;
using namespace attune;
using namespace attune::attn;
using namespace attune::cuda;

/// Rewrites the tensor reads of inlined regions (tensor.extract, tensor.dim
/// of captures, which are memrefs in the kernel) into memref reads.
static void rewriteTensorReads(Operation *root) {
  attn::rewriteBufferReads(root);
}

/// Replaces f32 `math.tanh` (soft-capping) by the hardware's tanh.approx.f32
/// (one SFU instruction, relative error ~2^-11, below bf16's 2^-8) instead
/// of the expansion into exponentials it would otherwise get.
static void useHardwareTanh(Operation *root) {
  SmallVector<math::TanhOp> ops;
  root->walk([&](math::TanhOp op) {
    if (op.getType().isF32())
      ops.push_back(op);
  });
  for (math::TanhOp op : ops) {
    OpBuilder b(op);
    // LLVM 22 has no intrinsic for it: inline PTX.
    Value approx =
        LLVM::InlineAsmOp::create(
            b, op.getLoc(), b.getF32Type(), ValueRange{op.getOperand()},
            b.getStringAttr("tanh.approx.f32 $0, $1;"),
            b.getStringAttr("=f,f"), UnitAttr(), UnitAttr(),
            LLVM::TailCallKindAttr::get(b.getContext(),
                                        LLVM::tailcallkind::TailCallKind::None),
            LLVM::AsmDialectAttr(), ArrayAttr())
            .getResult(0);
    op.replaceAllUsesWith(approx);
    op.erase();
  }
}

/// The memref (or scalar) type of a function argument or result in the
/// kernel.
static Type kernelTypeOf(Type type) {
  if (auto tensor = dyn_cast<RankedTensorType>(type))
    return MemRefType::get(tensor.getShape(), tensor.getElementType());
  return type;
}

/// Why `func` cannot become a kernel, or an empty string.
static std::string unsupportedReason(func::FuncOp func, AttentionOp op) {
  for (int64_t d : {op.getHeadSize(), op.getValueHeadSize()})
    if (d % 8 != 0 || d < 8 || d > 256)
      return "head sizes must be multiples of 8 in [8, 256], got " +
             std::to_string(d);
  // The body must be the attention, the return of its results (or of the
  // attn.pack of its O), and before them only constants and sizes of the
  // arguments (captures such as Sk - Sq), which the kernel recomputes.
  Block &body = func.getBody().front();
  auto ret = dyn_cast<func::ReturnOp>(body.getTerminator());
  std::string reason;
  FailureOr<PackOp> pack = getFusedPack(op, reason);
  if (failed(pack))
    return reason;
  Operation *last = *pack ? pack->getOperation() : op.getOperation();
  if (last->getNextNode() != ret ||
      ret.getOperands() != ValueRange(last->getResults()))
    return "the function must end with one attn.attention (its O may go "
           "through an attn.pack) and the return of its results";
  // Concatenations, gathers and unpacks are judged as sources of Q, K and
  // V, after the rest.
  auto producers = [&] {
    return llvm::make_range(body.begin(), op->getIterator());
  };
  for (Operation &producer : producers())
    if (!isa<arith::ConstantOp, tensor::DimOp, arith::AddIOp, arith::SubIOp,
             arith::MulIOp, tensor::ConcatOp, GatherPagesOp, UnpackOp, RopeOp>(
            producer))
      return "only constants, tensor sizes and the concatenations, gathers "
             "of pages, unpacks or ropes Q, K and V are read from may be "
             "computed before the attention (found '" +
             producer.getName().getStringRef().str() + "')";
  if (!getOperandSources(op, reason))
    return reason;
  for (Operation &producer : producers())
    if (isa<tensor::ConcatOp, GatherPagesOp, UnpackOp, RopeOp>(producer) &&
        !isSourceProducer(&producer, op))
      return "a " + producer.getName().getStringRef().str() +
             " before the attention must be read as its Q, K or V";
  return "";
}

namespace {
/// Drops the solver's state of erased ops, so that a new op at the same
/// address does not inherit it.
struct SolverStateEraser : RewriterBase::Listener {
  explicit SolverStateEraser(DataFlowSolver &solver) : solver(solver) {}
  void notifyOperationErased(Operation *op) override {
    solver.eraseState(solver.getProgramPointAfter(op));
    for (Value result : op->getResults())
      solver.eraseState(result);
  }
  DataFlowSolver &solver;
};
} // namespace

/// Narrows the integer arithmetic of the per-element regions (score, mask)
/// of `op` in `func` to 32 bits where integer range analysis proves it exact
/// (upstream arith-int-range-narrowing's patterns; the op bounds its index
/// arguments below 2^31): ALiBi's `j - i` and its conversion to f32, window
/// and causal comparisons. The kernels evaluate those regions per score
/// element, where 64-bit integer work costs twice. The tiles region, run
/// once per tile, is left as it is: narrowed, its casts cost registers in
/// the k-loop.
static void narrowElementRegions(func::FuncOp func, AttentionOp op) {
  DataFlowSolver solver;
  solver.load<dataflow::DeadCodeAnalysis>();
  solver.load<dataflow::IntegerRangeAnalysis>();
  if (failed(solver.initializeAndRun(func)))
    return;
  SmallVector<Operation *> ops;
  for (Block *block : {op.getScoreBlock(), op.getMaskBlock()})
    if (block)
      for (Operation &nested : block->without_terminator())
        ops.push_back(&nested);
  RewritePatternSet patterns(op.getContext());
  arith::populateIntRangeNarrowingPatterns(patterns, solver, {32});
  SolverStateEraser listener(solver);
  GreedyRewriteConfig config;
  config.setListener(&listener);
  // Best effort: what is not narrowed stays correct in 64 bits.
  (void)applyOpPatternsGreedily(ops, std::move(patterns), config);
}

/// Converts every attn.attention of `module` into kernels; `pass` names the
/// pass in diagnostics, `decodeTileK` and `mma` are its options.
static LogicalResult convertModule(ModuleOp module, StringRef pass,
                                   int64_t decodeTileK, StringRef mma) {
  MLIRContext *ctx = module.getContext();
  // Not lowered on this target yet; refused at the op rather than as an
  // unknown producer of the attention's operands.
  WalkResult unsupported = module.walk([&](Operation *op) {
    if (isa<attn::AppendPagesOp>(op))
      op->emitError() << pass << ": " << op->getName()
                      << " is not supported by the CUDA target yet (the CPU "
                         "target compiles it; docs/PagedKV.md)";
    else
      return WalkResult::advance();
    return WalkResult::interrupt();
  });
  if (unsupported.wasInterrupted())
    return failure();
  SmallVector<std::pair<func::FuncOp, AttentionOp>> work;
  WalkResult walk = module.walk([&](AttentionOp op) {
    auto func = dyn_cast<func::FuncOp>(op->getParentOp());
    if (!func) {
      op.emitError() << pass
                     << ": attn.attention must be in the body of "
                        "a func.func";
      return WalkResult::interrupt();
    }
    std::string reason = unsupportedReason(func, op);
    if (!reason.empty()) {
      op.emitError() << pass << ": " << reason;
      return WalkResult::interrupt();
    }
    // Ops attn-tile left alone get the best measured sizes (attunec
    // also tries the others of candidateTileSizes until one does not
    // spill).
    if (!op.getTileSizesPair()) {
      std::pair<int64_t, int64_t> best = defaultTileSizes(op, mma);
      op.setTileSizes(ArrayRef<int64_t>{best.first, best.second});
    }
    if (mma != "sync" && mma != "wgmma" && mma != "auto") {
      op.emitError() << pass << ": unknown mma '" << mma
                     << "' (expected sync, wgmma or auto)";
      return WalkResult::interrupt();
    }
    auto sizes = op.getTileSizesPair();
    // At most 8 warps of 16 rows, or of 32 rows from 128 rows on.
    if (!sizes || !isValidTileSize(sizes->first, sizes->second)) {
      op.emitError() << pass
                     << ": expected tile_sizes (attn-tile) with queries a "
                        "multiple of 16 up to 128, or of 32 up to 256, and "
                        "keys a multiple of 16";
      return WalkResult::interrupt();
    }
    work.push_back({func, op});
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  if (work.empty())
    return success();

  module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                  UnitAttr::get(ctx));
  OpBuilder b(ctx);
  b.setInsertionPointToEnd(module.getBody());
  auto gpuModule = gpu::GPUModuleOp::create(b, module.getLoc(), "attn_kernels");
  b.setInsertionPointToStart(gpuModule.getBody());
  // The dynamic shared memory, addressed directly as bytes.
  auto smemType = LLVM::LLVMArrayType::get(b.getI8Type(), 0);
  auto smemGlobal = LLVM::GlobalOp::create(
      b, module.getLoc(), smemType, /*isConstant=*/false,
      LLVM::Linkage::External, "attn_shared_memory", Attribute(),
      /*alignment=*/16, /*addrSpace=*/3);
  (void)smemGlobal;

  for (auto [func, op] : work) {
    narrowElementRegions(func, op);
    auto [tileQ, tileK] = *op.getTileSizesPair();
    Location loc = op.getLoc();
    SmallVector<Type> argTypes, resultTypes;
    for (Type type : func.getArgumentTypes())
      argTypes.push_back(kernelTypeOf(type));
    for (Type type : func.getResultTypes())
      resultTypes.push_back(kernelTypeOf(type));

    // Creates a kernel with `params` and launch contract `contract`; `body`
    // fills it given the entry block. A kernel whose first parameters are
    // the function's arguments (`takesArguments`) gets the function's size
    // computations, recomputed, first; the others (planes, combine) get
    // neither, since their parameters are other tensors.
    auto buildKernel = [&](StringRef suffix, ArrayRef<Type> params,
                           KernelAttr contract, bool takesArguments,
                           function_ref<void(Block &, IRMapping &)> body) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToEnd(gpuModule.getBody());
      auto kernel =
          gpu::GPUFuncOp::create(b, loc, (func.getSymName() + suffix).str(),
                                 b.getFunctionType(params, {}));
      kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                      UnitAttr::get(ctx));
      kernel.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr(
          {static_cast<int32_t>(contract.getBlock()), 1, 1}));
      kernel->setAttr(KernelAttr::getAttrName(), contract);
      Block &entry = kernel.getBody().front();
      b.setInsertionPointToStart(&entry);
      IRMapping args;
      if (takesArguments) {
        for (auto [funcArg, kernelArg] :
             llvm::zip(func.getArguments(), entry.getArguments()))
          args.map(funcArg, kernelArg);
        // Concatenations and gathers are read from their parts and pages
        // (OperandSources.h).
        for (Operation &producer : func.getBody().front()) {
          if (&producer == op.getOperation())
            break;
          if (!isSourceProducer(&producer, op))
            b.clone(producer, args);
        }
      }
      body(entry, args);
      gpu::ReturnOp::create(b, loc);
      rewriteTensorReads(kernel);
      useHardwareTanh(kernel);
      return kernel;
    };
    auto sharedMemory = [&]() -> Value {
      return LLVM::AddressOfOp::create(
          b, loc, LLVM::LLVMPointerType::get(ctx, 3), "attn_shared_memory");
    };

    KernelPlan plan = KernelPlan::forward(op, tileQ, tileK, mma);
    KernelEmitter emitter(b, op, plan);
    std::string reason;
    std::optional<OperandSources> sources = getOperandSources(op, reason);
    assert(sources && "checked by unsupportedReason");
    // Operands rotated by attn.rope: first a rope kernel per such source
    // writes it rotated to a workspace of its type (RopeKernel.cpp), which
    // the plane kernels (f32) or the attention kernels read instead;
    // `ropeSlot` gives each source's workspace among `ropeTypes`, or -1.
    // A source rotated on load (Q) gets no kernel: the attention kernels
    // take its rope and theta table (`queryRope`).
    SmallVector<Type> ropeTypes;
    SmallVector<int> ropeSlot;
    std::pair<attn::RopeOp, LLVM::GlobalOp> queryRope;
    for (const OperandSource &source : sources->all) {
      attn::RopeOp rope = source.rope;
      if (!rope) {
        ropeSlot.push_back(-1);
        continue;
      }
      std::string suffix = "_rope_" + source.role;
      LLVM::GlobalOp table;
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(gpuModule.getBody());
        table = createRopeThetaTable(
            b, loc, rope, (func.getSymName() + suffix + "_theta").str());
      }
      if (source.ropeOnLoad) {
        ropeSlot.push_back(-1);
        queryRope = {rope, table};
        continue;
      }
      auto type = cast<MemRefType>(kernelTypeOf(source.argument.getType()));
      ropeSlot.push_back(ropeTypes.size());
      ropeTypes.push_back(type);
      SmallVector<Type> params(argTypes);
      params.push_back(type);
      BlockArgument input = source.argument;
      buildKernel(suffix, params,
                  KernelAttr::get(ctx, KernelRole::rope, kPlaneThreads,
                                  /*shared_bytes=*/0, /*tile_q=*/0,
                                  /*tile_k=*/0, /*splits=*/0,
                                  /*heads_per_cta=*/1, /*max_sq=*/0,
                                  source.role, /*planes=*/0, kPlaneRows),
                  /*takesArguments=*/true, [&](Block &entry, IRMapping &args) {
                    emitRopeKernel(b, loc, rope, args.lookup(input),
                                   entry.getArguments().back(), args, table);
                  });
    }
    // Passes the rope workspaces (parameters [first, first + count)) to
    // `kernel`.
    auto useRotated = [&](KernelEmitter &kernel, Block &entry, unsigned first) {
      if (queryRope.first)
        kernel.setQueryRope(queryRope.first, queryRope.second);
      if (ropeTypes.empty())
        return;
      SmallVector<Value> rotated;
      for (int slot : ropeSlot)
        rotated.push_back(slot < 0 ? Value() : entry.getArgument(first + slot));
      kernel.setRotated(rotated);
    };

    // f32 Q/K/V: then their bf16 planes (of the rotated workspace for a
    // rotated source), into workspaces the attention kernels read (kPlanes
    // per tensor, Q's, K's, V's).
    SmallVector<Type> planeTypes;
    if (plan.planes > 1) {
      Type bf16 = BFloat16Type::get(ctx);
      for (const OperandSource &source : sources->all) {
        StringRef name = source.role;
        auto type = cast<MemRefType>(kernelTypeOf(source.argument.getType()));
        SmallVector<Type> params{type};
        params.append(kPlanes, MemRefType::get(type.getShape(), bf16));
        planeTypes.append(params.begin() + 1, params.end());
        buildKernel(("_planes_" + name).str(), params,
                    KernelAttr::get(ctx, KernelRole::planes, kPlaneThreads,
                                    /*shared_bytes=*/0, /*tile_q=*/0,
                                    /*tile_k=*/0, /*splits=*/0,
                                    /*heads_per_cta=*/1, /*max_sq=*/0, name,
                                    kPlanes, kPlaneRows),
                    /*takesArguments=*/false, [&](Block &entry, IRMapping &) {
                      emitPlaneKernel(b, loc, op.getLayoutDims(),
                                      entry.getArgument(0),
                                      entry.getArguments().drop_front());
                    });
      }
    }
    // Passes the planes (the last kernel parameters) to `kernel`.
    auto usePlanes = [&](KernelEmitter &kernel, Block &entry) {
      if (!planeTypes.empty())
        kernel.setPlanes(entry.getArguments().take_back(planeTypes.size()));
    };

    // The kernel for every query length.
    SmallVector<Type> params(argTypes);
    llvm::append_range(params, resultTypes);
    llvm::append_range(params, ropeTypes);
    llvm::append_range(params, planeTypes);
    buildKernel("_fwd", params,
                KernelAttr::get(ctx, KernelRole::fwd, plan.threads,
                                plan.sharedBytes(), tileQ, tileK, /*splits=*/0,
                                /*heads_per_cta=*/1,
                                /*max_sq=*/0, /*operand=*/"", /*planes=*/0,
                                /*rows=*/0),
                /*takesArguments=*/true, [&](Block &entry, IRMapping &args) {
                  usePlanes(emitter, entry);
                  useRotated(emitter, entry,
                             argTypes.size() + resultTypes.size());
                  emitter.emit(args,
                               entry.getArguments().slice(argTypes.size(),
                                                          resultTypes.size()),
                               sharedMemory());
                });

    // Short queries (decode): the keys split across CTAs, then a combine
    // step, when Sq may be <= kDecodeRows.
    auto qType = cast<RankedTensorType>(op.getQuery().getType());
    int64_t seqQ = qType.getDimSize(op.getLayoutDims().seq);
    // Packed queries or outputs of a varlen batch: the forward kernel only
    // (split-KV decode would take every sequence as Sq rows long). Packed
    // keys and values alone are rows like any other source's.
    bool varlenQuery =
        sources->of(0).front().unpack || *getFusedPack(op, reason);
    if (varlenQuery || (!ShapedType::isDynamic(seqQ) && seqQ > kDecodeRows)) {
      func.erase();
      continue;
    }
    int64_t batch = qType.getDimSize(op.getLayoutDims().batch);
    int64_t heads = op.getNumQueryHeads();
    auto f32Type = b.getF32Type();
    // The split count is the launch's (decode_splits in the manifest), the
    // outermost dimension: no stride depends on it (a split dimension
    // inside made the D = 192 decode kernel spill).
    int64_t splits = ShapedType::kDynamic;
    Type oPartType = MemRefType::get(
        {splits, batch, heads, seqQ, op.getValueHeadSize()}, f32Type);
    Type lsePartType = MemRefType::get({splits, batch, heads, seqQ}, f32Type);
    KernelPlan decode = KernelPlan::decode(op, tileK, decodeTileK);
    KernelEmitter splitter(b, op, decode);
    SmallVector<Type> splitParams(argTypes);
    splitParams.append({oPartType, lsePartType});
    // Split warps merge in the CTA when it covers its row group and store O
    // themselves; a kernel of one warp per CTA (KernelPlan::decode) leaves
    // every merge to the combine kernel.
    ArrayRef<Type> mergeTypes =
        decode.splitWarps > 1 ? ArrayRef<Type>(resultTypes) : ArrayRef<Type>();
    llvm::append_range(splitParams, mergeTypes);
    llvm::append_range(splitParams, ropeTypes);
    llvm::append_range(splitParams, planeTypes);
    buildKernel(
        "_decode", splitParams,
        KernelAttr::get(ctx, KernelRole::decode, decode.launchThreads(),
                        decode.launchSharedBytes(), decode.tileQ, decode.tileK,
                        decode.maxSplits, decode.headsPerCTA(),
                        decode.maxSplitQueries(),
                        /*operand=*/"",
                        /*planes=*/0, /*rows=*/0),
        /*takesArguments=*/true, [&](Block &entry, IRMapping &args) {
          ValueRange workspace =
              entry.getArguments().drop_front(argTypes.size());
          usePlanes(splitter, entry);
          useRotated(splitter, entry, argTypes.size() + 2 + mergeTypes.size());
          splitter.setPartialOutputs(workspace[0], workspace[1],
                                     workspace.slice(2, mergeTypes.size()));
          splitter.emit(args, {}, sharedMemory());
        });
    SmallVector<Type> combineParams{oPartType, lsePartType};
    llvm::append_range(combineParams, resultTypes);
    buildKernel("_combine", combineParams,
                KernelAttr::get(ctx, KernelRole::combine, op.getValueHeadSize(),
                                /*shared_bytes=*/0,
                                /*tile_q=*/0, /*tile_k=*/0, /*splits=*/0,
                                /*heads_per_cta=*/1, /*max_sq=*/0,
                                /*operand=*/"", /*planes=*/0, /*rows=*/0),
                /*takesArguments=*/false, [&](Block &entry, IRMapping &) {
                  emitCombine(b, op, entry.getArgument(0), entry.getArgument(1),
                              entry.getArguments().drop_front(2));
                });
    func.erase();
  }
  return success();
}

namespace {
/// The options both names of the pass take, checked (attune/Support).
LogicalResult
initializeConversionOptions(StringRef argument, StringRef options,
                            function_ref<LogicalResult(const Twine &)> onError,
                            function_ref<LogicalResult()> parse) {
  static constexpr attune::OptionSpec specs[] = {
      {"decode-tile-k", attune::OptionKind::Integer},
      {"mma", attune::OptionKind::String}};
  return attune::initializeCheckedOptions(argument, options, specs, onError,
                                          parse);
}

/// The pass under either of its names (`Base`: the generated base of one).
template <typename Base>
struct ConvertAttnPass : Base {
  using Base::Base;
  LogicalResult initializeOptions(
      StringRef options,
      function_ref<LogicalResult(const Twine &)> errorHandler) override {
    return initializeConversionOptions(
        this->getArgument(), options, errorHandler,
        [&] { return Base::initializeOptions(options, errorHandler); });
  }
  void runOnOperation() override {
    if (failed(convertModule(this->getOperation(), this->getArgument(),
                             this->decodeTileK, this->mma)))
      this->signalPassFailure();
  }
};

namespace impl = attune::cuda::impl;

struct ConvertAttnToNVVM
    : ConvertAttnPass<impl::ConvertAttnToNVVMBase<ConvertAttnToNVVM>> {
  using ConvertAttnPass::ConvertAttnPass;
};

/// `convert-attn-to-nvgpu`, the pass's former name, for one release.
struct ConvertAttnToNVGPU
    : ConvertAttnPass<impl::ConvertAttnToNVGPUBase<ConvertAttnToNVGPU>> {
  using ConvertAttnPass::ConvertAttnPass;
};
} // namespace
