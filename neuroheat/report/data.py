"""What a dashboard shows, computed from a store: one streaming analysis, then plain records.

:func:`collect` runs :func:`~neuroheat.analysis.word_index.word_index` (top words of every
neuron and every word's top neurons) and :func:`~neuroheat.analysis.all_contexts.
top_contexts_all` (top and bottom contexts, histograms, quantile samples), reads each
context's ``±window`` words and the neuron's values over them in one more pass per layer
(:func:`~neuroheat.analysis.windows.gather_values`), and returns a :class:`DashboardData`
whose :meth:`~DashboardData.neuron` gives the JSON-ready record of one neuron.

A context window is ``{"s": sentence, "p": position, "v": peak value (as stored), "o": index
of the peak in the window, "w": word ids (into the file's word list), "a": one character per
word, its colour level -31..31 on the neuron's scale (``LEVEL_CHARS[level + 31]``)}``; the scale (``"scale"``) is the largest |value| over
every window of the neuron, so all its contexts share one diverging scale.

Words are shown as :func:`~neuroheat.formats.tokens.display_token` gives them; subword rows
of a byte-level tokenizer (``aggregation="none"`` on GPT-2, RoBERTa, Llama 3...) decoded to
their text (:func:`~neuroheat.formats.bytelevel.decode_token`).

Selectivity (the index's measure) is :func:`~neuroheat.analysis.selectivity.selectivity`: the
gap between the neuron's first and second top-word scores (NeuroX scores, 0..1; 0 for a
neuron without words), the measure the demo uses to pick neurons.

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
from neuroheat.analysis.parallel import ordered_map
from neuroheat.analysis.selectivity import selectivity
from neuroheat.analysis.source import SourceArg, open_source
from neuroheat.analysis.tables import TopWordsTable
from neuroheat.analysis.windows import gather_values, window_rows
from neuroheat.analysis.word_index import WordNeurons, word_index
from neuroheat.formats.bytelevel import decode_token, is_byte_level
from neuroheat.formats.tokens import display_token

__all__ = ["DashboardData", "collect"]

_LEVELS = 31  # colour levels on each side of 0
#: a window value's colour level l (-31..31) is the character _ALPHABET[l + 31]
LEVEL_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_ALPHABET = np.frombuffer(LEVEL_CHARS.encode("ascii"), dtype=np.uint8)


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
    #: ``{(layer, neuron): {"text", "score", "scores"}}``: automatic explanations
    explanations: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    effects: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._row = {(int(a), int(b)): i for i, (a, b) in
                     enumerate(zip(self.table.layer, self.table.neuron, strict=True))}
        self.selectivity = selectivity(self.table)
        # subword rows of a byte-level tokenizer (aggregation "none") are shown decoded
        byte_level = self.meta.get("aggregation") == "none" and is_byte_level(
            self.contexts.vocab)
        self.shown = decode_token if byte_level else display_token
        self.display = [self.shown(w) for w in self.contexts.vocab]

    @property
    def quantiles(self) -> str:
        """How the quantile bands were cut: ``value``, ``rank`` or ``count``."""
        return self.contexts.quantiles

    def column(self, layer: int, key: str) -> np.ndarray:
        """float64 ``[width]``: ``"sel"`` (selectivity), ``"mean"`` or ``"std"`` of a layer.

        Example:
            >>> data.column(3, "sel").argmax()   # doctest: +SKIP
        """
        if key == "sel":
            return self.selectivity[[self._row[(layer, n)] for n in range(self.width)]]
        return np.nan_to_num(np.asarray(self.stats[layer][key], dtype=np.float64))

    def layer_words(self, layer: int) -> list[list[list[Any]]]:
        """``[[display word, score], ...]`` of every neuron of a layer (cached)."""
        cache = self.__dict__.setdefault("_words", {})
        if layer not in cache:
            rows = [self._row[(layer, n)] for n in range(self.width)]
            types, scores = self.table.types[rows].tolist(), self.table.scores[rows].tolist()
            vocab = [self.shown(w) for w in self.table.vocab]
            cache[layer] = [[[vocab[t], s] for t, s in zip(ts, ss, strict=True) if t >= 0]
                            for ts, ss in zip(types, scores, strict=True)]
        return cache[layer]

    def top_words(self, layer: int, neuron: int) -> list[tuple[str, float]]:
        """The neuron's top words (display text) and scores."""
        return [(w, s) for w, s in self.layer_words(layer)[neuron]]

    def layer_index(self, layer: int, n_words: int = 3) -> dict[str, Any]:
        """Index columns of one layer: mean, std, selectivity, top words."""
        return {"layer": layer, "mean": _short(self.column(layer, "mean")),
                "std": _short(self.column(layer, "std")), "sel": _short(self.column(layer, "sel")),
                "words": [[w for w, _ in ws[:n_words]] for ws in self.layer_words(layer)]}

    def block(self, layer: int, b0: int, b1: int) -> dict[str, Any]:
        """``{"vocab": [display words], "neurons": [record, ...]}`` of neurons ``b0:b1``:
        the JSON of one data file (window words are ids into its ``vocab``).

        Example:
            >>> data.block(3, 0, 64)["neurons"][17]["top"][0]["v"]   # doctest: +SKIP
            1.79
        """
        win = self.windows[layer]
        kinds = [k for k in ("top", "bottom", "band") if f"{k}_types" in win]
        types = [win[f"{k}_types"][b0:b1] for k in kinds]
        present = np.concatenate([t[t >= 0] for t in types])
        uniq = np.unique(present)
        cols = {}
        for kind, t in zip(kinds, types, strict=True):
            local = np.where(t >= 0, np.searchsorted(uniq, np.maximum(t, 0)), -1)
            cols[kind] = [win[f"{kind}_{c}"][b0:b1].tolist()
                          for c in ("sent", "pos", "peak_value", "first", "count")]
            cols[kind].append(local.tolist())
            cols[kind].append(win[f"{kind}_levels"][b0:b1])
        neurons = [self._record(layer, n, {k: [c[n - b0] for c in v] for k, v in cols.items()})
                   for n in range(b0, b1)]
        return {"vocab": [self.display[t] for t in uniq.tolist()], "neurons": neurons}

    def _record(self, layer: int, neuron: int, cols: dict[str, list]) -> dict[str, Any]:
        lc, win, st = self.contexts.layer(layer), self.windows[layer], self.stats[layer]

        def windows(kind: str) -> list[dict[str, Any]]:
            out = []
            sents, poss, pvs, firsts, counts, ids, levels = cols[kind]
            codes = levels.tobytes()
            span = levels.shape[1]
            for i, (sent, pos, pv, a, n, words) in enumerate(zip(sents, poss, pvs, firsts,
                                                                 counts, ids, strict=True)):
                if sent < 0:
                    continue
                at = i * span + a
                out.append({"s": sent, "p": pos, "v": pv, "o": self.window - a,
                            "w": words[a:a + n], "a": codes[at:at + n].decode("ascii")})
            return out

        bands = []
        if lc.band_edges is not None:
            edges = lc.band_edges[neuron].tolist()
            n_bands = len(edges) - 1
            per = win["band_sent"].shape[1] // n_bands
            found = win["band_sent"][neuron] >= 0
            allw = iter(windows("band"))
            by_band: list[list[dict[str, Any]]] = [[] for _ in range(n_bands)]
            for i in np.flatnonzero(found):
                by_band[i // per].append(next(allw))
            bands = [{"lo": edges[b], "hi": edges[b + 1], "samples": by_band[b]}
                     for b in range(n_bands)]
        hist = None
        if lc.histogram is not None:
            hist = {"lo": float(lc.hist_lo[neuron]), "hi": float(lc.hist_hi[neuron]),
                    "counts": lc.histogram[neuron].tolist()}
        return {
            "layer": layer, "neuron": neuron,
            "stats": {key: float(st[key][neuron]) for key in ("count", "mean", "std", "min",
                                                               "max")},
            "sel": float(self.selectivity[self._row[(layer, neuron)]]),
            "words": self.layer_words(layer)[neuron],
            "scale": float(win["scale"][neuron]), "top": windows("top"),
            "bottom": windows("bottom"), "hist": hist, "bands": bands,
            "quantiles": self.contexts.quantiles,
            "probe": self.probe.get((layer, neuron)),
            "out": self.outputs.get(layer, {}).get(neuron),
            "explain": self.explanations.get((layer, neuron)),
            "effects": self.effects.get((layer, neuron)),
        }


def _short(values: np.ndarray) -> list[float]:
    """Values rounded to 4 significant digits (for the index: display and sorting only)."""
    return [float(f"{x:.4g}") for x in np.nan_to_num(np.asarray(values, dtype=np.float64))]


def _windows(src: Any, ctx: NeuronContexts, layer: int, w: int,
             chunk_mb: float) -> dict[str, np.ndarray]:
    """Every context window of a layer as arrays ``[neurons, contexts, ...]`` (one pass over
    the layer for the values): sentence / position of the peak (-1: no context), its value,
    the first valid slot and the number of valid slots of the window, global word type ids
    and colour levels per slot, and each neuron's colour ``scale``."""
    lc = ctx.layer(layer)
    width = lc.top_rows.shape[0]
    kinds = {"top": lc.top_rows, "bottom": lc.bottom_rows}
    if lc.sample_rows is not None:
        kinds["band"] = lc.sample_rows.reshape(width, -1)
    windows, flat_rows, flat_neurons = {}, [], []
    for kind, rows in kinds.items():
        if rows is None:
            rows = np.zeros((width, 0), np.int64)
        wr = window_rows(ctx.offsets, rows.ravel(), w).reshape(width, rows.shape[1], 2 * w + 1)
        windows[kind] = (rows, wr)
        flat_rows.append(wr.ravel())
        flat_neurons.append(np.broadcast_to(np.arange(width)[:, None, None], wr.shape).ravel())
    values = gather_values(src, layer, np.concatenate(flat_rows), np.concatenate(flat_neurons),
                           chunk_mb=chunk_mb)
    at, split = 0, {}
    scale = np.zeros(width)
    for kind, (_, wr) in windows.items():
        v = np.nan_to_num(values[at:at + wr.size].reshape(wr.shape))
        at += wr.size
        split[kind] = v
        if v.size:
            scale = np.maximum(scale, np.abs(v).max(axis=(1, 2)))
    safe = np.where(scale > 0, scale, 1.0)[:, None, None]
    out: dict[str, np.ndarray] = {"scale": scale}
    for kind, (peaks, wr) in windows.items():
        ok = wr >= 0
        sent = np.searchsorted(ctx.offsets, np.maximum(peaks, 0), side="right") - 1
        out[f"{kind}_sent"] = np.where(peaks >= 0, sent, -1)
        out[f"{kind}_pos"] = np.where(peaks >= 0, peaks - ctx.offsets[sent], -1)
        out[f"{kind}_peak_value"] = split[kind][:, :, w] if wr.shape[1] else \
            np.zeros(peaks.shape)
        out[f"{kind}_first"] = np.argmax(ok, axis=2) if wr.shape[1] else np.zeros(peaks.shape,
                                                                                     int)
        out[f"{kind}_count"] = ok.sum(axis=2)
        out[f"{kind}_types"] = np.where(ok, ctx.word_ids[np.maximum(wr, 0)], -1)
        level = np.clip(np.round(split[kind] / safe * _LEVELS), -_LEVELS, _LEVELS)
        out[f"{kind}_levels"] = _ALPHABET[(level + _LEVELS).astype(np.int64)]
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
        # the layers' windows in the analysis threads (numpy's gathers release the GIL)
        calls = [(src, ctx, layer, window, options.chunk_mb / options.local_tasks)
                 for layer in layers]
        wins = dict(zip(layers, ordered_map(_windows, calls, threads=options.local_tasks),
                        strict=True))
        meta = {key: src.meta.get(key) for key in ("model", "component", "aggregation",
                                                   "dtype", "units")}
        meta.update(num_sentences=int(src.num_sentences), num_words=int(src.num_words))
        return DashboardData(layers, int(src.width), meta, table, index, ctx, stats,
                             wins, k, window)
