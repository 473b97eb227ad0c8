"""One neuron's dashboard page, self-contained: :func:`neuron_report` (notebooks, files).

:func:`neuron_report` computes the neuron's record from a store (the same JSON a site's
``data/n-*.js`` holds for it, see :mod:`~neuroheat.report.data`) and returns a
:class:`NeuronReport`: the page drawn by :class:`~neuroheat.viz.dashboard.page.NeuronPage`.

Example:
    >>> page = neuron_report("acts.h5", layer=3, neuron=17)    # doctest: +SKIP
    >>> page.save("neuron.html")                                # doctest: +SKIP
"""

from __future__ import annotations

from neuroheat.analysis.options import RunOptions
from neuroheat.analysis.source import SourceArg, open_source
from neuroheat.report.data import collect
from neuroheat.viz.dashboard.page import NeuronPage

__all__ = ["NeuronReport", "neuron_report"]


class NeuronReport(NeuronPage):
    """One neuron's page as :func:`neuron_report` returns it: ``_repr_html_`` in a notebook,
    ``save(path)`` for a file; ``data`` is its record, ``vocab`` the words its windows index,
    ``site`` the settings (layers, width, window, store metadata)."""


def neuron_report(store: SourceArg, layer: int, neuron: int, *, k: int = 10, window: int = 8,
                  bins: int = 40, quantiles: str = "value", bands: int = 10, samples: int = 2,
                  options: RunOptions | None = None) -> NeuronReport:
    """The dashboard page of one neuron (settings as in
    :func:`~neuroheat.report.build.build_site`); one pass over ``layer``.

    Example:
        >>> nh.report.neuron_report("acts.h5", 3, 17)._repr_html_()[:20]   # doctest: +SKIP
        '<div class="nh-report'
    """
    with open_source(store) as src:
        layer, neuron = src.check_layer(layer), src.check_neuron(neuron)
        data = collect(src, [layer], k=k, window=window, bins=bins, quantiles=quantiles,
                       bands=bands, samples=samples, options=options)
    block = data.block(layer, neuron, neuron + 1)
    record, vocab = block["neurons"][0], block["vocab"]
    site = {"title": f"layer {layer} neuron {neuron}", "layers": [layer], "width": data.width,
            "window": window, "meta": data.meta, "block": 1}
    return NeuronReport(record, vocab, site)
