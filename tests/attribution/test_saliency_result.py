"""Saliency result: JSON round trip, textualheatmap data, CLI (the validator: tests/formats)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from neuroheat.attribution import saliency
from neuroheat.attribution.result import Saliency, display_token, validate_textualheatmap
from neuroheat.cli import main
from neuroheat.errors import InputError
from tests.helpers import builders

TEXT = "Pierre Vinken , unbelievable interpretability ."


@pytest.fixture(scope="module")
def mlm(tmp_path_factory):
    return builders.tiny_bert(tmp_path_factory.mktemp("res") / "mlm", head="mlm")


@pytest.fixture(scope="module")
def gpt(tmp_path_factory):
    return builders.tiny_gpt2(tmp_path_factory.mktemp("res") / "gpt", head="causal")


def test_result_module_does_not_import_torch():
    code = ("import sys; import neuroheat.attribution.result as r; "
            "from neuroheat.attribution import Saliency; "
            "assert Saliency is r.Saliency; assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_save_load_round_trip(mlm, tmp_path):
    for kw in ({}, {"method": "ig", "steps": 4}, {"merge": "mean"}):
        sal = saliency(mlm, TEXT, **kw)
        back = Saliency.load(sal.save(tmp_path / "s.json"))
        assert back.to_dict() == sal.to_dict()
        np.testing.assert_array_equal(back.matrix, sal.matrix)
        np.testing.assert_array_equal(back.raw(), sal.raw())
        assert back.predictions == sal.predictions and back.token_map == sal.token_map
    text = (tmp_path / "s.json").read_text(encoding="utf-8")
    assert json.loads(text)["format"] == "neuroheat.saliency"


def test_load_rejects_other_files(tmp_path):
    (tmp_path / "a.json").write_text('{"tokens": []}')
    with pytest.raises(InputError, match="not a neuroheat saliency file"):
        Saliency.load(tmp_path / "a.json")
    (tmp_path / "b.json").write_text("not json")
    with pytest.raises(InputError, match="JSON"):
        Saliency.load(tmp_path / "b.json")
    data = Saliency(["a", "b"], np.ones((1, 2)), [0], [[]], "gradient", "m").to_dict()
    data["matrix"] = [[1.0]]
    with pytest.raises(InputError, match="damaged|shape"):
        Saliency.from_dict(data)


def test_textualheatmap_mlm(mlm):
    sal = saliency(mlm, TEXT)
    facet = sal.to_textualheatmap()
    validate_textualheatmap(facet)
    validate_textualheatmap([facet, facet])
    tokens = [t for t in facet if not t["format"]]
    assert len(tokens) == sal.n_tokens and all(len(t["heat"]) == sal.n_tokens for t in tokens)
    assert not any("##" in t["token"] for t in tokens)
    # spacers separate words, never subwords: the text reads back
    shown = "".join(t["token"] for t in facet[2:-2])
    assert shown == "pierre vinken , unbelievable interpretability ."
    for t, p in zip(tokens, range(sal.n_tokens), strict=True):
        if p in sal.target_positions:
            r = sal.target_positions.index(p)
            assert t["meta"] == [display_token(w) for w, _ in sal.predictions[r][:3]]
            assert max(t["heat"]) == pytest.approx(1.0)
        else:
            assert t["meta"] == [] and max(t["heat"]) == 0
    assert json.loads(json.dumps(facet)) == facet


def test_textualheatmap_gpt2_and_extra_rows(gpt):
    sal = saliency(gpt, "The quick brown fox")
    facet = sal.to_textualheatmap()
    validate_textualheatmap(facet)
    assert "".join(t["token"] for t in facet) == "The quick brown fox"
    assert not any("\u0120" in t["token"] for t in facet)
    # rows without a token position (a class) become labelled extra tokens
    cls = Saliency(["a", "b"], np.array([[0.5, -1.0]]), [None], [[("POS", 0.9)]], "ig", "m",
                   labels=["POS"])
    facet = cls.to_textualheatmap()
    validate_textualheatmap(facet)
    assert facet[-1]["token"] == "\u21d2POS" and facet[-1]["meta"] == ["POS"]
    assert facet[-1]["heat"] == [0.5, 1.0, 0.0]


def test_parse_target():
    from neuroheat.cli.cmd_saliency import parse_target

    assert parse_target("AUTO") == "auto" and parse_target("2") == 2
    assert parse_target("class:1") == 1 and parse_target("class:POSITIVE") == "POSITIVE"
    assert parse_target("neuron:3,17") == (3, 17) and parse_target("neuron:0,1,4") == (0, 1, 4)
    with pytest.raises(InputError, match="not understood"):
        parse_target("verbs")


def test_cli_writes_json(mlm, gpt, tmp_path, capsys):
    out = tmp_path / "s.json"
    assert main(["saliency", str(mlm), TEXT, "-o", str(out), "--method", "gradient",
                 "--normalize", "sum"]) == 0
    sal = Saliency.load(out)
    assert sal.method == "gradient" and sal.normalize == "sum" and sal.target == "mlm"
    assert "wrote" in capsys.readouterr().out
    assert main(["saliency", str(mlm), TEXT, "-o", str(out)]) == 2  # exists
    assert "--overwrite" in capsys.readouterr().err
    out2 = tmp_path / "g.json"
    assert main(["saliency", str(gpt), "The quick", "-o", str(out2), "--generate", "3",
                 "--seed", "2", "--method", "ig", "--steps", "4"]) == 0
    gen = Saliency.load(out2)
    assert gen.target == "generate" and gen.n_targets == 3 and gen.info["seed"] == 2
    assert main(["saliency", str(mlm), TEXT, "-o", str(tmp_path / "s.txt")]) == 2
    assert ".json" in capsys.readouterr().err
    assert main(["saliency", str(mlm), TEXT, "-o", str(tmp_path / "n.json"),
                 "--target", "neuron:1,3,2"]) == 0
    assert Saliency.load(tmp_path / "n.json").labels == ["L1N3@2"]
    assert main(["saliency", str(mlm), TEXT, "-o", str(tmp_path / "x.json"),
                 "--target", "neuron:a"]) == 2
    assert "neuron:LAYER,NEURON" in capsys.readouterr().err
    assert main(["saliency", str(mlm), "", "-o", str(tmp_path / "e.json")]) == 2
    assert "empty" in capsys.readouterr().err


def test_show_draws_every_static_view():
    sal = Saliency(["[CLS]", "the", "cat", "[SEP]"], np.array([[0.1, 0.9, 0.3, 0.0],
                                                               [0.2, 0.4, 1.0, 0.0]]),
                   [1, 2], [[], []], "gradient", "m", special=[True, False, False, True])
    fig = sal.show(focus=2)
    assert "<svg" in fig._repr_svg_()
    for view in ("minimap", "tall", "dense"):
        assert "<svg" in sal.show(view)._repr_svg_()
    with pytest.raises(InputError, match="choose one of focus, minimap, tall, dense"):
        sal.show("pie")
