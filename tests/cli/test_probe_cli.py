"""``neuroheat probe`` and ``neuroheat rank``: the JSON contract, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neuroheat.cli import main
from neuroheat.probing.methods import available
from tests.helpers.stores import write_planted_store

WIDTH = 6
PLANTED = (1, 2)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    store, labs, _ = write_planted_store(root / "acts.h5", 0, 120, width=WIDTH,
                                         signal=[PLANTED], lengths=(4, 11), vocab=300)
    labels = root / "labels.txt"
    labels.write_text("".join(" ".join("AB"[k] for k in s) + "\n" for s in labs))
    bad = root / "bad.txt"
    bad.write_text("".join(" ".join("AB"[k] for k in s) + "\n" for s in labs[:-1]) + "A\n")
    return root, str(store), str(labels), str(bad)


def _error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("neuroheat: error: ") and err.count("\n") == 1, err
    return err


def test_probe_contract(files, capsys):
    root, store, labels, _ = files
    out = root / "probe.json"
    argv = ["probe", store, labels, "-o", str(out), "--layers", "0,1", "--test-sentences",
            "0:30", "--control-task", "--seed", "1"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and "selectivity" in lines[0] and str(out) in lines[0]
    doc = json.loads(out.read_text())
    for key in ("classes", "neurons", "weights", "bias", "accuracy", "per_class", "ranking",
                "control"):
        assert key in doc, key
    assert doc["classes"] == ["A", "B"]
    assert doc["neurons"][:2] == [[0, 0], [0, 1]] and len(doc["neurons"]) == 2 * WIDTH
    assert np.asarray(doc["weights"]).shape == (2, 2 * WIDTH) and len(doc["bias"]) == 2
    assert set(doc["accuracy"]) == {"train", "test"} and doc["accuracy"]["test"] > 0.85
    assert sorted(doc["ranking"]) == list(range(2 * WIDTH))
    assert doc["neurons"][doc["ranking"][0]] == list(PLANTED)
    assert set(doc["control"]) == {"accuracy", "selectivity"}
    assert set(doc["control"]["accuracy"]) == {"train", "test"}
    assert doc["control"]["selectivity"] > 0.2
    # seeded: the same run writes the same file
    first = out.read_text()
    assert main(argv + ["--overwrite"]) == 0
    assert out.read_text() == first


def test_probe_options(files, capsys):
    root, store, labels, _ = files
    out = root / "neurox.json"
    assert main(["probe", store, labels, "-o", str(out), "--layers", "1", "--test-fraction",
                 "0.25", "--recipe", "neurox", "--epochs", "3", "--l1", "0", "--l2", "0.001",
                 "--balance"]) == 0
    doc = json.loads(out.read_text())
    assert doc["settings"]["recipe"] == "neurox" and doc["settings"]["epochs"] == 3
    assert len(doc["neurons"]) == WIDTH and "control" not in doc


def test_probe_errors(files, capsys):
    root, store, labels, bad = files
    out = root / "err.json"
    err = _error(capsys, ["probe", store, bad, "-o", str(out)])
    assert "line" in err
    assert "START:STOP" in _error(capsys, ["probe", store, labels, "-o", str(out),
                                           "--test-sentences", "5"])
    _error(capsys, ["probe", store, labels, "-o", str(out), "--layers", "7"])
    _error(capsys, ["probe", store, labels, "-o", str(out), "--test-fraction", "1.5"])
    assert "classification" in _error(capsys, ["probe", store, labels, "-o", str(out),
                                               "--task", "regression", "--control-task"])
    out.write_text("{}")
    assert "--overwrite" in _error(capsys, ["probe", store, labels, "-o", str(out)])
    assert not out.read_text().strip("{}")


@pytest.mark.parametrize("method", ["weights", "probeless"])
def test_rank_contract(files, capsys, method):
    root, store, labels, _ = files
    out = root / f"rank-{method}.json"
    assert main(["rank", store, labels, "-o", str(out), "--method", method, "--layers", "0,1",
                 "--test-sentences", "0:30", "--fractions", "0.1,0.5,1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    doc = json.loads(out.read_text())
    assert doc["ranking"][0] == list(PLANTED) and len(doc["ranking"]) == 2 * WIDTH
    assert set(doc["ablation"]) == {"top", "random", "bottom"}
    assert set(doc["ablation"]["top"]) == {"0.1", "0.5", "1"}
    assert doc["ablation"]["top"]["0.1"] > 0.85 > doc["ablation"]["bottom"]["0.5"]
    assert doc["sizes"] == {"0.1": 1, "0.5": 6, "1": 12}


def test_rank_errors(files, capsys):
    root, store, labels, _ = files
    out = root / "rank-err.json"
    assert "(0, 1]" in _error(capsys, ["rank", store, labels, "-o", str(out), "--method",
                                       "probeless", "--fractions", "0.1,2"])
    assert "--fractions" in _error(capsys, ["rank", store, labels, "-o", str(out),
                                            "--method", "probeless", "--fractions", "a"])
    for name in ("gaussian", "iou"):
        if not available(name):
            err = _error(capsys, ["rank", store, labels, "-o", str(out), "--method", name])
            assert f"neuroheat.probing.{name}" in err
    assert not out.exists()


def test_rank_missing_method_module(files, capsys, monkeypatch):
    import neuroheat.probing.methods as methods

    root, store, labels, _ = files
    monkeypatch.setitem(methods.METHODS, "iou", ("neuroheat.probing.not_there", "iou"))
    out = root / "rank-missing.json"
    err = _error(capsys, ["rank", store, labels, "-o", str(out), "--method", "iou"])
    assert "neuroheat.probing.not_there" in err and not out.exists()


def test_rank_figure(files, capsys):
    root, store, labels, _ = files
    out, fig = root / "rank-fig.json", root / "ablation.svg"
    assert main(["rank", store, labels, "-o", str(out), "--method", "probeless", "--layers",
                 "1", "--fractions", "0.2,0.5,1", "--figure", str(fig)]) == 0
    svg = fig.read_text()
    assert svg.startswith("<?xml") or "<svg" in svg[:200]
    assert svg.count("<polyline") == 3 and "bottom" in svg
    err = _error(capsys, ["rank", store, labels, "-o", str(root / "x.json"), "--method",
                          "probeless", "--figure", str(root / "fig.gif")])
    assert ".svg" in err


def test_probe_selection_and_options_from_the_configs(files, capsys):
    import dataclasses

    from neuroheat.probing.config import ProbeConfig, Split

    root, store, labels, _ = files
    out = root / "selected.json"
    assert main(["probe", store, labels, "-o", str(out), "--layers", "1", "--test-fraction",
                 "0.25", "--dev-fraction", "0.3"]) == 0
    assert "selected" in capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert set(doc["selected"]) >= {"l2", "iterations"} and doc["selected"]["dev_fraction"] == 0.3
    assert doc["settings"]["l2"] == doc["selected"]["l2"]
    assert doc["split"] == {"test_sentences": None, "test_fraction": 0.25, "seed": 0,
                            "dev_fraction": 0.3}
    fixed = root / "fixed.json"
    assert main(["probe", store, labels, "-o", str(fixed), "--layers", "1", "--l2", "0.01"]) == 0
    doc = json.loads(fixed.read_text())
    assert doc["selected"] is None and doc["settings"]["l2"] == 0.01
    # every CLI field of the configs is an option of both commands
    for command in ("probe", "rank"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        for cls in (ProbeConfig, Split):
            for f in dataclasses.fields(cls):
                if f.metadata.get("cli", True):
                    assert "--" + f.name.replace("_", "-") in text, (command, f.name)
    err = _error(capsys, ["probe", store, labels, "-o", str(root / "x.json"),
                          "--test-sentences", "0:10", "--test-fraction", "0.2"])
    assert "not both" in err


def test_rank_json_loads_as_an_ablation_result(files, capsys):
    from neuroheat.probing import AblationResult

    root, store, labels, _ = files
    out = root / "rank-load.json"
    assert main(["rank", store, labels, "-o", str(out), "--method", "probeless", "--layers",
                 "1", "--fractions", "0.5,1", "--l2", "0.001"]) == 0
    result = AblationResult.load(out)
    assert result.ranking.method == "probeless" and set(result["top"]) == {"0.5", "1"}
    assert result.split["test_fraction"] == 0.2
