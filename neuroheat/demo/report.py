"""The analysis part of ``neuroheat demo``: a few neurons' top words, and every neuron's table.

Example:
    >>> report = demo_report("demo_output/minilm.h5", "demo_output")   # doctest: +SKIP
    >>> print(report["text"])                                          # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.analysis import neuron_stats, top_words_all
from neuroheat.analysis.options import RunOptions
from neuroheat.analysis.selectivity import pick_neurons
from neuroheat.store import open_store

log = logging.getLogger(__name__)


def _opened(store: Any) -> contextlib.AbstractContextManager:
    """``store`` opened (a path, list of paths or glob), or an open store as it is."""
    if isinstance(store, str | os.PathLike | list | tuple):
        return open_store(store)
    return contextlib.nullcontext(store)


def demo_report(
    store: Any,
    outdir: str | os.PathLike,
    *,
    k: int = 10,
    n_neurons: int = 4,
    options: RunOptions | None = None,
) -> dict[str, Any]:
    """Rank the top words of every neuron, write ``top_words.csv`` and ``neuron_stats.csv``
    into ``outdir``, and describe a few selective neurons.

    Returns ``{"text": str, "top_words_csv": Path, "neuron_stats_csv": Path,
    "neurons": [{"layer", "neuron", "words"}, ...], "table": TopWordsTable}``; ``text`` is
    ready to print (it is also logged at DEBUG level).
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with _opened(store) as opened:
        table = top_words_all(opened, k=k, options=options)
        stats = neuron_stats(opened, options=options)
        n_words, n_types = opened.num_words, len(opened.vocab)
        counts = np.bincount(np.asarray(opened.word_ids), minlength=n_types)
    words_csv = outdir / "top_words.csv"
    stats_csv = outdir / "neuron_stats.csv"
    table.to_csv(words_csv)
    stats.to_csv(stats_csv)
    picked = [{"layer": int(table.layer[i]), "neuron": int(table.neuron[i]),
               "words": table.words(i)} for i in pick_neurons(table, n_neurons, counts)]
    text = "\n".join(_report_lines(len(table), n_words, n_types, picked, words_csv, stats_csv))
    log.debug("%s", text)
    return {"text": text, "top_words_csv": words_csv, "neuron_stats_csv": stats_csv,
            "neurons": picked, "table": table}


def _report_lines(n_neurons: int, n_words: int, n_types: int, picked: list[dict[str, Any]],
                  words_csv: Path, stats_csv: Path) -> list[str]:
    lines = [f"Top words of {n_neurons} neurons ({n_words} words, {n_types} word types); "
             f"a few of the most selective:"]
    for p in picked:
        words = ", ".join(f"{w} ({s:.2f})" for w, s in p["words"][:6])
        lines.append(f"  layer {p['layer']:>2} neuron {p['neuron']:>4}: {words}")
    lines.append(f"Table of every neuron: {words_csv}; statistics: {stats_csv}")
    return lines
