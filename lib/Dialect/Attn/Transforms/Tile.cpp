//===- Tile.cpp - attn-tile: choose the tiled online-softmax form -*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Sets `tile_sizes` on every attn.attention. The tile sizes are the whole of
// the target-independent schedule: see docs/Rationale.md, "The tiled form".
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/Dialect/Attn/Transforms/Passes.h"
#include "attune/Support/PassOptions.h"

namespace attune::attn {
#define GEN_PASS_DEF_ATTNTILE
#include "attune/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attune::attn

using namespace mlir;
using namespace attune::attn;

namespace {
struct AttnTile : attune::attn::impl::AttnTileBase<AttnTile> {
  using Base::Base;
  LogicalResult initializeOptions(
      StringRef options,
      function_ref<LogicalResult(const Twine &)> errorHandler) override {
    static constexpr attune::OptionSpec specs[] = {
        {"tile-q", attune::OptionKind::Integer},
        {"tile-k", attune::OptionKind::Integer},
        {"force", attune::OptionKind::Bool},
        {"fit-keys", attune::OptionKind::Bool}};
    return attune::initializeCheckedOptions(
        getArgument(), options, specs, errorHandler,
        [&] { return Base::initializeOptions(options, errorHandler); });
  }
  void runOnOperation() override {
    if (tileQ <= 0 || tileK <= 0) {
      emitError(getOperation()->getLoc())
          << "attn-tile: tile-q and tile-k must be positive, got "
          << static_cast<int64_t>(tileQ) << " and "
          << static_cast<int64_t>(tileK);
      return signalPassFailure();
    }
    getOperation()->walk([&](AttentionOp op) {
      if (op.getTileSizesPair() && !force)
        return;
      int64_t keys = tileK;
      auto key = cast<RankedTensorType>(op.getKey().getType());
      int64_t seq = key.getDimSize(op.getLayoutDims().seq);
      // Any power of two >= 8 suits every target's key blocks.
      if (fitKeys && !ShapedType::isDynamic(seq) && seq < keys)
        keys = std::min<int64_t>(
            keys, llvm::PowerOf2Ceil(std::max<int64_t>(seq, 8)));
      op.setTileSizes(ArrayRef<int64_t>{tileQ, keys});
    });
  }
};
} // namespace
