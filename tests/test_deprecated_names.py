"""One name per concept: the older spellings README documented still work, and warn with the new one."""

from __future__ import annotations

import numpy as np
import pytest

import neuroheat as nh
from neuroheat.compat import TextualHeatmap
from neuroheat.viz.drawing import SVGFigure


def test_store_hidden_size_is_width(tmp_path):
    path = nh.write_store(tmp_path / "s.h5", [["a", "b"]], [np.ones((2, 1, 3), np.float32)])
    with nh.open_store(path) as store:
        assert store.width == 3
        with pytest.warns(DeprecationWarning, match=r"store\.width"):
            assert store.hidden_size == 3


def test_analysis_top_neurons_is_word_neurons():
    with pytest.warns(DeprecationWarning, match="word_neurons"):
        old = nh.analysis.top_neurons
    assert old is nh.analysis.word_neurons
    with pytest.warns(DeprecationWarning):
        from neuroheat.analysis import top_neurons  # noqa: F401


def test_viz_textual_heatmap_moved_to_compat():
    with pytest.warns(DeprecationWarning, match="neuroheat.compat.TextualHeatmap"):
        assert nh.viz.TextualHeatmap is TextualHeatmap


def test_figure_save_as_is_save(tmp_path):
    fig = SVGFigure(size=(10, 10))
    assert fig.save(tmp_path / "a.svg").read_bytes().startswith(b"<")
    with pytest.warns(DeprecationWarning, match=r"figure\.save\(path\)"):
        fig.save_as(tmp_path / "b.svg")
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()
    svgwrite_style = SVGFigure(str(tmp_path / "c.svg"), size=(10, 10))
    assert svgwrite_style.save() is None and (tmp_path / "c.svg").exists()  # svgwrite's save()


def test_progress_is_quiet():
    from neuroheat.analysis.options import RunOptions
    from neuroheat.attribution.config import SaliencyConfig

    for cls in (RunOptions, SaliencyConfig):
        with pytest.warns(DeprecationWarning, match="quiet="):
            assert cls.build(None, progress=False).quiet is True
        with pytest.warns(DeprecationWarning):
            assert cls.build(None, progress=None).quiet is False
        assert cls.build(None, quiet=True).quiet is True
