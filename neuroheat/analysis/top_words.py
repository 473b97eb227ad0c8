"""Top words of neurons (NeuroX's score, exactly), for one neuron or every neuron at once.

Score of word type ``w`` for neuron ``n`` (NeuroX ``get_top_words``)::

    z(a)        = |a - mu_n| / sigma_n          mu_n, sigma_n: mean and population std of
                                                neuron n over every row of the corpus
    raw(w)      = mean of z over the occurrences of w
    score(w)    = raw(w) / max over types w' of raw(w')        (in [0, 1]; sigma_n cancels)

Types with ``score > min_threshold`` are kept, sorted by score descending, at most ``k``.
Scores are rounded to 12 decimals before sorting and filtering, so types whose scores tie in
exact arithmetic stay tied whatever the summation order (shards, processes), and ties are
broken by first occurrence in the corpus (as NeuroX's stable sort over an insertion-ordered
dict does). A neuron that never varies (sigma = 0) has no top words: its list is empty.

Example:
    >>> import neuroheat as nh
    >>> with nh.open_store("acts.h5") as store:                  # doctest: +SKIP
    ...     nh.analysis.top_words(store, layer=3, neuron=17, k=5)
    [('the', 1.0), ('of', 0.83), ...]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from neuroheat.analysis.options import DEFAULT_BLOCK_MB, RunOptions
from neuroheat.analysis.ranking import DECIMALS, rank_block, stack_padded
from neuroheat.analysis.scores import Block, scan_blocks
from neuroheat.analysis.source import SourceArg, open_source
from neuroheat.analysis.sparse_top_words import sparse_top_words
from neuroheat.analysis.tables import NeuronScore, NeuronScores, TopWords, TopWordsTable
from neuroheat.errors import InputError
from neuroheat.store import StoreBase
from neuroheat.store.part import Kernel

__all__ = ["DECIMALS", "NeuronScore", "NeuronScores", "TopWords", "TopWordsTable", "rank_block",
           "word_neurons", "top_words", "top_words_all"]


def _check_k(k: int | None) -> int | None:
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InputError(f"k must be a positive integer (or None for every word above the "
                         f"threshold), got {k!r}")
    return int(k)


def _check_block_mb(block_mb: float) -> None:
    if isinstance(block_mb, bool) or not isinstance(block_mb, int | float) or block_mb <= 0:
        raise InputError(f"block_mb must be a positive number of MiB, got {block_mb!r}")


def _check_threshold(t: float) -> float:
    try:
        t = float(t)
    except (TypeError, ValueError):
        raise InputError(f"min_threshold must be a number in [0, 1), got {t!r}") from None
    if not 0.0 <= t < 1.0:
        raise InputError(f"min_threshold must be in [0, 1) (scores are normalised to a maximum "
                         f"of 1), got {t}")
    return t


def _table_from_blocks(blocks: Iterator[Block], vocab: list[str], k: int | None,
                       min_threshold: float) -> TopWordsTable:
    layers, neurons, type_parts, score_parts = [], [], [], []
    for block in blocks:
        types, scores = rank_block(block.means, k, min_threshold, block.top)
        layers.append(np.full(block.c1 - block.c0, block.layer, dtype=np.int64))
        neurons.append(np.arange(block.c0, block.c1, dtype=np.int64))
        type_parts.append(types)
        score_parts.append(scores)
        del block

    def cat(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    return TopWordsTable(cat(layers), cat(neurons), stack_padded(type_parts, -1, np.int64),
                         stack_padded(score_parts, np.nan, np.float64), vocab, k,
                         min_threshold)


def dense_top_words(store: StoreBase, layers: list[int], k: int | None, min_threshold: float,
                    block_mb: float, options: RunOptions) -> TopWordsTable:
    """:func:`top_words_all` of a dense store: every neuron's mean |a - mu| per word type,
    one block of neurons at a time (:func:`~neuroheat.analysis.scores.scan_blocks`)."""
    blocks = scan_blocks(store, layers, block_mb=block_mb, options=options)
    return _table_from_blocks(blocks, store.vocab, k, min_threshold)


#: the top-words table of a whole store: dense blocks of neurons, or latents from non-zeros
TOP_WORDS_TABLE = Kernel("top words of every neuron", dense=dense_top_words,
                         sparse=sparse_top_words)


def top_words(
    store: SourceArg,
    layer: int,
    neuron: int,
    k: int | None = 10,
    min_threshold: float = 0.1,
    *,
    options: RunOptions | None = None,
    **run: Any,
) -> list[tuple[str, float]]:
    """Top words of one neuron by NeuroX's score (see the module docstring for the formula).

    ``store``: a Store, a sharded store, a path, a list of paths or a glob. ``layer`` is a
    model layer number (0 = embeddings). ``k=None`` keeps every word above the threshold.
    Returns ``[(word, score), ...]``, best first; empty for a neuron that never varies.
    ``options`` / ``**run``: :class:`~neuroheat.analysis.options.RunOptions` settings
    (``chunk_mb``, ``threads``, ``workers``, ``scheduler``, ``progress``).

    Example:
        >>> top_words("acts.h5", layer=3, neuron=17, k=3)     # doctest: +SKIP
        [('.', 1.0), (',', 0.91), ('the', 0.4)]
    """
    k, min_threshold = _check_k(k), _check_threshold(min_threshold)
    options = RunOptions.build(options, **run)
    with open_source(store) as src:
        layer, neuron = src.check_layer(layer), src.check_neuron(neuron)
        blocks = scan_blocks(src, [layer], neurons=(neuron, neuron + 1), options=options)
        return _table_from_blocks(blocks, src.vocab, k, min_threshold).words(0)


def top_words_all(
    store: SourceArg,
    k: int | None = 10,
    layers: int | Sequence[int] | str | None = None,
    *,
    min_threshold: float = 0.1,
    block_mb: float = DEFAULT_BLOCK_MB,
    options: RunOptions | None = None,
    **run: Any,
) -> TopWordsTable:
    """Top words of every neuron of ``layers`` (default: all stored), in one streaming pass
    per block of neurons.

    Same score and order as :func:`top_words`. Memory is bounded by ``chunk_mb`` (rows read at
    once) plus a float64 ``[word types x block]`` accumulator of at most ``block_mb`` MiB; not
    by the corpus. ``options`` (or the same settings as keywords, see
    :class:`~neuroheat.analysis.options.RunOptions`): layers / shards run in ``threads``
    threads of this process (default: one per CPU, at most 4; the budgets above are shared by
    them), or with ``workers > 1`` in a local process pool (0 = one per CPU), or on a Dask
    cluster given by ``scheduler`` (an address ``tcp://host:8786`` or a
    ``distributed.Client``). Results are identical, bit for bit, in every mode.
    ``progress``: a progress bar (default: only on a terminal). A sparse (SAE latent) store
    is ranked from its non-zeros alone (:mod:`~neuroheat.analysis.sparse_top_words`), run
    the same way.

    Example:
        >>> table = top_words_all("acts.h5", k=5, layers=[6])   # doctest: +SKIP
        >>> table.get(6, 17); table.to_csv("top_words.csv")     # doctest: +SKIP
    """
    k, min_threshold = _check_k(k), _check_threshold(min_threshold)
    _check_block_mb(block_mb)
    options = RunOptions.build(options, **run)
    with open_source(store) as src:
        layers = src.check_layers(layers)
        return src.apply(TOP_WORDS_TABLE, layers, k, min_threshold, block_mb, options)



def word_neurons(
    store: SourceArg,
    word: str,
    k: int | None = 10,
    *,
    layers: int | Sequence[int] | str | None = None,
    block_mb: float = DEFAULT_BLOCK_MB,
    options: RunOptions | None = None,
    **run: Any,
) -> NeuronScores:
    """The neurons for which ``word`` scores highest (the inverse of :func:`top_words`).

    The score of ``word`` for a neuron is exactly the one :func:`top_words` ranks by (1.0:
    ``word`` is that neuron's top word). Sorted by score descending, then by (layer, neuron);
    neurons where the word scores 0 are left out. One pass over each layer; ``options`` /
    ``**run`` as in :func:`top_words_all`. Returns a :class:`NeuronScores` list.

    Example:
        >>> word_neurons("acts.h5", "Paris", k=3)              # doctest: +SKIP
        [NeuronScore(layer=5, neuron=12, score=1.0), ...]
    """
    k = _check_k(k)
    if not isinstance(word, str):
        raise InputError(f"word must be a string, got {type(word).__name__}")
    _check_block_mb(block_mb)
    options = RunOptions.build(options, **run)
    with open_source(store) as src:
        layers = src.check_layers(layers)
        t = src.type_id(word)
        found: list[tuple[int, int, float]] = []
        for block in scan_blocks(src, layers, block_mb=block_mb, options=options):
            top = block.means.max(axis=0) if block.top is None else block.top
            row = np.round(block.means[t] / np.where(top > 0, top, 1.0), DECIMALS)
            found.extend((block.layer, block.c0 + j, float(s)) for j, s in enumerate(row)
                         if s > 0)
            del block
    found.sort(key=lambda x: (-x[2], x[0], x[1]))
    return NeuronScores((NeuronScore(*f) for f in (found if k is None else found[:k])), word)
