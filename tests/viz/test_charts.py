"""viz.charts: probing charts from plain numbers (lines over layers, ablation lines, class
columns), with data text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

from neuroheat.probing.ablations import ablation_figure
from neuroheat.viz.charts import ablation_chart, class_columns_chart, layer_lines_chart, nice_ticks
from tests.helpers.raster import NS


def _circles(el: ET.Element) -> list[tuple[float, float]]:
    return [(float(c.get("cx")), float(c.get("cy"))) for c in el.iter(f"{{{NS['s']}}}circle")]


def test_layer_lines_leave_out_missing_values_and_escape_names():
    fig = layer_lines_chart([0, 2, 5], {"train": [0.5, 1.0, None], "<b>": [0.0, None, 1.0]})
    root = ET.fromstring(fig.tostring())
    groups = root.findall(".//s:g[@class='nh-series']", NS)
    assert [g.get("data-split") for g in groups] == ["train", "<b>"]
    train, other = (_circles(g) for g in groups)
    assert len(train) == 2 and len(other) == 2
    assert train[1][1] < train[0][1]  # 1.0 is drawn above 0.5
    assert other[0][1] == max(y for _, y in train + other)  # 0.0 on the x axis


def test_ablation_chart_is_what_ablation_figure_draws():
    table = {"top": {"0.5": 0.8, "1.0": 0.9}, "random": {"0.5": 0.4, "1.0": 0.9},
             "bottom": {"0.5": 0.1, "1.0": None}}
    series = {name: list(table[name].values()) for name in ("top", "random", "bottom")}
    drawn = ablation_chart(["0.5", "1.0"], series, {"0.5": 3}, title="t").tostring()
    assert drawn == ablation_figure(table, {"0.5": 3}, title="t").tostring()
    assert len(_circles(ET.fromstring(drawn))) == 5


def test_class_columns_box_draws_the_stats_given():
    values = [np.array([0.0, 1.0, 2.0, 3.0, 10.0]), np.array([5.0])]
    stats = [{"n": 5, "q1": 1.0, "median": 2.0, "q3": 3.0, "low": 0.0, "high": 3.0},
             {"n": 1, "q1": 5.0, "median": 5.0, "q3": 5.0, "low": 5.0, "high": 5.0}]
    fig = class_columns_chart(["A", "B & C"], values, stats, value_range=(0.0, 10.0),
                              kind="box", title="n")
    root = ET.fromstring(fig.tostring())
    cols = root.findall(".//s:g[@class='nh-class']", NS)
    assert [c.get("data-n") for c in cols] == ["5", "1"]
    assert len(_circles(cols[0])) == 1  # 10.0 lies outside the whiskers
    assert len(root.findall(".//s:rect[@class='nh-box']", NS)) == 2
    strip = class_columns_chart(["A", "B"], values, stats, value_range=(0.0, 10.0),
                                max_points_per_class=2, seed=1)
    assert [len(_circles(c)) for c in ET.fromstring(strip.tostring()).findall(
        ".//s:g[@class='nh-class']", NS)] == [2, 1]
    assert nice_ticks(0.0, 10.0) == [0.0, 2.5, 5.0, 7.5, 10.0]
