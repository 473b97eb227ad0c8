"""Extract word-level activations of a corpus into a store, batched, resumable, shardable.

The steps of an extraction live once in :mod:`neuroheat.extract.runner`; what differs between
dense sites and SAE latents in :mod:`neuroheat.extract.dense` and
:mod:`neuroheat.extract.latents`.

Example:
    >>> import neuroheat as nh
    >>> nh.extract_activations("all-MiniLM-L6-v2", "corpus.txt", "acts.h5")  # doctest: +SKIP
    PosixPath('acts.h5')
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.extract.config import ExtractConfig
from neuroheat.extract.corpus import Corpus, read_corpus
from neuroheat.extract.dense import DenseStrategy
from neuroheat.extract.latents import LatentStrategy
from neuroheat.extract.runner import (
    DEFAULT_BATCH_TOKENS,
    default_batch_tokens,
    extract,
    plan_corpus,
)
from neuroheat.layerspec import select_layers
from neuroheat.model.loading import load_model
from neuroheat.model.sites import get_site_kind

__all__ = ["DEFAULT_BATCH_TOKENS", "activations_for_words", "default_batch_tokens",
           "extract_activations"]


def activations_for_words(
    model: Any,
    sentences: Sequence[Sequence[str]] | Sequence[str],
    *,
    layers: Sequence[int] | str | None = None,
    aggregation: str = "last",
    component: str = "hidden",
    include_special_tokens: bool = False,
    batch_tokens: int | None = None,
    device: str | None = None,
) -> list[np.ndarray]:
    """Activations of a few sentences in memory: float32 ``[n_words, n_layers, width]`` each.

    Same alignment, windows and layer numbering as :func:`extract_activations`.

    Example:
        >>> arrs = activations_for_words(loaded, [["The", "cat"]], layers=[0, 6])  # doctest: +SKIP
        >>> arrs[0].shape
        (2, 2, 384)
    """
    loaded = load_model(model, "base", device=device)
    words = read_corpus(list(sentences))
    comp = get_site_kind(component)
    chosen = select_layers(comp.layers(loaded.model), layers)
    runner, units, encoded = _build(loaded, comp, chosen, words, aggregation,
                                    include_special_tokens, batch_tokens, "float32", None)
    out: list[np.ndarray] = [np.zeros((0, len(chosen), comp.width(loaded.model)), np.float32)
                             for _ in words]
    for unit in units:
        res = runner.run(unit)
        rows = res.numpy()
        for k, s in enumerate(unit.sentences):
            out[s] = np.array(rows[res.row_starts[k]:res.row_starts[k + 1]], dtype=np.float32)
    return out


def _build(loaded, comp, layers, words, aggregation, include_special, batch_tokens, dtype,
           max_length, first_line=1, block=None, parts=None):
    """``(runner, units, encoded)`` of dense sites ``comp`` at ``layers`` for ``words``."""
    from neuroheat.extract.pipeline import UnitRunner

    encoded, specials, units = plan_corpus(loaded, words, aggregation, include_special,
                                           batch_tokens, max_length, first_line=first_line,
                                           block=block, parts=parts)
    runner = UnitRunner(loaded, comp, layers, encoded, specials, aggregation, dtype,
                        first_line=first_line)
    return runner, units, encoded


def extract_activations(
    model: Any,
    corpus: Corpus,
    output: str | os.PathLike,
    config: ExtractConfig | None = None,
    **options: Any,
) -> Path:
    """Extract activations of every word of ``corpus`` into the store ``output``.

    Args:
        model: Hub id, local directory or ``(model, tokenizer)``; loaded offline-first.
        corpus: text file (one sentence per line), iterable of strings or of word lists.
        config: an :class:`~neuroheat.extract.config.ExtractConfig`; keyword ``options``
            (its field names) override it. The main ones:

            - ``layers``: layers to keep (0 = embeddings), e.g. ``[0, 6]`` or ``"1-4"``;
            - ``aggregation``: ``first``, ``last`` (NeuroX default), ``average`` or ``none``;
            - ``dtype``: ``float16`` (default) or ``float32``;
            - ``component``: a site kind, ``hidden`` (residual stream) or ``mlp``;
            - ``saes``: SAE folders (or ``"SITE=DIR"``, or ``nh.sae.load_sae`` objects):
              store their latents instead, sparsely (:mod:`neuroheat.extract.latents`);
            - ``model_dtype``: ``auto`` (checkpoint dtype on CUDA, float32 on CPU),
              ``float32``, ``bfloat16`` or ``float16``, recorded as the store's
              ``model_dtype``; ``device_map`` (``auto``/``balanced``/``sequential``, needs
              ``accelerate``) spreads a big model over the GPUs; ``attn_implementation``
              is passed to transformers;
            - ``batch_tokens``: padded-token budget of one forward pass (default 1024 on CPU,
              16384 on CUDA; longer windows always fit);
            - ``resume`` / ``overwrite``: continue an interrupted run / replace the output;
            - ``shard``: ``(index, count)``, ``"I/N"`` or ``"auto"`` (torchrun / SLURM;
              also used, with a warning, when a launcher started several processes and
              no shard is given); a shard reads and tokenises only its own lines;
            - ``plan_shards`` / ``plan_block``: the corpus is cut into ``plan_shards``
              balanced parts (default: the shard count) and each part into blocks of
              ``plan_block`` sentences; batches never cross a block, so N merged shards
              equal one run with ``plan_shards=N`` bit for bit
              (:mod:`neuroheat.extract.shard`).

    One process writes a store: the output is locked for the whole run
    (:class:`~neuroheat.store.lock.StoreLock`), and its space is reserved when it is created.

    Returns:
        The path of the complete store.

    Example:
        >>> extract_activations("bert-base-cased", "corpus.txt", "acts.h5", layers="0-4")  # doctest: +SKIP
    """
    cfg = ExtractConfig.build(config, **options)
    # SAE latents go to a sparse store (neuroheat.extract.latents); the steps are the same
    strategy = LatentStrategy() if cfg.saes else DenseStrategy()
    return extract(model, corpus, Path(output), cfg, strategy)
