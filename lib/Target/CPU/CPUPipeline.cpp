//===- CPUPipeline.cpp - attn specs to LLVM for x86 CPUs --------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "attune/Target/CPU/CPUPipeline.h"

#include "attune/Dialect/Attn/Transforms/Passes.h"
#include "attune/Support/PassOptions.h"
#include "attune/Target/CPU/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

#include <cstdint>
#include <cstring>

#include <functional>

using namespace mlir;
using namespace attune::cpu;

static void initializeNativeTarget() {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
}

void attune::cpu::buildCPUPipeline(OpPassManager &pm,
                                   const CPUPipelineOptions &options) {
  pm.addPass(createAttnCPUCheckLimits());
  if (options.mode == "reference") {
    // Attention to linalg on tensors.
    pm.addPass(attn::createAttnLowerToReference());
  } else {
    // Bucketed attention over rows sorted by bucket, so that the tile
    // classifier skips the tiles of different buckets.
    if (options.cluster)
      pm.addPass(attn::createAttnCluster());
    // The target-independent tiled form, then the CPU loop nest.
    attn::AttnTileOptions tiling;
    tiling.tileQ = options.tileQ;
    tiling.tileK = options.tileK;
    tiling.fitKeys = true;
    pm.addPass(attn::createAttnTile(tiling));
    pm.addPass(attn::createAttnSparsify());
    ConvertAttnToCPUOptions convert;
    convert.vectorWidth = options.vectorWidth
                              ? options.vectorWidth
                              : getNativeVectorWidth(options.cpu);
    pm.addPass(createConvertAttnToCPU(convert));
    // Ropes the conversion did not fuse into a query or key load.
    pm.addPass(attn::createAttnLowerRope());
    pm.addPass(attn::createAttnLowerMerge());
    // Bucket ids (a contraction and an argmax) and block maps.
    pm.addPass(attn::createAttnLowerHashing());
    pm.addPass(attn::createAttnLowerBlockSelection());
    pm.addPass(attn::createAttnLowerLinearAttention());
    // Gathers not fused into a key or value load, and appends.
    pm.addPass(attn::createAttnLowerPages());
    // Unpacks not fused into a load, and packs.
    pm.addPass(attn::createAttnLowerVarlen());
  }
  // Elementwise arith/math ops on tensors (around the attention ops) as
  // linalg.generic, which bufferizes.
  pm.addPass(createConvertElementwiseToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  // Tensors to buffers. Entry points return nothing: the caller allocates
  // the results and passes them as trailing out-parameters, so the runtime
  // and C callers own all memory.
  pm.addPass(createAttnCPUReadOnlyArguments());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createAttnCPUEntryPoints());
  bufferization::buildBufferDeallocationPipeline(pm);

  // Strided copies (of tensor.concat, tensor.insert_slice) as loops, not
  // calls of a runtime function.
  pm.addPass(createAttnCPUCopiesToLinalg());
  pm.addPass(createAttnCPUInnermostParallel());
  // The linalg ops outside the kernels on threads too.
  pm.addPass(createAttnCPUParallelLinalg());
  // Loops, then the LLVM dialect; parallel loops become OpenMP.
  pm.addPass(createConvertSCFToOpenMPPass());
  // Threads take iterations of unequal cost in shrinking ranges.
  pm.addPass(createAttnCPUDynamicSchedule());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // Memref ops (memref.alloca_scope in particular, whose region must stay a
  // single block) go to LLVM before structured control flow becomes blocks.
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertVectorToLLVMPass());
  // Math ops LLVM has intrinsics for first; libm calls for the rest (tanh,
  // erf, ...), which math-to-libm requires to be all that is left.
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

static std::string checkPipelineOptions(const CPUPipelineOptions &options);

void attune::cpu::registerCPUPipeline() {
  registerAttnCPUPasses();
  static constexpr attune::OptionSpec specs[] = {
      {"mode", attune::OptionKind::String},
      {"tile-q", attune::OptionKind::Integer},
      {"tile-k", attune::OptionKind::Integer},
      {"vector-width", attune::OptionKind::Integer},
      {"cluster", attune::OptionKind::Bool},
      {"cpu", attune::OptionKind::String}};
  attune::registerCheckedPipeline<CPUPipelineOptions>(
      "attn-cpu-pipeline",
      "Lower attention specs to the LLVM dialect for x86 CPUs", specs,
      buildCPUPipeline, checkPipelineOptions);
}

int64_t attune::cpu::getNativeVectorWidth(StringRef cpu) {
  llvm::StringMap<bool> features;
  if (cpu == "host") {
    features = llvm::sys::getHostCPUFeatures();
  } else {
    llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
    std::string error;
    initializeNativeTarget();
    const llvm::Target *target =
        llvm::TargetRegistry::lookupTarget(triple, error);
    if (!target)
      return 8;
    std::unique_ptr<llvm::MCSubtargetInfo> info(
        target->createMCSubtargetInfo(triple, cpu, ""));
    if (!info)
      return 8;
    return info->checkFeatures("+avx512f") ? 16 : 8;
  }
  return features.lookup("avx512f") ? 16 : 8;
}

std::string attune::cpu::checkCPUName(StringRef cpu) {
  if (cpu == "host")
    return "";
  initializeNativeTarget();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return "cannot find an LLVM target for " + triple.str() + ": " + error;
  // LLVM warns about an unknown CPU on every use and aborts on one that
  // cannot run 64-bit code, so ask its processor table first.
  std::unique_ptr<llvm::MCSubtargetInfo> generic(
      target->createMCSubtargetInfo(triple, "", ""));
  if (!generic)
    return "cannot describe the CPUs of " + triple.str();
  auto isUsable = [&](StringRef name) {
    if (!generic->isCPUStringValid(name))
      return false;
    if (triple.getArch() != llvm::Triple::x86_64)
      return true;
    std::unique_ptr<llvm::MCSubtargetInfo> info(
        target->createMCSubtargetInfo(triple, name, ""));
    return info && info->checkFeatures("+64bit");
  };
  if (isUsable(cpu))
    return "";
  std::string message = "unknown CPU '" + cpu.str() + "' for " + triple.str() +
                        "; expected 'host' or one of:";
  for (const llvm::SubtargetSubTypeKV &desc :
       generic->getAllProcessorDescriptions())
    if (isUsable(desc.Key))
      message += " " + std::string(desc.Key);
  return message;
}

/// Values a pipeline option may not take, and why.
static std::string checkPipelineOptions(const CPUPipelineOptions &options) {
  if (options.mode != "fused" && options.mode != "reference")
    return "unknown CPU pipeline mode '" + options.mode +
           "' (expected 'fused' or 'reference')";
  if (options.tileQ <= 0 || options.tileK <= 0)
    return "tile-q and tile-k must be positive, got " +
           std::to_string(options.tileQ) + " and " +
           std::to_string(options.tileK);
  if (!llvm::is_contained({int64_t(0), int64_t(8), int64_t(16)},
                          int64_t(options.vectorWidth)))
    return "vector-width must be 0 (from the CPU), 8 or 16, got " +
           std::to_string(options.vectorWidth);
  return checkCPUName(options.cpu);
}

LogicalResult attune::cpu::validatePipelineOptions(
    const CPUPipelineOptions &options, Location loc) {
  std::string error = checkPipelineOptions(options);
  if (!error.empty())
    return emitError(loc) << error;
  return success();
}

LogicalResult
attune::cpu::lowerToLLVMDialect(ModuleOp module,
                                const CPUPipelineOptions &options) {
  if (failed(validatePipelineOptions(options, module.getLoc())))
    return failure();
  PassManager pm(module->getName());
  buildCPUPipeline(pm, options);
  return pm.run(module);
}

/// Registers what translating the LLVM dialect to LLVM IR needs.
static void registerTranslations(ModuleOp module) {
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  module->getContext()->appendDialectRegistry(registry);
}


StringRef attune::cpu::getOpenMPLibraryPath() { return ATTUNE_OPENMP_LIBRARY; }

/// f32 -> bf16, rounded to nearest even (NaNs stay quiet NaNs): the libcall
/// `__truncsfbf2` that LLVM emits for a scalar `fptrunc` to bf16 on x86
/// hosts without AVX-512 BF16, and that libgcc before GCC 13 lacks. Its ABI
/// returns the bf16 in the low 16 bits of xmm0: a float whose low bits are
/// the result.
static float truncFloatToBF16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  uint32_t rounded = (bits & 0x7fffffffu) > 0x7f800000u
                         ? (bits >> 16) | 0x40u
                         : (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
  float result;
  std::memcpy(&result, &rounded, sizeof(result));
  return result;
}

llvm::Expected<std::unique_ptr<ExecutionEngine>>
attune::cpu::createJIT(ModuleOp llvmModule) {
  initializeNativeTarget();
  registerTranslations(llvmModule);
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return builder.takeError();
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto machine = builder->createTargetMachine();
  if (!machine)
    return machine.takeError();
  ExecutionEngineOptions options;
  StringRef libraries[] = {getOpenMPLibraryPath()};
  options.sharedLibPaths = libraries;
  // `transformer` is a function_ref: the std::function it refers to must
  // outlive ExecutionEngine::create, which runs it.
  std::function<llvm::Error(llvm::Module *)> optimize =
      makeOptimizingTransformer(3, 0, machine->get());
  options.transformer = optimize;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  auto engine =
      ExecutionEngine::create(llvmModule, options, std::move(*machine));
  if (!engine)
    return engine.takeError();
  (*engine)->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    symbols[interner("__truncsfbf2")] = {
        llvm::orc::ExecutorAddr::fromPtr(&truncFloatToBF16),
        llvm::JITSymbolFlags::Exported};
    return symbols;
  });
  return engine;
}

LogicalResult attune::cpu::emitObjectFile(ModuleOp llvmModule, StringRef path,
                                          StringRef cpu) {
  initializeNativeTarget();
  registerTranslations(llvmModule);
  Location loc = llvmModule.getLoc();

  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return emitError(loc, "cannot find an LLVM target for ")
           << triple.str() << ": " << error;

  std::string cpuName = cpu.str();
  std::string features;
  if (cpu == "host") {
    cpuName = llvm::sys::getHostCPUName().str();
    llvm::SubtargetFeatures hostFeatures;
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      hostFeatures.AddFeature(feature.first(), feature.second);
    features = hostFeatures.getString();
  }
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpuName, features, llvm::TargetOptions(), llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return emitError(loc, "cannot create a target machine for CPU '")
           << cpuName << "'";

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> module =
      translateModuleToLLVMIR(llvmModule, llvmContext);
  if (!module)
    return emitError(loc, "cannot translate the module to LLVM IR");
  module->setTargetTriple(triple);
  module->setDataLayout(machine->createDataLayout());
  if (llvm::Error err = makeOptimizingTransformer(3, 0, machine.get())(
          module.get()))
    return emitError(loc, "LLVM optimisation failed: ")
           << llvm::toString(std::move(err));

  std::error_code ec;
  auto out = std::make_unique<llvm::ToolOutputFile>(path, ec,
                                                    llvm::sys::fs::OF_None);
  if (ec)
    return emitError(loc, "cannot open '") << path << "': " << ec.message();
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, out->os(), nullptr,
                                   llvm::CodeGenFileType::ObjectFile))
    return emitError(loc, "the target cannot emit object files");
  codegen.run(*module);
  out->keep();
  return success();
}
