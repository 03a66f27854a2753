"""Attune: an MLIR compiler for attention.

Python entry points. ``attune.cuda`` loads and launches the CUDA artifact
directories ``attunec --target=cuda:<chip>`` writes (see runtime/README.md).
"""
