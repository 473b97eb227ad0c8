"""Boxes cover their glyphs, checked on rasterized output, in every script; NeuroX faults."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from neuroheat.viz import layout_tokens, visualize_activations
from tests.helpers.raster import (
    assert_ink_inside_boxes,
    bbox,
    empty_fontconfig,
    isolate,
    needs_raster,
    rasterize,
    rect_of,
)

SCRIPTS = {
    "latin": (["The", "quick", "brown", "fox", "jumps", "over", "Wolfgang's", "lazy", "dog."],
              "ltr"),
    "arabic": (["ذهب", "الطالب", "إلى", "المدرسة", "صباحا", "مع", "أصدقائه"], "rtl"),
    "hebrew": (["הילד", "הלך", "לבית", "הספר", "בבוקר", "עם", "חבריו"], "rtl"),
    "mixed": (["قال", "Python", "3.12", "أسرع", "من", "2023", "بنسبة", "25%"], "rtl"),
    "cjk": (["我们", "今天", "去", "北京", "大学", "学习", "中文", "日本語", "한국어"], "ltr"),
    "emoji": (["I", "❤️", "cats", "😀", "👍🏽", "naïve", "e\u0301"], "ltr"),
}


def _acts(n: int) -> np.ndarray:
    # Non-zero everywhere so that every token has a box; alternating signs.
    return np.array([(0.3 + 0.7 * (i % 3) / 2) * (-1) ** i for i in range(n)])


@needs_raster
@pytest.mark.parametrize("name", list(SCRIPTS))
def test_ink_of_every_word_inside_its_box(name):
    tokens, direction = SCRIPTS[name]
    dwg = visualize_activations(tokens, _acts(len(tokens)), text_direction=direction,
                                char_limit=30)
    assert_ink_inside_boxes(dwg)


@needs_raster
def test_proportional_font_boxes_follow_glyph_widths():
    # NeuroX fault 1: one monospace cell per character. "iiii" and "WWWW" have as many
    # characters but very different widths; the boxes must follow the glyphs.
    tokens = ["iiii", "WWWW", "iiii", "mmmm"]
    dwg = visualize_activations(tokens, [1.0, -1.0, 0.5, -0.5])
    bounds = assert_ink_inside_boxes(dwg)
    w = [b[2] - b[0] for b in bounds]
    assert w[1] > 2 * w[0]
    # Boxes are in reading order, left to right, without overlap.
    assert all(bounds[i][2] <= bounds[i + 1][0] + 1 for i in range(3))


@needs_raster
def test_first_token_longer_than_char_limit_does_not_shift_colours():
    # NeuroX fault 2: a first token longer than char_limit adds an empty line and every
    # colour moves one token to the right.
    tokens = ["Supercalifragilisticexpialidocious", "cat", "dog", "sat"]
    acts = [1.0, -1.0, 1.0, -1.0]
    dwg = visualize_activations(tokens, acts, char_limit=10, darken=1)
    lay = dwg.layouts[0]
    assert [b.line for b in lay.boxes] == [0, 1, 1, 2]  # own line, no empty line
    svg = dwg.tostring()
    img = rasterize(svg, 1.0)
    blue = np.array([0x00, 0xAA, 0xD4]) / 255
    red = np.array([0xD3, 0x5F, 0x5F]) / 255
    ox, oy = dwg.offsets[0]
    for box, a in zip(lay.boxes, acts, strict=True):
        # A pixel inside the box but above the glyphs (top padding): pure box colour.
        x = int(box.x + ox + box.width / 2)
        y = int(box.y + oy + 1.5)
        expected = blue if a > 0 else red
        assert np.abs(img[y, x] - expected).max() < 0.03, (box.text, img[y, x])
    assert_ink_inside_boxes(dwg)


def test_all_zero_activations_are_uncoloured_without_error():
    # NeuroX fault 3: max |a| = 0 divides by zero.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dwg = visualize_activations(["a", "b", "c"], [0.0, 0.0, 0.0], colorbar=True)
        svg = dwg.tostring()
    assert "nh-token" in svg
    assert "fill-opacity" not in svg.split("nh-colorbar")[0].split("neuroheat-figure")[1]
    assert svg.count("<rect") == 1 + 65  # background + colour bar only


@needs_raster
@pytest.mark.parametrize("script", ["arabic", "hebrew"])
def test_rtl_boxes_sit_under_their_words(script):
    # NeuroX fault 4: RTL only reversed word order with monospace boxes. Here the first word
    # is rightmost, and each box holds the glyphs of its own word: the ink of token i,
    # rasterized alone, lies in token i's box.
    tokens, _ = SCRIPTS[script]
    dwg = visualize_activations(tokens, _acts(len(tokens)), text_direction="rtl",
                                char_limit=200)
    bounds = assert_ink_inside_boxes(dwg)
    xs = [b[0] for b in bounds]
    assert xs == sorted(xs, reverse=True)  # logical order runs right to left
    # Right-aligned: the first token's box ends at the right margin.
    svg = dwg.tostring()
    x, _, w, _ = rect_of(svg, 0)
    assert x + w == pytest.approx(dwg.offsets[0][0] + dwg.layouts[0].width, abs=0.02)
    assert float(dwg["width"]) - 10 - 1 <= x + w <= float(dwg["width"]) - 10


def test_mixed_direction_order_follows_unicode_bidi():
    # RTL paragraph: Arabic words right to left, the Latin/number run left to right inside.
    tokens = ["قال", "hello", "world", "لي"]
    lay = layout_tokens(tokens, direction="rtl")
    order = [b.text for b in sorted(lay.boxes, key=lambda b: b.x)]
    assert order == ["لي", "hello", "world", "قال"]
    # LTR paragraph with a Hebrew phrase and a number after it.
    tokens = ["I", "said", "שלום", "עולם", "123", "to", "him"]
    lay = layout_tokens(tokens, direction="ltr")
    order = [b.text for b in sorted(lay.boxes, key=lambda b: b.x)]
    assert order == ["I", "said", "123", "עולם", "שלום", "to", "him"]


def test_token_wider_than_line_gets_its_own_line():
    lay = layout_tokens(["a", "b" * 40, "c", "d"], max_width=100, char_limit=None)
    assert [b.line for b in lay.boxes] == [0, 1, 2, 2]
    assert lay.boxes[1].width > 100
    assert all(b.contains_ink() for b in lay.boxes)


@needs_raster
def test_renders_identically_without_any_font_installed(tmp_path):
    tokens = SCRIPTS["mixed"][0] + ["中文", "😀"]
    dwg = visualize_activations(tokens, _acts(len(tokens)), text_direction="rtl",
                                colorbar=True, title="Mixed 中文 عربي")
    svg = dwg.tostring()
    normal = rasterize(svg)
    bare = rasterize(svg, env=empty_fontconfig(tmp_path))
    assert normal.shape == bare.shape
    assert np.abs(normal - bare).max() == 0.0
    assert (normal.min(axis=2) < 0.2).sum() > 500  # there is text in it


@needs_raster
def test_cjk_and_emoji_fall_back_to_fonts_that_have_them():
    lay = layout_tokens(["中文", "😀", "abc"])
    names = [{g.face.name for g in b.glyphs} for b in lay.boxes]
    assert names[0] == {"Noto Sans CJK SC"}
    assert names[1] == {"Noto Emoji"}
    assert names[2] == {"Noto Sans"}
    # No .notdef (tofu) glyphs were used.
    assert all(g.gid != 0 for b in lay.boxes for g in b.glyphs)


@needs_raster
def test_isolated_ink_matches_full_render():
    # The isolation used by the alignment checks does not move anything.
    dwg = visualize_activations(["ab", "cd"], [1.0, -1.0], background=None)
    svg = dwg.tostring()
    one = rasterize(isolate(svg, 0, "ink")).min(axis=2) < 0.5
    full = rasterize(svg).min(axis=2) < 0.3
    b1, bf = bbox(one), bbox(full)
    assert b1 is not None and bf is not None and b1[0] >= bf[0] - 1
