"""report.activation_html_from_store: stored sentences and neurons on the activation page."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neuroheat import extract_activations
from neuroheat.errors import InputError
from neuroheat.report import activation_html_from_store
from neuroheat.store import open_store
from tests.helpers.builders import tiny_bert


def test_activation_page_from_store(tmp_path):
    bert = tiny_bert(tmp_path / "bert")
    sents = ["The quick brown fox jumps over the lazy dog .", "cats dogs birds fish run"]
    store = extract_activations(bert, [s.split() for s in sents], tmp_path / "s.h5")
    page = activation_html_from_store(store, [0, 1], [(1, 3), (2, 5)], k_words=3)
    html = page.document()
    data = json.loads(html.split('class="nh-acts-data">')[1].split("</script>")[0])
    assert data["sentences"] == [s.split() for s in sents]
    assert data["labels"] == ["layer 1, neuron 3", "layer 2, neuron 5"]
    assert all(d for d in data["descriptions"])  # top words of each neuron
    with open_store(store) as st:
        want = st.sentence(1, layer=2)[:, 5]
    assert np.allclose(data["values"][1][1], want, rtol=1e-5, atol=1e-6)
    with pytest.raises(InputError, match="neuron"):
        activation_html_from_store(store, 0, [])
