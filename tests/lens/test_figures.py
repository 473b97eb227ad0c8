"""The lens figures from plain data: colours by pixel, escaped tokens, right-to-left columns,
the offline page's hover list in headless Chromium, the DLA bars."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from neuroheat.viz.color.scales import parse_color
from neuroheat.viz.lens import dla_bars_svg, lens_html, lens_table_svg
from neuroheat.viz.lens.cells import lens_grid
from tests.helpers.raster import NS, needs_raster, rasterize
from tests.helpers.saliency_views import CHROMIUM, CHROMIUM_ARGS

EVIL = ["<b>", "&amp;", "\x01x", "</svg>"]


def lens_data(tokens, entropy=None):
    n = len(tokens)
    entropy = entropy or [[0.5 * layer + k for k in range(n)] for layer in range(3)]
    top = [[[[f"<i>{layer}{t}&", 0.6], ["two", 0.3]] for t in range(n)] for layer in range(3)]
    return {"tokens": tokens, "layers": [0, 1, 2], "top": top, "entropy": entropy,
            "kl_to_final": [[0.0] * n for _ in range(3)],
            "target": {"token": "x", "logprob": [[-1.0 - t] * n for t in range(3)],
                       "rank": [[0] * n for _ in range(3)]}}


def test_svg_escapes_tokens_and_parses():
    svg = lens_table_svg(lens_data(EVIL[:3])).tostring()
    root = ET.fromstring(svg)
    titles = [el.text for el in root.iter(f"{{{NS['s']}}}title")]
    assert any("<i>00&" in (t or "") for t in titles)   # text kept, markup escaped by XML
    assert "<i>" not in svg and "<b>" not in svg


@needs_raster
def test_cell_colours_by_pixel():
    data = lens_data(["a", "b", "c"])
    fig = lens_table_svg(data)
    grid = lens_grid(data)
    img = rasterize(fig.tostring())
    x0, y0, cw, ch = fig.grid
    for r, row in enumerate(grid.rows):
        for t, cell in enumerate(row):
            # sample a corner of the cell, away from the glyphs in its middle
            px = img[int(y0 + r * ch + 3), int(x0 + t * cw + 4)]
            np.testing.assert_allclose(px * 255, parse_color(cell.fill), atol=3)
    # the bottom row is layer 0, whose position 0 has the lowest entropy
    assert grid.rows[-1][0].value == 0.0 and grid.layers[0] == 2
    with pytest.raises(ValueError, match="entropy"):
        lens_grid({**data, "entropy": [[0.0]] * 3})


def test_target_colour_and_rtl_columns():
    arabic = ["\u0627\u0644\u0642\u0637", "\u062c\u0644\u0633", "\u0647\u0646\u0627"]
    data = lens_data(arabic)
    grid = lens_grid(data, "target")
    assert grid.rtl and grid.label == "log p(x)"
    fig = lens_table_svg(data, color="target")
    root = ET.fromstring(fig.tostring())
    cells = [g for g in root.iter(f"{{{NS['s']}}}g") if g.get("class") == "nh-lens-cell"]
    xs = [float(g.find("s:rect", NS).get("x")) for g in cells[:3]]
    assert xs == sorted(xs, reverse=True)   # position 0 on the right
    assert not lens_grid(lens_data(["a", "b", "c"])).rtl
    with pytest.raises(ValueError, match="target"):
        lens_grid({**data, "target": None}, "target")


def test_html_is_offline_and_escaped():
    page = lens_html(lens_data(EVIL)).document()
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "<b>" not in page.split("<body", 1)[1].replace("<body", "")
    assert "&lt;b&gt;" in page and "&lt;i&gt;00&amp;" in page and "<script" not in page


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
def test_html_hover_shows_top_k(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    path = lens_html(lens_data(["The", "cat", "\u062c\u0644\u0633"])).save(tmp_path / "l.html")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        cell = page.locator(".c").first
        tip = cell.locator(".tip")
        assert not tip.is_visible()
        cell.hover()
        assert tip.is_visible() and "<i>20&" in tip.inner_text()
        browser.close()
    assert requests == [path.as_uri()]


def test_dla_bars():
    data = {"answer": " Paris", "foil": " Rome", "position": 5, "logit": 1.5, "bias": 0.25,
            "softcap": 30.0,
            "components": [{"name": "embed", "value": 0.5}, {"name": "attn_out.1", "value": -1.0},
                           {"name": "mlp_out.1", "value": 1.75}],
            "neurons": [{"unit": "mlp.1:7", "value": 0.9}, {"unit": "mlp.1:3", "value": -0.2}]}
    fig = dla_bars_svg(data)
    root = ET.fromstring(fig.tostring())
    groups = [g for g in root.iter(f"{{{NS['s']}}}g")
              if g.get("class") in ("nh-dla-component", "nh-dla-neuron")]
    assert len(groups) == 6    # three components, the bias, two neurons
    widths = [float(g.find("s:rect", NS).get("width")) for g in groups]
    assert math.isclose(widths[2] / widths[0], 1.75 / 0.5, rel_tol=1e-2)
    with pytest.raises(ValueError, match="components"):
        dla_bars_svg({"neurons": []})
