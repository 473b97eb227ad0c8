"""Reports: what a neuron page, a dashboard or a neuron card shows, assembled from a store
(analysis calls, a model's output tokens) and handed to :mod:`neuroheat.viz` to draw.

This package sits above :mod:`neuroheat.analysis`, :mod:`neuroheat.model` and
:mod:`neuroheat.viz`; ``viz`` only draws the plain records given to it. One concept per
module: :mod:`.data` (a dashboard's data: :func:`collect`, :class:`DashboardData`),
:mod:`.build` (:func:`build_site`, the ``neuroheat report`` site, with output tokens from the
model's unembedding), :mod:`.report` (:func:`neuron_report`: one neuron's page),
:mod:`.card` (:func:`neuron_card`) and :mod:`.activations`
(:func:`activation_html_from_store`). Names load on first use.

Example:
    >>> import neuroheat as nh
    >>> nh.report.build_site("acts.h5", "site/", k=10, window=8)          # doctest: +SKIP
    PosixPath('site/index.html')
    >>> nh.report.neuron_report("acts.h5", layer=3, neuron=17).save("n17.html")  # doctest: +SKIP
"""

from __future__ import annotations

from neuroheat.lazy import lazy_exports

_LAZY = {
    "DashboardData": "neuroheat.report.data",
    "collect": "neuroheat.report.data",
    "build_site": "neuroheat.report.build",
    "probe_weights": "neuroheat.report.build",
    "NeuronReport": "neuroheat.report.report",
    "neuron_report": "neuroheat.report.report",
    "neuron_card": "neuroheat.report.card",
    "card_contexts": "neuroheat.report.card",
    "activation_html_from_store": "neuroheat.report.activations",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
