"""Top and bottom contexts of every neuron in one streaming pass, with histograms and samples.

:func:`top_contexts_all` reads each layer once, chunk by chunk, and for every neuron of it at
once keeps the k highest and k lowest rows (exactly those :func:`~neuroheat.analysis.
contexts.top_contexts` returns, ties to the earlier row), a histogram over the neuron's stored
[min, max] and a few rows sampled per quantile band (see :mod:`neuroheat.analysis.
distributions` for what "quantile" means here).

How a chunk is searched exactly and vectorised: each value (float16 and float32 are exact in
float32) is mapped to the unsigned integer whose order is the value's order (the usual IEEE
bit trick; -0.0 first made +0.0, NaN last), shifted up 32 bits and OR-ed with its row in the
chunk. Keys are then unique, so ``np.partition`` along every neuron's row at once returns
the k best (value, row) pairs, ties included the way the per-neuron search breaks them. The
chunk's k candidates merge with the running k by a lexsort on (key, global row), within a
shard and then across shards in order, so any chunking, threading or sharding gives the same
rows. Memory is one chunk, a transposed ~1 MiB block of it, and ``[neurons x k]`` per layer.

Example:
    >>> found = top_contexts_all("acts.h5", k=5)                   # doctest: +SKIP
    >>> found.contexts(3, 17)[0].word, found.layer(3).histogram.shape   # doctest: +SKIP
    ('Paris', (384, 40))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroheat import kernels
from neuroheat.analysis import distributions as D
from neuroheat.analysis.contexts import Context, Contexts
from neuroheat.analysis.dense_scan import key_values, merge_best, scan_dense_part
from neuroheat.analysis.options import RunOptions
from neuroheat.analysis.parallel import map_parts
from neuroheat.analysis.source import SourceArg, open_source
from neuroheat.analysis.sparse_contexts import scan_sparse_part
from neuroheat.errors import InputError
from neuroheat.store import StoreBase
from neuroheat.store.part import Kernel

__all__ = ["CONTEXT_SCAN", "LayerContexts", "NeuronContexts", "scan_dense_part", "scan_part",
           "top_contexts_all"]

def scan_part(part: StoreBase, layer: int, plan: dict[str, Any]) -> dict[str, Any]:
    """One part's share of :func:`top_contexts_all` for one layer (a map_parts task): a
    dense part's rows (:func:`scan_dense_part`), or a sparse part's non-zeros
    (:func:`~neuroheat.analysis.sparse_contexts.scan_sparse_part`), the same result.

    ``plan``: ``row0`` (global row of the part's first row), ``k``, ``bottom``, ``bins``,
    ``fine`` (also a :data:`~neuroheat.analysis.distributions.FINE_BINS` histogram),
    ``mode``, ``edges`` (band edges, None: no samples), ``samples``, ``seed``, ``lo``/``hi``
    (the layer's global min / max), ``chunk_mb``, ``finite`` (no NaN in the layer).
    """
    return part.apply(CONTEXT_SCAN, layer, plan)


def _scan_latents(part: StoreBase, layer: int, plan: dict[str, Any]) -> dict[str, Any]:
    # an empty part has no non-zeros: the dense scan gives its empty share
    scan = scan_sparse_part if part.num_words else scan_dense_part
    return scan(part, layer, plan)


#: the per-part context scan: rows of a dense part, non-zeros of a sparse one
CONTEXT_SCAN = Kernel("context scan", dense=scan_dense_part, sparse=_scan_latents)


@dataclass
class LayerContexts:
    """Every neuron of one layer: rows ``[neurons, k]`` (global rows, -1 where the corpus
    has fewer than k values) and values (float64, as stored; NaN padded) of the top and
    bottom contexts, best first; ``histogram`` ``[neurons, bins]`` over ``[hist_lo,
    hist_hi]``; ``band_edges`` ``[neurons, bands + 1]`` and ``sample_rows`` /
    ``sample_values`` ``[neurons, bands, samples]`` (the quantile samples, lowest band
    first, in sampling order)."""

    layer: int
    top_rows: np.ndarray
    top_values: np.ndarray
    bottom_rows: np.ndarray | None
    bottom_values: np.ndarray | None
    histogram: np.ndarray | None
    hist_lo: np.ndarray
    hist_hi: np.ndarray
    band_edges: np.ndarray | None
    sample_rows: np.ndarray | None
    sample_values: np.ndarray | None


class NeuronContexts:
    """The result of :func:`top_contexts_all`: one :class:`LayerContexts` per layer and the
    corpus lookup that turns a global row into its sentence and words (no store needed)."""

    def __init__(self, layers: dict[int, LayerContexts], offsets: np.ndarray,
                 word_ids: np.ndarray, vocab: list[str], quantiles: str) -> None:
        self.layers = layers
        self.offsets, self.word_ids, self.vocab = offsets, word_ids, vocab
        self.quantiles = quantiles

    def layer(self, layer: int) -> LayerContexts:
        """The arrays of one layer."""
        if layer not in self.layers:
            raise InputError(f"layer {layer} was not searched; searched: {sorted(self.layers)}")
        return self.layers[layer]

    def locate(self, row: int) -> tuple[int, int]:
        """``(sentence, position)`` of a global row."""
        sent = int(np.searchsorted(self.offsets, row, side="right") - 1)
        return sent, int(row - self.offsets[sent])

    def sentence_words(self, sentence: int) -> list[str]:
        """The words of a sentence."""
        a, b = int(self.offsets[sentence]), int(self.offsets[sentence + 1])
        return [self.vocab[t] for t in self.word_ids[a:b]]

    def contexts(self, layer: int, neuron: int, lowest: bool = False) -> Contexts:
        """The :class:`~neuroheat.analysis.contexts.Contexts` of one neuron, exactly what
        ``top_contexts(store, layer, neuron, k, lowest)`` returns.

        Example:
            >>> found.contexts(3, 17, lowest=True)[0].value   # doctest: +SKIP
            -1.07
        """
        lc = self.layer(layer)
        rows, values = (lc.bottom_rows, lc.bottom_values) if lowest else (lc.top_rows,
                                                                          lc.top_values)
        if rows is None:
            raise InputError("bottom contexts were not searched (bottom=False)")
        out = Contexts(layer=layer, neuron=neuron, lowest=lowest)
        for row, value in zip(rows[neuron], values[neuron], strict=True):
            if row < 0:
                continue
            sent, pos = self.locate(int(row))
            words = self.sentence_words(sent)
            out.append(Context(sent, pos, words[pos], float(value), words))
        return out


def _check(k: int, bins: int, quantiles: str, bands: int, samples: int) -> None:
    for name, v, low in (("k", k, 1), ("bins", bins, 0), ("bands", bands, 1),
                         ("samples", samples, 0)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < low:
            raise InputError(f"{name} must be an integer >= {low}, got {v!r}")
    if quantiles not in D.QUANTILE_MODES:
        raise InputError(f"quantiles must be one of {', '.join(D.QUANTILE_MODES)}, "
                         f"got {quantiles!r}")


def top_contexts_all(
    store: SourceArg,
    k: int = 10,
    layers: int | Sequence[int] | str | None = None,
    *,
    bottom: bool = True,
    bins: int = 40,
    quantiles: str = "value",
    bands: int = 10,
    samples: int = 4,
    seed: int = 0,
    options: RunOptions | None = None,
    **run: Any,
) -> NeuronContexts:
    """Top-k (and with ``bottom`` bottom-k) contexts of every neuron of ``layers`` (default:
    all), a ``bins``-bin histogram per neuron (0: none) and ``samples`` rows per quantile
    band (``quantiles`` = ``"value"`` | ``"rank"`` | ``"count"``, see
    :mod:`~neuroheat.analysis.distributions`; ``bands`` for value and count bands).

    One pass per layer (two for rank and count bands); ``options`` / ``**run`` as in
    :func:`~neuroheat.analysis.top_words.top_words_all`. Same rows, values and order as
    :func:`~neuroheat.analysis.contexts.top_contexts` for every neuron, bit for bit.

    Example:
        >>> found = top_contexts_all("acts.h5", k=3, layers=[3])   # doctest: +SKIP
        >>> [c.word for c in found.contexts(3, 17)]                  # doctest: +SKIP
        ['Paris', 'London', 'Rome']
    """
    _check(k, bins, quantiles, bands, samples)
    options = RunOptions.build(options, **run)
    with open_source(store) as src:
        layers = src.check_layers(layers)
        chunk_mb = options.chunk_mb / options.local_tasks
        n_bands = len(D.RANK_BANDS) if quantiles == "rank" else int(bands)
        stats = {layer: src.running_stats(layer) for layer in layers}
        two_pass = quantiles != "value" and samples > 0

        def plans(layer: int, first: bool, edges: np.ndarray | None) -> dict[str, Any]:
            st = stats[layer]
            return {"k": int(k) if first else 0, "bottom": bool(bottom),
                    "bins": int(bins) if first else 0, "fine": first and two_pass,
                    "mode": quantiles, "edges": edges, "samples": int(samples),
                    "seed": int(seed), "lo": st.min, "hi": st.max, "chunk_mb": chunk_mb,
                    # NaN would make min / max NaN: finite statistics mean no NaN to skip
                    "finite": bool(np.isfinite(st.min).all() and np.isfinite(st.max).all())}

        pieces = _pieces(src, len(layers), options.local_tasks)
        kernels.prepare(src.num_words * src.width * len(layers) * (1 + two_pass))

        def run_pass(first: bool, edges: dict[int, np.ndarray | None]) -> dict[int, dict]:
            calls = [(i, layer, {**plans(layer, first, edges[layer]),
                                 "row0": int(src.row_starts[i]), "rows": rows})
                     for layer in layers for i in range(len(src.parts))
                     for rows in pieces[i]]
            results = map_parts(scan_part, src, calls, options, threads=options.local_tasks)
            merged: dict[int, dict] = {}
            for layer in layers:
                for i in range(len(src.parts)):
                    for _ in pieces[i]:
                        merged[layer] = _merge_parts(merged.get(layer), next(results), int(k))
            return merged

        def value_edges_of(layer: int) -> np.ndarray | None:
            if quantiles != "value" or not samples:
                return None
            hlo, hhi = D.histogram_range(stats[layer].min, stats[layer].max)
            if bins and bins % n_bands == 0:  # the histogram's own edges, every bins/bands
                return np.linspace(hlo, hhi, bins + 1, axis=1)[:, ::bins // n_bands]
            return D.band_edges("value", hlo, hhi, n_bands)

        value_edges = {layer: value_edges_of(layer) for layer in layers}
        first = run_pass(True, value_edges)
        edges = value_edges
        if two_pass:
            edges = {layer: D.band_edges(quantiles, stats[layer].min, stats[layer].max,
                                         n_bands, first[layer]["fine"]) for layer in layers}
            second = run_pass(False, edges)
            for layer in layers:
                first[layer]["samples"] = second[layer]["samples"]
        out = {}
        for layer in layers:
            r, st = first[layer], stats[layer]
            hlo, hhi = D.histogram_range(st.min, st.max)
            smp = r["samples"]
            out[layer] = LayerContexts(
                layer, r["top"][1], key_values(r["top"][0], False),
                r["low"][1] if bottom else None,
                key_values(r["low"][0], True) if bottom else None,
                r["hist"], hlo, hhi, edges[layer] if samples else None,
                None if smp is None else smp[1], None if smp is None else smp[2])
        return NeuronContexts(out, np.asarray(src.offsets, np.int64),
                              np.asarray(src.word_ids), list(src.vocab), quantiles)


def _pieces(src: StoreBase, n_layers: int, threads: int) -> list[list[tuple[int, int] | None]]:
    """Row ranges each part's layer is scanned in: whole parts, unless there are too few
    (layer, part) tasks to keep ``threads`` busy to the end (7 layers on 2 threads leave one
    idle for the last layer): then each dense part in pieces, about 4 tasks per thread.
    Pieces merge exactly like parts."""
    tasks = n_layers * len(src.parts)
    split = 1 if threads <= 1 or tasks >= 4 * threads else -(-4 * threads // tasks)
    out: list[list[tuple[int, int] | None]] = []
    for part in src.parts:
        n = int(part.num_words)
        if split == 1 or part.sparse or n < 2 * split:
            out.append([None])
            continue
        cuts = [n * q // split for q in range(split + 1)]
        out.append([(cuts[q], cuts[q + 1]) for q in range(split)])
    return out


def _merge_parts(acc: dict | None, new: dict, k: int) -> dict:
    """Merge one part's :func:`scan_part` result into the running one (parts in order)."""
    if acc is None:
        return new
    out = dict(acc)
    if k:
        out["top"] = merge_best(acc["top"], new["top"], k)
        out["low"] = merge_best(acc["low"], new["low"], k)
    for key in ("hist", "fine"):
        if acc[key] is not None:
            out[key] = acc[key] + new[key]
    if acc["samples"] is None or new["samples"] is None:
        out["samples"] = acc["samples"] if new["samples"] is None else new["samples"]
    else:
        out["samples"] = D.merge_samples(acc["samples"], new["samples"])
    return out
