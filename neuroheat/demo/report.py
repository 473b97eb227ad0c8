"""The analysis part of ``neuroheat demo``: a few neurons' top words, and every neuron's table.

Example:
    >>> report = demo_report("demo_output/acts.h5", "demo_output")   # doctest: +SKIP
    >>> print(report["text"])                                        # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.analysis.neuron_stats import neuron_stats
from neuroheat.analysis.source import SourceArg, open_source
from neuroheat.analysis.top_words import TopWordsTable, top_words_all

log = logging.getLogger(__name__)


def pick_neurons(table: TopWordsTable, n: int = 4, counts: np.ndarray | None = None,
                 min_count: int = 3) -> list[int]:
    """Rows of the most selective neurons: the largest gap between their first and second
    word's score, at most one per layer, deeper layers first on ties. With ``counts``
    (occurrences per type id), neurons whose top word occurs fewer than ``min_count`` times
    come last (a word seen once scores high by chance)."""
    if len(table) == 0 or table.scores.shape[1] == 0:
        return []
    first = np.nan_to_num(table.scores[:, 0], nan=0.0)
    second = np.nan_to_num(table.scores[:, 1], nan=0.0) if table.scores.shape[1] > 1 else 0.0
    gap = np.where(first > 0, first - second, -1.0)
    rare = np.zeros(len(table), dtype=bool)
    if counts is not None:
        top = table.types[:, 0]
        rare = (top < 0) | (np.asarray(counts)[np.maximum(top, 0)] < min_count)
    order = np.lexsort((table.neuron, -table.layer, -np.round(gap, 9), rare))
    picked: list[int] = []
    layers_seen: set[int] = set()
    for i in order:
        if gap[i] < 0 or int(table.layer[i]) in layers_seen:
            continue
        picked.append(int(i))
        layers_seen.add(int(table.layer[i]))
        if len(picked) == n:
            break
    return picked


def demo_report(
    store: SourceArg,
    outdir: str | os.PathLike,
    *,
    k: int = 10,
    n_neurons: int = 4,
    chunk_mb: float = 64,
) -> dict[str, Any]:
    """Rank the top words of every neuron, write ``top_words.csv`` and ``neuron_stats.csv``
    into ``outdir``, and describe a few selective neurons.

    Returns ``{"text": str, "top_words_csv": Path, "neuron_stats_csv": Path,
    "neurons": [{"layer", "neuron", "words"}, ...], "table": TopWordsTable}``; ``text`` is
    ready to print (it is also logged at INFO level).
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with open_source(store) as src:
        table = top_words_all(src, k=k, chunk_mb=chunk_mb)
        stats = neuron_stats(src)
        n_words, n_types, counts = src.num_words, len(src.vocab), src.type_counts
    words_csv = outdir / "top_words.csv"
    stats_csv = outdir / "neuron_stats.csv"
    table.to_csv(words_csv)
    stats.to_csv(stats_csv)
    picked = [{"layer": int(table.layer[i]), "neuron": int(table.neuron[i]),
               "words": table.words(i)} for i in pick_neurons(table, n_neurons, counts)]
    lines = [f"Top words of {len(table)} neurons ({n_words} words, {n_types} word types); "
             f"a few of the most selective:"]
    for p in picked:
        words = ", ".join(f"{w} ({s:.2f})" for w, s in p["words"][:6])
        lines.append(f"  layer {p['layer']:>2} neuron {p['neuron']:>4}: {words}")
    lines.append(f"Table of every neuron: {words_csv}; statistics: {stats_csv}")
    text = "\n".join(lines)
    log.debug("%s", text)
    return {"text": text, "top_words_csv": words_csv, "neuron_stats_csv": stats_csv,
            "neurons": picked, "table": table}
