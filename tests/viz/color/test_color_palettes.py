"""The saliency palettes: textualheatmap's viridis slice, and the diverging palette."""

from __future__ import annotations

import numpy as np
import pytest

from neuroheat.viz.color import saliency_palette as P

# textualheatmap's own table (its web asset), first, middle and last entries.
TEXTUALHEATMAP_SAMPLES = {
    0: "#365d8d",
    11: "#31688e",
    39: "#26828e",
    56: "#20928c",
    68: "#1f9e89",
    96: "#35b779",
}


def test_palette_matches_textualheatmap():
    assert len(P.PALETTE) == 97
    for k, color in TEXTUALHEATMAP_SAMPLES.items():
        assert P.PALETTE[k] == color
    # floor(h * 96), clamped, as textualheatmap indexes its table
    assert P.heat_color(0.0) == "#365d8d" and P.heat_color(1.0) == "#35b779"
    assert P.heat_index(0.0104) == 0 and P.heat_index(0.0105) == 1 and P.heat_index(2) == 96
    assert P.heat_index(-1) == 0 and P.heat_index(float("nan")) == 0
    assert P.colors_of(np.array([0.0, 0.5, 1.0])) == [P.PALETTE[0], P.PALETTE[48], P.PALETTE[96]]


def test_palette_is_viridis_slice():
    mpl = pytest.importorskip("matplotlib")
    cmap = mpl.colormaps["viridis"]
    lut = ["#" + "".join(f"{round(255 * c):02x}" for c in cmap(i)[:3]) for i in range(256)]
    expected = [lut[int(np.floor(256 * (0.29 + k * (2 / 3 - 0.29) / 96)))] for k in range(97)]
    assert list(P.PALETTE) == expected


def test_diverging_palette():
    assert P.diverging_color(1.0) == "#b35806" and P.diverging_color(-1.0) == "#542788"
    assert P.diverging_color(0.0) == "#f7f7f7"
    assert P.diverging_index(0.5) == 48 and P.diverging_index(-0.5) == 16
