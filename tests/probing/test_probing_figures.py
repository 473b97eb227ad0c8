"""Probing figures: accuracy per layer, one neuron's distribution per class (strip / box)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from neuroheat import open_store, probing
from neuroheat.errors import InputError
from neuroheat.probing import Labels
from neuroheat.probing.figures import box_stats, class_distribution_figure, layerwise_figure
from neuroheat.store import write_store
from tests.helpers.raster import NS, needs_raster, rasterize
from tests.helpers.stores import planted_signal_corpus

CLASSES = ["<b>&", "NOUN", "VERB"]
TABLE = {0: {"train": 0.61, "test": 0.58}, 1: {"train": 0.83, "test": 0.77},
         2: {"train": 0.95, "test": 0.81}}


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """About 500 words, 2 layers x 4 neurons; neuron (1, 2) is shifted by 2 * class; every
    7th word is unlabelled (id -1)."""
    sents, acts, labs, _ = planted_signal_corpus(3, 90, width=4, signal=[(1, 2)], shift=2.0,
                                                 n_classes=3, lengths=(3, 9))
    path = write_store(tmp_path_factory.mktemp("figs") / "acts.h5", sents, acts)
    ids = np.concatenate(labs).astype(np.int64)
    ids[::7] = -1
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in sents])]).astype(np.int64)
    labels = Labels(ids=ids, classes=list(CLASSES), offsets=offsets)
    values = np.concatenate(acts)[:, 1, 2].astype(np.float64)
    with open_store(path) as store:
        yield store, labels, values, ids


def _root(fig):
    return ET.fromstring(fig.tostring())


def test_layerwise_figure_one_series_per_split():
    fig = layerwise_figure(TABLE)
    root = _root(fig)
    series = root.findall(".//s:g[@class='nh-series']", NS)
    assert [g.get("data-split") for g in series] == ["train", "test"]
    for g in series:
        assert len(g.findall("s:circle", NS)) == 3
        assert len(g.findall("s:polyline", NS)) == 1
    texts = [t.text for t in root.iter(f"{{{NS['s']}}}text")]
    assert {"layer", "accuracy", "train", "test", "0", "1", "2"} <= set(texts)
    assert fig._repr_svg_() == fig.tostring()


def test_layerwise_figure_orders_layers_and_skips_missing():
    table = {"10": {"train": 0.9, "test": None}, "2": {"train": 0.5, "test": 0.4}}
    root = _root(layerwise_figure(table))
    train, test = root.findall(".//s:g[@class='nh-series']", NS)
    xs = [float(c.get("cx")) for c in train.findall("s:circle", NS)]
    ys = [float(c.get("cy")) for c in train.findall("s:circle", NS)]
    assert xs[0] < xs[1] and ys[0] > ys[1]  # layer 2 (0.5) left of and below layer 10 (0.9)
    assert len(test.findall("s:circle", NS)) == 1
    with pytest.raises(InputError):
        layerwise_figure({})


@pytest.mark.parametrize("kind", ["strip", "box"])
def test_distribution_one_group_per_class_and_escaped(planted, kind):
    store, labels, _, ids = planted
    fig = class_distribution_figure(store, labels, 1, 2, kind=kind)
    svg = fig.tostring()
    assert "<b>&" not in svg and "&lt;b&gt;&amp;" in svg
    root = ET.fromstring(svg)
    groups = root.findall(".//s:g[@class='nh-class']", NS)
    assert [g.find("s:title", NS).text for g in groups] == CLASSES
    assert [int(g.get("data-n")) for g in groups] == [int((ids == k).sum()) for k in range(3)]
    ticks = [t.text for t in root.findall(".//s:text[@class='nh-class-label']", NS)]
    assert ticks == CLASSES
    if kind == "box":
        assert all(len(g.findall("s:rect", NS)) == 1 for g in groups)


def test_strip_subsampled_and_seeded(planted):
    store, labels, _, _ = planted
    a = class_distribution_figure(store, labels, 1, 2, max_points_per_class=20, seed=5)
    b = class_distribution_figure(store, labels, 1, 2, max_points_per_class=20, seed=5)
    c = class_distribution_figure(store, labels, 1, 2, max_points_per_class=20, seed=6)
    assert a.tostring() == b.tostring()
    assert a.tostring() != c.tostring()
    for g in _root(a).findall(".//s:g[@class='nh-class']", NS):
        assert len(g.findall("s:circle", NS)) == 20


def test_strip_points_follow_the_values(planted):
    store, labels, values, ids = planted
    root = _root(class_distribution_figure(store, labels, 1, 2, max_points_per_class=10**6))
    groups = root.findall(".//s:g[@class='nh-class']", NS)
    mean_y = [np.mean([float(c.get("cy")) for c in g.findall("s:circle", NS)]) for g in groups]
    assert mean_y[0] > mean_y[1] > mean_y[2]  # larger activations are higher up (smaller y)
    assert sum(len(g.findall("s:circle", NS)) for g in groups) == int((ids >= 0).sum())


def test_box_statistics_equal_numpy(planted):
    store, labels, values, ids = planted
    fig = class_distribution_figure(store, labels, 1, 2, kind="box")
    for k, name in enumerate(CLASSES):
        v = values[ids == k]
        q1, med, q3 = np.percentile(v, [25, 50, 75])
        st = fig.stats[name]
        assert st["n"] == len(v)
        assert st["q1"] == pytest.approx(q1) and st["median"] == pytest.approx(med)
        assert st["q3"] == pytest.approx(q3)
        inside = v[(v >= q1 - 1.5 * (q3 - q1)) & (v <= q3 + 1.5 * (q3 - q1))]
        assert st["low"] == pytest.approx(inside.min())
        assert st["high"] == pytest.approx(inside.max())
    # the box and the median line are drawn where the statistics say, in order
    groups = _root(fig).findall(".//s:g[@class='nh-class']", NS)
    for g in groups:
        r = g.find("s:rect", NS)
        m = g.find("s:line[@class='nh-median']", NS)
        y0, h = float(r.get("y")), float(r.get("height"))
        assert y0 <= float(m.get("y1")) <= y0 + h


def test_box_stats_direct():
    v = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    st = box_stats(v)
    assert (st["q1"], st["median"], st["q3"]) == tuple(np.percentile(v, [25, 50, 75]))
    assert st["low"] == 1.0 and st["high"] == 4.0  # 100 is an outlier
    assert box_stats([])["n"] == 0


def test_bad_arguments(planted):
    store, labels, _, _ = planted
    with pytest.raises(InputError, match="kind"):
        class_distribution_figure(store, labels, 1, 2, kind="violin")
    short = Labels(ids=labels.ids[:10], classes=labels.classes, offsets=np.array([0, 10]))
    with pytest.raises(InputError, match="10 words"):
        class_distribution_figure(store, short, 1, 2)


def test_lazy_exports():
    assert probing.layerwise_figure is layerwise_figure
    assert probing.class_distribution_figure is class_distribution_figure


@needs_raster
def test_render_png(planted, tmp_path):
    store, labels, _, _ = planted
    for name, fig in [("layers", layerwise_figure(TABLE)),
                      ("strip", class_distribution_figure(store, labels, 1, 2)),
                      ("box", class_distribution_figure(store, labels, 1, 2, kind="box"))]:
        img = rasterize(fig.tostring())
        assert img.shape[:2] == (int(fig.attribs["height"]), int(fig.attribs["width"]))
        assert (img.min(axis=2) < 0.5).sum() > 200  # something is drawn
        out = fig.save(tmp_path / f"{name}.png")
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = layerwise_figure(TABLE).save(tmp_path / "layers.svg")
    ET.parse(svg)
