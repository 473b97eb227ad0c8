"""StoreBase: the parts bookkeeping Store and ShardedStore share, checks, and several-file info."""

from __future__ import annotations

import json

import numpy as np
import pytest

import neuroheat as nh
from neuroheat.cli import main
from neuroheat.errors import InputError, StoreError
from neuroheat.store import ShardedStore, Store, StoreBase, write_store
from neuroheat.store.summary import summarize_all

SENTENCES = [["a", "b", "a"], ["c"], ["b", "d"], ["a"], ["e", "e", "c"]]


def _write(tmp_path):
    rng = np.random.default_rng(3)
    acts = [rng.normal(size=(len(s), 2, 4)) for s in SENTENCES]
    full = write_store(tmp_path / "full.h5", SENTENCES, acts, layers=[0, 5])
    shards = []
    for i, (a, b) in enumerate([(0, 2), (2, 5)]):
        shards.append(write_store(
            tmp_path / f"acts-shard{i}of2.h5", SENTENCES[a:b], acts[a:b], layers=[0, 5],
            meta={"sentence_start": a, "sentence_stop": b, "num_sentences_total": 5,
                  "shard_index": i, "num_shards": 2}))
    return full, shards


def test_parts_bookkeeping_of_one_file_and_shards(tmp_path):
    full, shards = _write(tmp_path)
    with nh.open_store(full) as one, nh.open_store(shards) as sh:
        assert isinstance(one, Store) and isinstance(sh, ShardedStore)
        assert isinstance(one, StoreBase) and isinstance(sh, StoreBase)
        assert one.parts == [one] and sh.parts == sh.shards
        assert one.paths == [full] and [p.name for p in sh.paths] == [s.name for s in shards]
        assert one.row_starts.tolist() == [0, 10] and sh.row_starts.tolist() == [0, 4, 10]
        assert sh.sentence_starts.tolist() == [0, 2, 5]
        assert sh.locate_row(5) == (1, 1) and one.locate_row(5) == (0, 5)
        # shard 1's local vocabulary (b, d, a, e, c) mapped to the global one (a, b, c, d, e)
        assert sh.vocab == one.vocab == ["a", "b", "c", "d", "e"]
        assert sh.type_map(1).tolist() == [1, 3, 0, 4, 2]
        assert one.type_counts.tolist() == sh.type_counts.tolist() == [3, 2, 2, 1, 2]
        assert sh.type_id("d") == 3
        for layer in (0, 5):
            a, b = one.running_stats(layer), sh.running_stats(layer)
            np.testing.assert_allclose(a.mean, b.mean, rtol=1e-12)
            assert a.count.tolist() == b.count.tolist()


def test_checks_name_the_valid_choices(tmp_path):
    full, _ = _write(tmp_path)
    with nh.open_store(full) as store:
        assert store.check_layers(None) == [0, 5] and store.check_layers("all") == [0, 5]
        assert store.check_layers("5,0") == [5, 0] and store.check_layers(np.int64(5)) == [5]
        with pytest.raises(StoreError, match=r"layer 1 is not in this store; stored layers: 0, 5"):
            store.check_layers("0-1")
        with pytest.raises(StoreError, match="layer True"):
            store.check_layer(True)
        with pytest.raises(StoreError, match=r"valid neurons are 0\.\.3"):
            store.check_neuron(4)
        with pytest.raises(InputError, match="close matches: 'a'"):
            store.type_id("A")


def test_info_takes_several_files_and_globs(tmp_path, capsys):
    full, shards = _write(tmp_path)
    infos = summarize_all(str(tmp_path / "acts-shard*of2.h5"))
    assert [i["shard"] for i in infos] == ["0/2", "1/2"]
    assert main(["info", str(full), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["words"] == 10
    assert main(["info", str(full), str(tmp_path / "acts-shard*of2.h5"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [i["sentences"] for i in out] == [5, 2, 3]
    assert main(["info", *map(str, shards)]) == 0
    assert capsys.readouterr().out.count("store: ") == 2
    assert main(["info", str(tmp_path / "none-*.h5")]) == 2
    assert "no store matches" in capsys.readouterr().err
