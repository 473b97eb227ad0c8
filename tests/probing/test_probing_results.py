"""Result objects of ablation, layer-wise, control-task and probe runs: dict-like reading,
save / load through probing/files.py, to_pandas, show."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neuroheat import open_store
from neuroheat.errors import InputError
from neuroheat.probing import (
    AblationResult,
    ControlResult,
    LayerwiseResult,
    Probe,
    ProbeConfig,
    ProbeResult,
    Split,
    ablation,
    control_task,
    layerwise,
    neuron_ordering,
    probeless,
)
from tests.helpers.stores import class_labels, write_planted_store

WIDTH = 6
PLANTED = (1, 2)
FAST = ProbeConfig(l2=1e-4, max_iter=20, seed=0)  # fixed penalty: no selection, quick


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    path, labs, _ = write_planted_store(tmp_path_factory.mktemp("res") / "acts.h5", 0, 120,
                                        width=WIDTH, signal=[PLANTED], lengths=(4, 11))
    with open_store(path) as store:
        yield store, class_labels(labs)


def test_ablation_result(planted, tmp_path):
    store, labels = planted
    ranking = probeless(store, labels, [0, 1])
    result = ablation(store, labels, ranking, layers=[0, 1], fractions=(0.1, 0.5, 1.0),
                      config=FAST, split=Split(test_fraction=0.25))
    assert isinstance(result, AblationResult) and set(result) == {"top", "random", "bottom"}
    assert result["top"]["0.1"] > 0.85 > result["bottom"]["0.5"]
    assert result.sizes == {"0.1": 1, "0.5": 6, "1": 12} and result.ranking is ranking
    doc = result.to_dict()  # RANK.json of `neuroheat rank`
    assert doc["ranking"][0] == list(PLANTED) and doc["method"] == "probeless"
    assert doc["split"] == {"test_sentences": None, "test_fraction": 0.25, "seed": 0,
                            "dev_fraction": 0.2}
    path = result.save(tmp_path / "ablation.json")
    assert json.loads(path.read_text())["format"] == "neuroheat-ablation"
    back = AblationResult.load(path)
    assert back == result and back.sizes == result.sizes
    np.testing.assert_array_equal(back.ranking.order, ranking.order)
    frame = result.to_pandas()
    assert len(frame) == 9 and set(frame.columns) == {"selection", "fraction", "neurons",
                                                      "value"}
    row = frame[(frame.selection == "top") & (frame.fraction == 0.1)].iloc[0]
    assert row.value == result["top"]["0.1"] and row.neurons == 1
    svg = result.show().tostring()
    assert svg.count("<polyline") == 3 and "probeless" in svg
    # the old keyword spellings give the same table
    old = ablation(store, labels, ranking, layers=[0, 1], fractions=(0.1, 0.5, 1.0),
                   test_fraction=0.25, seed=0, l2=1e-4, max_iter=20)
    assert old == result


def test_layerwise_result(planted, tmp_path):
    store, labels = planted
    result = layerwise(store, labels, config=FAST, split=Split(test_sentences=(0, 30)))
    assert isinstance(result, LayerwiseResult) and list(result) == [0, 1]
    assert result.best() == 1 and result[1]["test"] > 0.85 > result[0]["test"]
    back = LayerwiseResult.load(result.save(tmp_path / "layers.json"))
    assert back == result and back.split == result.split
    assert back.split["test_sentences"] == [0, 30]
    assert result.to_pandas().set_index("layer").loc[1, "test"] == result[1]["test"]
    assert result.show().tostring().count("<polyline") == 2
    selected = layerwise(store, labels, [1], split=Split(test_fraction=0.25))
    assert set(selected.selected[1]) == {"l2", "iterations"}


def test_control_result(planted, tmp_path):
    store, labels = planted
    result = control_task(store, labels, layers=[1], config=FAST,
                          split=Split(test_fraction=0.25))
    assert isinstance(result, ControlResult)
    assert result["selectivity"] == result.selectivity > 0.2
    assert set(result["accuracy"]) == {"train", "test"}
    back = ControlResult.load(result.save(tmp_path / "control.json"))
    assert back == result
    assert len(result.to_pandas()) == 4
    assert "selectivity" in result.show()


def test_probe_result_is_a_probe_file(planted, tmp_path):
    store, labels = planted
    split = Split(test_fraction=0.25)
    probe = Probe(seed=0).fit(store, labels, split=split)
    result = ProbeResult(probe, split=split.to_json(0))
    doc = result.to_dict()
    assert doc["ranking"] == [int(c) for c in neuron_ordering(probe)]
    assert doc["selected"]["l2"] == probe.selected["l2"]
    path = result.save(tmp_path / "probe.json")
    loaded = Probe.load(path)  # RESULT.json is a probe file
    np.testing.assert_array_equal(loaded.weights, probe.weights)
    back = ProbeResult.load(path)
    written = json.loads(path.read_text())
    assert written.pop("format") == "neuroheat-probe"
    assert back.to_dict() == written == json.loads(json.dumps(doc))
    assert back["ranking"] == doc["ranking"] and back.split == doc["split"]
    assert set(result.to_pandas()["class"]) == set(probe.classes)
    assert "selected" in result.show()


def test_load_checks_the_kind(planted, tmp_path):
    path = LayerwiseResult({0: {"train": 1.0, "test": 1.0}}).save(tmp_path / "l.json")
    with pytest.raises(InputError, match="AblationResult"):
        AblationResult.load(path)
