//===- CUDAArtifacts.cpp - The directory the CUDA runtime loads -*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// writeCUDAArtifacts: compiles a spec per tile configuration (the
// candidates of KernelPlan.h, in order), assembles each with `ptxas -v`,
// keeps the first that fits the chip's shared memory without spilling, and
// writes its PTX, cubin, manifest.json and spec.mlir
// (docs/CUDAArtifacts.md). The kernels' launch rules come from the kernel
// conversion's attributes.
//
//===----------------------------------------------------------------------===//

#include "attune/Target/CUDA/CUDAPipeline.h"

#include "Artifacts.h"
#include "OperandSources.h"

#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/Target/CUDA/KernelPlan.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <limits>
#include <optional>

using namespace mlir;
using namespace attune;
using namespace attune::cuda;

/// The most dynamic shared memory a CTA may use on `chip` (CUDA C
/// Programming Guide, "Technical Specifications per Compute Capability":
/// 163 KiB on 8.0, 227 KiB on 9.0).
static int64_t maxSharedBytes(llvm::StringRef chip) {
  return chip == "sm_80" ? 163 * 1024 : 227 * 1024;
}

std::string attune::cuda::dtypeName(Type type) {
  if (type.isF32())
    return "f32";
  if (type.isF64())
    return "f64";
  if (type.isF16())
    return "f16";
  if (type.isBF16())
    return "bf16";
  if (type.isIndex() || type.isInteger(64))
    return "i64";
  if (type.isInteger(32))
    return "i32";
  if (type.isInteger(8))
    return "i8";
  return "";
}

std::optional<llvm::json::Array> attune::cuda::argumentRange(func::FuncOp func,
                                                             unsigned index) {
  auto range = func.getArgAttrOfType<ArrayAttr>(index, "attn.range");
  if (!range)
    return std::nullopt;
  llvm::json::Array bounds;
  for (Attribute bound : range) {
    if (auto i = dyn_cast<IntegerAttr>(bound))
      bounds.push_back(i.getInt());
    else if (auto f = dyn_cast<FloatAttr>(bound))
      bounds.push_back(f.getValueAsDouble());
  }
  return bounds;
}

/// The size of every varlen offsets tensor of dynamic size: B + 1.
static constexpr const char *kOffsetsSymbol = "B_plus_1";

/// The manifest description of the spec's function: arguments and results
/// with symbolic shapes (Q/K/V/O/lse dimensions named by their role,
/// captures by their `attn.dims`; Q, K and V by `sources`).
static FailureOr<llvm::json::Object>
describeFunction(func::FuncOp func, attn::AttentionOp op,
                 const OperandSources &sources) {
  attn::LayoutDims dims = op.getLayoutDims();
  auto roleShape = [&](RankedTensorType type, StringRef heads, StringRef seq,
                       StringRef feature) {
    llvm::json::Array shape;
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (!type.isDynamicDim(d)) {
        shape.push_back(type.getDimSize(d));
        continue;
      }
      StringRef name = d == dims.batch  ? "B"
                       : d == dims.head ? heads
                       : d == dims.seq  ? seq
                                        : feature;
      shape.push_back(name.str());
    }
    return shape;
  };
  // The offsets of a varlen batch, named as FlashAttention names them
  // (cu_seqlens_q for Q's and the pack's, cu_seqlens_k for K's, ...), so
  // that launchers and test generators know them.
  std::string reason;
  FailureOr<attn::PackOp> pack = getFusedPack(op, reason);
  if (failed(pack))
    return op.emitError("CUDA target: ") << reason, failure();
  auto offsetsName = [&](BlockArgument arg) -> std::string {
    for (OperandSource source : sources.all)
      if (source.unpack && source.unpack.getCuSeqlens() == arg)
        return "cu_seqlens_" + source.role;
    if (*pack && pack->getCuSeqlens() == arg)
      return "cu_seqlens_o";
    return "";
  };
  // The batch when any operand of the attention has it static: offsets of
  // dynamic size then have that size + 1, so the runtime checks them (the
  // verifier takes ? and a static batch as compatible).
  std::optional<int64_t> staticBatch;
  for (Value v : {op.getQuery(), op.getKey(), op.getValue(), op.getOutput()})
    if (auto type = cast<RankedTensorType>(v.getType());
        !type.isDynamicDim(dims.batch))
      staticBatch = type.getDimSize(dims.batch);
  llvm::json::Array arguments;
  unsigned captureIndex = 0;
  // Set when some offsets tensor is sized B_plus_1: B is then derived.
  bool offsetsBatch = false;
  for (BlockArgument arg : func.getArguments()) {
    llvm::json::Object entry;
    Type type = arg.getType();
    auto tensor = dyn_cast<RankedTensorType>(type);
    std::string dtype = dtypeName(tensor ? tensor.getElementType() : type);
    if (dtype.empty())
      return func.emitError("CUDA target: unsupported argument type ") << type,
             failure();
    entry["dtype"] = dtype;
    const OperandSource *source = sources.find(arg);
    if (source && source->pages) {
      // A paged cache: only its page count may be dynamic.
      entry["name"] = source->role;
      llvm::json::Array shape;
      for (int64_t d = 0; d < tensor.getRank(); ++d)
        shape.push_back(tensor.isDynamicDim(d) ? llvm::json::Value("Npages")
                                               : tensor.getDimSize(d));
      entry["shape"] = std::move(shape);
    } else if (source && source->unpack) {
      // A packed varlen tensor [T, H, D]: only T may be dynamic.
      entry["name"] = source->role;
      llvm::json::Array shape;
      for (int64_t d = 0; d < tensor.getRank(); ++d)
        shape.push_back(tensor.isDynamicDim(d)
                            ? llvm::json::Value(source->seqName)
                            : tensor.getDimSize(d));
      entry["shape"] = std::move(shape);
    } else if (source) {
      // Named by its first role (K and V may be one argument).
      entry["name"] = source->role;
      bool isQuery = source->role == "q";
      entry["shape"] =
          roleShape(tensor, isQuery ? "Hq" : "Hkv", source->seqName,
                    source->role[0] == 'v' ? "Dv" : "D");
    } else {
      std::string offsets = offsetsName(arg);
      entry["name"] = offsets.empty()
                          ? "capture" + std::to_string(captureIndex++)
                          : offsets;
      auto names =
          func.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(), "attn.dims");
      if (tensor) {
        llvm::json::Array shape;
        for (int64_t d = 0; d < tensor.getRank(); ++d) {
          if (!tensor.isDynamicDim(d))
            shape.push_back(tensor.getDimSize(d));
          else if (!offsets.empty() && staticBatch)
            shape.push_back(*staticBatch + 1);
          else if (!offsets.empty()) {
            // B + 1 offsets: every varlen offsets tensor has as many, so
            // one symbol, from which B is derived (below).
            shape.push_back(kOffsetsSymbol);
            offsetsBatch = true;
          } else if (names && d < static_cast<int64_t>(names.size()))
            shape.push_back(cast<StringAttr>(names[d]).getValue().str());
          else
            shape.push_back(
                llvm::formatv("{0}_d{1}",
                              entry["name"].getAsString().value_or(""), d)
                    .str());
        }
        entry["shape"] = std::move(shape);
      } else {
        entry["shape"] = llvm::json::Array();
        entry["scalar"] = true;
      }
      if (std::optional<llvm::json::Array> range =
              argumentRange(func, arg.getArgNumber()))
        entry["range"] = std::move(*range);
    }
    arguments.push_back(std::move(entry));
  }
  llvm::json::Array results;
  if (*pack) {
    // O packed [T, H, Dv]: T static or the packed queries' ("Sq").
    auto type = pack->getType();
    llvm::json::Array shape;
    for (int64_t d = 0; d < type.getRank(); ++d)
      shape.push_back(type.isDynamicDim(d) ? llvm::json::Value("Sq")
                                           : type.getDimSize(d));
    results.push_back(
        llvm::json::Object{{"name", "o"},
                           {"dtype", dtypeName(type.getElementType())},
                           {"shape", std::move(shape)}});
  } else {
    auto type = cast<RankedTensorType>(op.getOutput().getType());
    results.push_back(
        llvm::json::Object{{"name", "o"},
                           {"dtype", dtypeName(type.getElementType())},
                           {"shape", roleShape(type, "Hq", "Sq", "Dv")}});
  }
  if (Value lse = op.getLse()) {
    auto type = cast<RankedTensorType>(lse.getType());
    llvm::json::Array shape;
    for (int64_t d = 0; d < 3; ++d)
      shape.push_back(type.isDynamicDim(d)
                          ? llvm::json::Value(d == 0   ? "B"
                                              : d == 1 ? "Hq"
                                                       : "Sq")
                          : llvm::json::Value(type.getDimSize(d)));
    results.push_back(llvm::json::Object{
        {"name", "lse"}, {"dtype", "f32"}, {"shape", std::move(shape)}});
  }
  // A dynamic number of sequences: B is derived from the offsets' size,
  // so no argument or result may name it (a derived symbol is computed,
  // and a shape would bind it as well).
  auto namesBatch = [](const llvm::json::Array &tensors) {
    return llvm::any_of(tensors, [](const llvm::json::Value &v) {
      return llvm::any_of(*v.getAsObject()->getArray("shape"),
                          [](const llvm::json::Value &d) {
                            return d.getAsString() == StringRef("B");
                          });
    });
  };
  if (offsetsBatch && (namesBatch(arguments) || namesBatch(results)))
    return op.emitError(
               "CUDA target: a varlen batch with a dynamic number of "
               "sequences (offsets of dynamic size) takes its batch from "
               "the offsets, so every batched operand must be read through "
               "attn.unpack and O stored through attn.pack, without lse "
               "(make the offsets' size static for the others)"),
           failure();
  llvm::json::Object object;
  object["function"] = func.getSymName().str();
  object["arguments"] = std::move(arguments);
  object["results"] = std::move(results);
  if (offsetsBatch) {
    auto minus = [](int64_t n) {
      return llvm::json::Object{{"sub", llvm::json::Array{kOffsetsSymbol, n}}};
    };
    // B_minus_1 is used nowhere: a negative derived symbol fails the
    // launch, and B = 0 would launch no CTA to zero O's rows.
    object["symbols"] = llvm::json::Array{
        llvm::json::Object{{"name", "B"}, {"value", minus(1)}},
        llvm::json::Object{{"name", "B_minus_1"}, {"value", minus(2)}}};
  }
  if (op.getNumKVHeads() != op.getNumQueryHeads())
    object["constraints"] = llvm::json::Array{llvm::json::Object{
        {"divisible",
         llvm::json::Array{op.getNumQueryHeads(), op.getNumKVHeads()}}}};
  else
    object["constraints"] = llvm::json::Array();
  return object;
}

/// The ptxas to run.
std::string attune::cuda::findPtxas(StringRef requested) {
  if (!requested.empty())
    return requested.str();
  if (const char *env = std::getenv("ATTUNE_PTXAS"))
    return env;
  if (llvm::sys::fs::can_execute("/usr/local/cuda/bin/ptxas"))
    return "/usr/local/cuda/bin/ptxas";
  if (auto found = llvm::sys::findProgramByName("ptxas"))
    return *found;
  return "";
}
/// Lowers `spec` with `options` (whose tile sizes are set) to PTX, assembles
/// it with `assembler` into `directory` as `<stem>.ptx` / `<stem>.cubin`, and
/// returns what the manifest needs.
FailureOr<CompiledModule>
attune::cuda::compileModule(ModuleOp spec, const CUDAPipelineOptions &options,
                            StringRef directory, StringRef stem,
                            StringRef assembler) {
  MLIRContext *ctx = spec.getContext();
  Location loc = spec.getLoc();
  OwningOpRef<ModuleOp> lowered = cast<ModuleOp>(spec->clone());
  PassManager kernels(ctx);
  buildCUDAKernelPipeline(kernels, options);
  if (failed(kernels.run(*lowered)))
    return failure();
  CompiledModule module;
  module.stem = stem.str();
  WalkResult walk = lowered->walk([&](gpu::GPUFuncOp kernel) {
    // The launch contract convert-attn-to-nvvm gives every kernel.
    auto contract = kernel->getAttrOfType<attn::KernelAttr>(
        attn::KernelAttr::getAttrName());
    if (!contract) {
      kernel.emitError("CUDA target: kernel without an attn.kernel contract");
      return WalkResult::interrupt();
    }
    KernelInfo info;
    info.name = kernel.getName().str();
    info.role = contract.getRole();
    info.threads = contract.getBlock();
    info.tileQ = contract.getTileQ();
    info.tileK = contract.getTileK();
    info.splits = contract.getSplits();
    info.headsPerCTA = contract.getHeadsPerCta();
    info.maxSq = contract.getMaxSq();
    info.rows = contract.getRows();
    info.planes = contract.getPlanes();
    info.sharedBytes = contract.getSharedBytes();
    info.operand = contract.getOperand().str();
    module.sharedBytes = std::max(module.sharedBytes, info.sharedBytes);
    module.kernels.push_back(info);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  PassManager toPTX(ctx);
  buildCUDAToPTXPipeline(toPTX, options);
  if (failed(toPTX.run(*lowered)))
    return failure();
  std::string ptx;
  lowered->walk([&](gpu::BinaryOp binary) {
    for (Attribute object : binary.getObjects())
      if (auto obj = dyn_cast<gpu::ObjectAttr>(object))
        ptx = obj.getObject().getValue().str();
  });
  if (ptx.empty() || module.kernels.empty())
    return emitError(loc, "CUDA target: lowering produced no PTX"), failure();

  SmallString<128> ptxPath(directory), cubinPath(directory), logPath;
  llvm::sys::path::append(ptxPath, stem + ".ptx");
  llvm::sys::path::append(cubinPath, stem + ".cubin");
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(ptxPath, ec);
    if (ec)
      return emitError(loc, "cannot write '")
                 << ptxPath << "': " << ec.message(),
             failure();
    os << ptx;
  }
  if (llvm::sys::fs::createTemporaryFile("attune-ptxas", "log", logPath))
    return emitError(loc, "cannot create a temporary file"), failure();
  llvm::scope_exit removeLog([&] { llvm::sys::fs::remove(logPath); });
  std::string arch = "-arch=" + options.chip.getValue();
  SmallVector<StringRef> argv{assembler, arch, "-O3",    "-v",
                              ptxPath,   "-o", cubinPath};
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(logPath),
                                          StringRef(logPath)};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(assembler, argv, std::nullopt, redirects,
                                     0, 0, &message);
  auto log = llvm::MemoryBuffer::getFile(logPath);
  StringRef logText = log ? (*log)->getBuffer() : StringRef();
  if (rc != 0)
    return emitError(loc, "ptxas failed on ")
               << ptxPath << " (exit " << rc << ")"
               << (message.empty() ? "" : ": " + message) << "\n"
               << logText,
           failure();
  // Per entry: "Compiling entry function 'NAME'", then "N bytes spill
  // stores" and "Used N registers".
  KernelInfo *current = nullptr;
  for (StringRef line : llvm::split(logText, '\n')) {
    size_t at = line.find("Compiling entry function '");
    if (at != StringRef::npos) {
      StringRef name = line.substr(at + 26).split('\'').first;
      current = nullptr;
      for (KernelInfo &info : module.kernels)
        if (info.name == name)
          current = &info;
      continue;
    }
    if (!current)
      continue;
    at = line.find("bytes spill stores");
    if (at != StringRef::npos) {
      StringRef before = line.take_front(at).rtrim();
      before = before.substr(before.rfind(' ') + 1);
      before.getAsInteger(10, current->spillBytes);
      module.spillBytes = std::max(module.spillBytes, current->spillBytes);
    }
    at = line.find("Used ");
    if (at != StringRef::npos)
      line.substr(at + 5).split(' ').first.getAsInteger(10, current->registers);
  }
  return module;
}

/// Refuses a function the CUDA target cannot compile yet: anything but one
/// attn.attention on arguments of the function (K and V may be
/// concatenations of arguments), scalar ops, and a return of the
/// attention's results (docs/CUDATarget.md). Functions with other tensor or
/// linalg ops around attention compile for the CPU only.
static constexpr const char *kContract =
    "the CUDA target compiles a function whose body is one attn.attention "
    "on its arguments (K and V may be tensor.concat of arguments or "
    "attn.gather_pages of a paged cache, Q, K and V attn.unpack or "
    "attn.rope of arguments and O go through an attn.pack; and "
    "scalar ops); compile this one for the CPU";

static LogicalResult checkSingleOpFunction(func::FuncOp func,
                                           attn::AttentionOp attention) {
  // The pack of O whose rows the kernels store in place.
  std::string reason;
  FailureOr<attn::PackOp> pack = getFusedPack(attention, reason);
  if (failed(pack))
    return attention.emitError("CUDA target: ") << reason;
  auto isFusedPack = [&](Operation *producer) {
    return *pack && pack->getOperation() == producer;
  };
  for (Operation &op : func.getBody().front()) {
    if (&op == attention.getOperation())
      continue;
    if (isFusedPack(&op))
      continue;
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (Value operand : ret.getOperands())
        if (operand.getDefiningOp() != attention.getOperation() &&
            !isFusedPack(operand.getDefiningOp()))
          return ret.emitError("CUDA target: @")
                 << func.getSymName()
                 << " returns a value that is not a result of its "
                    "attn.attention: "
                 << kContract;
      continue;
    }
    auto isShaped = [](Type type) { return isa<ShapedType>(type); };
    if (llvm::any_of(op.getResultTypes(), isShaped) &&
        !isSourceProducer(&op, attention))
      return op.emitError("CUDA target: '")
             << op.getName() << "' in @" << func.getSymName() << ": "
             << kContract;
  }
  return success();
}

/// The functions of `spec` that hold attn.attention ops, once per op.
static SmallVector<std::pair<func::FuncOp, attn::AttentionOp>>
attentionFunctions(ModuleOp spec) {
  SmallVector<std::pair<func::FuncOp, attn::AttentionOp>> functions;
  spec.walk([&](attn::AttentionOp op) {
    if (auto func = dyn_cast<func::FuncOp>(op->getParentOp()))
      functions.push_back({func, op});
  });
  return functions;
}

LogicalResult attune::cuda::checkSingleAttentionSpec(ModuleOp spec) {
  auto functions = attentionFunctions(spec);
  if (functions.size() != 1)
    return emitError(spec.getLoc(), "CUDA target: expected one function with "
                                    "one attn.attention, found ")
           << functions.size();
  return checkSingleOpFunction(functions[0].first, functions[0].second);
}

bool attune::cuda::isSingleAttentionSpec(ModuleOp spec) {
  ScopedDiagnosticHandler quiet(spec.getContext(),
                                [](Diagnostic &) { return success(); });
  return succeeded(checkSingleAttentionSpec(spec));
}

LogicalResult attune::cuda::checkSupportedSpec(ModuleOp spec) {
  auto functions = attentionFunctions(spec);
  if (functions.empty()) {
    // Kernelised attention alone: a program of linalg steps.
    bool linear = false;
    spec.walk([&](attn::LinearAttentionOp) { linear = true; });
    if (linear)
      return checkProgram(spec);
    // At the first function when there is one: the module's own location
    // is the file's 0:0.
    auto funcs = spec.getOps<func::FuncOp>();
    Location loc = funcs.empty() ? spec.getLoc() : (*funcs.begin()).getLoc();
    return emitError(loc, "CUDA target: expected one function with "
                          "attn.attention or attn.linear_attention, found 0 "
                          "(a CUDA artifact runs attention; the CPU target "
                          "compiles any function)");
  }
  for (auto [func, op] : functions)
    if (func != functions[0].first)
      return op.emitError("CUDA target: expected one function with "
                          "attn.attention, found them in @")
             << functions[0].first.getSymName() << " and @"
             << func.getSymName();
  if (isSingleAttentionSpec(spec))
    return success();
  // A program: its steps, outlined, report the one-attention diagnostics.
  return checkProgram(spec);
}

/// The split-KV decode kernel's split count for a launch, as a manifest
/// expression: the CTAs of one split are `rows` = B x `groups` (K/V heads,
/// or query heads without packing), and the splits fill the device's
/// resident CTAs of the decode kernel (`ctas`, a `resident_ctas` symbol: SMs
/// x CTAs per SM) once: floor(ctas / rows), in [1, maxSplits]. One wave
/// ends together; a count just past it leaves a last partial wave of long
/// CTAs, each limited by its own loads in flight (measured 10% slower:
/// bench/RESULTS.md, "Split-KV decode: one wave of CTAs").
static llvm::json::Value decodeSplits(const llvm::json::Value &batch,
                                      int64_t groups, int64_t maxSplits,
                                      llvm::StringRef ctas) {
  using llvm::json::Array;
  using llvm::json::Object;
  // (At least 1: a launch of no sequences has no CTAs, not a division by 0.)
  llvm::json::Value rows =
      Object{{"max", Array{Object{{"mul", Array{batch, groups}}}, 1}}};
  if (std::optional<int64_t> b = batch.getAsInteger())
    rows = std::max<int64_t>(*b * groups, 1);
  // (A json::Value holds a StringRef without copying it.)
  llvm::json::Value fill =
      Object{{"floordiv", Array{ctas.str(), std::move(rows)}}};
  return Object{
      {"min", Array{maxSplits, Object{{"max", Array{1, std::move(fill)}}}}}};
}

FailureOr<llvm::json::Object> attune::cuda::compileAttentionFunction(
    ModuleOp spec, const CUDAPipelineOptions &options, StringRef directory,
    StringRef assembler) {
  Location loc = spec.getLoc();
  // The spec's one attention function.
  SmallVector<std::pair<func::FuncOp, attn::AttentionOp>> functions;
  spec.walk([&](attn::AttentionOp op) {
    if (auto func = dyn_cast<func::FuncOp>(op->getParentOp()))
      functions.push_back({func, op});
  });
  // The tensors Q, K and V are read from: the manifest's names for them and
  // the plane workspaces of f32 inputs.
  std::string reason;
  std::optional<OperandSources> sources =
      getOperandSources(functions[0].second, reason);
  if (!sources)
    return functions[0].second.emitError("CUDA target: ") << reason;
  FailureOr<llvm::json::Object> manifest =
      describeFunction(functions[0].first, functions[0].second, *sources);
  if (failed(manifest))
    return failure();

  // With tile sizes given, compile those; otherwise try the candidates in
  // order of measured speed and keep the first that fits the chip's shared
  // memory and that ptxas assembles without spilling registers (masks and
  // score regions add live values), else the first in which only the decode
  // kernel spills, else the last that fits.
  SmallVector<std::pair<int64_t, int64_t>> candidates;
  if (options.tileQ > 0 || options.tileK > 0)
    candidates.push_back({options.tileQ, options.tileK});
  else
    candidates = candidateTileSizes(
        functions[0].second,
        selectsWgmma(functions[0].second, options.kernelMma()));
  attn::AttentionOp op = functions[0].second;
  std::string stem = functions[0].first.getSymName().str();
  int64_t sharedLimit = maxSharedBytes(options.chip);
  // A configuration: (Tq, Tk, the decode kernel's Tk cap or 0).
  using Tiles = std::tuple<int64_t, int64_t, int64_t>;
  auto compileTiles = [&](Tiles tiles) {
    CUDAPipelineOptions tiled;
    tiled.chip = options.chip.getValue();
    tiled.tileQ = std::get<0>(tiles);
    tiled.tileK = std::get<1>(tiles);
    tiled.decodeTileK = std::get<2>(tiles);
    tiled.mma = options.mma.getValue();
    return compileModule(spec, tiled, directory, stem, assembler);
  };
  std::optional<CompiledModule> compiled;
  std::optional<Tiles> kept, written;
  // The first configuration that fits and in which only the decode kernel
  // still spills: preferred to a forward kernel of smaller tiles (the decode
  // kernel runs only for Sq <= 16).
  std::optional<CompiledModule> decodeSpills;
  std::optional<Tiles> decodeSpillsTiles;
  auto onlyDecodeSpills = [](const CompiledModule &module) {
    return module.spillBytes > 0 &&
           llvm::all_of(module.kernels, [](const KernelInfo &k) {
             return k.spillBytes == 0 || k.role == attn::KernelRole::decode;
           });
  };
  int64_t leastShared = std::numeric_limits<int64_t>::max();
  for (auto [tq, tk] : candidates) {
    Tiles tiles{tq, tk, 0};
    FailureOr<CompiledModule> module = compileTiles(tiles);
    if (failed(module))
      return failure();
    // Only the decode kernel spills (its warp does the element-wise work of
    // 16 rows alone): try it with 16 keys per tile before giving up the
    // forward kernel's configuration.
    if (onlyDecodeSpills(*module)) {
      tiles = Tiles{tq, tk, 16};
      module = compileTiles(tiles);
      if (failed(module))
        return failure();
    }
    written = tiles;
    leastShared = std::min(leastShared, module->sharedBytes);
    if (module->sharedBytes > sharedLimit)
      continue;
    if (!decodeSpills && onlyDecodeSpills(*module)) {
      decodeSpills = *module;
      decodeSpillsTiles = tiles;
    }
    compiled = std::move(*module);
    kept = tiles;
    if (compiled->spillBytes == 0)
      break;
  }
  if (compiled && compiled->spillBytes > 0 && decodeSpills) {
    compiled = std::move(decodeSpills);
    kept = decodeSpillsTiles;
  }
  if (!compiled)
    return emitError(loc, "CUDA target: every tile configuration needs more "
                          "shared memory than a CTA of ")
           << options.chip << " has (at least " << leastShared << " bytes, "
           << "limit " << sharedLimit << ")";
  // The files on disk are those of the last candidate compiled.
  if (written != kept) {
    FailureOr<CompiledModule> module = compileTiles(*kept);
    if (failed(module))
      return failure();
    compiled = std::move(*module);
  }
  if (compiled->spillBytes > 0) {
    InFlightDiagnostic warning =
        emitWarning(loc, "CUDA target: every tile configuration spills "
                         "registers; kept tile sizes (")
        << std::get<0>(*kept) << ", " << std::get<1>(*kept) << "), where";
    for (const KernelInfo &kernel : compiled->kernels)
      if (kernel.spillBytes > 0)
        warning << " " << kernel.name << " spills " << kernel.spillBytes
                << " bytes";
  }

  // Sizes for the launch rules: a symbol where the spec is dynamic.
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  attn::LayoutDims dims = op.getLayoutDims();
  auto sizeOf = [&](int64_t d, StringRef symbol) -> llvm::json::Value {
    if (qType.isDynamicDim(d))
      return symbol.str();
    return qType.getDimSize(d);
  };
  llvm::json::Value batch = sizeOf(dims.batch, "B");
  llvm::json::Value seqQ = sizeOf(dims.seq, "Sq");
  int64_t heads = op.getNumQueryHeads();
  auto tensorParams = [&](StringRef list) {
    llvm::json::Array params;
    for (const llvm::json::Value &entry : *manifest->getArray(list)) {
      const llvm::json::Object *object = entry.getAsObject();
      StringRef name = *object->getString("name");
      if (object->getBoolean("scalar").value_or(false))
        params.push_back(llvm::json::Object{{"scalar_arg", name}});
      else
        params.push_back(llvm::json::Object{{"tensor", name}});
    }
    return params;
  };
  auto append = [](llvm::json::Array &to, llvm::json::Array from) {
    for (llvm::json::Value &value : from)
      to.push_back(std::move(value));
  };

  llvm::json::Array kernelEntries, workspace, symbols;
  bool hasDecode = llvm::any_of(compiled->kernels, [](const KernelInfo &k) {
    return k.role == attn::KernelRole::decode;
  });
  // The decode kernel's longest Sq and its warps per CTA, each a split
  // (its rows are one warp's: KernelPlan::splitWarps).
  int64_t decodeRows = 0, splitWarps = 1;
  for (const KernelInfo &info : compiled->kernels)
    if (info.role == attn::KernelRole::decode) {
      decodeRows = info.maxSq;
      splitWarps = info.threads / kWarpSize;
    }
  // f32 Q/K/V: bf16 planes of each (<name>_plane<p>), in workspaces of its
  // shape, written by the plane kernels and read by the attention kernels.
  int64_t planes = 0;
  for (const KernelInfo &info : compiled->kernels)
    planes = std::max(planes, info.planes);
  // Planes per source of Q, K and V (OperandSources.h), in its order; a
  // source is split from the argument the manifest names by its first role.
  auto sourceArgument = [&](StringRef role) {
    for (const OperandSource &source : sources->all)
      if (source.role == role)
        return sources->find(source.argument);
    llvm_unreachable("plane kernels split sources");
  };
  auto argumentShape = [&](StringRef name) -> const llvm::json::Array & {
    for (const llvm::json::Value &entry : *manifest->getArray("arguments"))
      if (entry.getAsObject()->getString("name") == name)
        return *entry.getAsObject()->getArray("shape");
    llvm_unreachable("the sources are named arguments");
  };
  // Operands rotated by attn.rope: a workspace <role>_rope of the rope
  // input's shape each, written by its rope kernel and read by the
  // attention kernels (after the results, before the planes).
  llvm::json::Array ropeParams;
  for (const OperandSource &source : sources->all) {
    if (!source.rope || source.ropeOnLoad)
      continue;
    std::string buffer = source.role + "_rope";
    const llvm::json::Object *argument = nullptr;
    for (const llvm::json::Value &entry : *manifest->getArray("arguments"))
      if (entry.getAsObject()->getString("name") ==
          sources->find(source.argument)->role)
        argument = entry.getAsObject();
    workspace.push_back(llvm::json::Object{
        {"name", buffer},
        {"dtype", argument->getString("dtype")->str()},
        {"shape", llvm::json::Array(*argument->getArray("shape"))}});
    ropeParams.push_back(llvm::json::Object{{"tensor", buffer}});
  }
  llvm::json::Array planeParams;
  if (planes > 0)
    for (const OperandSource &source : sources->all)
      for (int64_t p = 0; p < planes; ++p) {
        std::string buffer = source.role + "_plane" + std::to_string(p);
        workspace.push_back(llvm::json::Object{
            {"name", buffer},
            {"dtype", "bf16"},
            {"shape", llvm::json::Array(
                          argumentShape(sourceArgument(source.role)->role))}});
        planeParams.push_back(llvm::json::Object{{"tensor", buffer}});
      }
  for (const KernelInfo &info : compiled->kernels) {
    llvm::json::Object entry{{"name", info.name},
                             {"cubin", stem + ".cubin"},
                             {"ptx", stem + ".ptx"},
                             {"block", llvm::json::Array{info.threads, 1, 1}},
                             {"shared_bytes", info.sharedBytes},
                             {"registers", info.registers},
                             {"spill_bytes", info.spillBytes}};
    llvm::json::Array params, grid;
    if (info.role == attn::KernelRole::planes) {
      // grid = (ceil(S / rows), H, B) of the tensor split into planes.
      StringRef argument = sourceArgument(info.operand)->role;
      const llvm::json::Array &shape = argumentShape(argument);
      // A rotated source is split from its rope kernel's workspace.
      bool rotated = llvm::any_of(sources->all, [&](const OperandSource &s) {
        return s.rope && !s.ropeOnLoad && s.role == info.operand;
      });
      params.push_back(llvm::json::Object{
          {"tensor", rotated ? info.operand + "_rope" : argument.str()}});
      for (int64_t p = 0; p < info.planes; ++p)
        params.push_back(llvm::json::Object{
            {"tensor", info.operand + "_plane" + std::to_string(p)}});
      grid = llvm::json::Array{
          llvm::json::Array{llvm::json::Object{
              {"ceildiv", llvm::json::Array{shape[dims.seq], info.rows}}}},
          llvm::json::Array{shape[dims.head]},
          llvm::json::Array{shape[dims.batch]}};
    } else if (info.role == attn::KernelRole::rope) {
      // grid = (ceil(S / rows), H, B) of the rotated tensor, in the rope's
      // layout.
      attn::RopeOp rope;
      StringRef argument;
      for (const OperandSource &source : sources->all)
        if (source.rope && source.role == info.operand) {
          rope = source.rope;
          argument = sources->find(source.argument)->role;
        }
      attn::LayoutDims at = rope.getLayoutDims();
      const llvm::json::Array &shape = argumentShape(argument);
      append(params, tensorParams("arguments"));
      params.push_back(llvm::json::Object{{"tensor", info.operand + "_rope"}});
      grid = llvm::json::Array{
          llvm::json::Array{llvm::json::Object{
              {"ceildiv", llvm::json::Array{shape[at.seq], info.rows}}}},
          llvm::json::Array{shape[at.head]},
          llvm::json::Array{shape[at.batch]}};
    } else if (info.role == attn::KernelRole::fwd) {
      // grid = (ceil(Sq / Tq), Hq, B)
      append(params, tensorParams("arguments"));
      append(params, tensorParams("results"));
      append(params, llvm::json::Array(ropeParams));
      append(params, llvm::json::Array(planeParams));
      grid = llvm::json::Array{
          llvm::json::Array{llvm::json::Object{
              {"ceildiv", llvm::json::Array{seqQ, info.tileQ}}}},
          llvm::json::Array{heads}, llvm::json::Array{batch}};
      entry["tile_sizes"] = llvm::json::Array{info.tileQ, info.tileK};
      if (hasDecode)
        entry["if"] =
            llvm::json::Object{{"gt", llvm::json::Array{seqQ, decodeRows}}};
    } else if (info.role == attn::KernelRole::decode) {
      // grid = (splits, Hq, B); partial results to the workspace.
      append(params, tensorParams("arguments"));
      params.push_back(llvm::json::Object{{"tensor", "o_part"}});
      params.push_back(llvm::json::Object{{"tensor", "lse_part"}});
      // (Where its split warps merge in the CTA.)
      if (splitWarps > 1)
        append(params, tensorParams("results"));
      append(params, llvm::json::Array(ropeParams));
      append(params, llvm::json::Array(planeParams));
      // Not a name the spec's sizes can take (attn.dims names B, Sq and Sk
      // here; the others are capture<i>_d<j>, cu_seqlens_q, ...).
      std::string splits = "decode_splits", ctas = "decode_ctas";
      symbols.push_back(
          llvm::json::Object{{"name", ctas}, {"resident_ctas", info.name}});
      symbols.push_back(llvm::json::Object{
          {"name", splits},
          {"value",
           decodeSplits(batch, heads / info.headsPerCTA, info.splits, ctas)}});
      grid = llvm::json::Array{llvm::json::Array{splits},
                               llvm::json::Array{heads / info.headsPerCTA},
                               llvm::json::Array{batch}};
      entry["tile_sizes"] = llvm::json::Array{info.tileQ, info.tileK};
      entry["if"] =
          llvm::json::Object{{"le", llvm::json::Array{seqQ, decodeRows}}};
      // Each of the CTA's warps is a split (a workspace dimension is an
      // integer or a symbol).
      std::string partials = splits;
      if (splitWarps > 1) {
        partials = "decode_partials";
        symbols.push_back(llvm::json::Object{
            {"name", partials},
            {"value", llvm::json::Object{
                          {"mul", llvm::json::Array{splits, splitWarps}}}}});
      }
      workspace.push_back(llvm::json::Object{
          {"name", "o_part"},
          {"dtype", "f32"},
          {"shape", llvm::json::Array{partials, batch, heads, seqQ,
                                      op.getValueHeadSize()}}});
      workspace.push_back(llvm::json::Object{
          {"name", "lse_part"},
          {"dtype", "f32"},
          {"shape", llvm::json::Array{partials, batch, heads, seqQ}}});
    } else {
      // combine: grid = (Sq, Hq, B), one thread per feature.
      params.push_back(llvm::json::Object{{"tensor", "o_part"}});
      params.push_back(llvm::json::Object{{"tensor", "lse_part"}});
      append(params, tensorParams("results"));
      grid =
          llvm::json::Array{llvm::json::Array{seqQ}, llvm::json::Array{heads},
                            llvm::json::Array{batch}};
      entry["if"] =
          llvm::json::Object{{"le", llvm::json::Array{seqQ, decodeRows}}};
      if (splitWarps > 1) {
        // Only after a decode of several CTAs per row group (a launch of
        // one CTA per row group merges in the CTA): Sq <= decodeRows and
        // decode_splits >= 2. A condition compares two symbols or
        // integers, so the two are one symbol, Sq + (decodeRows + 1) (2 -
        // min(decode_splits, 2)), at most decodeRows.
        using llvm::json::Array;
        using llvm::json::Object;
        std::string combineRows = "decode_combine_rows";
        Object oneCTA{
            {"sub", Array{2, Object{{"min", Array{"decode_splits", 2}}}}}};
        Object rows{
            {"add", Array{seqQ, Object{{"mul", Array{decodeRows + 1,
                                                     std::move(oneCTA)}}}}}};
        symbols.push_back(
            Object{{"name", combineRows}, {"value", std::move(rows)}});
        entry["if"] = Object{{"le", Array{combineRows, decodeRows}}};
      }
    }
    entry["grid"] = std::move(grid);
    entry["params"] = std::move(params);
    kernelEntries.push_back(std::move(entry));
  }

  llvm::json::Object object = std::move(*manifest);
  // After the interface's own (B of a varlen batch), which these may use.
  if (llvm::json::Array *interface = object.getArray("symbols")) {
    for (llvm::json::Value &symbol : symbols)
      interface->push_back(std::move(symbol));
  } else if (!symbols.empty()) {
    object["symbols"] = std::move(symbols);
  }
  object["workspace"] = std::move(workspace);
  object["kernels"] = std::move(kernelEntries);
  return object;
}

LogicalResult
attune::cuda::writeCUDAArtifacts(ModuleOp spec,
                                 const CUDAPipelineOptions &options,
                                 StringRef directory, StringRef ptxas) {
  Location loc = spec.getLoc();
  if (!isSupportedChip(options.chip))
    return emitError(loc, "CUDA target: unsupported chip '")
           << options.chip << "' (expected sm_80 or sm_90a)";
  if (failed(checkSupportedSpec(spec)))
    return failure();
  std::string assembler = findPtxas(ptxas);
  if (assembler.empty())
    return emitError(loc, "CUDA target: ptxas not found (set ATTUNE_PTXAS "
                          "or install the CUDA toolkit)");
  if (std::error_code ec = llvm::sys::fs::create_directories(directory))
    return emitError(loc, "cannot create '")
           << directory << "': " << ec.message();

  FailureOr<llvm::json::Object> body =
      isSingleAttentionSpec(spec)
          ? compileAttentionFunction(spec, options, directory, assembler)
          : compileProgram(spec, options, directory, assembler);
  if (failed(body))
    return failure();

  auto writeFile = [&](StringRef name, StringRef contents) -> LogicalResult {
    SmallString<128> path(directory);
    llvm::sys::path::append(path, name);
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    if (ec)
      return emitError(loc, "cannot write '") << path << "': " << ec.message();
    os << contents;
    return success();
  };

  llvm::json::Object top;
  top["format"] = "attune-cuda";
  top["version"] = 1;
  top["chip"] = options.chip.getValue();
  for (auto &[key, value] : *body)
    top[key] = std::move(value);
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(top))) << "\n";
  if (failed(writeFile("manifest.json", text)))
    return failure();

  std::string generic;
  llvm::raw_string_ostream gos(generic);
  spec->print(gos, OpPrintingFlags().printGenericOpForm());
  return writeFile("spec.mlir", generic);
}
