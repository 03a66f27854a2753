//===- attunec.cpp - Compile attention specs ahead of time ------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
//   attunec SPEC --target=cpu [--cpu=host] -o OUT.o
//   attunec SPEC --target=cuda:sm_90a [--gpu-element-type=bf16] -o DIR
//
// CPU: writes OUT.o, a relocatable object exporting `_mlir_ciface_<name>` for
// every public function of SPEC, and OUT.h, the C header declaring them.
// `--emit=mlir` / `--emit=llvm` print the lowered module instead.
// CUDA (sm_80, sm_90a): writes DIR with PTX, cubins (ptxas) and a manifest
// (docs/CUDAArtifacts.md); `--emit=mlir` prints the kernels instead.
//
//===----------------------------------------------------------------------===//

#include "attune/InitAll.h"
#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/Support/ParseSource.h"
#include "attune/Target/CPU/CPUPipeline.h"
#include "attune/Target/CUDA/CUDAPipeline.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace llvm;

static cl::opt<std::string> specPath(cl::Positional, cl::desc("<spec.mlir>"),
                                     cl::init("-"));
static cl::opt<std::string> outputPath("o", cl::desc("Output object file"),
                                       cl::value_desc("file"));
static cl::opt<std::string>
    target("target", cl::desc("Target: cpu, cuda:sm_80 or cuda:sm_90a"),
           cl::init("cpu"));
static cl::opt<std::string> gpuElementType(
    "gpu-element-type",
    cl::desc("CUDA: retype an f32 spec's Q, K, V and O to bf16 or f16 (the "
             "tensor cores' types) before compiling"),
    cl::init(""));
static cl::opt<int64_t>
    tileQ("tile-q", cl::desc("CUDA: queries per CTA (0: per head size)"),
          cl::init(0));
static cl::opt<int64_t>
    tileK("tile-k", cl::desc("CUDA: keys per k-tile (0: per head size)"),
          cl::init(0));
static cl::opt<std::string>
    mmaKind("mma",
            cl::desc("CUDA sm_90a: tensor-core instructions, auto (default: "
                     "wgmma where it measured faster), wgmma (wherever the "
                     "kernel allows it) or sync (mma.sync only)"),
            cl::init("auto"));
static cl::opt<bool>
    cluster("cluster",
            cl::desc("Sort bucketed attention by bucket (attn-cluster, "
                     "default on; --cluster=false keeps the masked form)"),
            cl::init(true));
static cl::opt<std::string>
    ptxasPath("ptxas", cl::desc("CUDA: the ptxas to run (default: "
                                "$ATTUNE_PTXAS, /usr/local/cuda/bin/ptxas, "
                                "PATH)"),
              cl::init(""));
static cl::opt<std::string> cpuName("cpu",
                                    cl::desc("CPU to compile for (LLVM name, "
                                             "or 'host')"),
                                    cl::init("host"));
static cl::opt<std::string>
    pipeline("pipeline", cl::desc("CPU lowering: fused (default) or reference"),
             cl::init("fused"));
static cl::opt<std::string> emit("emit",
                                 cl::desc("What to write: obj (object + C "
                                          "header), mlir or llvm (to -o or "
                                          "stdout)"),
                                 cl::init("obj"));

static int fail(const Twine &message) {
  errs() << "attunec: error: " << message << "\n";
  return 1;
}

/// Changes the element type of the Q, K, V and O of every attn.attention
/// whose Q, K, V are function arguments (or the concatenations, gathers of
/// pages, unpacks or ropes of them the CUDA kernels read) and whose O is
/// returned directly or through an attn.pack (the spec convention), in place:
/// an f32 spec becomes the same computation on 16-bit inputs. Captures are
/// untouched.
static mlir::LogicalResult retypeAttention(mlir::ModuleOp module,
                                           mlir::Type element) {
  using mlir::BlockArgument, mlir::FunctionType, mlir::OpOperand,
      mlir::RankedTensorType, mlir::WalkResult;
  namespace func = mlir::func;
  WalkResult result = module.walk([&](attune::attn::AttentionOp op) {
    auto func = mlir::dyn_cast<func::FuncOp>(op->getParentOp());
    if (!func) {
      op.emitError("--gpu-element-type: attn.attention must be in a func.func");
      return WalkResult::interrupt();
    }
    auto retype = [&](mlir::Type type) {
      return mlir::cast<RankedTensorType>(type).clone(element);
    };
    // Q, K and V, or the parts of a tensor.concat or the cache of an
    // attn.gather_pages read as K or V (retyped with it).
    SmallVector<mlir::Value> sources;
    for (mlir::Value operand : {op.getQuery(), op.getKey(), op.getValue()}) {
      // The input of an attn.rope (its result has the input's type).
      if (auto rope = operand.getDefiningOp<attune::attn::RopeOp>()) {
        if (rope.getType().getElementType() != element)
          rope.getResult().setType(retype(rope.getType()));
        sources.push_back(rope.getInput());
        continue;
      }
      // The packed tensor of an attn.unpack (a varlen batch).
      if (auto unpack = operand.getDefiningOp<attune::attn::UnpackOp>()) {
        if (unpack.getType().getElementType() != element)
          unpack.getResult().setType(retype(unpack.getType()));
        sources.push_back(unpack.getPacked());
        continue;
      }
      auto gather = operand.getDefiningOp<attune::attn::GatherPagesOp>();
      if (gather && operand != op.getQuery()) {
        if (gather.getType().getElementType() != element)
          gather.getResult().setType(retype(gather.getType()));
        sources.push_back(gather.getCache());
        continue;
      }
      auto concat = operand.getDefiningOp<mlir::tensor::ConcatOp>();
      if (!concat || operand == op.getQuery()) {
        sources.push_back(operand);
        continue;
      }
      if (concat.getType().getElementType() != element)
        concat.getResult().setType(retype(concat.getType()));
      llvm::append_range(sources, concat.getInputs());
    }
    for (mlir::Value source : sources) {
      auto arg = mlir::dyn_cast<BlockArgument>(source);
      if (!arg || arg.getOwner()->getParentOp() != func) {
        op.emitError("--gpu-element-type: Q, K and V must be function "
                     "arguments or attn.unpack or attn.rope of one, or K and V "
                     "tensor.concat of them or attn.gather_pages of a cache "
                     "that is one");
        return WalkResult::interrupt();
      }
      for (OpOperand &use : arg.getUses())
        if (use.getOwner() != op &&
            !mlir::isa<mlir::tensor::DimOp, mlir::tensor::ConcatOp,
                       attune::attn::GatherPagesOp, attune::attn::UnpackOp,
                       attune::attn::RopeOp>(use.getOwner())) {
          op.emitError("--gpu-element-type: Q, K and V may only be used by "
                       "the attention");
          return WalkResult::interrupt();
        }
      if (mlir::cast<RankedTensorType>(arg.getType()).getElementType() !=
          element)
        arg.setType(retype(arg.getType()));
    }
    mlir::Value output = op.getOutput();
    for (OpOperand &use : output.getUses()) {
      // O packed back (a varlen batch): the pack's result is returned.
      if (auto pack = mlir::dyn_cast<attune::attn::PackOp>(use.getOwner());
          pack && use.getOperandNumber() == 0) {
        pack.getResult().setType(retype(pack.getType()));
        continue;
      }
      if (!mlir::isa<func::ReturnOp>(use.getOwner())) {
        op.emitError("--gpu-element-type: O may only be returned, or packed "
                     "by attn.pack and returned");
        return WalkResult::interrupt();
      }
    }
    output.setType(retype(output.getType()));
    SmallVector<mlir::Type> results;
    for (mlir::Value v : func.getBody().front().getTerminator()->getOperands())
      results.push_back(v.getType());
    func.setType(FunctionType::get(module.getContext(),
                                   func.getBody().front().getArgumentTypes(),
                                   results));
    return WalkResult::advance();
  });
  return mlir::failure(result.wasInterrupted());
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "attunec: compile attention specs\n");
  StringRef targetName = target;
  bool isCUDA = targetName.consume_front("cuda:");
  if (!isCUDA && target != "cpu")
    return fail("unsupported target '" + target +
                "' (expected cpu, cuda:sm_80 or cuda:sm_90a)");
  if (isCUDA && !attune::cuda::isSupportedChip(targetName))
    return fail("unsupported CUDA chip '" + targetName +
                "' (expected sm_80 or sm_90a)");
  if (!is_contained({"obj", "mlir", "llvm"}, emit.getValue()))
    return fail("unknown --emit '" + emit + "' (expected obj, mlir or llvm)");
  if (isCUDA && emit == "llvm")
    return fail("--emit=llvm is for the CPU target; the CUDA target writes "
                "PTX into its output directory");
  if (emit == "obj" && outputPath.empty())
    return fail(isCUDA ? "-o DIR is required for the CUDA target"
                       : "-o OUT.o is required to write an object file");
  if (!gpuElementType.empty() && !isCUDA)
    return fail("--gpu-element-type is for the CUDA target");
  if (!is_contained({"", "bf16", "f16"}, gpuElementType.getValue()))
    return fail("--gpu-element-type must be bf16 or f16, got '" +
                gpuElementType + "'");
  if (!is_contained({"auto", "wgmma", "sync"}, mmaKind.getValue()))
    return fail("--mma must be auto, wgmma or sync, got '" + mmaKind + "'");
  if (mmaKind == "wgmma" && targetName != "sm_90a")
    return fail("--mma=wgmma needs the cuda:sm_90a target");
  if (!isCUDA) {
    std::string error = attune::cpu::checkCPUName(cpuName);
    if (!error.empty())
      return fail("--cpu: " + error);
  }

  mlir::DialectRegistry registry;
  attune::registerAllDialects(registry);
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  mlir::registerOpenMPDialectTranslation(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // A diagnostic names its source location; the op printed on its own (the
  // default note, in generic form with unknown operands) would only
  // confuse.
  context.printOpOnDiagnostic(false);

  SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context, errs());
  auto file = MemoryBuffer::getFileOrSTDIN(specPath);
  if (!file)
    return fail("cannot read '" + specPath + "': " +
                file.getError().message());
  sourceMgr.AddNewSourceBuffer(std::move(*file), SMLoc());
  mlir::OwningOpRef<mlir::ModuleOp> spec =
      attune::parseScreenedSourceFile(sourceMgr, &context);
  if (!spec)
    return 1;

  if (isCUDA) {
    // Refuse what the CUDA target does not compile into artifacts before
    // retyping it.
    if (emit != "mlir" && failed(attune::cuda::checkSupportedSpec(*spec)))
      return 1;
    if (!gpuElementType.empty() && emit != "mlir" &&
        !attune::cuda::isSingleAttentionSpec(*spec))
      return fail("--gpu-element-type retypes a function of one "
                  "attn.attention; this one is a program of several steps "
                  "(docs/CUDATarget.md, \"Programs\"): compile it as written");
    if (!gpuElementType.empty() &&
        failed(retypeAttention(*spec, gpuElementType == "bf16"
                                          ? mlir::Type(mlir::BFloat16Type::get(
                                                &context))
                                          : mlir::Float16Type::get(&context))))
      return 1;
    attune::cuda::CUDAPipelineOptions options;
    options.chip = targetName.str();
    options.tileQ = tileQ;
    options.tileK = tileK;
    options.mma = mmaKind.getValue();
    options.cluster = cluster;
    if (emit == "mlir") {
      mlir::PassManager pm(&context);
      attune::cuda::buildCUDAKernelPipeline(pm, options);
      if (failed(pm.run(*spec)))
        return 1;
      std::error_code ec;
      ToolOutputFile out(outputPath.empty() ? "-" : outputPath.getValue(), ec,
                         sys::fs::OF_None);
      if (ec)
        return fail("cannot open '" + outputPath + "': " + ec.message());
      spec->print(out.os());
      out.keep();
      return 0;
    }
    return failed(attune::cuda::writeCUDAArtifacts(*spec, options, outputPath,
                                                   ptxasPath))
               ? 1
               : 0;
  }

  // The header describes the spec's own signatures, so write it first.
  std::string header;
  if (emit == "obj") {
    raw_string_ostream os(header);
    SmallString<64> guard(sys::path::stem(outputPath));
    std::string guardName = "ATTUNE_" + guard.str().upper() + "_H";
    for (char &c : guardName)
      if (!isAlnum(c))
        c = '_';
    if (failed(attune::cpu::emitCHeader(*spec, guardName, os)))
      return 1;
  }

  mlir::OwningOpRef<mlir::ModuleOp> lowered =
      mlir::cast<mlir::ModuleOp>((*spec)->clone());
  attune::cpu::CPUPipelineOptions options;
  options.mode = pipeline;
  options.cpu = cpuName;
  options.cluster = cluster;
  if (failed(attune::cpu::lowerToLLVMDialect(*lowered, options)))
    return 1;

  if (emit != "obj") {
    std::error_code ec;
    ToolOutputFile out(outputPath.empty() ? "-" : outputPath.getValue(), ec,
                       sys::fs::OF_None);
    if (ec)
      return fail("cannot open '" + outputPath + "': " + ec.message());
    if (emit == "mlir") {
      lowered->print(out.os());
    } else {
      LLVMContext llvmContext;
      auto module = mlir::translateModuleToLLVMIR(*lowered, llvmContext);
      if (!module)
        return 1;
      module->print(out.os(), nullptr);
    }
    out.keep();
    return 0;
  }

  if (failed(attune::cpu::emitObjectFile(*lowered, outputPath, cpuName)))
    return 1;
  SmallString<128> headerPath(outputPath);
  sys::path::replace_extension(headerPath, "h");
  std::error_code ec;
  ToolOutputFile headerFile(headerPath, ec, sys::fs::OF_None);
  if (ec)
    return fail("cannot open '" + headerPath + "': " + ec.message());
  headerFile.os() << header;
  headerFile.keep();
  return 0;
}
