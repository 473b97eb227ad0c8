"""Neuron dashboards: a static, offline site of every neuron, and one neuron's page.

:func:`build_site` (``neuroheat report``) computes the data from a store
(:mod:`~neuroheat.viz.dashboard.data`) and writes the site (:mod:`~neuroheat.viz.dashboard.
site`); :func:`neuron_report` returns one self-contained neuron page
(:mod:`~neuroheat.viz.dashboard.report`).

Example:
    >>> from neuroheat.viz.dashboard import build_site
    >>> build_site("acts.h5", "site/")     # doctest: +SKIP
    PosixPath('site/index.html')
"""

from __future__ import annotations

from neuroheat.viz.dashboard.build import build_site
from neuroheat.viz.dashboard.report import NeuronReport, neuron_report

__all__ = ["NeuronReport", "build_site", "neuron_report"]
