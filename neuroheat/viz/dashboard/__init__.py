"""Neuron dashboards drawn from their data: a static, offline site of every neuron
(:func:`write_site`, :mod:`~neuroheat.viz.dashboard.site`) and one neuron's page
(:class:`NeuronPage`, :mod:`~neuroheat.viz.dashboard.page`). The data comes from
:mod:`neuroheat.report` (:func:`neuroheat.report.build_site` runs both steps).

Example:
    >>> from neuroheat.viz.dashboard import write_site
    >>> write_site(nh.report.collect("acts.h5"), "site/")     # doctest: +SKIP
    PosixPath('site/index.html')
"""

from __future__ import annotations

from typing import Any

from neuroheat.viz.dashboard.page import NeuronPage
from neuroheat.viz.dashboard.site import SiteData, write_site

__all__ = ["NeuronPage", "SiteData", "write_site"]

# Deprecated spellings: these read a store, so they live in neuroheat.report now.
_MOVED = ("NeuronReport", "build_site", "neuron_report")


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        from neuroheat.viz import moved

        return moved(__name__, name, "neuroheat.report")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
