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

import csv
import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from neuroheat.analysis.scores import Block, scan_blocks
from neuroheat.analysis.source import SourceArg, open_source
from neuroheat.errors import InputError

#: decimals kept in scores, so that exact ties are found whatever the summation order
DECIMALS = 12
_COLUMNS_PER_RANK = 64  # neurons ranked at once (bounds the temporary copies)


def _check_k(k: int | None) -> int | None:
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InputError(f"k must be a positive integer (or None for every word above the "
                         f"threshold), got {k!r}")
    return int(k)


def _check_threshold(t: float) -> float:
    try:
        t = float(t)
    except (TypeError, ValueError):
        raise InputError(f"min_threshold must be a number in [0, 1), got {t!r}") from None
    if not 0.0 <= t < 1.0:
        raise InputError(f"min_threshold must be in [0, 1) (scores are normalised to a maximum "
                         f"of 1), got {t}")
    return t


def rank_block(means: np.ndarray, k: int | None,
               min_threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Top types of every column of ``means`` [types x neurons] (mean |a - mu| per type).

    Returns ``(types, scores)``, both ``[neurons, kmax]``, padded with -1 / NaN. Score =
    column / column max, rounded to :data:`DECIMALS`; order: score descending, then type id
    ascending (first occurrence); scores must be > ``min_threshold``. Only candidates at or
    above the k-th largest value (less a rounding slack) are divided, rounded and sorted.
    """
    n_types, width = means.shape
    top = means.max(axis=0) if n_types else np.zeros(width)
    type_parts, score_parts = [], []
    for j0 in range(0, width, _COLUMNS_PER_RANK):
        sub = np.ascontiguousarray(means[:, j0:j0 + _COLUMNS_PER_RANK].T)  # [neurons x types]
        mx = top[j0:j0 + _COLUMNS_PER_RANK]
        safe = np.where(mx > 0, mx, 1.0)
        lim = min_threshold * safe
        if k is not None and k < n_types:
            lim = np.maximum(lim, np.partition(sub, n_types - k, axis=1)[:, n_types - k])
        # rounding to DECIMALS moves a score by at most 0.5e-12: keep a 2e-12 slack
        lim = np.where(mx > 0, lim - 2 * 10.0**-DECIMALS * safe, np.inf)
        rows, cols = np.nonzero(sub >= lim[:, None])
        vals = np.round(sub[rows, cols] / safe[rows], DECIMALS)
        keep = vals > min_threshold
        rows, cols, vals = rows[keep], cols[keep], vals[keep]
        order = np.lexsort((cols, -vals, rows))
        rows, cols, vals = rows[order], cols[order], vals[order]
        rank = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
        if k is not None:
            keep = rank < k
            rows, cols, vals, rank = rows[keep], cols[keep], vals[keep], rank[keep]
        kmax = int(rank.max()) + 1 if len(rank) else 0
        types = np.full((len(sub), kmax), -1, dtype=np.int64)
        scores = np.full((len(sub), kmax), np.nan)
        types[rows, rank] = cols
        scores[rows, rank] = vals
        type_parts.append(types)
        score_parts.append(scores)
    return _stack(type_parts, -1, np.int64), _stack(score_parts, np.nan, np.float64)


def _stack(parts: list[np.ndarray], fill: float, dtype: type) -> np.ndarray:
    """Stack ``[n_i, k_i]`` arrays into ``[sum n_i, max k_i]``, padding with ``fill``."""
    kmax = max((p.shape[1] for p in parts), default=0)
    out = np.full((sum(len(p) for p in parts), kmax), fill, dtype=dtype)
    row = 0
    for p in parts:
        out[row:row + len(p), :p.shape[1]] = p
        row += len(p)
    return out


class TopWords(NamedTuple):
    """The top words of one neuron: ``words`` is a list of ``(word, score)``."""

    layer: int
    neuron: int
    words: list[tuple[str, float]]


@dataclass
class TopWordsTable:
    """Top words of many neurons, stored compactly (type ids into ``vocab``).

    ``types[i]`` / ``scores[i]`` hold neuron i's ranked type ids and scores, padded with -1 /
    NaN. Iterate for :class:`TopWords` rows, or export with :meth:`to_records` / :meth:`to_csv`.
    """

    layer: np.ndarray
    neuron: np.ndarray
    types: np.ndarray
    scores: np.ndarray
    vocab: list[str]
    k: int | None
    min_threshold: float

    @classmethod
    def single(cls, layer: int, neuron: int, words: list[tuple[str, float]],
               k: int | None = None, min_threshold: float = 0.1) -> TopWordsTable:
        """A one-row table from a :func:`top_words` result."""
        return cls(np.array([layer]), np.array([neuron]), np.arange(len(words))[None, :],
                   np.array([[s for _, s in words]], dtype=np.float64).reshape(1, len(words)),
                   [w for w, _ in words], k, min_threshold)

    def __len__(self) -> int:
        return len(self.layer)

    def words(self, i: int) -> list[tuple[str, float]]:
        """``(word, score)`` list of row i."""
        ids = self.types[i]
        n = int((ids >= 0).sum())
        return [(self.vocab[int(t)], float(s)) for t, s in zip(ids[:n], self.scores[i, :n],
                                                               strict=True)]

    def __iter__(self) -> Iterator[TopWords]:
        for i in range(len(self)):
            yield TopWords(int(self.layer[i]), int(self.neuron[i]), self.words(i))

    def get(self, layer: int, neuron: int) -> list[tuple[str, float]]:
        """Top words of one neuron (model layer number, neuron index)."""
        hits = np.flatnonzero((self.layer == layer) & (self.neuron == neuron))
        if not len(hits):
            raise InputError(f"layer {layer} neuron {neuron} is not in this table; layers: "
                             f"{sorted(set(self.layer.tolist()))}")
        return self.words(int(hits[0]))

    def to_records(self) -> list[dict[str, Any]]:
        """``[{"layer": L, "neuron": N, "words": [[word, score], ...]}, ...]`` (JSON-ready)."""
        return [{"layer": r.layer, "neuron": r.neuron, "words": [[w, s] for w, s in r.words]}
                for r in self]

    def to_csv(self, path: str | os.PathLike | None = None) -> str | None:
        """Long format ``layer,neuron,rank,word,score`` (rank from 1; neurons without words
        have no row). Writes ``path`` when given, else returns the text."""
        out = io.StringIO() if path is None else open(path, "w", newline="", encoding="utf-8")
        try:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["layer", "neuron", "rank", "word", "score"])
            for r in self:
                for rank, (word, score) in enumerate(r.words, 1):
                    writer.writerow([r.layer, r.neuron, rank, word, repr(score)])
            return out.getvalue() if path is None else None
        finally:
            if path is not None:
                out.close()


def _table_from_blocks(blocks: Iterator[Block], vocab: list[str], k: int | None,
                       min_threshold: float) -> TopWordsTable:
    layers, neurons, type_parts, score_parts = [], [], [], []
    for block in blocks:
        types, scores = rank_block(block.means, k, min_threshold)
        layers.append(np.full(block.c1 - block.c0, block.layer, dtype=np.int64))
        neurons.append(np.arange(block.c0, block.c1, dtype=np.int64))
        type_parts.append(types)
        score_parts.append(scores)
        del block

    def cat(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    return TopWordsTable(cat(layers), cat(neurons), _stack(type_parts, -1, np.int64),
                         _stack(score_parts, np.nan, np.float64), vocab, k, min_threshold)


def top_words(
    store: SourceArg,
    layer: int,
    neuron: int,
    k: int | None = 10,
    min_threshold: float = 0.1,
    *,
    chunk_mb: float = 64,
) -> list[tuple[str, float]]:
    """Top words of one neuron by NeuroX's score (see the module docstring for the formula).

    ``store``: a Store, a sharded store, a path, a list of paths or a glob. ``layer`` is a
    model layer number (0 = embeddings). ``k=None`` keeps every word above the threshold.
    Returns ``[(word, score), ...]``, best first; empty for a neuron that never varies.

    Example:
        >>> top_words("acts.h5", layer=3, neuron=17, k=3)     # doctest: +SKIP
        [('.', 1.0), (',', 0.91), ('the', 0.4)]
    """
    k, min_threshold = _check_k(k), _check_threshold(min_threshold)
    with open_source(store) as src:
        layer, neuron = src.check_layer(layer), src.check_neuron(neuron)
        blocks = scan_blocks(src, [layer], neurons=(neuron, neuron + 1), chunk_mb=chunk_mb)
        return _table_from_blocks(blocks, src.vocab, k, min_threshold).words(0)


def top_words_all(
    store: SourceArg,
    k: int | None = 10,
    layers: int | Sequence[int] | None = None,
    *,
    min_threshold: float = 0.1,
    chunk_mb: float = 64,
    block_mb: float = 256,
    workers: int | None = 1,
    scheduler: object = None,
    threads: int | None = None,
    progress: bool | None = None,
) -> TopWordsTable:
    """Top words of every neuron of ``layers`` (default: all stored), in one streaming pass
    per block of neurons.

    Same score and order as :func:`top_words`. Memory is bounded by ``chunk_mb`` (rows read at
    once) plus a float64 ``[word types x block]`` accumulator of at most ``block_mb`` MiB; not
    by the corpus. Layers / shards run in ``threads`` threads of this process (default: one
    per CPU, at most 4; the budgets above are shared by them), or with ``workers > 1`` in a
    local process pool (0 = one per CPU), or on a Dask cluster given by ``scheduler`` (an
    address ``tcp://host:8786`` or a ``distributed.Client``). Results are identical, bit for
    bit, in every mode. ``progress``: a progress bar (default: only on a terminal).

    Example:
        >>> table = top_words_all("acts.h5", k=5, layers=[6])   # doctest: +SKIP
        >>> table.get(6, 17); table.to_csv("top_words.csv")     # doctest: +SKIP
    """
    k, min_threshold = _check_k(k), _check_threshold(min_threshold)
    if not isinstance(block_mb, int | float) or block_mb <= 0:
        raise InputError(f"block_mb must be a positive number of MiB, got {block_mb!r}")
    with open_source(store) as src:
        layers = src.check_layers(layers)
        blocks = scan_blocks(src, layers, chunk_mb=chunk_mb, block_mb=block_mb,
                             workers=workers, scheduler=scheduler, threads=threads,
                             progress=progress)
        return _table_from_blocks(blocks, src.vocab, k, min_threshold)


class NeuronScore(NamedTuple):
    """A neuron (model layer number, index) and its normalised score for one word type."""

    layer: int
    neuron: int
    score: float


def top_neurons(
    store: SourceArg,
    word: str,
    k: int | None = 10,
    *,
    layers: int | Sequence[int] | None = None,
    chunk_mb: float = 64,
    block_mb: float = 256,
    workers: int | None = 1,
    scheduler: object = None,
    threads: int | None = None,
    progress: bool | None = None,
) -> list[NeuronScore]:
    """The neurons for which ``word`` scores highest (the inverse of :func:`top_words`).

    The score of ``word`` for a neuron is exactly the one :func:`top_words` ranks by (1.0:
    ``word`` is that neuron's top word). Sorted by score descending, then by (layer, neuron);
    neurons where the word scores 0 are left out. One pass over each layer; ``threads``,
    ``workers`` and ``scheduler`` as in :func:`top_words_all`.

    Example:
        >>> top_neurons("acts.h5", "Paris", k=3)              # doctest: +SKIP
        [NeuronScore(layer=5, neuron=12, score=1.0), ...]
    """
    k = _check_k(k)
    if not isinstance(word, str):
        raise InputError(f"word must be a string, got {type(word).__name__}")
    with open_source(store) as src:
        layers = src.check_layers(layers)
        t = src.type_id(word)
        found: list[tuple[int, int, float]] = []
        for block in scan_blocks(src, layers, chunk_mb=chunk_mb, block_mb=block_mb,
                                 workers=workers, scheduler=scheduler, threads=threads,
                                 progress=progress):
            top = block.means.max(axis=0)
            row = np.round(block.means[t] / np.where(top > 0, top, 1.0), DECIMALS)
            found.extend((block.layer, block.c0 + j, float(s)) for j, s in enumerate(row)
                         if s > 0)
            del block
    found.sort(key=lambda x: (-x[2], x[0], x[1]))
    return [NeuronScore(*f) for f in (found if k is None else found[:k])]
