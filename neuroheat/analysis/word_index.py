"""Top words of every neuron and, for every word, its top neurons: one scan for both.

:func:`word_index` runs the top-words pass of :func:`~neuroheat.analysis.top_words.
top_words_all` once and keeps, besides each neuron's top words, each word type's best
neurons by the score :func:`~neuroheat.analysis.top_words.word_neurons` ranks by (same
rounding, same order: score descending, then layer, then neuron). A dashboard's search box
answers from it without the store.

Example:
    >>> table, index = word_index("acts.h5", k_words=10, k_neurons=20)   # doctest: +SKIP
    >>> index.get("Paris")[:1]                                          # doctest: +SKIP
    [NeuronScore(layer=5, neuron=12, score=1.0)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroheat import kernels
from neuroheat.analysis.options import DEFAULT_BLOCK_MB, RunOptions
from neuroheat.analysis.ranking import DECIMALS, rank_block, stack_padded
from neuroheat.analysis.scores import scan_blocks
from neuroheat.analysis.source import SourceArg, open_source
from neuroheat.analysis.tables import NeuronScore, NeuronScores, TopWordsTable
from neuroheat.errors import InputError

__all__ = ["WordNeurons", "word_index"]


@dataclass
class WordNeurons:
    """For word type ``t`` of ``vocab``: its best neurons ``layer[t]``, ``neuron[t]`` and
    ``score[t]`` (``[types, k]``, padded with -1 / NaN), best first."""

    vocab: list[str]
    layer: np.ndarray
    neuron: np.ndarray
    score: np.ndarray

    def get(self, word: str) -> NeuronScores:
        """What ``word_neurons(store, word, k)`` returns (k = this index's width).

        Example:
            >>> index.get("the")[0]   # doctest: +SKIP
            NeuronScore(layer=2, neuron=40, score=1.0)
        """
        try:
            t = self.vocab.index(word)
        except ValueError:
            raise InputError(f"word {word!r} does not occur in the corpus") from None
        ok = self.layer[t] >= 0
        return NeuronScores((NeuronScore(int(a), int(b), float(s)) for a, b, s in
                             zip(self.layer[t][ok], self.neuron[t][ok], self.score[t][ok],
                                 strict=True)), word)


def _keep_best(t: np.ndarray, s: np.ndarray, lay: np.ndarray, neu: np.ndarray,
               k: int) -> tuple[np.ndarray, ...]:
    """The first k candidates of each type by (-score, layer, neuron)."""
    order = np.lexsort((neu, lay, -s, t))
    t, s, lay, neu = t[order], s[order], lay[order], neu[order]
    rank = np.arange(len(t)) - np.searchsorted(t, t, side="left")
    keep = rank < k
    return t[keep], s[keep], lay[keep], neu[keep]


def _as_candidates(state: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """A compiled best-neurons state as :func:`_keep_best`'s ``(type, score, layer, neuron)``
    (sorted by type, then rank)."""
    score, lay, neu, _ = state
    t, r = np.nonzero(lay >= 0)
    return t, score[t, r], lay[t, r], neu[t, r]


def word_index(
    store: SourceArg,
    k_words: int | None = 10,
    k_neurons: int = 20,
    layers: int | Sequence[int] | str | None = None,
    *,
    min_threshold: float = 0.1,
    block_mb: float = DEFAULT_BLOCK_MB,
    options: RunOptions | None = None,
    **run: Any,
) -> tuple[TopWordsTable, WordNeurons]:
    """``(top_words_all(store, k_words, layers), WordNeurons)`` in one pass: the second
    holds, for every word type, what ``word_neurons(store, word, k_neurons, layers=layers)``
    returns.

    Example:
        >>> table, index = word_index("acts.h5", k_neurons=5)   # doctest: +SKIP
        >>> index.get("the") == nh.analysis.word_neurons("acts.h5", "the", 5)   # doctest: +SKIP
        True
    """
    if isinstance(k_neurons, bool) or not isinstance(k_neurons, int) or k_neurons < 1:
        raise InputError(f"k_neurons must be a positive integer, got {k_neurons!r}")
    options = RunOptions.build(options, **run)
    with open_source(store) as src:
        layers = src.check_layers(layers)
        vocab = list(src.vocab)
        parts: dict[str, list[np.ndarray]] = {"layer": [], "neuron": [], "types": [],
                                              "scores": []}
        best = tuple(np.zeros(0, dt) for dt in (np.int64, np.float64, np.int64, np.int64))
        # each type's best neurons, kept block by block by a compiled pass when enabled
        compiled = None
        if kernels.enabled(src.num_words * src.width * len(layers)):
            from neuroheat.kernels.ranking import best_neurons, new_best

            compiled = new_best(len(vocab), k_neurons)
        for block in scan_blocks(src, layers, block_mb=block_mb, options=options):
            types, scores = rank_block(block.means, k_words, min_threshold, block.top)
            parts["layer"].append(np.full(block.c1 - block.c0, block.layer, dtype=np.int64))
            parts["neuron"].append(np.arange(block.c0, block.c1, dtype=np.int64))
            parts["types"].append(types)
            parts["scores"].append(scores)
            # word_neurons' score of every type for every neuron of the block
            top = block.means.max(axis=0) if block.top is None else block.top
            if compiled is not None and np.isfinite(top).all():
                best_neurons(compiled, block.means, top, block.layer, block.c0)
                del block
                continue
            if compiled is not None:  # a non-finite column: numpy from here on
                best, compiled = _as_candidates(compiled), None
            S = np.round(block.means / np.where(top > 0, top, 1.0), DECIMALS)
            width = S.shape[1]
            if width > k_neurons:
                kth = np.partition(S, width - k_neurons, axis=1)[:, width - k_neurons]
                mask = (S > 0) & (S >= kth[:, None])
            else:
                mask = S > 0
            t, j = np.nonzero(mask)
            cand = (t, S[t, j], np.full(len(t), block.layer, np.int64), block.c0 + j)
            best = _keep_best(*(np.concatenate([a, b]) for a, b in zip(best, cand,
                                                                        strict=True)),
                              k_neurons)
            del block, S
        if compiled is not None:
            best = _as_candidates(compiled)
        t, s, lay, neu = best
        rank = np.arange(len(t)) - np.searchsorted(t, t, side="left")
        shape = (len(vocab), k_neurons)
        out_l, out_n = np.full(shape, -1, np.int64), np.full(shape, -1, np.int64)
        out_s = np.full(shape, np.nan)
        out_l[t, rank], out_n[t, rank], out_s[t, rank] = lay, neu, s

        def cat(key: str) -> np.ndarray:
            return np.concatenate(parts[key]) if parts[key] else np.zeros(0, np.int64)

        table = TopWordsTable(cat("layer"), cat("neuron"),
                              stack_padded(parts["types"], -1, np.int64),
                              stack_padded(parts["scores"], np.nan, np.float64), vocab,
                              k_words, min_threshold)
        return table, WordNeurons(vocab, out_l, out_n, out_s)
