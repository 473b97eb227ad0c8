"""Top words of every latent of a sparse store, ranked from the non-zeros alone.

The same score and order as :func:`~neuroheat.analysis.top_words.top_words_all` (NeuroX's
score, rounded to :data:`~neuroheat.analysis.ranking.DECIMALS`, ties by type id), without a
``[word types x latents]`` matrix. For latent ``n`` with mean ``mu``, a word type with no
non-zero occurrence has mean ``|a - mu| = |mu|`` exactly (the *background*); a type with
some has ``|mu| + (sum over its non-zeros of |a - mu| - |mu|) / count``. So the (latent, type)
pairs that occur among the non-zeros are the only candidates, plus the background, which
ranks only where ``|mu| / max`` passes the threshold (rare for sparse latents: those few are
merged one by one, in type-id order). Memory: latents are processed in blocks of at most
:data:`PAIRS_PER_BLOCK` non-zeros (the store's active counts say how many each has), one
pass over the layer's non-zeros per block.

Example:
    >>> sparse_top_words(store, [7], k=10, min_threshold=0.1)   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neuroheat.analysis.ranking import DECIMALS, stack_padded
from neuroheat.analysis.tables import TopWordsTable
from neuroheat.store import StoreBase

#: (latent, type) pairs gathered at once: ~16 bytes each before the reduction
PAIRS_PER_BLOCK = 8 * 2**20


def _pairs(store: StoreBase, layer: int, c0: int, c1: int, mu: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """Unique ``latent * n_types + type`` keys of latents ``c0:c1`` and their summed
    ``|a - mu| - |mu|`` over the non-zeros."""
    n_types = len(store.vocab)
    keys, corr = [], []
    for i, part in enumerate(store.parts):
        ids = store.type_map(i)[np.asarray(part.word_ids)]
        for rows, lat, val in part.iter_nonzeros(layer):
            sel = (lat >= c0) & (lat < c1)
            j = lat[sel].astype(np.int64)
            keys.append(j * n_types + ids[rows[sel]])
            corr.append(np.abs(val[sel].astype(np.float64) - mu[j]) - np.abs(mu[j]))
    if not keys:
        return np.zeros(0, np.int64), np.zeros(0)
    key, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    return key, np.bincount(inverse, weights=np.concatenate(corr), minlength=len(key))


def _background(latents: np.ndarray, lat: np.ndarray, typ: np.ndarray, n_types: int,
                k: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(latent, type) pairs of the first ``k`` types (by id) with no non-zero, per latent."""
    rows, cols = [], []
    for j in latents:
        free = np.setdiff1d(np.arange(n_types), typ[lat == j], assume_unique=True)
        free = free if k is None else free[:k]
        rows.append(np.full(len(free), j))
        cols.append(free)
    return np.concatenate(rows), np.concatenate(cols)


def _ranked(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, width: int, k: int | None
            ) -> tuple[np.ndarray, np.ndarray]:
    """``[width, kmax]`` types and scores: per row, score descending, then type id."""
    order = np.lexsort((cols, -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
    if k is not None:
        sel = rank < k
        rows, cols, vals, rank = rows[sel], cols[sel], vals[sel], rank[sel]
    kmax = int(rank.max()) + 1 if len(rank) else 0
    types = np.full((width, kmax), -1, dtype=np.int64)
    scores = np.full((width, kmax), np.nan)
    types[rows, rank] = cols
    scores[rows, rank] = vals
    return types, scores


def _rank_layer(store: StoreBase, layer: int, k: int | None, thr: float
                ) -> tuple[np.ndarray, np.ndarray]:
    width, n_types = store.hidden_size, len(store.vocab)
    counts = store.type_counts.astype(np.float64)
    st = store.running_stats(layer)
    mu, amu = st.mean, np.abs(st.mean)
    constant = ~(np.isfinite(st.min) & np.isfinite(st.max) & np.isfinite(st.mean)) | \
        (st.min == st.max)
    active = sum(np.asarray(p.active(layer), dtype=np.int64) for p in store.parts)
    cum = np.concatenate([[0], np.cumsum(active)])
    types_out, scores_out = [], []
    c0 = 0
    while c0 < width:
        c1 = int(np.searchsorted(cum, cum[c0] + PAIRS_PER_BLOCK, side="right")) - 1
        c1 = min(width, max(c1, c0 + 1))
        key, sums = _pairs(store, layer, c0, c1, mu)
        lat, typ = key // n_types, key % n_types
        raw = amu[lat] + sums / counts[typ]
        w = c1 - c0
        ncand = np.bincount(lat - c0, minlength=w)
        top = np.full(w, -np.inf)
        np.maximum.at(top, lat - c0, raw)
        bg = ncand < n_types  # some type has no non-zero: it scores |mu|
        top = np.where(bg, np.maximum(top, amu[c0:c1]), top)
        dead = constant[c0:c1] | ~(top > 0)
        safe = np.where(dead, 1.0, top)
        score = np.round(raw / safe[lat - c0], DECIMALS)
        keep = (score > thr) & ~dead[lat - c0]
        rows, cols, vals = lat[keep] - c0, typ[keep], score[keep]
        bg_score = np.round(amu[c0:c1] / safe, DECIMALS)
        slow = np.flatnonzero(bg & ~dead & (bg_score > thr))
        if len(slow):  # merge the background types of these few latents
            er, ec = _background(slow, lat - c0, typ, n_types, k)
            rows, cols = np.concatenate([rows, er]), np.concatenate([cols, ec])
            vals = np.concatenate([vals, bg_score[er]])
        types, scores = _ranked(rows, cols, vals, w, k)
        types_out.append(types)
        scores_out.append(scores)
        c0 = c1
    return stack_padded(types_out, -1, np.int64), stack_padded(scores_out, np.nan, np.float64)


def sparse_top_words(store: StoreBase, layers: Sequence[int], k: int | None,
                     min_threshold: float) -> TopWordsTable:
    """The top-words table of every latent of ``layers`` of a sparse store (or shards)."""
    width = store.hidden_size
    parts = [_rank_layer(store, layer, k, min_threshold) for layer in layers]
    return TopWordsTable(np.repeat(np.asarray(layers, dtype=np.int64), width),
                         np.tile(np.arange(width, dtype=np.int64), len(layers)),
                         stack_padded([p[0] for p in parts], -1, np.int64),
                         stack_padded([p[1] for p in parts], np.nan, np.float64),
                         store.vocab, k, min_threshold)
