"""Test helpers, imported as ``from tests.helpers import builders`` (pytest's ``pythonpath``
setting puts the project root on ``sys.path``; no test edits ``sys.path``).

- ``builders``: tiny real models (BERT, RoBERTa, GPT-2, T5, ...) with tokenizers made on the spot;
- ``stores``: random corpora and sharded stores for analysis tests;
- ``raster``: SVG rasterization and pixel checks;
- ``saliency_views``: textualheatmap fixtures and SVG/browser helpers for saliency views;
- ``reference_figures``: the reference PNGs of the activation figures (also a script).
"""
