"""``neuroheat lens`` and ``neuroheat dla``: JSON keys as issue 21 fixes them, figures, results
that load back, and one-line errors."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from neuroheat.cli import main
from neuroheat.lens import DLAResult, LensResult
from tests.lens.reference import TEXT


def test_lens_json_svg_html(causal_models, tmp_path):
    path = str(causal_models["llama"])
    out = tmp_path / "lens.json"
    assert main(["lens", path, "--text", TEXT, "-o", str(out), "--top-k", "3",
                 "--target", " the", "--device", "cpu"]) == 0
    data = json.loads(out.read_text())
    assert {"tokens", "layers", "top", "entropy", "kl_to_final", "target"} <= set(data)
    assert set(data["target"]) == {"token", "logprob", "rank"}
    assert data["layers"] == [0, 1, 2, 3]
    assert len(data["top"]) == 4 and len(data["top"][0]) == len(data["tokens"])
    assert all(len(cell) == 3 and isinstance(cell[0][0], str) for cell in data["top"][2])
    res = LensResult.load(out)
    assert res.to_pandas().shape[0] == 4 * len(res.tokens)
    for suffix in (".svg", ".html"):
        fig = tmp_path / f"lens{suffix}"
        assert main(["lens", path, "--text", TEXT, "-o", str(fig), "--device", "cpu"]) == 0
    ET.parse(tmp_path / "lens.svg")   # well-formed XML
    page = (tmp_path / "lens.html").read_text()
    assert "Content-Security-Policy" in page and "<script" not in page


def test_dla_json_and_svg(causal_models, tmp_path):
    path = str(causal_models["gpt2"])
    out = tmp_path / "dla.json"
    assert main(["dla", path, "--text", TEXT, "--answer", " the", "--foil", " a",
                 "--neurons", "2,3", "--top", "7", "-o", str(out), "--device", "cpu"]) == 0
    data = json.loads(out.read_text())
    assert {"answer", "foil", "position", "logit", "bias", "components", "neurons",
            "softcap"} <= set(data)
    assert data["answer"] == " the" and data["foil"] == " a"
    assert len(data["neurons"]) == 7 and data["neurons"][0]["unit"].startswith("mlp.")
    assert set(data["components"][0]) == {"name", "value"}
    res = DLAResult.load(out)
    assert list(res.to_pandas()["kind"].unique()) == ["component", "neuron", "bias"]
    assert main(["dla", path, "--text", TEXT, "--answer", " the", "-o",
                 str(tmp_path / "dla.svg"), "--device", "cpu"]) == 0
    ET.parse(tmp_path / "dla.svg")


@pytest.mark.parametrize("argv, message", [
    (["lens", "MODEL", "--text", TEXT, "-o", "x.png"], "supported output suffixes"),
    (["lens", "MODEL", "--text", TEXT, "-o", "x.json", "--lens", "tuned"], "--tuned-lens"),
    (["lens", "MODEL", "--text", TEXT, "-o", "x.json", "--target", " the quick"], "not one"),
    (["lens", "MODEL", "--text", " ", "-o", "x.json"], "text is empty"),
    (["dla", "MODEL", "--text", TEXT, "--answer", " the", "-o", "x.html"],
     "supported output suffixes"),
])
def test_bad_input_is_one_line_exit_2(causal_models, tmp_path, monkeypatch, capsys, argv,
                                      message):
    monkeypatch.chdir(tmp_path)
    argv = [str(causal_models["gpt2"]) if a == "MODEL" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_encoder_models_are_refused(tiny_bert, tmp_path, capsys):
    assert main(["lens", str(tiny_bert), "--text", "the cat", "-o",
                 str(tmp_path / "x.json")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
