"""The activation figure as an interactive offline page: hover a word to read its value,
switch neurons from a list (e.g. the top neurons of a sentence).

Colours follow :func:`neuroheat.viz.visualize_activations` (NeuroX): ``colors[0]`` for
negative values, ``colors[1]`` for positive, opacity ``1 - (1 - |a| / limit) ** darken`` with
``limit`` = the neuron's max ``|a|`` over the sentences shown. Like the saliency page it is one
self-contained file (inline JS/CSS, data as escaped JSON, text put in with ``textContent``).

Example:
    >>> page = activation_html(["The", "cat"], [[0.5, -1.0], [1.0, 0.2]], labels=["n1", "n2"])
    >>> page.save("acts.html")   # doctest: +SKIP
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.viz.color.scales import NEUROX_COLORS, parse_color
from neuroheat.viz.html.page import HTMLPage, asset, script_json


class ActivationHTML(HTMLPage):
    """An interactive activation page: ``_repr_html_`` for notebooks, ``save`` for a file."""


def _as_sentences(tokens: Any, activations: Any) -> tuple[list[list[str]], list[np.ndarray]]:
    if isinstance(tokens, str):
        raise InputError("tokens must be a list of words (or a list of sentences), not a string")
    single = all(isinstance(t, str) for t in tokens)
    sentences = [list(tokens)] if single else [list(s) for s in tokens]
    acts = [activations] if single else list(activations)
    if len(acts) != len(sentences):
        raise InputError(f"got {len(sentences)} sentences but {len(acts)} activation arrays")
    arrays = []
    for k, (words, a) in enumerate(zip(sentences, acts, strict=True)):
        if hasattr(a, "detach"):
            a = a.detach().cpu().numpy()
        arr = np.asarray(a, dtype=np.float64)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[0] != len(words):
            raise InputError(
                f"sentence {k}: activations must be [n_words, n_neurons] with "
                f"n_words = {len(words)}, got shape {arr.shape}"
            )
        if not np.isfinite(arr).all():
            raise InputError(
                f"sentence {k}: activations contain NaN or infinite values; "
                "replace them (np.nan_to_num) first"
            )
        arrays.append(arr)
    widths = {a.shape[1] for a in arrays}
    if len(widths) != 1:
        raise InputError(f"every sentence needs the same neurons; got widths {sorted(widths)}")
    return sentences, arrays


def activation_html(
    tokens: Sequence[str] | Sequence[Sequence[str]],
    activations: Any,
    labels: Sequence[str] | None = None,
    *,
    descriptions: Sequence[str] | None = None,
    colors: Sequence[str] = NEUROX_COLORS,
    darken: int = 2,
    text_direction: str = "auto",
    title: str | None = None,
    width: int = 720,
    neuron: int = 0,
) -> ActivationHTML:
    """An interactive page of one or more sentences and a list of neurons.

    Args:
        tokens: the words of one sentence, or a list of sentences.
        activations: ``[n_words, n_neurons]`` (or ``[n_words]``) per sentence.
        labels: a name per neuron (default ``neuron 0..``); ``descriptions``: a line per
            neuron shown under its name in the list (e.g. its top words).
        colors, darken: NeuroX colours (negative, positive) and darkening.
        text_direction: ``ltr``, ``rtl`` or ``auto``; ``neuron``: the neuron shown first.

    Example:
        >>> activation_html(words, acts[:, [3, 17]], labels=["L4 N3", "L4 N17"])  # doctest: +SKIP
    """
    sentences, arrays = _as_sentences(tokens, activations)
    n = arrays[0].shape[1]
    labels = [f"neuron {i}" for i in range(n)] if labels is None else [str(x) for x in labels]
    if len(labels) != n:
        raise InputError(f"got {len(labels)} labels for {n} neurons")
    descriptions = [""] * n if descriptions is None else [str(x) for x in descriptions]
    if len(descriptions) != n:
        raise InputError(f"got {len(descriptions)} descriptions for {n} neurons")
    if isinstance(colors, str) or len(colors) != 2:
        raise InputError(f"colors must be two hex colours (negative, positive), got {colors!r}")
    rgb = [list(parse_color(c)) for c in colors]
    if isinstance(darken, bool) or not isinstance(darken, int) or darken < 0:
        raise InputError(f"darken must be a whole number >= 0, not {darken!r}")
    d = str(text_direction).lower()
    if d not in ("ltr", "rtl", "auto"):
        raise InputError(f"text_direction must be 'ltr', 'rtl' or 'auto', not {text_direction!r}")
    if isinstance(neuron, bool) or not isinstance(neuron, int) or not 0 <= neuron < n:
        raise InputError(f"neuron must be an index 0..{n - 1}, not {neuron!r}")
    limits = np.max([np.abs(a).max(axis=0) if a.size else np.zeros(n) for a in arrays], axis=0)
    payload = {
        "sentences": sentences,
        "values": [[[_round(v) for v in row] for row in a.T] for a in arrays],  # [s][neuron][w]
        "labels": labels,
        "descriptions": descriptions,
        "limits": [_round(v) for v in limits],
        "colors": rgb,
        "darken": darken,
        "direction": d,
        "neuron": neuron,
        "width": width,
    }
    root_id = "nh-acts-" + uuid.uuid4().hex[:12]
    fragment = (
        f"<style>{asset('activations.css')}</style>\n"
        f'<div class="nh-acts" id="{root_id}" data-nh-pending="1" tabindex="0">'
        f'<script type="application/json" class="nh-acts-data">{script_json(payload)}'
        '</script><div class="nh-noscript">This interactive view needs JavaScript.</div>'
        f"</div>\n<script>{asset('activations.js')}</script>"
    )
    page_title = title or "neuroheat activations: " + " ".join(sentences[0])[:80]
    return ActivationHTML(fragment, page_title)


def _round(v: float) -> float:
    v = float(v)
    return 0.0 if v == 0 or not math.isfinite(v) else float(f"{v:.6g}")
