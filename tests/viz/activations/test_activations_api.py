"""visualize_activations: NeuroX semantics, options, input errors, escaping, Jupyter."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from neuroheat.errors import InputError
from neuroheat.viz import ColorScale, visualize_activations, visualize_sentences
from tests.helpers.raster import NS


def _rects(dwg):
    root = ET.fromstring(dwg.tostring())
    out = {}
    for tok in root.findall(".//s:g[@class='nh-token']", NS):
        r = tok.find("s:rect", NS)
        out[int(tok.get("data-index"))] = (
            None if r is None else (r.get("fill"), float(r.get("fill-opacity", 1)))
        )
    return out


def test_neurox_colours_and_opacity():
    dwg = visualize_activations(["a", "b", "c", "d"], [2.0, -1.0, 0.0, -2.0], darken=1)
    rects = _rects(dwg)
    assert rects[0] == ("#00aad4", 1.0)  # positive: blue, |a|/max|a| = 1
    assert rects[1] == ("#d35f5f", 0.5)  # negative: red, 1/2
    assert rects[2] is None  # zero: no colour
    assert rects[3] == ("#d35f5f", 1.0)


def test_darken_stacks_like_neurox_layers():
    # NeuroX draws `darken` rectangles of opacity o on top of each other: 1 - (1 - o)^darken.
    rects = _rects(visualize_activations(["a", "b"], [1.0, 0.25], darken=3))
    assert rects[1][1] == pytest.approx(1 - 0.75**3, abs=1e-4)
    assert _rects(visualize_activations(["a"], [1.0], darken=0))[0] is None


def test_filter_top_tokens_and_callable():
    rects = _rects(visualize_activations(["a", "b", "c"], [1.0, 0.85, 0.5],
                                         filter_fn="top_tokens"))
    assert rects[0] is not None and rects[1] is not None and rects[2] is None
    rects = _rects(visualize_activations(["a", "b"], [1.0, -1.0],
                                         filter_fn=lambda a: np.maximum(a, 0)))
    assert rects[1] is None
    with pytest.raises(InputError, match="returned 1 values for 2 activations"):
        visualize_activations(["a", "b"], [1.0, 2.0], filter_fn=lambda a: a[:1])
    with pytest.raises(InputError, match="top_tokens"):
        visualize_activations(["a"], [1.0], filter_fn="bottom_tokens")


def test_input_errors_are_clear():
    with pytest.raises(InputError, match="3 tokens but 2 activations"):
        visualize_activations(["a", "b", "c"], [1.0, 2.0])
    with pytest.raises(InputError, match="NaN or infinite values at positions \\[1\\]"):
        visualize_activations(["a", "b"], [1.0, float("nan")])
    with pytest.raises(InputError, match="NaN or infinite"):
        visualize_activations(["a", "b"], [float("inf"), 1.0])
    with pytest.raises(InputError, match="not one string"):
        visualize_activations("a b", [1.0, 2.0])
    with pytest.raises(InputError, match="1-D"):
        visualize_activations(["a"], [[1.0, 2.0]])
    with pytest.raises(InputError, match="text_direction"):
        visualize_activations(["a"], [1.0], text_direction="up")
    with pytest.raises(InputError, match="unknown option.*valid options"):
        visualize_activations(["a"], [1.0], colourbar=True)
    with pytest.raises(InputError, match="vmin"):
        visualize_activations(["a"], [1.0], vmin=2, vmax=1)
    with pytest.raises(InputError, match="colour map"):
        visualize_activations(["a"], [1.0], cmap="nope")
    with pytest.raises(InputError, match="token 1 is a int"):
        visualize_activations(["a", 3], [1.0, 2.0])


def test_empty_input_is_a_valid_empty_figure():
    dwg = visualize_activations([], [])
    root = ET.fromstring(dwg.tostring())
    assert float(root.get("width")) > 0 and float(root.get("height")) > 0
    assert root.findall(".//s:g[@class='nh-token']", NS) == []
    visualize_activations([], [], filter_fn="top_tokens", colorbar=True, title="empty")


def test_escaping_token_text():
    tokens = ["<script>alert(1)</script>", "&", '"quoted"', "'single'", "]]>", "&amp;"]
    for mode in ("paths", "embed"):
        dwg = visualize_activations(tokens, [1, -1, 1, -1, 1, -1], text_mode=mode)
        svg = dwg.tostring()
        root = ET.fromstring(svg)  # well-formed XML
        assert "<script" not in svg
        assert not root.findall(".//s:script", NS)
        titles = [t.text for t in root.findall(".//s:g[@class='nh-token']/s:title", NS)]
        assert titles[0].startswith("<script>alert(1)</script> (")
        assert titles[1].startswith("& (") and titles[5].startswith("&amp; (")
        if mode == "embed":
            texts = [t.text for t in root.findall(".//s:text", NS)]
            assert texts == tokens


def test_vmin_vmax_share_one_scale_across_figures():
    a = _rects(visualize_activations(["x"], [1.0], vmin=-4, vmax=4, darken=1))
    b = _rects(visualize_activations(["x"], [1.0], darken=1))
    assert a[0][1] == pytest.approx(0.25) and b[0][1] == 1.0


def test_sequential_and_diverging_colour_maps():
    seq = ColorScale([0.0, 10.0], cmap="viridis")
    assert seq(0.0) == ("#440154", 1.0) and seq(10.0) == ("#fde725", 1.0)
    div = ColorScale([-1.0, 3.0], cmap="RdBu")
    assert div(0.0)[0] == "#f7f7f7"  # centred on zero
    assert div(-3.0)[0] == "#67001f" and div(3.0)[0] == "#053061"
    custom = ColorScale([0, 1], cmap=["#000000", "#ffffff"])
    assert custom(0.5)[0] == "#808080"
    dwg = visualize_activations(["a", "b"], [0.0, 1.0], cmap="viridis", colorbar=True)
    assert _rects(dwg)[0] == ("#440154", 1.0)


def test_auto_text_colour_on_dark_boxes():
    dwg = visualize_activations(["dark", "light"], [1.0, 0.0], cmap="viridis", vmin=0, vmax=1)
    svg = dwg.tostring()
    groups = re.findall(r'data-index="(\d)".*?<g fill="(#[0-9a-f]+)"', svg)
    assert dict(groups) == {"0": "#000000", "1": "#ffffff"}


def test_title_colorbar_and_width_wrapping():
    toks = "one two three four five six seven eight nine ten".split()
    dwg = visualize_activations(toks, np.linspace(-1, 1, 10), char_limit=None, width=120,
                                title="layer 2 / neuron 7", colorbar=True)
    lay = dwg.layouts[0]
    assert lay.lines > 2 and all(b.right <= 120 + 1e-6 for b in lay.boxes)
    svg = dwg.tostring()
    assert "nh-title" in svg and "nh-colorbar" in svg
    assert "<title>layer 2 / neuron 7</title>" in svg


def test_several_sentences_share_a_scale():
    dwg = visualize_sentences([["a", "b"], ["c"]], [[1.0, 2.0], [-4.0]], labels=["s1", "s2"],
                              darken=1)
    assert dwg.scale.limit == 4.0
    assert len(dwg.layouts) == 2 and dwg.offsets[1][1] > dwg.offsets[0][1]
    with pytest.raises(InputError, match="2 sentences but 1"):
        visualize_sentences([["a"], ["b"]], [[1.0]])


def test_jupyter_repr_and_torch_free_import():
    import subprocess
    import sys

    dwg = visualize_activations(["a"], [1.0])
    assert dwg._repr_svg_().startswith("<svg")
    code = "import sys, neuroheat.viz; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_accepts_numpy_and_tensor_like():
    class FakeTensor:  # duck-typed like a torch tensor with grad
        def detach(self):
            return self

        def cpu(self):
            return self

        def numpy(self):
            return np.array([1.0, -1.0], dtype=np.float32)

    dwg = visualize_activations(["a", "b"], FakeTensor())
    assert _rects(dwg)[1][0] == "#d35f5f"


@pytest.mark.parametrize("mode", ["paths", "embed"])
def test_control_and_invisible_characters_make_valid_svg(mode):
    tokens = ["a\nb", "\t", " ", "", "\u200b", "\x00", "\ufeff", "\U0010ffff", "\ud800",
              "\uffff", "👨\u200d👩\u200d👧"]
    dwg = visualize_activations(tokens, np.arange(1, len(tokens) + 1), text_mode=mode,
                                title="t\x01")
    root = ET.fromstring(dwg.tostring())  # XML cannot hold C0 controls or surrogates
    titles = [t.text for t in root.findall(".//s:g[@class='nh-token']/s:title", NS)]
    assert titles[5].startswith("\u2400")  # NUL shown as its control picture
    # Every token keeps a box of its own, in order, even when it has no visible glyph.
    boxes = dwg.layouts[0].boxes
    assert [b.index for b in boxes] == list(range(len(tokens)))
    assert all(b.width > 0 for b in boxes)


def test_custom_font_goes_first_and_missing_fonts_say_how_to_install(monkeypatch):
    from neuroheat.viz import layout_tokens
    from neuroheat.viz.text import fonts as fonts_mod

    default = fonts_mod.default_font_stack()
    arabic = next(f.path for f in default.faces if f.name == "Noto Sans Arabic")
    lay = layout_tokens(["123", "abc"], fonts=[arabic])
    assert {g.face.name for g in lay.boxes[0].glyphs} == {"Noto Sans Arabic"}
    assert {g.face.name for g in lay.boxes[1].glyphs} == {"Noto Sans"}  # fallback
    with pytest.raises(InputError, match="does not exist"):
        layout_tokens(["a"], fonts=["/nonexistent/font.ttf"])
    monkeypatch.setattr(fonts_mod, "_package_dir", lambda name: None)
    monkeypatch.delenv("NEUROHEAT_FONT", raising=False)
    with pytest.raises(InputError, match="pip install manimgx-fonts noto-cjk-sans-otc"):
        fonts_mod.default_font_files()
