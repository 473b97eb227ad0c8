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

from neuroheat.analysis import distributions as D
from neuroheat.analysis.contexts import Context, Contexts
from neuroheat.analysis.options import RunOptions
from neuroheat.analysis.parallel import map_parts
from neuroheat.analysis.source import SourceArg, open_source
from neuroheat.analysis.sparse_contexts import scan_sparse_part
from neuroheat.errors import InputError
from neuroheat.store import StoreBase
from neuroheat.store.part import Kernel

__all__ = ["CONTEXT_SCAN", "LayerContexts", "NeuronContexts", "scan_dense_part", "scan_part",
           "top_contexts_all"]

_EMPTY = np.uint64(2**32)  # key of "no row": above every 32-bit value key
_NAN = np.uint64(0xFFFFFFFF)  # NaN's value key: no finite or infinite value maps there
_BLOCK_BYTES = 2**20  # transposed block of a chunk: about 1 MiB of uint64 (stays in cache)


def _value_order(x: np.ndarray, finite: bool) -> np.ndarray:
    """uint32 ``[neurons, rows]`` whose unsigned order is the order of the float32 values
    ``x`` (ascending; -0.0 and +0.0 tie; NaN -> :data:`_NAN`, unless ``finite``)."""
    bits = (x + np.float32(0.0)).view(np.uint32)  # -0.0 + 0.0 = +0.0: zeros tie
    flip = np.right_shift(bits, np.uint32(31))
    np.negative(flip, out=flip)  # 0 or 0xFFFFFFFF
    flip |= np.uint32(0x80000000)
    order = np.bitwise_xor(bits, flip, out=flip)
    if not finite:
        order[np.isnan(x)] = _NAN  # (NaN's own order would sort it past +inf: make it last)
    return order


def _value_keys(order: np.ndarray, lowest: bool) -> np.ndarray:
    """uint64 keys (high 32 bits: order of the value, best first; low: column) of an
    :func:`_value_order` array; NaN keeps :data:`_NAN` in the high part."""
    if lowest:
        keys = order.astype(np.uint64)
    else:
        nan = order == _NAN
        keys = (~order).astype(np.uint64)
        keys[nan] = _NAN
    keys <<= np.uint64(32)
    keys |= np.arange(order.shape[1], dtype=np.uint64)[None, :]
    return keys


def _key_values(keys: np.ndarray, lowest: bool) -> np.ndarray:
    """float64 values of 32-bit value keys (NaN for :data:`_EMPTY`)."""
    k32 = (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    if not lowest:
        k32 = ~k32
    pos = (k32 >> np.uint32(31)).astype(bool)
    bits = np.where(pos, k32 & np.uint32(0x7FFFFFFF), ~k32)
    out = bits.view(np.float32).astype(np.float64)
    out[keys >= _EMPTY] = np.nan
    return out


def _chunk_best(order: np.ndarray, row0: int, k: int, lowest: bool
                ) -> tuple[np.ndarray, ...]:
    """``(value key, global row)``, each ``[neurons, min(k, rows)]``, of a block."""
    keys = _value_keys(order, lowest)
    kk = min(k, keys.shape[1])
    if kk < keys.shape[1]:
        keys = np.partition(keys, kk - 1, axis=1)[:, :kk]
    vkey = keys >> np.uint64(32)
    rows = (keys & np.uint64(0xFFFFFFFF)).astype(np.int64) + row0
    missing = vkey == _NAN
    vkey[missing], rows[missing] = _EMPTY, -1
    return vkey, rows


def _merge_best(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray],
                k: int) -> tuple[np.ndarray, np.ndarray]:
    keys, rows = np.concatenate([a[0], b[0]], axis=1), np.concatenate([a[1], b[1]], axis=1)
    order = np.lexsort((rows, keys), axis=1)[:, :k]
    return np.take_along_axis(keys, order, axis=1), np.take_along_axis(rows, order, axis=1)


def _update_best(best: tuple[np.ndarray, np.ndarray], x: np.ndarray, row0: int, k: int,
                 lowest: bool, finite: bool) -> tuple[np.ndarray, np.ndarray]:
    """``best`` merged with the block ``x`` (float32 ``[neurons, rows]``, first row ``row0``).

    Once every neuron holds k rows, only the neurons with a value strictly better than their
    k-th (a later row never wins a tie, NaN never enters) can change: the block is compared
    with those k-th values, and only those neurons' rows are keyed and merged. Same result as
    merging the whole block; most blocks then cost one comparison per value.
    """
    vkey, rows = best
    if vkey.shape[1] < k or bool((vkey[:, k - 1] >= _EMPTY).any()):
        return _merge_best(best, _chunk_best(_value_order(x, finite), row0, k, lowest), k)
    kth = _key_values(vkey[:, k - 1], lowest).astype(np.float32)[:, None]
    hit = np.flatnonzero((x < kth if lowest else x > kth).any(axis=1))
    if len(hit):
        sub = _chunk_best(_value_order(x[hit], finite), row0, k, lowest)
        vkey[hit], rows[hit] = _merge_best((vkey[hit], rows[hit]), sub, k)
    return vkey, rows


def _no_best(width: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((width, 0), np.uint64), np.zeros((width, 0), np.int64)


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


def scan_dense_part(part: StoreBase, layer: int, plan: dict[str, Any]) -> dict[str, Any]:
    """:func:`scan_part` over the rows of ``part`` (one chunk at a time)."""
    width = part.width
    k, row0 = plan["k"], plan["row0"]
    top, low = _no_best(width), _no_best(width)
    hlo, hhi = D.histogram_range(plan["lo"], plan["hi"])
    hist = np.zeros((width, plan["bins"]), np.int64) if plan["bins"] else None
    fine = np.zeros((width, D.FINE_BINS), np.int64) if plan["fine"] else None
    edges = plan["edges"]
    samples = None
    step = max(256, _BLOCK_BYTES // (8 * max(width, 1)))
    for start, chunk in part.iter_stored_rows(layer, chunk_mb=plan["chunk_mb"]):
        for a in range(0, len(chunk), step):
            x = np.ascontiguousarray(chunk[a:a + step].T, dtype=np.float32)
            g0 = row0 + start + a
            if k:
                top = _update_best(top, x, g0, k, False, plan["finite"])
                if plan["bottom"]:
                    low = _update_best(low, x, g0, k, True, plan["finite"])
            step_bins = plan["bins"] // (edges.shape[1] - 1) if edges is not None else 0
            by_bins = plan["mode"] == "value" and hist is not None and step_bins \
                and plan["bins"] % (edges.shape[1] - 1) == 0
            bin_of = np.empty(x.shape, np.int64) if by_bins else None
            if hist is not None:
                hist += D.histogram_counts(x, hlo, hhi, plan["bins"], bin_of)
            if fine is not None:
                fine += D.histogram_counts(x, hlo, hhi, D.FINE_BINS)
            if edges is not None and plan["samples"]:
                if bin_of is not None:  # value bands made of whole histogram bins
                    band = (bin_of // step_bins).astype(np.int16)
                    if not plan["finite"]:
                        band[np.isnan(x)] = -1
                else:
                    band = D.band_index(x, edges, plan["mode"])
                samples = D.update_samples(samples, x, band, np.arange(g0, g0 + x.shape[1]),
                                           edges.shape[1] - 1, plan["samples"],
                                           plan["seed"])
            del x
        del chunk
    return {"top": top, "low": low, "hist": hist, "fine": fine, "samples": samples}


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

        def run_pass(first: bool, edges: dict[int, np.ndarray | None]) -> dict[int, dict]:
            calls = [(i, layer, {**plans(layer, first, edges[layer]),
                                 "row0": int(src.row_starts[i])})
                     for layer in layers for i in range(len(src.parts))]
            results = map_parts(scan_part, src, calls, options, threads=options.local_tasks)
            merged: dict[int, dict] = {}
            for layer in layers:
                for _ in src.parts:
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
                layer, r["top"][1], _key_values(r["top"][0], False),
                r["low"][1] if bottom else None,
                _key_values(r["low"][0], True) if bottom else None,
                r["hist"], hlo, hhi, edges[layer] if samples else None,
                None if smp is None else smp[1], None if smp is None else smp[2])
        return NeuronContexts(out, np.asarray(src.offsets, np.int64),
                              np.asarray(src.word_ids), list(src.vocab), quantiles)


def _merge_parts(acc: dict | None, new: dict, k: int) -> dict:
    """Merge one part's :func:`scan_part` result into the running one (parts in order)."""
    if acc is None:
        return new
    out = dict(acc)
    if k:
        out["top"] = _merge_best(acc["top"], new["top"], k)
        out["low"] = _merge_best(acc["low"], new["low"], k)
    for key in ("hist", "fine"):
        if acc[key] is not None:
            out[key] = acc[key] + new[key]
    if acc["samples"] is None or new["samples"] is None:
        out["samples"] = acc["samples"] if new["samples"] is None else new["samples"]
    else:
        out["samples"] = D.merge_samples(acc["samples"], new["samples"])
    return out
