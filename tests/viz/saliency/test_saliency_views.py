"""Many-target views (minimap, tall, dense, continuations) on real tiny-model saliency; CLI;
drop-in TextualHeatmap outside the browser; the demo views on MiniLM."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from neuroheat.attribution import saliency
from neuroheat.attribution.result import Saliency
from neuroheat.cli import main
from neuroheat.errors import InputError
from neuroheat.viz import (
    TextualHeatmap,
    saliency_continuations_svg,
    saliency_dense_svg,
    saliency_minimap_svg,
    saliency_tall_svg,
)
from neuroheat.viz.color import saliency_palette as P
from tests.helpers.builders import tiny_bert, tiny_gpt2
from tests.helpers.raster import NS, needs_raster, rasterize
from tests.helpers.saliency_views import README_GENERAL, word_facet


@pytest.fixture(scope="module")
def gpt(tmp_path_factory):
    return tiny_gpt2(tmp_path_factory.mktemp("gpt"), head="causal")


@pytest.fixture(scope="module")
def generated(gpt):
    return [
        saliency(gpt, "The quick brown fox", generate=6, seed=s, method="gradient") for s in (0, 1)
    ]


def _rgb(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)


def _rows(svg: str) -> list[list[tuple[float, float, float, float, str]]]:
    root = ET.fromstring(svg)
    out = []
    for row in root.iter(f"{{{NS['s']}}}g"):
        if row.get("class") == "nh-row":
            out.append(
                [
                    (
                        float(r.get("x")),
                        float(r.get("y")),
                        float(r.get("width")),
                        float(r.get("height")),
                        r.get("fill"),
                    )
                    for r in row.findall("s:rect", NS)
                    if r.get("class") != "nh-target"
                ]
            )
    return out


def _expected(sal: Saliency) -> tuple[np.ndarray, np.ndarray]:
    mag = np.abs(sal.matrix)
    values = mag / mag.max(axis=1, keepdims=True)
    valid = np.ones_like(values, dtype=bool)
    for r, p in enumerate(sal.target_positions):
        valid[r, p:] = False
    return values, valid


@needs_raster
def test_tall_view_cells_and_causal_mask(generated):
    sal = generated[0]
    fig = saliency_tall_svg(sal, title="tall")
    svg = fig.tostring()
    rows = _rows(svg)
    values, valid = _expected(sal)
    assert len(rows) == sal.n_targets and all(len(r) == sal.n_tokens for r in rows)
    img = rasterize(svg, 1.0)
    for r, row in enumerate(rows):
        for j, (x, y, w, h, fill) in enumerate(row):
            want = P.heat_color(values[r, j]) if valid[r, j] else P.MUTED
            assert fill == want, (r, j)
            if w >= 4:
                px = img[int(y + h / 2), int(x + w / 2)] * 255
                assert np.abs(px - _rgb(want)).max() <= 2
    assert svg.count('class="nh-target"') == sal.n_targets
    assert 'class="nh-prompt-end"' in svg  # where generation starts


def test_minimap_one_thumbnail_per_target(generated):
    sal = generated[0]
    fig = saliency_minimap_svg(sal, columns=3)
    svg = fig.tostring()
    assert svg.count('class="nh-thumb"') == sal.n_targets
    values, valid = _expected(sal)
    assert all(len(placed) == sal.n_tokens for placed in fig.boxes)
    root = ET.fromstring(svg)
    thumbs = [g for g in root.iter(f"{{{NS['s']}}}g") if g.get("class") == "nh-thumb"]
    for r, g in enumerate(thumbs):
        cells = [x for x in g.findall("s:rect", NS) if x.get("data-index") is not None]
        for c in cells:
            j = int(c.get("data-index"))
            assert c.get("fill") == (P.heat_color(values[r, j]) if valid[r, j] else P.MUTED)
            assert (c.get("stroke") is not None) == (j == sal.target_positions[r])


@needs_raster
def test_dense_view_image_cells():
    rng = np.random.default_rng(0)
    n, prompt = 130, 10
    rows = list(range(prompt, n))
    m = np.zeros((len(rows), n))
    for r, p in enumerate(rows):
        m[r, :p] = rng.random(p)
    sal = Saliency(
        tokens=[f"t{i}" for i in range(n)],
        matrix=m,
        target_positions=rows,
        predictions=[],
        method="gradient",
        model="toy",
        target="generate",
        prompt_length=prompt,
    )
    fig = saliency_dense_svg(sal, width=700, max_height=600)
    svg = fig.tostring()
    assert "data:image/png;base64," in svg and svg.count("<rect") < 300  # no cell rects
    assert len(svg) < 400_000
    x0, y0, cw, ch = fig.cell
    img = rasterize(svg, 1.0)
    values, valid = _expected(sal)
    for r, j in [(0, 0), (5, 3), (60, 40), (119, 128), (119, 129), (0, 50), (100, 77)]:
        px = img[int(y0 + (r + 0.5) * ch), int(x0 + (j + 0.5) * cw)] * 255
        want = P.heat_color(values[r, j]) if valid[r, j] else P.MUTED
        assert np.abs(px - _rgb(want)).max() <= 3, (r, j, px, want)


def test_continuations_side_by_side(generated):
    fig = saliency_continuations_svg(generated, ["seed 0", "seed 1"])
    svg = fig.tostring()
    assert svg.count('class="nh-row"') == sum(s.n_targets for s in generated)
    assert svg.count('class="nh-panel-title"') == 2
    with pytest.raises(InputError, match="titles"):
        saliency_continuations_svg(generated, ["one"])


def test_views_accept_textualheatmap_data():
    facet = word_facet(["a", "b", "c", "d"])
    assert saliency_tall_svg(facet).tostring().count('class="nh-row"') == 4
    assert saliency_minimap_svg(facet).tostring().count('class="nh-thumb"') == 4
    with pytest.raises(InputError, match="one facet"):
        saliency_tall_svg(README_GENERAL)


def test_cli_writes_views(tmp_path, capsys):
    mlm = tiny_bert(tmp_path / "mlm", head="mlm")
    text = "The quick brown fox jumps ."
    for name, view in (
        ("f.svg", "focus"),
        ("t.svg", "tall"),
        ("m.svg", "minimap"),
        ("d.svg", "dense"),
        ("p.html", "focus"),
        ("f.pdf", "focus"),
    ):
        assert main(["saliency", str(mlm), text, "-o", str(tmp_path / name), "--view", view]) == 0
    assert 'class="nh-focus-mark"' in (tmp_path / "f.svg").read_text()
    assert 'class="nh-row"' in (tmp_path / "t.svg").read_text()
    assert 'class="nh-thumb"' in (tmp_path / "m.svg").read_text()
    assert "data:image/png" in (tmp_path / "d.svg").read_text()
    page = (tmp_path / "p.html").read_text()
    assert "Content-Security-Policy" in page and "nh-saliency" in page
    assert (tmp_path / "f.pdf").read_bytes()[:4] == b"%PDF"
    capsys.readouterr()
    assert main(["saliency", str(mlm), text, "-o", str(tmp_path / "x.html"), "--view", "tall"]) == 2
    assert ".svg" in capsys.readouterr().err
    assert main(["saliency", str(mlm), text, "-o", str(tmp_path / "x.gif")]) == 2



def test_textual_heatmap_outside_the_browser(tmp_path):
    shown = []

    class Handle:
        def update(self, obj):
            shown.append(("update", obj))

    def display(obj, display_id=None):
        shown.append(("display", obj))
        return Handle()

    hm = TextualHeatmap(show_meta=True, facet_titles=["LSTM", "GRU"], display_fn=display)
    hm.set_data(README_GENERAL)
    hm.highlight(1)
    assert [k for k, _ in shown] == ["display", "update"]
    assert '"focus":1' in shown[-1][1]._repr_html_()
    assert hm.save(tmp_path / "fig.svg").read_text().count('class="nh-facet"') == 2
    assert "nh-saliency" in hm.save(tmp_path / "fig.html").read_text()
    with pytest.raises(InputError, match="facet_titles"):
        TextualHeatmap(facet_titles=["one"]).set_data(README_GENERAL)
    with pytest.raises(InputError, match="width"):
        TextualHeatmap(width=-1)
    with pytest.raises(InputError, match="set_data"):
        TextualHeatmap().highlight(0)
    with pytest.raises(InputError, match=".gif"):
        hm.save(tmp_path / "fig.gif")
    assert "no data" in TextualHeatmap(display_fn=display)._repr_html_()
