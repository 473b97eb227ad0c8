"""viz draws what it is given: no viz module imports analysis, a model, a store, probing,
extraction, attribution, sae or report; the card and the site draw plain data."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np

from neuroheat.viz.activations.card import CardContext, draw_neuron_card
from tests.helpers.raster import NS

FORBIDDEN = ("analysis", "model", "probing", "extract", "attribution", "sae", "store",
             "report")

_CHILD = """
import importlib, json, pkgutil, sys
import neuroheat.viz as viz
for m in pkgutil.walk_packages(viz.__path__, "neuroheat.viz."):
    importlib.import_module(m.name)
print(json.dumps(sorted(m for m in sys.modules if m.startswith("neuroheat."))))
"""


def test_importing_every_viz_module_loads_no_layer_below_or_above():
    out = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                         check=True).stdout
    loaded = json.loads(out)
    assert "neuroheat.viz.dashboard.site" in loaded and "neuroheat.viz.activations.card" in loaded
    bad = [m for m in loaded if m.split(".")[1] in FORBIDDEN]
    assert bad == []


def test_card_draws_the_words_and_contexts_it_is_given():
    ctx = [CardContext(4, ["The", "cat", "sat"], 1, "cat", 2.0, np.array([0.1, 2.0, -0.5])),
           CardContext(9, ["A", "cat"], 1, "cat", 1.0, np.array([0.3, 1.0]))]
    card = draw_neuron_card([("cat", 1.0), ("dog", 0.25)], ctx, title="neuron 17")
    assert [b.text for b in card.layouts[0].boxes] == ["cat", "dog"]
    assert [[b.text for b in lay.boxes] for lay in card.layouts[1:]] == [c.words for c in ctx]
    assert card.scale.limit == 2.0  # one scale over every context
    svg = card.tostring()
    assert svg.count("nh-highlight") == 2  # the peak word of each context
    assert ET.fromstring(svg).find("s:title", NS).text == "neuron 17"
    empty = draw_neuron_card([], [], lowest=True)
    assert [b.text for b in empty.layouts[0].boxes] == ["(none)"]
