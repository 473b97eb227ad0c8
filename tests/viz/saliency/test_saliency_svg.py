"""Static saliency figures: palette, textualheatmap layout, rasterized boxes/glyphs/underline."""

from __future__ import annotations

import numpy as np
import pytest

from neuroheat.attribution.result import Saliency
from neuroheat.errors import InputError
from neuroheat.viz import saliency_compare_svg, saliency_svg
from neuroheat.viz.color import saliency_palette as P
from tests.helpers.raster import bbox, needs_raster, rasterize
from tests.helpers.saliency_views import (
    README_GENERAL,
    isolate_token,
    strip_ink,
    token_rects,
    word_facet,
)

WORDS = "The interpreter reads the source file and executes each statement".split()


def test_focus_figure_structure():
    facet = word_facet(WORDS)
    fig = saliency_svg([facet, word_facet(WORDS, seed=1)], focus=4, facet_titles=["A", "B"])
    svg = fig.tostring()
    assert fig.focus == 4 and svg.count('class="nh-facet"') == 2
    assert svg.count('class="nh-focus-mark"') == 2  # the focus token, in every facet
    assert svg.count('class="nh-meta"') == 2 and svg.count('class="nh-facet-title"') == 2
    rects = token_rects(svg)
    assert len(rects) == 2 * len(WORDS)
    heat = [t["heat"] for t in facet if not t.get("format")][4]
    for j in range(len(WORDS)):
        assert rects[(0, j)][1] == P.heat_color(heat[j])
    assert "nh-format" in svg  # spacers drawn, uncoloured
    assert float(fig["width"]) == 600


def test_default_focus_and_bad_input():
    fig = saliency_svg(README_GENERAL, facet_titles=["LSTM", "GRU"])
    assert fig.focus == 0
    with pytest.raises(InputError, match="out of range"):
        saliency_svg(README_GENERAL, focus=3)
    with pytest.raises(InputError, match="facet_titles"):
        saliency_svg(README_GENERAL, facet_titles=["only one"])
    with pytest.raises(InputError, match="width"):
        saliency_svg(README_GENERAL, width=50)
    with pytest.raises(InputError, match="heat"):
        saliency_svg([{"token": "a", "meta": [], "heat": [0.5, 1.0]}])
    with pytest.raises(InputError, match="Saliency"):
        saliency_svg("not data")


def test_saliency_input_meta_and_extra_rows():
    sal = Saliency(
        tokens=["[CLS]", "the", "cat", "[SEP]"],
        matrix=np.array([[0.1, 0.5, -1.0, 0.0], [0.2, 1.0, 0.1, 0.0]]),
        target_positions=[2, None],
        predictions=[[("cat", 0.75), ("##s", 0.1)], []],
        method="gradient",
        model="m",
        labels=["cat", "class 1"],
        special=[True, False, False, True],
    )
    fig = saliency_svg(sal, focus=2)
    svg = fig.tostring()
    assert "cat 75%" in fig.facets[0].meta[2][0]
    rects = token_rects(svg)
    assert len(rects) == 5  # four tokens + the class row as an extra token
    assert rects[(0, 2)][1] == P.heat_color(1.0) and rects[(0, 1)][1] == P.heat_color(0.5)
    assert fig.facets[0].meta[4] == ["class 1"]  # no predictions: the label
    assert fig.facets[0].title == "gradient"


@needs_raster
def test_rasterized_boxes_glyphs_underline_and_colors():
    words = ["The", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"]
    fig = saliency_svg(word_facet(words), focus=3, width=420)
    svg = fig.tostring()
    rects = token_rects(svg)
    # each token's ink lies inside its box
    for j in range(len(words)):
        ink = bbox(rasterize(isolate_token(svg, 0, j, "ink"), 2.0).min(axis=2) < 0.6)
        box = bbox(rasterize(isolate_token(svg, 0, j, "rect"), 2.0).min(axis=2) < 0.5)
        assert box is not None and ink is not None
        assert ink[0] >= box[0] - 1 and ink[1] >= box[1] - 1, (j, ink, box)
        assert ink[2] <= box[2] + 1 and ink[3] <= box[3] + 1, (j, ink, box)
    # box colours in pixels: the palette colour of each heat value
    img = rasterize(strip_ink(svg), 1.0)
    for (_, j), ((x, y, w, h), fill) in rects.items():
        px = img[int(y + h / 2), int(x + w / 2)] * 255
        assert np.abs(px - np.array(_rgb(fill))).max() <= 2, (j, px, fill)
    # the focus underline: white pixels just under the focus box, not under the others
    (x, y, w, h), _ = rects[(0, 3)]
    under = img[int(y + h + 1), int(x + 2) : int(x + w - 2)]
    assert (under > 0.95).all()
    (x, y, w, h), _ = rects[(0, 2)]
    assert not (img[int(y + h + 1), int(x + 2) : int(x + w - 2)] > 0.95).all()


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


@needs_raster
def test_rtl_boxes_right_aligned_and_contain_glyphs():
    words = ["مرحبا", "بالعالم", "هذا", "نص", "عربي"]
    fig = saliency_svg(word_facet(words), focus=1, show_meta=False)
    svg = fig.tostring()
    rects = token_rects(svg)
    xs = [rects[(0, j)][0][0] for j in range(len(words))]
    assert xs == sorted(xs, reverse=True)  # first word rightmost
    for j in range(len(words)):
        ink = bbox(rasterize(isolate_token(svg, 0, j, "ink"), 2.0).min(axis=2) < 0.6)
        box = bbox(rasterize(isolate_token(svg, 0, j, "rect"), 2.0).min(axis=2) < 0.5)
        assert ink[0] >= box[0] - 1 and ink[2] <= box[2] + 1, (j, ink, box)


def test_newline_format_token_starts_a_paragraph():
    facet = word_facet(["one", "two"])
    facet.insert(2, {"token": "\n", "format": True})
    rects = token_rects(saliency_svg(facet, focus=0).tostring())
    assert rects[(0, 1)][0][1] > rects[(0, 0)][0][1]  # "two" on the next line


def test_compare_figure():
    facet = word_facet(WORDS)
    heat = np.array([t["heat"] for t in facet if not t.get("format")])
    fig = saliency_compare_svg(facet, 2, 7)
    svg = fig.tostring()
    rects = token_rects(svg)
    for j in range(len(WORDS)):
        assert rects[(0, j)][1] == P.diverging_color(heat[2, j] - heat[7, j])
    assert svg.count('class="nh-focus-mark"') == 2 and 'class="nh-legend"' in svg
    assert "#b35806" in svg and "#542788" in svg
    with pytest.raises(InputError, match="b="):
        saliency_compare_svg(facet, 2, 99)


def test_rotated_titles_and_exports(tmp_path):
    fig = saliency_svg(
        README_GENERAL,
        focus=1,
        facet_titles=["LSTM", "GRU"],
        rotate_facet_titles=True,
        show_meta=False,
    )
    assert "rotate(90" in fig.tostring() and 'class="nh-meta"' not in fig.tostring()
    assert fig.save(tmp_path / "f.svg").read_text().startswith("<?xml")
    assert fig._repr_svg_().startswith("<svg")


def test_saliency_facet_equals_to_textualheatmap():
    from neuroheat.viz.saliency.data import facet_from_saliency

    rng = np.random.default_rng(3)
    sal = Saliency(
        tokens=["[CLS]", "un", "##believ", "##able", "film", "[SEP]"],
        matrix=rng.normal(size=(5, 6)),
        target_positions=[1, 2, 4, 4, None],
        predictions=[[("un", 0.5)]] * 5,
        method="gradient",
        model="m",
        special=[True, False, False, False, False, True],
    )
    facet = facet_from_saliency(sal)
    ref = sal.to_textualheatmap()
    assert facet.items == [(t["token"], bool(t.get("format"))) for t in ref]
    want = np.array([t["heat"] for t in ref if not t.get("format")])
    assert np.allclose(facet.heat, want)
    assert facet.has_row.tolist() == [False, True, True, False, True, False, True, True]
