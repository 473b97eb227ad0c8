"""The report names' old viz spellings still work, with a DeprecationWarning naming the new
home; NeuroX's TransformersVisualizer and TextualHeatmap stay in viz, not deprecated."""

from __future__ import annotations

import warnings

import pytest

import neuroheat as nh
import neuroheat.report as report

MOVED = {
    "neuroheat.viz": ["build_site", "neuron_report", "NeuronReport", "neuron_card",
                      "activation_html_from_store"],
    "neuroheat.viz.dashboard": ["build_site", "neuron_report", "NeuronReport"],
    "neuroheat.viz.activations": ["neuron_card"],
}


@pytest.mark.parametrize("package,name", [(p, n) for p, names in MOVED.items() for n in names])
def test_old_viz_spellings_warn_and_give_the_report_object(package, name):
    import importlib

    module = importlib.import_module(package)
    with pytest.warns(DeprecationWarning, match=rf"{package}\.{name} moved to "
                                                rf"neuroheat\.report\.{name}"):
        old = getattr(module, name)
    assert old is getattr(report, name)
    with pytest.warns(DeprecationWarning):  # every use warns, not only the first
        getattr(module, name)


def test_report_is_a_lazy_submodule_and_transformers_visualizer_does_not_warn():
    assert nh.report is report and "report" in dir(nh)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nh.viz.TransformersVisualizer.__module__ == "neuroheat.compat.neurox"
        from neuroheat.viz import visualize_activations, write_site  # noqa: F401
    assert issubclass(report.NeuronReport, nh.viz.NeuronPage)
