"""Top contexts of a neuron: the words (in their sentences) where it fires highest or lowest.

A streaming top-k merge over row chunks: each chunk contributes its k best rows, merged with
the running best k, so memory is one chunk plus k rows. Shards are searched separately (in
parallel if asked) and merged exactly on (value, global row).

Example:
    >>> for c in top_contexts("acts.h5", layer=3, neuron=17, k=3):   # doctest: +SKIP
    ...     print(c.value, c.word, " ".join(c.words))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from neuroheat.analysis.parallel import ordered_map, use_pool
from neuroheat.analysis.source import SourceArg, StoreLike, open_source
from neuroheat.errors import InputError


@dataclass
class Context:
    """One occurrence: global ``sentence`` index, word ``position`` in it, the ``word``, the
    neuron's ``value`` there, and the sentence's ``words``."""

    sentence: int
    position: int
    word: str
    value: float
    words: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _best(keys: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k smallest (key, row) pairs, sorted; ties in key go to the earlier row."""
    if len(keys) > k:
        kth = np.partition(keys, k - 1)[k - 1]
        sel = keys <= kth
        keys, rows = keys[sel], rows[sel]
    order = np.lexsort((rows, keys))[:k]
    return keys[order], rows[order]


def context_candidates(part: StoreLike, layer: int, neuron: int, k: int, lowest: bool,
                       chunk_mb: float = 64) -> tuple[np.ndarray, np.ndarray]:
    """The k best (value, local row) of one part, best first (NaN values are skipped)."""
    keys = np.zeros(0, dtype=np.float64)
    rows = np.zeros(0, dtype=np.int64)
    for start, chunk in part.iter_rows(layer, chunk_mb=chunk_mb):
        v = chunk[:, neuron].astype(np.float64)
        ok = ~np.isnan(v)
        r = np.flatnonzero(ok) + start
        key = v[ok] if lowest else -v[ok]
        keys, rows = _best(np.concatenate([keys, key]), np.concatenate([rows, r]), k)
        del chunk
    return (keys if lowest else -keys), rows


def context_candidates_task(path: str, layer: int, neuron: int, k: int, lowest: bool,
                            chunk_mb: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`context_candidates` on one store file opened here (pool / Dask task)."""
    from neuroheat.store import Store

    with Store(path) as part:
        return context_candidates(part, layer, neuron, k, lowest, chunk_mb)


def top_contexts(
    store: SourceArg,
    layer: int,
    neuron: int,
    k: int = 10,
    lowest: bool = False,
    *,
    chunk_mb: float = 64,
    workers: int | None = 1,
    scheduler: object = None,
) -> list[Context]:
    """The k rows where neuron ``neuron`` of model layer ``layer`` is highest (``lowest=True``:
    lowest), best first; ties go to the earlier row of the corpus.

    Example:
        >>> top_contexts("acts.h5", layer=3, neuron=17, k=1)   # doctest: +SKIP
        [Context(sentence=12, position=4, word='Paris', value=3.2, words=[...])]
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InputError(f"k must be a positive integer, got {k!r}")
    k = int(k)
    with open_source(store) as src:
        layer, neuron = src.check_layer(layer), src.check_neuron(neuron)
        pool = use_pool(src, workers, scheduler)
        if pool:
            calls = [(str(p.resolve()), layer, neuron, k, bool(lowest), chunk_mb)
                     for p in src.paths]
            results = ordered_map(context_candidates_task, calls, workers=workers,
                                  scheduler=scheduler)
        else:
            results = (context_candidates(p, layer, neuron, k, bool(lowest), chunk_mb)
                       for p in src.parts)
        keys, rows = np.zeros(0), np.zeros(0, dtype=np.int64)
        for i, (values, local) in enumerate(results):
            keys = np.concatenate([keys, values if lowest else -values])
            rows = np.concatenate([rows, local + src.row_starts[i]])
        keys, rows = _best(keys, rows, k)
        out = []
        for key, row in zip(keys, rows, strict=True):
            part_i, local = src.locate_row(int(row))
            part = src.parts[part_i]
            sent = int(np.searchsorted(part.offsets, local, side="right") - 1)
            words = part.words(sent)
            pos = local - int(part.offsets[sent])
            out.append(Context(int(src.sentence_starts[part_i]) + sent, pos, words[pos],
                               float(key if lowest else -key), words))
        return out
