"""The demo's figures (neuron cards and a live figure) and its saliency views."""

from __future__ import annotations

import pytest

from tests.helpers import builders
from tests.helpers.raster import needs_raster
from tests.helpers.stores import small_mixed_store


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    return small_mixed_store(tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="module")
def bert(tmp_path_factory):
    return builders.tiny_bert(tmp_path_factory.mktemp("demo-models") / "bert")


@needs_raster
def test_demo_figures(store_path, bert, tmp_path):
    from neuroheat.demo.figures import demo_figures

    path, _, _ = store_path
    written = demo_figures(path, tmp_path, str(bert), n_neurons=2, k_contexts=2)
    assert {p.suffix for p in written} == {".svg", ".png", ".pdf"}
    assert all(p.exists() and p.stat().st_size > 500 for p in written)
    assert any(p.name.startswith("live_") for p in written)


def test_demo_views_on_minilm(minilm, tmp_path):
    from neuroheat.demo.views import demo_views

    paths = demo_views(tmp_path, minilm, dense_tokens=30, n_neurons=3)
    names = {p.name for p in paths}
    assert {
        "saliency.html",
        "saliency_focus.svg",
        "saliency_focus.png",
        "saliency_tall.svg",
        "saliency_minimap.svg",
        "saliency_dense.svg",
        "saliency_compare.svg",
        "activations.html",
        "captions.md",
    } <= names
    captions = (tmp_path / "views" / "captions.md").read_text()
    assert "no language-model head" in captions and "neuron" in captions
    assert "layer 6, neuron" in (tmp_path / "views" / "saliency.html").read_text()
