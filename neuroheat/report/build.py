"""``build_site``: a store (and optionally a probe and a model) to a dashboard folder.

Example:
    >>> build_site("acts.h5", "site/", layers="3", k=5, window=6)   # doctest: +SKIP
    PosixPath('site/index.html')
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.analysis.options import RunOptions
from neuroheat.analysis.source import SourceArg, open_source
from neuroheat.errors import InputError
from neuroheat.report.data import collect
from neuroheat.viz.dashboard.site import check_output, write_site

__all__ = ["build_site", "explanation_records", "probe_weights"]

log = logging.getLogger(__name__)


def probe_weights(probe: Any) -> dict[tuple[int, int], dict[str, float]]:
    """``{(layer, neuron): {class: weight}}`` of a fitted probe (anything with ``weights``
    ``[classes, columns]``, ``classes`` and ``neurons`` ``[(layer, index)]``, such as
    :class:`neuroheat.probing.Probe`).

    Example:
        >>> probe_weights(Probe.load("probe.json"))[(3, 17)]   # doctest: +SKIP
        {'FUNC': 0.52, 'CONTENT': -0.31}
    """
    weights = getattr(probe, "weights", None)
    if weights is None:
        raise InputError("the probe has no weights: fit it (or load a saved probe) first")
    w = np.asarray(weights, dtype=np.float64)
    classes = list(getattr(probe, "classes", [])) or [f"class {i}" for i in range(len(w))]
    return {(int(a), int(b)): {str(c): float(w[i, col]) for i, c in enumerate(classes)}
            for col, (a, b) in enumerate(probe.neurons)}


def explanation_records(explanations: Any) -> dict[tuple[int, int], dict[str, Any]]:
    """``{(layer, neuron): {"text", "score", "scores"}}`` for the dashboard from an EXPLAIN.json
    written by ``neuroheat explain`` (a path), or from what
    :func:`neuroheat.autointerp.load_explanations` returns. ``score`` is the detection
    score (balanced accuracy; None when not scored).

    Example:
        >>> explanation_records("EXPLAIN.json")[(3, 17)]["text"]   # doctest: +SKIP
        'the word "the" at the start of a sentence'
    """
    if isinstance(explanations, str | os.PathLike):
        from neuroheat.autointerp.result import load_explanations

        explanations = load_explanations(explanations)
    out = {}
    for (layer, neuron), e in dict(explanations).items():
        score = None if e.score is None else float(e.score)
        out[(int(layer), int(neuron))] = {"text": e.explanation, "score": score,
                                          "scores": e.scores or {}}
    return out


def neuron_effects(effects: Any, component: str) -> dict[tuple[int, int], dict[str, Any]]:
    """``(layer, neuron) -> {method, delta_ce, kl, delta_entropy, top_promoted,
    top_suppressed}`` of the single-unit results in ``effects`` (EFFECTS.json paths, a glob,
    or an :class:`~neuroheat.intervene.result.Effects`) whose site is of ``component``.

    Example:
        >>> neuron_effects("effects.json", "mlp")[(2, 5)]["kl"]   # doctest: +SKIP
    """
    from neuroheat.intervene.result import Effects, load
    from neuroheat.model.sites.base import Site

    eff = effects if isinstance(effects, Effects) else load(effects)
    out: dict[tuple[int, int], dict[str, Any]] = {}
    for unit, r in eff.by_unit().items():
        site, _, index = unit.rpartition(":")
        if site.startswith("sae."):
            continue
        parsed = Site.parse(site)
        if parsed.kind == component:
            out[(parsed.layer, int(index))] = {
                "method": eff.method, **{k: r[k] for k in ("delta_ce", "kl", "delta_entropy",
                                                           "top_promoted", "top_suppressed")}}
    if not out:
        raise InputError(f"the effects hold no unit of this store's component {component!r} "
                         f"(units like {component}.L:N); ablate that site's neurons")
    return out


def build_site(
    store: SourceArg,
    outdir: str | os.PathLike,
    *,
    layers: int | Sequence[int] | str | None = None,
    k: int = 10,
    window: int = 8,
    probe: Any = None,
    model: Any = None,
    explanations: Any = None,
    bins: int = 40,
    quantiles: str = "value",
    bands: int = 10,
    samples: int = 2,
    output_tokens: int = 10,
    effects: Any = None,
    title: str | None = None,
    overwrite: bool = False,
    options: RunOptions | None = None,
) -> Path:
    """Write the dashboard of ``store`` into ``outdir`` (see :mod:`~neuroheat.viz.dashboard.
    site` for the layout): the data of :func:`~neuroheat.report.data.collect`, drawn by
    :func:`~neuroheat.viz.dashboard.site.write_site`; returns ``outdir/index.html``.

    ``k`` top and bottom contexts per neuron as ``±window``-word windows; ``bins``-bin
    histograms; ``samples`` rows per quantile band (``quantiles``: ``value`` | ``rank`` |
    ``count``, see :mod:`~neuroheat.analysis.distributions`); ``probe``: a fitted probe (its
    weights per class are shown); ``model``: the store's model, whose unembedding gives the
    output tokens each neuron promotes and suppresses (see
    :mod:`neuroheat.model.unembedding`); ``explanations``: an EXPLAIN.json of
    ``neuroheat explain`` (each neuron's explanation and scores on its page, searchable from
    the index);
    ``effects``: EFFECTS.json file(s) or a glob of
    ``neuroheat ablate``, shown on each ablated neuron's page (``[data-role=effects]``).

    Example:
        >>> build_site("acts.h5", "site", k=5)   # doctest: +SKIP
    """
    if isinstance(window, bool) or not isinstance(window, int) or window < 0:
        raise InputError(f"window must be an integer >= 0, got {window!r}")
    check_output(Path(outdir), overwrite)  # before any work
    weights = probe_weights(probe) if probe is not None else {}
    explained = explanation_records(explanations) if explanations is not None else {}
    with open_source(store) as src:
        outputs = {}
        if model is not None:  # first: a wrong model fails before the analysis runs
            from neuroheat.model.unembedding import output_tokens as tokens_of

            outputs = tokens_of(model, src.meta.get("component") or "hidden",
                                src.check_layers(layers), src.width, k=output_tokens)
        found = neuron_effects(effects, src.meta.get("component") or "hidden") \
            if effects is not None else {}
        data = collect(src, layers, k=k, window=window, bins=bins, quantiles=quantiles,
                       bands=bands, samples=samples, options=options)
    data.probe, data.outputs = weights, outputs
    data.explanations, data.effects = explained, found
    return write_site(data, outdir, title=title, overwrite=overwrite)
