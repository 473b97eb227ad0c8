"""Example selection: the windows an explainer reads and the windows its explanation is scored on.

For each layer, :func:`~neuroheat.analysis.top_contexts_all` makes one pass over the store
(dense or sparse) and returns every neuron's top contexts, a histogram, its quantile samples
and its bottom contexts. Then, per neuron:

- **Median.** The neuron's median over every word of the store is bracketed by the histogram
  bin that holds it (``BINS`` bins over [min, max]): a word is *above the median* when its
  value exceeds the bin's upper edge, and *at most the median* when it does not exceed the
  bin's lower edge. (For a sparse latent whose median is 0, non-activating means all zero.)
- **Explanation examples**: half from the top contexts (best first), the rest from the
  quantile samples above the median (highest band first, round robin), one per sentence.
- **Scoring examples**, from sentences not used for the explanation (and one per sentence):
  *activating* ones from the remaining quantile samples above the median (then top contexts),
  *non-activating* ones from windows whose maximum is at most the median, found in a seeded
  random set of sentences (then around the bottom contexts).

Windows are ``window`` words on each side of the example's word, inside its sentence; their
values are read with one ``store.sentence(i, layer)`` per needed sentence. Every choice is a
seeded function of global rows, so one file and its shards give the same examples.

Example:
    >>> found = select_examples("acts.h5", {3: [17]}, explain=10, activating=10,
    ...                         non_activating=10, window=8, seed=0)        # doctest: +SKIP
    >>> [e.sentence for e in found[(3, 17)].explain]                        # doctest: +SKIP
    [41, 7, 90]
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

log = logging.getLogger("neuroheat")

__all__ = ["BINS", "Example", "NeuronExamples", "select_examples"]

#: histogram bins that bracket each neuron's median (1/200 of its range)
BINS = 200
_BANDS = 10
#: neurons whose sentence values are cached together (memory: sentences touched x words x
#: this x 4 bytes)
_BLOCK = 128


@dataclass
class Example:
    """One window: its ``sentence`` and the ``position`` of its example word, the stored
    ``value`` there, the window's ``words`` and ``values`` (float64, as stored) and the
    example word's index ``center`` in the window."""

    sentence: int
    position: int
    value: float
    words: list[str]
    values: np.ndarray
    center: int
    activating: bool = True

    def active(self, threshold: float) -> list[int]:
        """Indices of the window's words above ``threshold`` (the neuron's median)."""
        return [i for i, v in enumerate(self.values) if v > threshold]


@dataclass
class NeuronExamples:
    """The examples of one neuron; ``threshold`` is the median's upper bracket (above it a
    word is activating), ``floor`` its lower bracket, ``top`` the largest value shown."""

    layer: int
    neuron: int
    threshold: float
    floor: float
    explain: list[Example] = field(default_factory=list)
    activating: list[Example] = field(default_factory=list)
    non_activating: list[Example] = field(default_factory=list)

    @property
    def top(self) -> float:
        vals = [float(np.nanmax(e.values)) for e in self.explain if len(e.values)]
        return max(vals) if vals else self.threshold


def _median_brackets(lc: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(lower, upper)`` edges of the histogram bin that holds each neuron's median."""
    hist = lc.histogram.astype(np.int64)
    cum = np.cumsum(hist, axis=1)
    total = cum[:, -1:]
    j = np.argmax(2 * cum >= total, axis=1)
    edges = np.linspace(lc.hist_lo, lc.hist_hi, hist.shape[1] + 1, axis=1)
    rows = np.arange(hist.shape[0])
    return edges[rows, j], edges[rows, j + 1]


def _pick(candidates: list[tuple[int, int, float]], want: int, used: set[int]) -> list[tuple[int, int, float]]:
    """Up to ``want`` candidates ``(row, sentence, value)``, one per sentence, none in
    ``used`` (which grows)."""
    out = []
    for row, sent, value in candidates:
        if len(out) >= want:
            break
        if sent in used:
            continue
        used.add(sent)
        out.append((row, sent, value))
    return out


def select_examples(store: Any, units: dict[int, list[int]], *, explain: int, activating: int,
                    non_activating: int, window: int, seed: int = 0,
                    random_sentences: int | None = None) -> dict[tuple[int, int],
                                                                 NeuronExamples]:
    """The :class:`NeuronExamples` of each ``(layer, neuron)`` of ``units`` (layer -> neurons),
    with one :func:`~neuroheat.analysis.top_contexts_all` pass per layer.

    ``random_sentences``: how many seeded random sentences are searched for non-activating
    windows (default ``4 * non_activating + 16``).

    Example:
        >>> ex = select_examples("acts.h5", {1: [0, 2]}, explain=4, activating=4,
        ...                      non_activating=4, window=3)        # doctest: +SKIP
    """
    from neuroheat.analysis import top_contexts_all
    from neuroheat.store import open_store

    out: dict[tuple[int, int], NeuronExamples] = {}
    per_band = max(2, math.ceil(2 * (explain + activating) / _BANDS))
    k = explain + activating
    with open_store(store) if isinstance(store, str | list | tuple) or hasattr(
            store, "__fspath__") else _Borrowed(store) as src:
        n_sent = int(src.num_sentences)
        n_random = min(n_sent, random_sentences if random_sentences is not None
                       else 4 * non_activating + 16)
        pool = np.random.default_rng(seed).permutation(n_sent)[:n_random].tolist() \
            if non_activating else []
        for layer in sorted(units):
            neurons = list(dict.fromkeys(int(n) for n in units[layer]))
            found = top_contexts_all(src, k=k, layers=[layer], bottom=bool(non_activating),
                                     bins=BINS, quantiles="value", bands=_BANDS,
                                     samples=per_band, seed=seed, quiet=True)
            lc = found.layer(layer)
            lower, upper = _median_brackets(lc)
            for start in range(0, len(neurons), _BLOCK):
                block = neurons[start:start + _BLOCK]
                values_of = _SentenceValues(src, layer, block)
                for neuron in block:
                    out[(layer, neuron)] = _one_neuron(
                        found, lc, layer, neuron, float(lower[neuron]), float(upper[neuron]),
                        explain, activating, non_activating, window, seed, pool, values_of)
    return out


class _SentenceValues:
    """``(sentence, neuron) -> float64 values`` of a block of neurons of one layer; each
    sentence is read once per block, and only the block's columns are kept (float32, which
    holds float16 and float32 stores exactly)."""

    def __init__(self, src: Any, layer: int, neurons: list[int]) -> None:
        self.src, self.layer = src, layer
        self.cols = np.asarray(neurons, np.int64)
        self.col = {n: i for i, n in enumerate(neurons)}
        self.cache: dict[int, np.ndarray] = {}

    def __call__(self, sent: int, neuron: int) -> np.ndarray:
        if sent not in self.cache:
            rows = np.asarray(self.src.sentence(sent, layer=self.layer))
            self.cache[sent] = rows[:, self.cols].astype(np.float32)
        return self.cache[sent][:, self.col[neuron]].astype(np.float64)


class _Borrowed:
    """An open store used as a context manager without closing it."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def __enter__(self) -> Any:
        return self.store

    def __exit__(self, *exc: object) -> None:
        return None


def _one_neuron(found: Any, lc: Any, layer: int, neuron: int, floor: float, threshold: float,
                explain: int, activating: int, non_activating: int, window: int, seed: int,
                pool: list[int], values_of: Any) -> NeuronExamples:
    rng = np.random.default_rng([seed, layer, neuron])
    ne = NeuronExamples(layer, neuron, threshold, floor)

    def cand(rows: np.ndarray, values: np.ndarray) -> list[tuple[int, int, float]]:
        return [(int(r), found.locate(int(r))[0], float(v))
                for r, v in zip(rows, values, strict=True) if r >= 0 and v > threshold]

    top = cand(lc.top_rows[neuron], lc.top_values[neuron])
    bands: list[list[tuple[int, int, float]]] = []
    if lc.sample_rows is not None:
        for b in range(lc.sample_rows.shape[1] - 1, -1, -1):  # highest band first
            bands.append(cand(lc.sample_rows[neuron, b], lc.sample_values[neuron, b]))
    used: set[int] = set()
    n_top = math.ceil(explain / 2)
    chosen = _pick(top, n_top, used)
    spread = [c for group in _round_robin(bands) for c in group]
    chosen += _pick(spread, explain - len(chosen), used)
    chosen += _pick(top, explain - len(chosen), used)
    explain_sents = set(used)
    leftovers = [c for group in bands for c in group]
    leftovers = [leftovers[i] for i in rng.permutation(len(leftovers))] + top
    scoring: set[int] = set(explain_sents)
    act = _pick(leftovers, activating, scoring)
    ne.explain = [_window(found, r, s, v, window, neuron, values_of) for r, s, v in chosen]
    ne.activating = [_window(found, r, s, v, window, neuron, values_of) for r, s, v in act]
    if non_activating:
        ne.non_activating = _non_activating(found, lc, neuron, floor, non_activating, window,
                                            scoring, pool, rng, values_of)
    if len(ne.activating) < activating or len(ne.non_activating) < non_activating:
        log.debug("neuron %d:%d: %d activating and %d non-activating scoring examples "
                  "found (asked %d and %d)", layer, neuron, len(ne.activating),
                  len(ne.non_activating), activating, non_activating)
    return ne


def _round_robin(bands: list[list[Any]]) -> list[list[Any]]:
    """One candidate of each band in turn (``[[b0[0], b1[0], ...], [b0[1], ...]]``)."""
    depth = max((len(b) for b in bands), default=0)
    return [[b[i] for b in bands if i < len(b)] for i in range(depth)]


def _window(found: Any, row: int, sent: int, value: float, window: int, neuron: int,
            values_of: Any, activating: bool = True) -> Example:
    words = found.sentence_words(sent)
    pos = row - int(found.offsets[sent])
    a, b = max(0, pos - window), min(len(words), pos + window + 1)
    vals = values_of(sent, neuron)[a:b]
    return Example(sent, pos, float(value), words[a:b], vals, pos - a, activating)


def _non_activating(found: Any, lc: Any, neuron: int, floor: float, want: int, window: int,
                    taken: set[int], pool: list[int], rng: np.random.Generator,
                    values_of: Any) -> list[Example]:
    """Windows whose maximum is at most ``floor``: in the random ``pool`` of sentences
    first, then around the bottom contexts; one per sentence, none in ``taken``."""
    out: list[Example] = []
    bottom = [] if lc.bottom_rows is None else [
        found.locate(int(r)) for r in lc.bottom_rows[neuron] if r >= 0]
    for sent, fixed in [(s, None) for s in pool] + list(bottom):
        if len(out) >= want:
            break
        if sent in taken:
            continue
        vals = values_of(sent, neuron)
        n = len(vals)
        if not n:
            continue
        above = np.concatenate([[0], np.cumsum(vals > floor)])
        spots = np.arange(n) if fixed is None else np.array([fixed])
        clear = above[np.minimum(n, spots + window + 1)] == above[np.maximum(0, spots - window)]
        ok = spots[clear].tolist()
        if not ok:
            continue
        pos = int(ok[int(rng.integers(len(ok)))])
        taken.add(sent)
        row = int(found.offsets[sent]) + pos
        out.append(_window(found, row, sent, float(vals[pos]), window, neuron, values_of,
                           activating=False))
    return out
