"""TransformersVisualizer (NeuroX's entry point) on a tiny BERT: loads once, matches the
extractor, one box per subword with aggregation="none"."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from neuroheat.errors import InputError
from neuroheat.viz import TransformersVisualizer
from tests.helpers import builders

NS = {"s": "http://www.w3.org/2000/svg"}


@pytest.fixture(scope="module")
def bert(tmp_path_factory):
    return builders.tiny_bert(tmp_path_factory.mktemp("compat-models") / "bert")


def test_transformers_visualizer_loads_once_and_matches_extractor(bert, monkeypatch):
    import neuroheat.model.loading as models
    from neuroheat.extract.activations import activations_for_words

    calls = []
    real = models.load_model

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr("neuroheat.model.load_model", counting)
    vis = TransformersVisualizer(str(bert))
    words = ["the", "quick", "brown", "fox"]
    d1 = vis(words, 2, 5)
    d2 = vis(["cats", "run"], 0, 3, darken=1, colorbar=True)
    assert sum(1 for c in calls if isinstance(c, str)) == 1  # the model was loaded once
    model = vis.model
    vis(words, 1, 0)
    assert vis.model is model
    other = TransformersVisualizer(str(bert))
    assert other.model is not vis.model  # no state shared between instances
    ref = activations_for_words(vis.loaded, [words], layers=[2])[0][:, 0, 5]
    root = ET.fromstring(d1.tostring())
    vals = [float(g.get("data-activation")) for g in root.findall(".//s:g[@class='nh-token']", NS)]
    np.testing.assert_allclose(vals, ref, rtol=1e-5, atol=1e-6)
    assert "nh-colorbar" in d2.tostring()
    with pytest.raises(InputError, match="neurons 0..31"):
        vis(words, 1, 32)


def test_transformers_visualizer_subword_rows(bert):
    """aggregation="none" draws one box per subword, labelled with the subword string."""
    vis = TransformersVisualizer(str(bert), aggregation="none")
    dwg = vis(["unbelievable", "cats"], layer=1, neuron=0)
    from neuroheat.extract.align import encode_corpus

    rows = encode_corpus(vis.tokenizer, [["unbelievable", "cats"]], "none")[0].rows
    assert len(rows) > 2
    svg = dwg.tostring()
    assert all(f"<title>{r} (" in svg for r in rows)
