"""NeuroX interop: files built by hand from NeuroX's documented layouts convert; exports have
NeuroX's layout (read back the way its ``load_activations`` reads them); round trips are exact."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

import neuroheat as nh
from neuroheat.cli import main
from neuroheat.errors import InputError, OutputExistsError
from neuroheat.store import write_store
from neuroheat.store.interop import export_neurox, import_neurox

SENTENCES = [["Pierre", "vin##ken", ",", "61"], ["the", "cat"], ["the", "cat"], ["é", "<b>"],
             ["the", "cat"]]
N_LAYERS, WIDTH = 3, 5


def _acts(dtype="float32", seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(N_LAYERS, len(s), WIDTH)).astype(dtype) for s in SENTENCES]


def _neurox_hdf5(path, acts):
    """NeuroX's HDF5 layout: a dataset per sentence index + sentence_to_index (JSON, shape (1,))."""
    mapping = {}
    with h5py.File(path, "w") as f:
        for i, (words, a) in enumerate(zip(SENTENCES, acts, strict=True)):
            f.create_dataset(str(i), a.shape, dtype=a.dtype, data=a)
            key, n = " ".join(words), 1
            while key in mapping:
                n += 1
                key = f"{' '.join(words)} (Occurrence {n})"
            mapping[key] = str(i)
        ds = f.create_dataset("sentence_to_index", (1,), dtype=h5py.special_dtype(vlen=str))
        ds[0] = json.dumps(mapping)
    return path


def _neurox_json(path, acts, indices=None):
    """NeuroX's JSON lines: linex_index + features [{token, layers [{index, values}]}]."""
    with open(path, "w", encoding="utf-8") as fh:
        for i, (words, a) in enumerate(zip(SENTENCES, acts, strict=True)):
            feats = [{"token": w, "layers": [
                {"index": (indices or list(range(N_LAYERS)))[k], "values": a[k, t].tolist()}
                for k in range(N_LAYERS)]} for t, w in enumerate(words)]
            fh.write(json.dumps({"linex_index": i, "features": feats}) + "\n")
    return path


def _load_like_neurox(path):
    """What neurox.data.loader.load_activations returns for an .hdf5 file (its documented
    behaviour): walk sentence_to_index in order, [layers, tokens, w] -> [tokens, layers*w]."""
    with h5py.File(path, "r") as f:
        mapping = json.loads(f["sentence_to_index"][0])
        out = []
        for _, value in mapping.items():
            a = np.asarray(f[value], dtype=np.float32)
            out.append(np.swapaxes(a, 0, 1).reshape(a.shape[1], a.shape[0] * a.shape[2]))
    return out, mapping


def test_neurox_hdf5_converts(tmp_path):
    acts = _acts()
    src = _neurox_hdf5(tmp_path / "acts.hdf5", acts)
    out = import_neurox(src, tmp_path / "s.h5")
    with nh.open_store(out) as store:
        assert store.num_sentences == len(SENTENCES) and store.layers == [0, 1, 2]
        assert store.meta["dtype"] == "float32" and store.meta["source_format"] == "neurox-hdf5"
        for i, words in enumerate(SENTENCES):
            assert store.words(i) == words
            np.testing.assert_array_equal(store.sentence(i), acts[i].transpose(1, 0, 2))
        flat = np.concatenate([a.transpose(1, 0, 2) for a in acts]).astype(np.float64)
        np.testing.assert_allclose(store.stats()["mean"], flat.mean(0), rtol=1e-12)
    assert main(["convert", str(src), str(tmp_path / "l.h5"), "--layers", "1-3", "--dtype",
                 "float16", "--model", "bert-base-cased"]) == 0
    with nh.open_store(tmp_path / "l.h5") as store:
        assert store.layers == [1, 2, 3] and store.meta["model"] == "bert-base-cased"
        np.testing.assert_array_equal(store.sentence(0, layer=2),
                                      acts[0][1].astype(np.float16).astype(np.float32))


def test_neurox_json_converts(tmp_path):
    acts = _acts(seed=1)
    src = _neurox_json(tmp_path / "acts.json", acts, indices=[2, 0, 1])
    out = import_neurox(src, tmp_path / "s.h5")
    with nh.open_store(out) as store:
        assert store.layers == [0, 1, 2] and store.meta["source_format"] == "neurox-json"
        for i, words in enumerate(SENTENCES):
            assert store.words(i) == words
            ref = acts[i][[1, 2, 0]].transpose(1, 0, 2)  # ordered by the "index" field
            np.testing.assert_array_equal(store.sentence(i), ref)


def test_export_has_neurox_layout(tmp_path):
    acts = [a.transpose(1, 0, 2) for a in _acts()]
    store = write_store(tmp_path / "s.h5", SENTENCES, acts, layers=[0, 4, 7], dtype="float32")
    assert main(["export", "--format", "neurox", str(store), str(tmp_path / "x.hdf5")]) == 0
    with h5py.File(tmp_path / "x.hdf5", "r") as f:
        assert sorted(f) == sorted([str(i) for i in range(len(SENTENCES))] + ["sentence_to_index"])
        assert f["sentence_to_index"].shape == (1,)
        for i, words in enumerate(SENTENCES):
            assert f[str(i)].shape == (3, len(words), WIDTH)
            assert f[str(i)].dtype == np.float32
    loaded, mapping = _load_like_neurox(tmp_path / "x.hdf5")
    assert list(mapping) == ["Pierre vin##ken , 61", "the cat", "the cat (Occurrence 2)", "é <b>",
                             "the cat (Occurrence 3)"]
    assert list(mapping.values()) == ["0", "1", "2", "3", "4"]
    for a, got in zip(acts, loaded, strict=True):
        np.testing.assert_array_equal(got, a.reshape(len(a), -1))
    export_neurox(store, tmp_path / "x16.hdf5", layers=[7], dtype="float16")
    with h5py.File(tmp_path / "x16.hdf5", "r") as f:
        assert f["0"].dtype == np.float16 and f["0"].shape == (1, 4, WIDTH)


def test_round_trips_are_exact(tmp_path):
    # NeuroX HDF5 -> store -> NeuroX HDF5: same datasets, same sentence_to_index
    acts = _acts()
    src = _neurox_hdf5(tmp_path / "a.hdf5", acts)
    import_neurox(src, tmp_path / "a.h5")
    export_neurox(tmp_path / "a.h5", tmp_path / "b.hdf5")
    with h5py.File(src, "r") as a, h5py.File(tmp_path / "b.hdf5", "r") as b:
        assert json.loads(a["sentence_to_index"][0]) == json.loads(b["sentence_to_index"][0])
        for i in range(len(SENTENCES)):
            assert a[str(i)].dtype == b[str(i)].dtype
            assert a[str(i)][...].tobytes() == b[str(i)][...].tobytes()
    # store -> NeuroX HDF5 / JSON -> store: same activations, words and layer numbers
    store = write_store(tmp_path / "s.h5", SENTENCES, [a.transpose(1, 0, 2) for a in acts],
                        layers=[0, 6, 12], dtype="float32", meta={"model": "m"})
    for name in ("r.hdf5", "r.json"):
        export_neurox(store, tmp_path / name)
        back = import_neurox(tmp_path / name, tmp_path / f"{name}.h5")
        with nh.open_store(store) as s, nh.open_store(back) as r:
            assert r.layers == [0, 6, 12] and r.all_words() == s.all_words()
            for layer in s.layers:
                assert r.rows(layer, 0, r.num_words).tobytes() == \
                    s.rows(layer, 0, s.num_words).tobytes()
    # NeuroX JSON -> store -> JSON -> store
    _neurox_json(tmp_path / "n.json", acts)
    import_neurox(tmp_path / "n.json", tmp_path / "n.h5")
    export_neurox(tmp_path / "n.h5", tmp_path / "n2.json")
    first = [json.loads(line) for line in open(tmp_path / "n.json", encoding="utf-8")]
    second = [json.loads(line) for line in open(tmp_path / "n2.json", encoding="utf-8")]
    assert first == second


def test_float16_neurox_file_stays_float16(tmp_path):
    acts = _acts("float16")
    out = import_neurox(_neurox_hdf5(tmp_path / "h.hdf5", acts), tmp_path / "h.h5")
    with nh.open_store(out) as store:
        assert store.meta["dtype"] == "float16"
        np.testing.assert_array_equal(store.sentence(3), acts[3].transpose(1, 0, 2))


def test_bad_inputs(tmp_path):
    with h5py.File(tmp_path / "plain.hdf5", "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(InputError, match="sentence_to_index"):
        import_neurox(tmp_path / "plain.hdf5", tmp_path / "o.h5")
    (tmp_path / "bad.json").write_text('{"linex_index": 0, "features": []}\nnot json\n')
    with pytest.raises(InputError, match="line 2"):
        import_neurox(tmp_path / "bad.json", tmp_path / "o.h5")
    acts = _acts()
    acts[1] = acts[1][:, :1]
    _neurox_hdf5(tmp_path / "short.hdf5", acts)
    with pytest.raises(InputError, match="sentence 1 has 1 activation rows"):
        import_neurox(tmp_path / "short.hdf5", tmp_path / "o.h5")
    with pytest.raises(InputError, match="does not exist"):
        import_neurox(tmp_path / "nope.hdf5", tmp_path / "o.h5")
    good = _neurox_hdf5(tmp_path / "g.hdf5", _acts())
    with pytest.raises(InputError, match="3 layers but 2"):
        import_neurox(good, tmp_path / "o.h5", layers=[0, 1])
    import_neurox(good, tmp_path / "o.h5")
    with pytest.raises(OutputExistsError):
        import_neurox(good, tmp_path / "o.h5")
    assert main(["export", "--format", "neurox", str(tmp_path / "o.h5"), str(tmp_path / "o.hdf5"),
                 "--layers", "9"]) == 2
