//===- Runner.cpp - Run a spec on the CPU, check and time it ----*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "attune/Runner/Runner.h"

#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/InitAll.h"
#include "attune/Oracle/Oracle.h"
#include "attune/Runner/Npy.h"
#include "attune/Support/ParseSource.h"
#include "attune/Target/CPU/CPUPipeline.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SourceMgr.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <unistd.h>

using namespace mlir;
using namespace attune;
using namespace attune::runner;

namespace {

/// One argument or result of the entry function in host memory: a tensor
/// (as the storage behind a memref descriptor) or a scalar.
struct HostValue {
  Type type;
  Type elementType;
  SmallVector<int64_t> shape;
  bool isTensor = false;
  size_t elementSize = 0;
  /// 64-byte aligned element storage (at least one element).
  std::unique_ptr<char, decltype(&std::free)> data{nullptr, &std::free};
  /// Memref descriptor: allocated, aligned, offset, sizes[rank],
  /// strides[rank], all 64-bit.
  SmallVector<int64_t> descriptor;

  /// What the C interface takes: a pointer to the descriptor (tensors) or
  /// the scalar itself, stored at `payload()`.
  void *payload() {
    return isTensor ? static_cast<void *>(descriptor.data()) : data.get();
  }

  /// The product of `shape`; only called once `storageBytes` has checked
  /// that it does not overflow.
  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }

  /// Bytes of storage for `shape` (at least one element, rounded up to 64),
  /// or nullopt if the element count or byte size overflows int64.
  std::optional<int64_t> storageBytes() const {
    int64_t n = 1;
    for (int64_t d : shape)
      if (llvm::MulOverflow(n, d, n))
        return std::nullopt;
    int64_t bytes;
    if (llvm::MulOverflow(std::max<int64_t>(n, 1), int64_t(elementSize),
                          bytes) ||
        llvm::AddOverflow(std::max<int64_t>(bytes, 64), int64_t(63), bytes))
      return std::nullopt;
    return bytes / 64 * 64;
  }
};

/// Bytes per element of a supported element type; 0 if unsupported.
size_t byteSize(Type type) {
  if (type.isIndex())
    return 8;
  if (type.isInteger(1))
    return 1;
  if (type.isIntOrFloat())
    return (type.getIntOrFloatBitWidth() + 7) / 8;
  return 0;
}

float bf16ToFloat(uint16_t bits) {
  uint32_t word = uint32_t(bits) << 16;
  float f;
  std::memcpy(&f, &word, 4);
  return f;
}

/// The value of element `idx` of `v` as a double (exact for every type).
double readElement(const HostValue &v, int64_t idx) {
  const char *p = v.data.get() + idx * v.elementSize;
  Type t = v.elementType;
  if (t.isF32()) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  if (t.isF64()) {
    double d;
    std::memcpy(&d, p, 8);
    return d;
  }
  if (t.isF16() || t.isBF16()) {
    uint16_t bits;
    std::memcpy(&bits, p, 2);
    if (t.isBF16())
      return bf16ToFloat(bits);
    llvm::APFloat f(llvm::APFloat::IEEEhalf(), llvm::APInt(16, bits));
    return f.convertToFloat();
  }
  // Integers: sign-extend (index and signless integers are signed here).
  int64_t value = 0;
  std::memcpy(&value, p, v.elementSize);
  unsigned bits = t.isIndex() ? 64 : t.getIntOrFloatBitWidth();
  if (bits == 1)
    return value & 1;
  if (bits < 64)
    value = llvm::SignExtend64(value, bits);
  return static_cast<double>(value);
}

/// Stores `x` into element `idx` of `v`, rounding to nearest even.
void writeElement(HostValue &v, int64_t idx, double x) {
  char *p = v.data.get() + idx * v.elementSize;
  Type t = v.elementType;
  if (t.isF32()) {
    float f = static_cast<float>(x);
    std::memcpy(p, &f, 4);
    return;
  }
  if (t.isF64()) {
    std::memcpy(p, &x, 8);
    return;
  }
  if (auto ft = dyn_cast<FloatType>(t)) {
    llvm::APFloat f(x);
    bool lost;
    f.convert(ft.getFloatSemantics(), llvm::APFloat::rmNearestTiesToEven,
              &lost);
    uint16_t bits = f.bitcastToAPInt().getZExtValue();
    std::memcpy(p, &bits, 2);
    return;
  }
  int64_t value = static_cast<int64_t>(x);
  std::memcpy(p, &value, v.elementSize);
}

/// Allocates `bytes` (from `storageBytes`) of zeroed storage and the
/// descriptor of `v` for its type and shape. Fails if the allocation does.
LogicalResult allocate(HostValue &v, int64_t bytes) {
  v.data.reset(static_cast<char *>(std::aligned_alloc(64, bytes)));
  if (!v.data)
    return failure();
  std::memset(v.data.get(), 0, bytes);
  if (!v.isTensor)
    return success();
  int64_t rank = v.shape.size();
  v.descriptor.assign(3 + 2 * rank, 0);
  auto base = reinterpret_cast<int64_t>(v.data.get());
  v.descriptor[0] = base;
  v.descriptor[1] = base;
  int64_t stride = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    v.descriptor[3 + d] = v.shape[d];
    v.descriptor[3 + rank + d] = stride;
    stride *= v.shape[d];
  }
  return success();
}

/// Bytes of memory the system can still give this process: MemAvailable of
/// /proc/meminfo, else the free physical pages; nullopt if neither is known.
std::optional<int64_t> availableMemory() {
  if (auto meminfo = llvm::MemoryBuffer::getFileAsStream("/proc/meminfo")) {
    for (StringRef line : llvm::split((*meminfo)->getBuffer(), '\n')) {
      if (!line.consume_front("MemAvailable:"))
        continue;
      int64_t kib;
      line = line.trim();
      if (!line.consume_back("kB") || line.trim().getAsInteger(10, kib))
        break;
      return kib * 1024;
    }
  }
  long pages = sysconf(_SC_AVPHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
  if (pages > 0 && pageSize > 0)
    return int64_t(pages) * pageSize;
  return std::nullopt;
}

/// The .npy dtype that stores values of `type` (bf16 travels as f4).
std::string npyDtype(Type type) {
  if (type.isF32() || type.isBF16())
    return "f4";
  if (type.isF16())
    return "f2";
  if (type.isF64())
    return "f8";
  if (type.isInteger(1))
    return "b1";
  if (type.isIndex())
    return "i8";
  return "i" + std::to_string(byteSize(type));
}

std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleaveComma(shape, os);
  os << "]";
  return s;
}

/// Everything one run of the entry function needs.
class Run {
public:
  Run(const RunnerOptions &options, llvm::raw_ostream &os)
      : options(options), os(os) {}
  int execute();

private:
  LogicalResult load();
  LogicalResult planArguments();
  LogicalResult fillInputs();
  LogicalResult planResults();
  LogicalResult allocateAll();
  LogicalResult checkCaptureRanges();
  LogicalResult compile();
  LogicalResult invoke();
  /// The oracle's results on the inputs, before the compiled function
  /// runs: inputs the definitions reject (a bad page table, say) get the
  /// oracle's diagnostic, which names the offending element.
  LogicalResult evaluateOracle();
  LogicalResult check(llvm::json::Object &report, bool &passed);
  void bench(llvm::json::Object &report);
  LogicalResult writeOutputs();

  /// The concrete size of `symbol`, after defaults.
  FailureOr<int64_t> sizeOf(StringRef symbol, Location loc);
  /// Whether the check uses the half-precision tolerance: an attention op
  /// reads other than f32, or a tensor argument or result holds f16/bf16.
  bool halfPrecision();
  /// "B=1, Sq=128, Sk=128", for messages.
  std::string describeSizes();
  InFlightDiagnostic error(Location loc) { return emitError(loc); }

  const RunnerOptions &options;
  /// Sizes the input files tell where --sizes is silent: B from the offsets
  /// of a varlen batch (B + 1 of them).
  llvm::StringMap<int64_t> fileSizes;
  llvm::raw_ostream &os;
  MLIRContext context;
  llvm::SourceMgr sourceMgr;
  OwningOpRef<ModuleOp> module;
  func::FuncOp entry;
  /// The attn.attention ops of the entry, in order.
  SmallVector<attn::AttentionOp> attentions;
  /// The concrete shape of every tensor value of the entry's body.
  oracle::ShapeMap shapes;
  std::vector<HostValue> args, results;
  /// The oracle's results (--check).
  std::vector<oracle::Array> expected;
  std::unique_ptr<ExecutionEngine> engine;
  double compileSeconds = 0;
};

} // namespace

std::string attune::runner::parseSizes(StringRef text,
                                       llvm::StringMap<int64_t> &sizes) {
  SmallVector<StringRef> items;
  text.split(items, ',', -1, /*KeepEmpty=*/false);
  for (StringRef item : items) {
    auto [name, value] = item.split('=');
    name = name.trim();
    int64_t size;
    if (name.empty() || value.trim().getAsInteger(10, size) || size < 0)
      return ("bad size '" + item + "': expected NAME=N with N >= 0").str();
    if (!llvm::is_contained({"B", "Sq", "Sk"}, name))
      return ("unknown size '" + name + "': expected B, Sq or Sk").str();
    // attn.attention's contract: every dimension of Q, K and V is below 2^31.
    if (size > std::numeric_limits<int32_t>::max())
      return ("size " + item.trim() +
              " is too large: attn.attention takes "
              "dimensions below 2^31")
          .str();
    sizes[name] = size;
  }
  return "";
}

FailureOr<int64_t> Run::sizeOf(StringRef symbol, Location loc) {
  auto it = options.sizes.find(symbol);
  if (it != options.sizes.end())
    return it->second;
  if (auto file = fileSizes.find(symbol); file != fileSizes.end())
    return file->second;
  if (symbol == "B")
    return int64_t(1);
  if (symbol == "Sq")
    return int64_t(128);
  if (symbol == "Sk")
    return sizeOf("Sq", loc);
  return error(loc) << "unknown size symbol '" << symbol
                    << "' (expected B, Sq or Sk)";
}

std::string Run::describeSizes() {
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(
      ArrayRef<StringRef>{"B", "Sq", "Sk"}, os, [&](StringRef symbol) {
        os << symbol << "=" << *sizeOf(symbol, entry.getLoc());
      });
  return text;
}

bool Run::halfPrecision() {
  auto isHalf = [](Type type) {
    Type element = getElementTypeOrSelf(type);
    return isa<FloatType>(element) && !element.isF32() && !element.isF64();
  };
  for (attn::AttentionOp attention : attentions)
    if (!getElementTypeOrSelf(attention.getQuery().getType()).isF32())
      return true;
  return llvm::any_of(entry.getArgumentTypes(), isHalf) ||
         llvm::any_of(entry.getResultTypes(), isHalf);
}

LogicalResult Run::load() {
  DialectRegistry registry;
  registerAllDialects(registry);
  context.appendDialectRegistry(registry);
  context.loadAllAvailableDialects();
  // A diagnostic names its source location; the op printed on its own (the
  // default note, in generic form with unknown operands) would only
  // confuse.
  context.printOpOnDiagnostic(false);

  auto file = llvm::MemoryBuffer::getFileOrSTDIN(options.specPath);
  if (!file) {
    llvm::errs() << "attune-run: error: cannot read '" << options.specPath
                 << "': " << file.getError().message() << "\n";
    return failure();
  }
  sourceMgr.AddNewSourceBuffer(std::move(*file), llvm::SMLoc());
  module = parseScreenedSourceFile(sourceMgr, &context);
  if (!module)
    return failure();

  SmallVector<func::FuncOp> candidates;
  for (auto func : module->getOps<func::FuncOp>())
    if (!func.isPrivate() && !func.isExternal() &&
        (options.entry.empty() || func.getSymName() == options.entry))
      candidates.push_back(func);
  if (candidates.size() != 1) {
    InFlightDiagnostic diag = error(module->getLoc());
    if (candidates.empty())
      diag << (options.entry.empty()
                   ? std::string("no public function to run")
                   : "no public function named '" + options.entry + "'");
    else
      diag << "several public functions; choose one with --entry";
    return failure();
  }
  entry = candidates.front();

  // A function without attention (ropes, merges, projections alone) runs
  // too; its dynamic sizes are named by `attn.dims`.
  entry.walk([&](attn::AttentionOp op) { attentions.push_back(op); });
  return success();
}

LogicalResult Run::planArguments() {
  // Symbols of the dynamic dimensions of arguments that feed Q, K and V,
  // directly or through ops that keep their shape (attn.rope, casts,
  // elementwise linalg ops: oracle::getSameShapeOperand).
  DenseMap<std::pair<unsigned, unsigned>, StringRef> symbols;
  for (attn::AttentionOp attention : attentions) {
    attn::LayoutDims dims = attention.getLayoutDims();
    auto bind = [&](Value v, StringRef seq) {
      while (auto result = dyn_cast_if_present<OpResult>(v))
        v = oracle::getSameShapeOperand(result);
      if (auto arg = dyn_cast_if_present<BlockArgument>(v);
          arg && arg.getOwner() == &entry.getBody().front()) {
        symbols[{arg.getArgNumber(), dims.batch}] = "B";
        symbols[{arg.getArgNumber(), dims.seq}] = seq;
      }
    };
    bind(attention.getQuery(), "Sq");
    bind(attention.getKey(), "Sk");
    bind(attention.getValue(), "Sk");
  }

  // The offsets of varlen batches (attn.unpack, attn.pack) that are
  // arguments hold B + 1 values; given by a file, they tell B.
  llvm::SmallDenseSet<unsigned> offsetArgs;
  auto noteOffsets = [&](Value offsets) {
    if (auto arg = dyn_cast<BlockArgument>(offsets);
        arg && arg.getOwner() == &entry.getBody().front())
      offsetArgs.insert(arg.getArgNumber());
  };
  entry.walk([&](attn::UnpackOp op) { noteOffsets(op.getCuSeqlens()); });
  entry.walk([&](attn::PackOp op) { noteOffsets(op.getCuSeqlens()); });
  // The shape of the file given for argument `idx`, if any.
  auto fileShape = [&](unsigned idx) -> FailureOr<SmallVector<int64_t>> {
    for (const auto &[arg, path] : options.inputFiles) {
      if (arg != idx)
        continue;
      llvm::Expected<NpyArray> array = readNpy(path, /*withData=*/false);
      if (!array) {
        llvm::errs() << "attune-run: error: "
                     << llvm::toString(array.takeError()) << "\n";
        return failure();
      }
      return SmallVector<int64_t>(array->shape.begin(), array->shape.end());
    }
    return SmallVector<int64_t>();
  };
  if (!options.sizes.count("B"))
    for (unsigned idx = 0; idx < entry.getNumArguments(); ++idx) {
      if (!offsetArgs.contains(idx))
        continue;
      auto type = cast<RankedTensorType>(entry.getArgumentTypes()[idx]);
      if (!type.isDynamicDim(0))
        continue;
      FailureOr<SmallVector<int64_t>> shape = fileShape(idx);
      if (failed(shape))
        return failure();
      // A file of another rank is reported when it is read.
      if (shape->size() == 1 && (*shape)[0] >= 1) {
        fileSizes["B"] = (*shape)[0] - 1;
        break;
      }
    }

  for (auto [idx, type] : llvm::enumerate(entry.getArgumentTypes())) {
    Location loc = entry.getLoc();
    HostValue v;
    v.type = type;
    v.elementType = getElementTypeOrSelf(type);
    v.elementSize = byteSize(v.elementType);
    if (v.elementSize == 0 || (isa<ShapedType>(type) &&
                               !isa<RankedTensorType>(type)))
      return error(loc) << "argument #" << idx << " has unsupported type "
                        << type;
    if (auto tensor = dyn_cast<RankedTensorType>(type)) {
      v.isTensor = true;
      auto names =
          entry.getArgAttrOfType<ArrayAttr>(idx, "attn.dims");
      if (names && names.size() != size_t(tensor.getRank()))
        return error(loc) << "argument #" << idx << ": 'attn.dims' has "
                          << names.size() << " entries for a rank-"
                          << tensor.getRank() << " tensor";
      for (int64_t d = 0; d < tensor.getRank(); ++d) {
        if (!tensor.isDynamicDim(d)) {
          v.shape.push_back(tensor.getDimSize(d));
          continue;
        }
        // A name the spec gives wins over the role (cascade attention's
        // requests attend over their own Sq keys), as the CUDA manifest
        // names them.
        StringRef symbol;
        if (names)
          if (auto name = dyn_cast<StringAttr>(names[d]))
            symbol = name.getValue();
        if (symbol.empty())
          symbol = symbols.lookup({unsigned(idx), unsigned(d)});
        if (symbol.empty() && offsetArgs.contains(idx)) {
          FailureOr<int64_t> batch = sizeOf("B", loc);
          if (failed(batch))
            return failure();
          v.shape.push_back(*batch + 1);
          continue;
        }
        if (symbol.empty()) {
          // An argument read from a file has the file's sizes (checked
          // against the static ones when it is read).
          FailureOr<SmallVector<int64_t>> shape = fileShape(idx);
          if (failed(shape))
            return failure();
          if (int64_t(shape->size()) == tensor.getRank()) {
            v.shape.push_back((*shape)[d]);
            continue;
          }
        }
        if (symbol.empty())
          return error(loc) << "cannot tell the size of dimension " << d
                            << " of argument #" << idx
                            << "; name it in 'attn.dims'";
        FailureOr<int64_t> size = sizeOf(symbol, loc);
        if (failed(size))
          return failure();
        v.shape.push_back(*size);
      }
    }
    args.push_back(std::move(v));
  }
  return success();
}

LogicalResult Run::fillInputs() {
  std::vector<bool> fromFile(args.size(), false);
  for (const auto &[idx, path] : options.inputFiles) {
    if (idx >= args.size())
      return error(entry.getLoc())
             << "--input " << idx << ": @" << entry.getSymName() << " has "
             << args.size() << " arguments";
    HostValue &v = args[idx];
    llvm::Expected<NpyArray> array = readNpy(path);
    if (!array) {
      llvm::errs() << "attune-run: error: "
                   << llvm::toString(array.takeError()) << "\n";
      return failure();
    }
    std::string want = npyDtype(v.elementType);
    if (array->dtype != want)
      return error(entry.getLoc())
             << "'" << path << "' holds dtype '" << array->dtype
             << "', argument #" << idx << " (" << v.type << ") needs '"
             << want << "'";
    if (ArrayRef<int64_t>(array->shape) != ArrayRef<int64_t>(v.shape))
      return error(entry.getLoc())
             << "'" << path << "' has shape " << shapeString(array->shape)
             << ", argument #" << idx << " needs " << shapeString(v.shape)
             << " at the requested sizes";
    if (v.elementType.isBF16()) {
      for (int64_t i = 0, e = v.numElements(); i < e; ++i) {
        float f;
        std::memcpy(&f, array->bytes.data() + 4 * i, 4);
        writeElement(v, i, f);
      }
    } else {
      std::memcpy(v.data.get(), array->bytes.data(), array->bytes.size());
    }
    fromFile[idx] = true;
  }

  std::mt19937_64 rng(options.seed);
  for (auto [idx, v] : llvm::enumerate(args)) {
    if (fromFile[idx])
      continue;
    auto range = entry.getArgAttrOfType<ArrayAttr>(idx, "attn.range");
    if (range && range.size() != 2)
      return error(entry.getLoc()) << "argument #" << idx
                                   << ": 'attn.range' needs [lo, hi]";
    auto bound = [&](unsigned k, double dflt) {
      if (!range)
        return dflt;
      if (auto i = dyn_cast<IntegerAttr>(range[k]))
        return double(i.getInt());
      if (auto f = dyn_cast<FloatAttr>(range[k]))
        return f.getValueAsDouble();
      return dflt;
    };
    int64_t n = v.numElements();
    if (isa<FloatType>(v.elementType)) {
      std::uniform_real_distribution<double> dist(bound(0, -1.0),
                                                  bound(1, 1.0));
      for (int64_t i = 0; i < n; ++i)
        writeElement(v, i, dist(rng));
      continue;
    }
    double lo = bound(0, 0), hi = bound(1, v.elementType.isInteger(1) ? 2 : 8);
    if (hi <= lo)
      return error(entry.getLoc()) << "argument #" << idx
                                   << ": empty 'attn.range' [" << lo << ", "
                                   << hi << ")";
    std::uniform_int_distribution<int64_t> dist(int64_t(lo),
                                                int64_t(hi) - 1);
    for (int64_t i = 0; i < n; ++i)
      writeElement(v, i, double(dist(rng)));
  }
  return success();
}

LogicalResult Run::checkCaptureRanges() {
  if (options.uncheckedCaptures)
    return success();
  // The contract of `attn.range` (docs/GettingStarted.md): integer values
  // outside it are an error, since specs may index tensors with them.
  for (auto [idx, v] : llvm::enumerate(args)) {
    auto range = entry.getArgAttrOfType<ArrayAttr>(idx, "attn.range");
    if (!range || range.size() != 2 || !v.elementType.isIntOrIndex())
      continue;
    double bounds[2];
    std::string text[2];
    for (auto [k, bound] : llvm::enumerate(range)) {
      if (auto i = dyn_cast<IntegerAttr>(bound)) {
        bounds[k] = double(i.getInt());
        text[k] = std::to_string(i.getInt());
      } else if (auto f = dyn_cast<FloatAttr>(bound)) {
        bounds[k] = f.getValueAsDouble();
        text[k] = llvm::formatv("{0}", bounds[k]).str();
      } else
        return error(entry.getLoc())
               << "argument #" << idx << ": 'attn.range' needs [lo, hi]";
    }
    for (int64_t i = 0, e = v.numElements(); i < e; ++i) {
      double value = readElement(v, i);
      if (value >= bounds[0] && value < bounds[1])
        continue;
      // The position of element i, row-major.
      SmallVector<int64_t> position(v.shape.size());
      for (int64_t d = v.shape.size() - 1, rest = i; d >= 0; --d) {
        position[d] = rest % v.shape[d];
        rest /= v.shape[d];
      }
      InFlightDiagnostic diag = error(entry.getLoc());
      diag << "capture argument #" << idx;
      if (v.isTensor)
        diag << " element " << shapeString(position);
      diag << " is " << int64_t(value) << ", outside its 'attn.range' ["
           << text[0] << ", " << text[1]
           << "); pass values in range, or --unchecked-captures to skip "
              "this check";
      return failure();
    }
  }
  return success();
}

LogicalResult Run::planResults() {
  SmallVector<SmallVector<int64_t>> argShapes;
  for (const HostValue &v : args)
    argShapes.push_back(v.shape);
  FailureOr<oracle::ShapeMap> inferred = oracle::inferShapes(entry, argShapes);
  if (failed(inferred))
    return failure();
  shapes = std::move(*inferred);
  auto ret = cast<func::ReturnOp>(entry.getBody().front().getTerminator());
  for (auto [idx, value] : llvm::enumerate(ret.getOperands())) {
    auto tensor = dyn_cast<RankedTensorType>(value.getType());
    if (!tensor || !shapes.count(value))
      return error(ret.getLoc())
             << "result #" << idx << " of type " << value.getType()
             << " is not a ranked tensor; attune-run "
                "returns tensors only";
    HostValue r;
    r.type = tensor;
    r.elementType = tensor.getElementType();
    r.elementSize = byteSize(r.elementType);
    if (r.elementSize == 0)
      return error(ret.getLoc())
             << "result #" << idx << " has unsupported type " << tensor;
    r.isTensor = true;
    r.shape = shapes.lookup(value);
    results.push_back(std::move(r));
  }
  return success();
}

LogicalResult Run::allocateAll() {
  // Check what the run needs against what the machine has before
  // allocating anything, so that absurd sizes are an error, not a crash or
  // an hour of swapping.
  int64_t total = 0, elements = 0;
  for (auto [kind, values] : {std::make_pair("argument", &args),
                              std::make_pair("result", &results)}) {
    for (auto [idx, v] : llvm::enumerate(*values)) {
      std::optional<int64_t> bytes = v.storageBytes();
      if (!bytes || llvm::AddOverflow(total, *bytes, total) ||
          llvm::AddOverflow(elements, v.numElements(), elements))
        return error(entry.getLoc())
               << "at " << describeSizes() << ", " << kind << " #" << idx
               << " of shape " << shapeString(v.shape)
               << " has more bytes than fit in 64 bits";
    }
  }
  // The check holds every argument and result once more as float64.
  int64_t needed = total;
  if (options.check && (llvm::MulOverflow(elements, int64_t(8), elements) ||
                        llvm::AddOverflow(needed, elements, needed)))
    needed = std::numeric_limits<int64_t>::max();
  std::optional<int64_t> available = availableMemory();
  if (available && needed > *available)
    return error(entry.getLoc())
           << "at " << describeSizes() << " the run needs " << needed
           << " bytes" << (options.check ? " (with --check)" : "")
           << ", more than the " << *available << " bytes of memory available";

  for (auto [kind, values] :
       {std::make_pair("argument", &args), std::make_pair("result", &results)})
    for (auto [idx, v] : llvm::enumerate(*values))
      if (failed(allocate(v, *v.storageBytes())))
        return error(entry.getLoc())
               << "cannot allocate " << *v.storageBytes() << " bytes for "
               << kind << " #" << idx << " of shape " << shapeString(v.shape)
               << " at " << describeSizes();

  // Poison the outputs so that a kernel that skips an element is caught.
  for (HostValue &r : results)
    if (isa<FloatType>(r.elementType))
      for (int64_t i = 0, e = r.numElements(); i < e; ++i)
        writeElement(r, i, std::nan(""));
  return success();
}

LogicalResult Run::compile() {
  auto start = std::chrono::steady_clock::now();
  OwningOpRef<ModuleOp> lowered = cast<ModuleOp>(module->clone());
  cpu::CPUPipelineOptions pipeline;
  pipeline.mode = options.pipeline;
  pipeline.vectorWidth = options.vectorWidth;
  pipeline.cluster = options.cluster;
  if (failed(cpu::lowerToLLVMDialect(*lowered, pipeline)))
    return failure();
  auto jit = cpu::createJIT(*lowered);
  if (!jit) {
    llvm::errs() << "attune-run: error: JIT compilation failed: "
                 << llvm::toString(jit.takeError()) << "\n";
    return failure();
  }
  engine = std::move(*jit);
  compileSeconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  return success();
}

/// SIGABRT while the compiled function runs: a run-time check (cf.assert:
/// a size or an index of the inputs the compiler could not check) failed
/// after printing its message to stdout. That is an error in the inputs,
/// not a crash of the tool: flush the message, say so, exit with 1.
extern "C" void onFailedRuntimeCheck(int) {
  std::fflush(stdout);
  static const char message[] =
      "attune-run: error: a run-time check of the compiled function failed "
      "on these inputs (its message is above)\n";
  (void)!write(2, message, sizeof(message) - 1);
  _exit(1);
}

LogicalResult Run::invoke() {
  // The packed interface takes a pointer to each argument: to the scalar, or
  // to the pointer to a memref descriptor.
  SmallVector<HostValue *> values;
  for (HostValue &v : args)
    values.push_back(&v);
  for (HostValue &r : results)
    values.push_back(&r);
  SmallVector<void *> descriptors(values.size()), packed;
  for (auto [idx, v] : llvm::enumerate(values)) {
    descriptors[idx] = v->payload();
    packed.push_back(v->isTensor ? &descriptors[idx] : v->payload());
  }
  std::string name = ("_mlir_ciface_" + entry.getSymName()).str();
  std::fflush(stdout);
  void (*previous)(int) = std::signal(SIGABRT, onFailedRuntimeCheck);
  llvm::Error err = engine->invokePacked(name, packed);
  std::signal(SIGABRT, previous);
  if (err) {
    llvm::errs() << "attune-run: error: cannot call " << name << ": "
                 << llvm::toString(std::move(err)) << "\n";
    return failure();
  }
  return success();
}

LogicalResult Run::evaluateOracle() {
  std::vector<oracle::Array> inputs;
  for (const HostValue &v : args) {
    oracle::Array a;
    a.shape.assign(v.shape.begin(), v.shape.end());
    a.data.resize(v.numElements());
    for (int64_t i = 0, e = v.numElements(); i < e; ++i)
      a.data[i] = readElement(v, i);
    inputs.push_back(std::move(a));
  }
  FailureOr<std::vector<oracle::Array>> values =
      oracle::evaluate(entry, inputs);
  if (failed(values))
    return failure();
  expected = std::move(*values);
  return success();
}

LogicalResult Run::check(llvm::json::Object &report, bool &passed) {
  passed = true;
  llvm::json::Array checks;
  for (auto [idx, r] : llvm::enumerate(results)) {
    const oracle::Array &ref = expected[idx];
    if (ArrayRef<int64_t>(ref.shape) != ArrayRef<int64_t>(r.shape))
      return error(entry.getLoc())
             << "oracle result #" << idx << " has shape "
             << shapeString(ref.shape) << ", compiled " << shapeString(r.shape);
    // bf16/f16 outputs and everything computed from them are held to the
    // half-precision tolerance; f32 to 1e-5 (docs/Semantics.md, "Accuracy").
    double tolerance = halfPrecision() ? 1e-2 : 1e-5;
    double diff2 = 0, ref2 = 0, maxAbs = 0;
    // NaN must be exactly where the oracle has NaN (a NaN input gives NaN
    // rows); those elements match and stay out of the error norm.
    int64_t nans = 0, missingNaNs = 0, infMismatch = 0;
    for (int64_t i = 0, e = r.numElements(); i < e; ++i) {
      double got = readElement(r, i), want = ref.data[i];
      if (std::isnan(got) || std::isnan(want)) {
        nans += std::isnan(got) && !std::isnan(want);
        missingNaNs += !std::isnan(got) && std::isnan(want);
        continue;
      }
      if (std::isinf(want) || std::isinf(got)) {
        infMismatch += got != want;
        continue;
      }
      diff2 += (got - want) * (got - want);
      ref2 += want * want;
      maxAbs = std::max(maxAbs, std::abs(got - want));
    }
    double relErr = ref2 > 0 ? std::sqrt(diff2 / ref2) : std::sqrt(diff2);
    // Integer results (bucket ids, ...) are exact: any difference fails.
    bool exact = r.elementType.isIntOrIndex();
    if (exact)
      tolerance = 0;
    bool ok = nans == 0 && missingNaNs == 0 && infMismatch == 0 &&
              (exact ? maxAbs == 0 : relErr <= tolerance);
    passed &= ok;
    checks.push_back(llvm::json::Object{{"result", int64_t(idx)},
                                        {"rel_err", relErr},
                                        {"max_abs", maxAbs},
                                        {"nans", nans},
                                        {"missing_nans", missingNaNs},
                                        {"inf_mismatches", infMismatch},
                                        {"tolerance", tolerance},
                                        {"pass", ok}});
    if (!options.json) {
      os << llvm::formatv("check result #{0}: rel_err = {1:e3}, max_abs = "
                          "{2:e3}, tolerance {3:e1}",
                          idx, relErr, maxAbs, tolerance);
      if (nans)
        os << ", " << nans << " NaN where the oracle has none";
      if (missingNaNs)
        os << ", " << missingNaNs << " numbers where the oracle has NaN";
      if (infMismatch)
        os << ", " << infMismatch << " infinities where the oracle differs";
      os << (ok ? "  PASS\n" : "  FAIL\n");
    }
  }
  report["check"] = std::move(checks);
  report["pass"] = passed;
  return success();
}

void Run::bench(llvm::json::Object &report) {
  (void)invoke(); // Warm-up.
  // Wall time, and the process's CPU time (all threads, user + system):
  // with one thread, the CPU time is the kernel's own even on a loaded
  // machine, where the wall time also counts the time slices of others.
  std::vector<double> times, cpuTimes;
  auto cpuNow = [] {
    llvm::sys::TimePoint<> elapsed;
    std::chrono::nanoseconds user, system;
    llvm::sys::Process::GetTimeUsage(elapsed, user, system);
    return std::chrono::duration<double>(user + system).count();
  };
  for (unsigned r = 0; r < std::max(1u, options.repeats); ++r) {
    auto start = std::chrono::steady_clock::now();
    double cpuStart = cpuNow();
    (void)invoke();
    cpuTimes.push_back(cpuNow() - cpuStart);
    times.push_back(std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - start)
                        .count());
  }
  std::sort(times.begin(), times.end());
  std::sort(cpuTimes.begin(), cpuTimes.end());
  double median = times[times.size() / 2];
  // 2 flops per multiply-add in Q.K^T (D) and P.V (Dv), over all (b,h,i,j).
  // Summed over the attention ops of the function: the projections,
  // concats and other linalg/tensor ops around them are not counted.
  double flops = 0;
  for (attn::AttentionOp attention : attentions) {
    SmallVector<int64_t> q = shapes.lookup(attention.getQuery());
    SmallVector<int64_t> k = shapes.lookup(attention.getKey());
    SmallVector<int64_t> v = shapes.lookup(attention.getValue());
    attn::LayoutDims d = attention.getLayoutDims();
    flops += 2.0 * q[d.batch] * q[d.head] * q[d.seq] * k[d.seq] *
             (q[d.feature] + v[d.feature]);
  }
  double gflops = median > 0 ? flops / median * 1e-9 : 0;
  report["bench"] = llvm::json::Object{{"median_ms", median * 1e3},
                                       {"min_ms", times.front() * 1e3},
                                       {"repeats", int64_t(times.size())},
                                       {"cpu_median_ms",
                                        cpuTimes[cpuTimes.size() / 2] * 1e3},
                                       {"cpu_min_ms", cpuTimes.front() * 1e3},
                                       {"gflops", gflops},
                                       {"flops", flops}};
  if (!options.json && attentions.empty())
    os << llvm::formatv("time: median {0:f3} ms (min {1:f3} ms, {2} runs); "
                        "CPU time: median {3:f3} ms\n",
                        median * 1e3, times.front() * 1e3, times.size(),
                        cpuTimes[cpuTimes.size() / 2] * 1e3);
  else if (!options.json)
    os << llvm::formatv("time: median {0:f3} ms (min {1:f3} ms, {2} runs), "
                        "{3:f2} GFLOP/s; CPU time: median {4:f3} ms\n",
                        median * 1e3, times.front() * 1e3, times.size(),
                        gflops, cpuTimes[cpuTimes.size() / 2] * 1e3);
}

LogicalResult Run::writeOutputs() {
  if (options.outputDir.empty())
    return success();
  if (std::error_code ec = llvm::sys::fs::create_directories(options.outputDir)) {
    llvm::errs() << "attune-run: error: cannot create '" << options.outputDir
                 << "': " << ec.message() << "\n";
    return failure();
  }
  for (auto [idx, r] : llvm::enumerate(results)) {
    NpyArray array;
    array.dtype = npyDtype(r.elementType);
    array.shape.assign(r.shape.begin(), r.shape.end());
    array.bytes.resize(r.numElements() * array.elementSize());
    if (r.elementType.isBF16()) {
      for (int64_t i = 0, e = r.numElements(); i < e; ++i) {
        float f = readElement(r, i);
        std::memcpy(array.bytes.data() + 4 * i, &f, 4);
      }
    } else {
      std::memcpy(array.bytes.data(), r.data.get(), array.bytes.size());
    }
    SmallString<128> path(options.outputDir);
    llvm::sys::path::append(path, "result" + std::to_string(idx) + ".npy");
    if (llvm::Error err = writeNpy(path, array)) {
      llvm::errs() << "attune-run: error: " << llvm::toString(std::move(err))
                   << "\n";
      return failure();
    }
  }
  return success();
}

int Run::execute() {
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context, llvm::errs());
  if (failed(load()) || failed(planArguments()) || failed(planResults()) ||
      failed(allocateAll()) || failed(fillInputs()) ||
      failed(checkCaptureRanges()) || failed(compile()) ||
      (options.check && failed(evaluateOracle())) || failed(invoke()) ||
      failed(writeOutputs()))
    return 1;

  llvm::json::Object report;
  report["spec"] = options.specPath;
  report["entry"] = entry.getSymName().str();
  report["pipeline"] = options.pipeline;
  report["compile_s"] = compileSeconds;
  llvm::json::Object sizes;
  for (StringRef symbol : {"B", "Sq", "Sk"})
    sizes[symbol] = *sizeOf(symbol, entry.getLoc());
  report["sizes"] = std::move(sizes);
  if (!options.json)
    os << "ran @" << entry.getSymName() << " (" << options.pipeline
       << ") at B=" << *sizeOf("B", entry.getLoc())
       << " Sq=" << *sizeOf("Sq", entry.getLoc())
       << " Sk=" << *sizeOf("Sk", entry.getLoc()) << "\n";

  bool passed = true;
  if (options.check && failed(check(report, passed)))
    return 1;
  if (options.bench)
    bench(report);
  if (options.json)
    os << llvm::json::Value(std::move(report)) << "\n";
  return passed ? 0 : 1;
}

int attune::runner::runSpec(const RunnerOptions &options,
                            llvm::raw_ostream &os) {
  Run run(options, os);
  return run.execute();
}
