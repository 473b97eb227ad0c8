"""report.neuron_card: a store's top words and contexts drawn as a card (and `render --card`)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from neuroheat.analysis import top_contexts, top_words
from neuroheat.cli import main
from neuroheat.report import neuron_card
from tests.helpers.raster import NS
from tests.helpers.stores import small_mixed_store


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    return small_mixed_store(tmp_path_factory.mktemp("store"))


def test_neuron_card_shows_top_words_and_contexts(store_path, tmp_path):
    path, sents, acts = store_path
    card = neuron_card(path, 2, 5, k_words=4, k_contexts=2)
    words = [w for w, _ in top_words(path, 2, 5, k=4)]
    ctx, seen = [], set()
    for c in top_contexts(path, 2, 5, k=8):  # best context of each distinct sentence
        if tuple(c.words) not in seen and len(ctx) < 2:
            seen.add(tuple(c.words))
            ctx.append(c)
    assert [b.text for b in card.layouts[0].boxes] == words
    assert [[b.text for b in lay.boxes] for lay in card.layouts[1:]] == [c.words for c in ctx]
    assert card.tostring().count("nh-highlight") == 2  # the top word of each context
    # The contexts share one scale: the largest |activation| among them has full opacity.
    ctx_vals = np.concatenate([acts[c.sentence][:, 2, 5] for c in ctx])
    assert card.scale.limit == pytest.approx(np.abs(ctx_vals).max(), rel=1e-6)
    root = ET.fromstring(card.tostring())
    assert root.find("s:title", NS).text == "layer 2, neuron 5"
    out = tmp_path / "card.svg"
    assert main(["render", str(path), "--card", "--layer", "2", "--neuron", "5",
                 "--k-contexts", "2", "-o", str(out)]) == 0
    ET.parse(out)
