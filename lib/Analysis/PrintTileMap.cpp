//===- PrintTileMap.cpp - Print the tile map of attention ops ---*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "attune/Analysis/MaskAnalysis.h"
#include "attune/Analysis/Passes.h"
#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/Support/PassOptions.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace attune::attn {
#define GEN_PASS_DEF_ATTNPRINTTILEMAP
#include "attune/Analysis/Passes.h.inc"
} // namespace attune::attn

using namespace mlir;
using namespace attune::attn;

/// Parses one `captures` entry: an integer, `lo:hi`, or `?` / empty.
static FailureOr<std::optional<Interval>> parseCaptureValue(StringRef text) {
  text = text.trim();
  if (text.empty() || text == "?")
    return std::optional<Interval>();
  auto [first, second] = text.split(':');
  int64_t lo, hi;
  if (first.trim().getAsInteger(10, lo))
    return failure();
  if (second.empty() && !text.contains(':'))
    return std::optional<Interval>(Interval(lo));
  if (second.trim().getAsInteger(10, hi) || hi < lo)
    return failure();
  return std::optional<Interval>(Interval(lo, hi));
}

/// Bounds on the work of one map, which the options would otherwise leave
/// to the user: a map is printed a character per tile, and each partial
/// tile costs up to 1 + refine classifications.
static constexpr int64_t kMaxTiles = int64_t(1) << 20;
static constexpr unsigned kMaxRefine = 1024;

/// `path` with `.n` before its extension, for the n-th op (n > 0).
static std::string numberedPath(StringRef path, unsigned n) {
  if (n == 0)
    return path.str();
  StringRef ext = llvm::sys::path::extension(path);
  return (path.drop_back(ext.size()) + "." + Twine(n) + ext).str();
}

namespace {
struct AttnPrintTileMap
    : attune::attn::impl::AttnPrintTileMapBase<AttnPrintTileMap> {
  using Base::Base;

  LogicalResult initializeOptions(
      StringRef options,
      function_ref<LogicalResult(const Twine &)> errorHandler) override {
    static constexpr attune::OptionSpec specs[] = {
        {"seq-q", attune::OptionKind::Integer},
        {"seq-k", attune::OptionKind::Integer},
        {"batch", attune::OptionKind::Integer},
        {"head", attune::OptionKind::Integer},
        {"tile-q", attune::OptionKind::Integer},
        {"tile-k", attune::OptionKind::Integer},
        {"refine", attune::OptionKind::Unsigned},
        {"svg", attune::OptionKind::String},
        {"captures", attune::OptionKind::String}};
    return attune::initializeCheckedOptions(
        getArgument(), options, specs, errorHandler,
        [&] { return Base::initializeOptions(options, errorHandler); });
  }

  void runOnOperation() override {
    if (tileQ <= 0 || tileK <= 0 || batch <= 0 || head < -1 || seqQ < 0 ||
        seqK < 0) {
      getOperation()->emitError("attn-print-tile-map: expected positive "
                                "tile sizes and batch, non-negative "
                                "sequence lengths and head >= -1");
      return signalPassFailure();
    }
    if (refine > kMaxRefine) {
      getOperation()->emitError("attn-print-tile-map: refine must be at most ")
          << kMaxRefine << ", got " << static_cast<unsigned>(refine);
      return signalPassFailure();
    }
    SmallVector<std::optional<Interval>> given;
    for (const std::string &entry : captureValues) {
      FailureOr<std::optional<Interval>> v = parseCaptureValue(entry);
      if (failed(v)) {
        getOperation()->emitError("attn-print-tile-map: cannot parse capture "
                                  "value '")
            << entry << "' (expected an integer, lo:hi or ?)";
        return signalPassFailure();
      }
      given.push_back(*v);
    }

    unsigned index = 0;
    WalkResult result = getOperation()->walk([&](AttentionOp op) {
      if (failed(printMap(op, given, index++)))
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }

  /// The size of dimension `dim` of `tensor` if it is static, or one of the
  /// sizes given to the pass if `tensor` is the op's Q, K or V.
  std::optional<int64_t> knownDimSize(AttentionOp op, Value tensor, int64_t dim,
                                      int64_t sq, int64_t sk) {
    auto type = dyn_cast<RankedTensorType>(tensor.getType());
    if (!type || dim < 0 || dim >= type.getRank())
      return std::nullopt;
    if (!type.isDynamicDim(dim))
      return type.getDimSize(dim);
    LayoutDims dims = op.getLayoutDims();
    bool isQ = tensor == op.getQuery();
    bool isKV = tensor == op.getKey() || tensor == op.getValue();
    if (!isQ && !isKV)
      return std::nullopt;
    if (dim == dims.batch)
      return batch;
    if (dim == dims.seq)
      return isQ ? sq : sk;
    return std::nullopt;
  }

  /// What the pass knows of each capture.
  SmallVector<std::optional<Interval>>
  resolveCaptures(AttentionOp op, ArrayRef<std::optional<Interval>> given,
                  int64_t sq, int64_t sk) {
    SmallVector<std::optional<Interval>> values;
    for (auto [k, capture] : llvm::enumerate(op.getCaptures())) {
      if (k < given.size() && given[k]) {
        values.push_back(given[k]);
        continue;
      }
      APInt constant;
      if (matchPattern(capture, m_ConstantInt(&constant)) &&
          constant.getBitWidth() <= 64) {
        values.push_back(Interval(constant.getBitWidth() == 1
                                      ? int64_t(constant.getZExtValue())
                                      : constant.getSExtValue()));
        continue;
      }
      if (auto dimOp = capture.getDefiningOp<tensor::DimOp>()) {
        if (std::optional<int64_t> dim = dimOp.getConstantIndex())
          if (std::optional<int64_t> size =
                  knownDimSize(op, dimOp.getSource(), *dim, sq, sk)) {
            values.push_back(Interval(*size));
            continue;
          }
      }
      values.push_back(std::nullopt);
    }
    return values;
  }

  LogicalResult printMap(AttentionOp op,
                         ArrayRef<std::optional<Interval>> given,
                         unsigned index) {
    LayoutDims dims = op.getLayoutDims();
    auto qType = cast<RankedTensorType>(op.getQuery().getType());
    auto kType = cast<RankedTensorType>(op.getKey().getType());
    int64_t sq = seqQ, sk = seqK;
    if (sq == 0 && !qType.isDynamicDim(dims.seq))
      sq = qType.getDimSize(dims.seq);
    if (sk == 0 && !kType.isDynamicDim(dims.seq))
      sk = kType.getDimSize(dims.seq);
    if (sq <= 0 || sk <= 0)
      return op.emitError("attn-print-tile-map: the sequence lengths are "
                          "dynamic; pass seq-q and seq-k");
    int64_t rows = sq / tileQ + (sq % tileQ != 0);
    int64_t cols = sk / tileK + (sk % tileK != 0);
    if (rows > kMaxTiles / cols)
      return op.emitError("attn-print-tile-map: the map would have ")
             << rows << " x " << cols << " tiles, more than the " << kMaxTiles
             << " it prints; use larger tile-q / tile-k";

    Interval heads =
        head < 0 ? Interval(0, op.getNumQueryHeads() - 1) : Interval(head);
    Interval batches(0, batch - 1);
    SmallVector<std::optional<Interval>> captures =
        resolveCaptures(op, given, sq, sk);
    TileMap map = computeTileMap(op, batches, heads, sq, sk, tileQ, tileK,
                                 captures, /*extractRange=*/nullptr, refine);

    std::string name = "?";
    if (auto func = op->getParentOfType<func::FuncOp>())
      name = func.getSymName().str();
    std::string title;
    llvm::raw_string_ostream(title)
        << "tile map of @" << name << " #" << index << ": Sq = " << sq
        << ", Sk = " << sk << ", tiles " << tileQ << " x " << tileK
        << ", b in [" << batches.lo << ", " << batches.hi << "], h in ["
        << heads.lo << ", " << heads.hi << "]";
    llvm::raw_ostream &os = llvm::outs();
    os << title << "\n";
    map.print(os, "  ");
    os.flush();

    if (svgPath.empty())
      return success();
    std::string path = numberedPath(svgPath, index);
    std::error_code ec;
    llvm::raw_fd_ostream file(path, ec, llvm::sys::fs::OF_Text);
    if (ec)
      return op.emitError("attn-print-tile-map: cannot write '")
             << path << "': " << ec.message();
    map.printSVG(file, title);
    return success();
  }
};
} // namespace
