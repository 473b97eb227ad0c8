"""What a dashboard shows, computed from a store: one streaming analysis, then plain records.

:func:`collect` runs :func:`~neuroheat.analysis.word_index.word_index` (top words of every
neuron and every word's top neurons) and :func:`~neuroheat.analysis.all_contexts.
top_contexts_all` (top and bottom contexts, histograms, quantile samples), reads each
context's ``±window`` words and the neuron's values over them in one more pass per layer
(:func:`~neuroheat.analysis.windows.gather_values`), and returns a :class:`DashboardData`
whose :meth:`~DashboardData.neuron` gives the JSON-ready record of one neuron.

A context window is ``{"s": sentence, "p": position, "v": peak value (as stored), "o": index
of the peak in the window, "w": word ids (into the file's word list), "a": values as integers
-100..100 of the neuron's colour scale}``; the scale (``"scale"``) is the largest |value| over
every window of the neuron, so all its contexts share one diverging scale.

Selectivity (the index's measure) is the gap between the neuron's first and second top-word
scores (NeuroX scores, 0..1; 0 for a neuron without words), the measure the demo uses to
pick neurons.

Example:
    >>> data = collect("acts.h5", k=10, window=8)      # doctest: +SKIP
    >>> data.neuron(3, 17)["words"][:1]                 # doctest: +SKIP
    [['Paris', 1.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neuroheat.analysis.all_contexts import NeuronContexts, top_contexts_all
from neuroheat.analysis.options import RunOptions
from neuroheat.analysis.source import SourceArg, open_source
from neuroheat.analysis.tables import TopWordsTable
from neuroheat.analysis.windows import gather_values, window_rows
from neuroheat.analysis.word_index import WordNeurons, word_index
from neuroheat.formats.tokens import display_token

__all__ = ["DashboardData", "collect", "selectivity"]

_LEVELS = 100  # colour levels of a window value


def selectivity(table: TopWordsTable) -> np.ndarray:
    """float64 per table row: first minus second top-word score (0 without words)."""
    if table.scores.shape[1] == 0:
        return np.zeros(len(table))
    first = np.nan_to_num(table.scores[:, 0], nan=0.0)
    second = np.nan_to_num(table.scores[:, 1], nan=0.0) if table.scores.shape[1] > 1 else 0.0
    return np.round(first - second, 12)


@dataclass
class DashboardData:
    """Everything a site shows (see the module docstring)."""

    layers: list[int]
    width: int
    meta: dict[str, Any]
    table: TopWordsTable
    index: WordNeurons
    contexts: NeuronContexts
    stats: dict[int, dict[str, np.ndarray]]
    windows: dict[int, dict[str, np.ndarray]]
    k: int
    window: int
    probe: dict[tuple[int, int], dict[str, float]] = field(default_factory=dict)
    outputs: dict[int, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._row = {(int(a), int(b)): i for i, (a, b) in
                     enumerate(zip(self.table.layer, self.table.neuron, strict=True))}
        self.selectivity = selectivity(self.table)
        self.display = [display_token(w) for w in self.contexts.vocab]

    def column(self, layer: int, key: str) -> np.ndarray:
        """float64 ``[width]``: ``"sel"`` (selectivity), ``"mean"`` or ``"std"`` of a layer."""
        if key == "sel":
            return self.selectivity[[self._row[(layer, n)] for n in range(self.width)]]
        return np.nan_to_num(np.asarray(self.stats[layer][key], dtype=np.float64))

    def top_words(self, layer: int, neuron: int) -> list[tuple[str, float]]:
        """The neuron's top words (display text) and scores."""
        row = self._row[(layer, neuron)]
        return [(display_token(w), float(s)) for w, s in self.table.words(row)]

    def layer_index(self, layer: int, n_words: int = 3) -> dict[str, Any]:
        """Index columns of one layer: mean, std, selectivity, top words."""
        rows = [self._row[(layer, n)] for n in range(self.width)]
        words = [[w for w, _ in self.table.words(r)[:n_words]] for r in rows]
        return {"layer": layer, "mean": _short(self.column(layer, "mean")),
                "std": _short(self.column(layer, "std")), "sel": _short(self.column(layer, "sel")),
                "words": [[display_token(w) for w in ws] for ws in words]}

    def neuron(self, layer: int, neuron: int, vocab: dict[str, int]) -> dict[str, Any]:
        """The JSON-ready record of one neuron; words are ids into ``vocab`` (grown here)."""
        lc, win, st = self.contexts.layer(layer), self.windows[layer], self.stats[layer]
        scale = float(win["scale"][neuron])

        def windows(kind: str) -> list[dict[str, Any]]:
            rows, values = win[f"{kind}_rows"][neuron], win[f"{kind}_values"][neuron]
            peaks, peak_values = win[f"{kind}_peak"][neuron], win[f"{kind}_peak_value"][neuron]
            out = []
            for r, v, peak, pv in zip(rows, values, peaks, peak_values, strict=True):
                if peak < 0:
                    continue
                ok = r >= 0
                sent, pos = self.contexts.locate(int(peak))
                ids = [vocab.setdefault(self.display[t], len(vocab))
                       for t in self.contexts.word_ids[r[ok]]]
                levels = np.round(np.nan_to_num(v[ok]) / (scale or 1.0) * _LEVELS)
                out.append({"s": sent, "p": pos, "v": float(pv),
                            "o": int(np.count_nonzero(ok[:len(r) // 2])), "w": ids,
                            "a": levels.astype(int).tolist()})
            return out

        bands = []
        if lc.band_edges is not None:
            edges = lc.band_edges[neuron]
            per = win["band_rows"].shape[1] // (len(edges) - 1)
            allw = windows("band")
            by_band: list[list[dict[str, Any]]] = [[] for _ in range(len(edges) - 1)]
            peaks = win["band_peak"][neuron]
            j = 0
            for i, peak in enumerate(peaks):
                if peak >= 0:
                    by_band[i // per].append(allw[j])
                    j += 1
            bands = [{"lo": float(edges[b]), "hi": float(edges[b + 1]), "samples": by_band[b]}
                     for b in range(len(edges) - 1)]
        hist = None
        if lc.histogram is not None:
            hist = {"lo": float(lc.hist_lo[neuron]), "hi": float(lc.hist_hi[neuron]),
                    "counts": lc.histogram[neuron].tolist()}
        return {
            "layer": layer, "neuron": neuron,
            "stats": {key: float(st[key][neuron]) for key in ("count", "mean", "std", "min",
                                                               "max")},
            "sel": float(self.selectivity[self._row[(layer, neuron)]]),
            "words": [[w, s] for w, s in self.top_words(layer, neuron)],
            "scale": scale, "top": windows("top"), "bottom": windows("bottom"),
            "hist": hist, "bands": bands, "quantiles": self.contexts.quantiles,
            "probe": self.probe.get((layer, neuron)),
            "out": self.outputs.get(layer, {}).get(neuron),
        }


def _short(values: np.ndarray) -> list[float]:
    """Values rounded to 4 significant digits (for the index: display and sorting only)."""
    v = np.asarray(values, dtype=np.float64)
    return [float(f"{x:.4g}") for x in np.nan_to_num(v)]


def _windows(src: Any, ctx: NeuronContexts, layer: int, w: int,
             chunk_mb: float) -> dict[str, np.ndarray]:
    """Window rows and values of every context of a layer (one pass over the layer)."""
    lc = ctx.layer(layer)
    width = lc.top_rows.shape[0]
    kinds = {"top": lc.top_rows, "bottom": lc.bottom_rows}
    if lc.sample_rows is not None:
        kinds["band"] = lc.sample_rows.reshape(width, -1)
    out: dict[str, np.ndarray] = {}
    flat_rows, flat_neurons, shapes = [], [], {}
    for kind, rows in kinds.items():
        if rows is None:
            rows = np.zeros((width, 0), np.int64)
        wr = window_rows(ctx.offsets, rows.ravel(), w).reshape(width, rows.shape[1], 2 * w + 1)
        out[f"{kind}_rows"], out[f"{kind}_peak"] = wr, rows
        shapes[kind] = wr.shape
        flat_rows.append(wr.ravel())
        flat_neurons.append(np.broadcast_to(np.arange(width)[:, None, None], wr.shape).ravel())
    values = gather_values(src, layer, np.concatenate(flat_rows), np.concatenate(flat_neurons),
                           chunk_mb=chunk_mb)
    at = 0
    scale = np.zeros(width)
    for kind, shape in shapes.items():
        n = int(np.prod(shape))
        v = values[at:at + n].reshape(shape)
        at += n
        out[f"{kind}_values"] = v
        peak = out[f"{kind}_peak"]
        out[f"{kind}_peak_value"] = v[:, :, w] if v.shape[1] else np.zeros(peak.shape)
        if v.size:
            scale = np.maximum(scale, np.nanmax(np.abs(np.nan_to_num(v)), axis=(1, 2)))
    out["scale"] = scale
    return out


def collect(
    store: SourceArg,
    layers: int | Sequence[int] | str | None = None,
    *,
    k: int = 10,
    window: int = 8,
    top_words: int = 10,
    search_neurons: int = 20,
    bins: int = 40,
    quantiles: str = "value",
    bands: int = 10,
    samples: int = 2,
    options: RunOptions | None = None,
) -> DashboardData:
    """Compute a dashboard's data (see the module docstring).

    Example:
        >>> data = collect("acts.h5", layers="3", k=5)   # doctest: +SKIP
    """
    options = options or RunOptions()
    with open_source(store) as src:
        layers = src.check_layers(layers)
        table, index = word_index(src, k_words=top_words, k_neurons=search_neurons,
                                  layers=layers, options=options)
        ctx = top_contexts_all(src, k=k, layers=layers, bins=bins, quantiles=quantiles,
                               bands=bands, samples=samples, options=options)
        stats = {}
        for layer in layers:
            rs = src.running_stats(layer)
            stats[layer] = {"count": rs.count, "mean": rs.mean, "std": rs.std, "min": rs.min,
                            "max": rs.max}
        wins = {layer: _windows(src, ctx, layer, window, options.chunk_mb) for layer in layers}
        meta = {key: src.meta.get(key) for key in ("model", "component", "aggregation",
                                                   "dtype")}
        meta.update(num_sentences=int(src.num_sentences), num_words=int(src.num_words))
        return DashboardData(layers, int(src.hidden_size), meta, table, index, ctx, stats,
                             wins, k, window)
