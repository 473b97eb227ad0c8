"""Corpus -> store: corpus reading, word alignment, batch planning, shards, the batched runner.

Model loading and architecture knowledge live in :mod:`neuroheat.model`; saliency in
:mod:`neuroheat.attribution`. Imports torch lazily: ``import neuroheat.extract`` stays cheap.

Example:
    >>> from neuroheat.extract.activations import extract_activations
    >>> extract_activations("all-MiniLM-L6-v2", "corpus.txt", "acts.h5")  # doctest: +SKIP
"""
