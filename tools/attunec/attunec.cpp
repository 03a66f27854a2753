//===- attunec.cpp - Compile attention specs ahead of time ------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
//   attunec SPEC --target=cpu [--cpu=host] -o OUT.o
//
// Writes OUT.o, a relocatable object exporting `_mlir_ciface_<name>` for
// every public function of SPEC, and OUT.h, the C header declaring them.
// `--emit=mlir` / `--emit=llvm` print the lowered module instead.
//
//===----------------------------------------------------------------------===//

#include "attune/InitAll.h"
#include "attune/Target/CPU/CPUPipeline.h"

#include "mlir/IR/BuiltinOps.h"
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
static cl::opt<std::string> target("target", cl::desc("Target: cpu"),
                                   cl::init("cpu"));
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

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "attunec: compile attention specs\n");
  if (target != "cpu")
    return fail("unsupported target '" + target + "' (expected 'cpu')");
  if (!is_contained({"obj", "mlir", "llvm"}, emit.getValue()))
    return fail("unknown --emit '" + emit + "' (expected obj, mlir or llvm)");
  if (emit == "obj" && outputPath.empty())
    return fail("-o OUT.o is required to write an object file");

  mlir::DialectRegistry registry;
  attune::registerAllDialects(registry);
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  mlir::registerOpenMPDialectTranslation(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();

  SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context, errs());
  auto file = MemoryBuffer::getFileOrSTDIN(specPath);
  if (!file)
    return fail("cannot read '" + specPath + "': " +
                file.getError().message());
  sourceMgr.AddNewSourceBuffer(std::move(*file), SMLoc());
  mlir::OwningOpRef<mlir::ModuleOp> spec =
      mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
  if (!spec)
    return 1;

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
