"""The saliency-views part of ``neuroheat demo``: HTML and SVG views for a demo sentence.

all-MiniLM-L6-v2 is a sentence-embedding encoder without a language-model head, so the demo
does not invent predictions: its saliency target is a real neuron of the shipped weights (the
last-layer neuron that stands out most on the sentence), explained at every token. Each
caption says so. Files go to ``outdir/views``; ``captions.md`` there describes each of them.

Example:
    >>> paths = demo_views("demo_output")   # the bundled MiniLM   # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

import neuroheat as nh
from neuroheat.analysis.selectivity import standout
from neuroheat.compat import TransformersVisualizer
from neuroheat.corpora import pydoc_sentences
from neuroheat.demo.inputs import DEMO_SENTENCE, MODEL_NAME, demo_model
from neuroheat.viz import (
    activation_html,
    saliency_compare_svg,
    saliency_dense_svg,
    saliency_html,
    saliency_minimap_svg,
    saliency_svg,
    saliency_tall_svg,
)

log = logging.getLogger(__name__)

FACET_TITLES = ["connectivity", "grad \u00d7 input"]


@dataclasses.dataclass
class NeuronTarget:
    """The neuron the saliency views explain, and the tokens where it peaks."""

    layer: int
    neuron: int
    peak: int  # token position (with [CLS] at 0) of the highest activation
    second: int  # ... and of the second highest

    @property
    def what(self) -> str:
        """The sentence every view's caption starts with."""
        return (
            f"{MODEL_NAME} has no language-model head, so the target is a real neuron: layer "
            f"{self.layer}, neuron {self.neuron} (the last-layer neuron that stands out most on "
            "this sentence). Row i: which input tokens drive that neuron's activation at token i."
        )


def demo_views(
    outdir: str | os.PathLike,
    model_path: Any = None,
    *,
    sentence: str = DEMO_SENTENCE,
    dense_tokens: int = 120,
    n_neurons: int = 8,
) -> list[Path]:
    """Write the saliency and activation views of ``sentence`` to ``outdir/views``.

    Writes: ``saliency.html`` (interactive, two facets: connectivity and gradient x input),
    ``saliency_focus.svg``/``.png`` (textualheatmap look), ``saliency_compare.svg``,
    ``saliency_minimap.svg``, ``saliency_tall.svg``, ``saliency_dense.svg`` (a longer pydoc
    text, 100+ targets), ``activations.html`` (the sentence's most distinctive neurons) and
    ``captions.md``. Returns the written paths.
    """
    model_path = demo_model(model_path, who="the demo views need")
    out = Path(outdir) / "views"
    out.mkdir(parents=True, exist_ok=True)
    lm = nh.load_model(model_path, "base")
    target = find_target(lm, sentence)
    conn_raw = nh.saliency(lm, sentence, "connectivity", target=(target.layer, target.neuron))
    written = write_saliency_views(lm, sentence, target, conn_raw, out)
    dense = dense_saliency(lm, target, dense_tokens)
    written.append(write_dense_view(dense, target, out))
    written.append(write_activation_page(lm, sentence, n_neurons, out))
    written.append(write_captions(out, sentence, target, conn_raw, dense))
    log.info("wrote %d views to %s", len(written), out)
    return written


def find_target(lm: Any, sentence: str) -> NeuronTarget:
    """The last-layer neuron of ``lm`` that stands out most on ``sentence`` (subword level,
    without [CLS] and [SEP]) and the token positions where it is highest."""
    layer = lm.num_layers
    inner = TransformersVisualizer(lm, aggregation="none").activations(sentence.split(), layer)
    neuron = int(np.argmax(standout(inner)))
    peak = 1 + int(np.argmax(inner[:, neuron]))
    second = 1 + int(np.argsort(inner[:, neuron])[-2])
    return NeuronTarget(layer, neuron, peak, second)


def relabel(sal: Any, template: str = "{token}") -> Any:
    """``sal`` with each row labelled by ``template`` filled with its token."""
    labels = [
        template.format(token=sal.display_tokens[p]) if p is not None else lab
        for p, lab in zip(sal.target_positions, sal.labels, strict=True)
    ]
    return dataclasses.replace(sal, labels=labels)


def write_saliency_views(lm: Any, sentence: str, target: NeuronTarget, conn_raw: Any,
                         out: Path) -> list[Path]:
    """The interactive page, the focus, comparison, minimap and tall views of ``sentence``."""
    long_label = f"layer {target.layer}, neuron {target.neuron} at \u201c{{token}}\u201d"
    conn = relabel(conn_raw, long_label)
    gxi = relabel(
        nh.saliency(lm, sentence, "grad_x_input", target=(target.layer, target.neuron)),
        long_label,
    )
    name = f"layer {target.layer}, neuron {target.neuron}"
    page = saliency_html([conn, gxi], focus=target.peak, facet_titles=FACET_TITLES,
                         title=f"neuroheat saliency demo: {target.what}")
    focus = saliency_svg([conn, gxi], focus=target.peak, facet_titles=FACET_TITLES,
                         show_meta=True)
    return [
        page.save(out / "saliency.html"),
        focus.save(out / "saliency_focus.svg"),
        focus.save(out / "saliency_focus.png"),
        saliency_compare_svg(conn, target.peak, target.second).save(
            out / "saliency_compare.svg"),
        saliency_minimap_svg(relabel(conn_raw), title=f"{name}: one thumbnail per token")
        .save(out / "saliency_minimap.svg"),
        saliency_tall_svg(relabel(conn_raw), title=f"{name}: one row per token")
        .save(out / "saliency_tall.svg"),
    ]


def long_text(tokenizer: Any, n_tokens: int) -> str:
    """Pydoc sentences joined until they reach ``n_tokens`` tokens (staying readable)."""
    words: list[str] = []
    for sent in pydoc_sentences(200):
        size = len(tokenizer(" ".join(words + sent))["input_ids"])
        if size <= max(n_tokens + 60, 250):  # MiniLM takes 512; keep the figure readable
            words += sent
        if size >= n_tokens:
            break
    return " ".join(words)


def dense_saliency(lm: Any, target: NeuronTarget, n_tokens: int) -> Any:
    """Connectivity of ``target`` on a pydoc passage of about ``n_tokens`` tokens."""
    text = long_text(lm.tokenizer, n_tokens)
    return relabel(nh.saliency(lm, text, "connectivity", target=(target.layer, target.neuron)))


def write_dense_view(dense: Any, target: NeuronTarget, out: Path) -> Path:
    """The dense heatmap of ``dense`` (every target of a long passage)."""
    title = (f"layer {target.layer}, neuron {target.neuron} on a {dense.n_tokens}-token "
             f"pydoc passage, {dense.n_targets} targets")
    return saliency_dense_svg(dense, title=title).save(out / "saliency_dense.svg")


def write_activation_page(lm: Any, sentence: str, n_neurons: int, out: Path) -> Path:
    """The interactive page of the ``n_neurons`` neurons (of every layer) that stand out most
    on ``sentence``."""
    words = sentence.split()
    vis = TransformersVisualizer(lm)
    layers = range(1, lm.num_layers + 1)
    flat = np.concatenate([vis.activations(words, layer) for layer in layers], axis=1)
    width = flat.shape[1] // len(layers)  # [words, layers * width], layer-major
    top = np.argsort(-standout(flat))[:n_neurons]
    labels = [f"layer {1 + int(t) // width}, neuron {int(t) % width}" for t in top]
    descs = []
    for t in top:
        at = int(np.argmax(np.abs(flat[:, t])))
        descs.append(f"peaks on \u201c{words[at]}\u201d ({flat[at, t]:.2f})")
    page = activation_html(
        words, flat[:, top], labels, descriptions=descs,
        title=f"{MODEL_NAME}: the {n_neurons} neurons that stand out most on the demo sentence",
    )
    return page.save(out / "activations.html")


def write_captions(out: Path, sentence: str, target: NeuronTarget, conn: Any,
                   dense: Any) -> Path:
    """``captions.md``: what each view shows."""
    peak, second = conn.display_tokens[target.peak], conn.display_tokens[target.second]
    captions = [
        "# Saliency and activation views of the demo sentence",
        "",
        f"Sentence: {sentence}",
        "",
        target.what,
        "",
        "- saliency.html: interactive, offline (hover, click to pin, shift-click to compare); "
        "facets: connectivity and gradient x input.",
        f"- saliency_focus.svg/.png: textualheatmap's look, focus on \u201c{peak}\u201d, where "
        "the neuron peaks.",
        f"- saliency_compare.svg: \u201c{peak}\u201d minus \u201c{second}\u201d (orange: the "
        "first draws more on a token).",
        "- saliency_minimap.svg, saliency_tall.svg: every target of the sentence.",
        f"- saliency_dense.svg: {dense.n_targets} targets on a passage of the standard "
        "library's pydoc topics.",
        "- activations.html: the sentence's most distinctive neurons (activation that stands "
        "out most from the sentence's median); hover a word for its value.",
    ]
    path = out / "captions.md"
    path.write_text("\n".join(captions) + "\n", encoding="utf-8")
    return path
