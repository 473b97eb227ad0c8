"""The figures part of ``neuroheat demo``: neuron cards of the most selective neurons, and
the first of them on a new sentence, computed live.

Example:
    >>> paths = demo_figures("demo_output/minilm.h5", "demo_output", model_dir)   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from neuroheat.analysis import top_words_all
from neuroheat.analysis.selectivity import pick_neurons
from neuroheat.compat import TransformersVisualizer
from neuroheat.demo.inputs import DEMO_SENTENCE
from neuroheat.report.card import neuron_card

log = logging.getLogger(__name__)

CARD_FORMATS = (".svg", ".png", ".pdf")


def demo_figures(
    store: Any,
    outdir: str | os.PathLike,
    model: Any = None,
    *,
    n_neurons: int = 3,
    k_contexts: int = 4,
    neurons: list[tuple[int, int]] | None = None,
) -> list[Path]:
    """Write a neuron card (.svg, .png, .pdf) for each of the ``n_neurons`` most selective
    neurons into ``outdir/figures``, and, when ``model`` is given, the first neuron on a new
    sentence computed live by :class:`TransformersVisualizer`. ``neurons`` (``(layer, neuron)``
    pairs) overrides the choice, e.g. to draw the neurons a report printed. Returns the paths."""
    out = Path(outdir) / "figures"
    out.mkdir(parents=True, exist_ok=True)
    picked = _choose(store, n_neurons, neurons)
    written: list[Path] = []
    for layer, neuron in picked:
        card = neuron_card(store, layer, neuron, k_words=8, k_contexts=k_contexts,
                           font_size=16, char_limit=80)
        for suffix in CARD_FORMATS:
            written.append(card.save(out / f"card_layer{layer}_neuron{neuron}{suffix}"))
    if model is not None and picked:
        written.append(_live(model, *picked[0], out))
    log.info("wrote %d figures to %s", len(written), out)
    return written


def _choose(store: Any, n: int, neurons: list[tuple[int, int]] | None) -> list[tuple[int, int]]:
    """``neurons[:n]``, or the ``n`` most selective neurons of ``store``."""
    if neurons is not None:
        return [(int(layer), int(neuron)) for layer, neuron in neurons[:n]]
    table = top_words_all(store, k=5)
    return [(int(table.layer[i]), int(table.neuron[i])) for i in pick_neurons(table, n)]


def _live(model: Any, layer: int, neuron: int, out: Path) -> Path:
    """``neuron`` of ``layer`` on :data:`DEMO_SENTENCE`, run live on ``model``."""
    vis = TransformersVisualizer(model)
    dwg = vis(DEMO_SENTENCE.split(), layer, neuron, colorbar=True, font_size=18,
              title=f"layer {layer}, neuron {neuron} on a new sentence")
    return dwg.save(out / f"live_layer{layer}_neuron{neuron}.svg")
