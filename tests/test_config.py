"""Config dataclasses: one set of settings for the Python API, the CLI and the store."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import neuroheat as nh
from neuroheat.attribution.config import SaliencyConfig
from neuroheat.cli import main
from neuroheat.errors import InputError, StoreError
from neuroheat.extract.config import ExtractConfig
from neuroheat.layerspec import parse_layers, select_layers

CORPUS = ["The quick brown fox jumps .", "cats run"]


def test_layer_specs():
    assert parse_layers("0,6") == [0, 6] and parse_layers("1-4") == [1, 2, 3, 4]
    assert parse_layers("all") is None and parse_layers(None) is None
    assert parse_layers(3) == [3] and parse_layers("-1") == [-1]
    assert select_layers([0, 1, 2], "-1") == [2]
    with pytest.raises(InputError, match="not a number or a range"):
        parse_layers("0,x")
    with pytest.raises(InputError, match="is empty"):
        parse_layers("4-1")
    with pytest.raises(InputError, match="this model has layers 0..2"):
        select_layers([0, 1, 2], [5])


def test_config_build_validates():
    cfg = ExtractConfig.build(None, aggregation="first", layers="0")
    assert cfg.aggregation == "first"
    assert ExtractConfig.build(cfg, dtype="float32").aggregation == "first"
    with pytest.raises(InputError, match="unknown option batch_size.*valid options: layers"):
        ExtractConfig.build(None, batch_size=3)
    with pytest.raises(InputError, match="choose one of first, last, average, none"):
        ExtractConfig.build(None, aggregation="mean")
    with pytest.raises(InputError, match="dtype 'int8' is not supported"):
        ExtractConfig(dtype="int8").check()
    assert SaliencyConfig.build(None, method="ig").resolved().method == "integrated_gradients"
    with pytest.raises(InputError, match="unknown saliency method"):
        SaliencyConfig.build(None, method="lime")


def test_config_object_equals_keywords_and_is_recorded(tiny_bert, tmp_path):
    cfg = ExtractConfig(layers=[0, 2], aggregation="first", dtype="float32", quiet=True)
    a = nh.extract_activations(tiny_bert, CORPUS, tmp_path / "a.h5", cfg)
    b = nh.extract_activations(tiny_bert, CORPUS, tmp_path / "b.h5", layers=[0, 2],
                               aggregation="first", dtype="float32", quiet=True)
    with nh.open_store(a) as sa, nh.open_store(b) as sb:
        assert sa.layers == [0, 2]
        np.testing.assert_array_equal(sa.sentence(0), sb.sentence(0))
        for name in ExtractConfig.fields_where("match"):
            assert str(sa.meta[name]) == str(sb.meta[name]), name
        assert sa.meta["aggregation"] == "first" and sa.meta["sites"] == "hidden.0,hidden.2"
    with pytest.raises(StoreError, match="its aggregation is 'first' but this run has 'last'"):
        nh.extract_activations(tiny_bert, CORPUS, a, dataclasses.replace(cfg, aggregation="last",
                                                                         resume=True))


def test_cli_options_come_from_the_config(tiny_bert, tmp_path, capsys):
    out = tmp_path / "c.h5"
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(CORPUS), encoding="utf-8")
    assert main(["extract", str(tiny_bert), str(corpus), str(out), "--layers", "1-2",
                 "--aggregation", "average", "--quiet"]) == 0
    with nh.open_store(out) as store:
        assert store.layers == [1, 2] and store.meta["aggregation"] == "average"
    capsys.readouterr()
    assert main(["info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["sites"] == ["hidden.1", "hidden.2"] and info["model_dtype"] == "float32"
    assert main(["extract", str(tiny_bert), str(corpus), str(out), "--quiet"]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_shards_must_agree_on_the_config_match_fields(tiny_bert, tmp_path):
    """The store names the config's match fields (match_settings); merging checks them all,
    including batch_tokens, which decides the batches and so the exact bits."""
    common = dict(plan_block=1, quiet=True, layers=[0])
    a = nh.extract_activations(tiny_bert, CORPUS, tmp_path / "s.h5", shard="0/2", **common)
    b = nh.extract_activations(tiny_bert, CORPUS, tmp_path / "s.h5", shard="1/2",
                               batch_tokens=2048, **common)
    with nh.open_store(a) as store:
        assert "batch_tokens" in store.meta["match_settings"].split(",")
    with pytest.raises(StoreError, match="batch_tokens is"):
        nh.open_store([a, b])
    c = nh.extract_activations(tiny_bert, CORPUS, tmp_path / "s.h5", shard="1/2",
                               overwrite=True, **common)
    with nh.open_store([a, c]) as merged:
        assert merged.num_sentences == 2
