"""Linear probes on planted-signal stores: both recipes, metrics, seeds, files, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from neuroheat import open_store
from neuroheat.errors import InputError
from neuroheat.probing import Labels, Probe, ProbeData, numpy_loss, top_neurons, training
from neuroheat.probing.metrics import classification_scores
from neuroheat.store import write_store
from tests.helpers.stores import planted_signal_corpus

PLANTED = (1, 3)  # (layer, neuron) carrying the label
WIDTH = 8
COLUMN = WIDTH + PLANTED[1]  # its column with layers [0, 1]


def _planted(seed: int = 0, n_sentences: int = 300, n_classes: int = 2, shift: float = 3.0):
    sents, acts, labels, _ = planted_signal_corpus(
        seed, n_sentences, width=WIDTH, signal=[PLANTED], shift=shift, n_classes=n_classes)
    return sents, acts, labels


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    sents, acts, labs = _planted()
    path = write_store(tmp_path_factory.mktemp("probe") / "acts.h5", sents, acts,
                       dtype="float16")
    with open_store(path) as store:
        yield store, Labels.from_sentences([[f"c{k}" for k in s] for s in labs]), labs


def _dominant(probe: Probe, factor: float) -> None:
    w = np.abs(probe.weights)
    assert (w.argmax(axis=1) == COLUMN).all(), w
    others = np.delete(w, COLUMN, axis=1)
    assert (w[:, COLUMN] > factor * others.max(axis=1)).all(), w
    union, per_class = top_neurons(probe, 0.5)
    assert COLUMN in union.tolist() and set(per_class) == {"c0", "c1"}
    assert probe.neurons[COLUMN] == PLANTED


@pytest.mark.parametrize("recipe", ["default", "neurox"])
def test_probe_finds_the_planted_neuron(planted, recipe):
    store, labels, _ = planted
    probe = Probe(recipe=recipe, seed=0).fit(store, labels, layers=[0, 1], test_fraction=0.2)
    # NeuroX's 10 epochs of Adam at lr 1e-3 leave much of the random start in the others
    _dominant(probe, 5.0 if recipe == "default" else 1.0)
    assert probe.accuracy["test"] > 0.85 and probe.accuracy["train"] > 0.85
    assert probe.f1["test"] > 0.85
    assert set(probe.per_class) == {"c0", "c1"}
    assert all(v["test"] > 0.75 for v in probe.per_class.values()), probe.per_class
    assert probe.weights.shape == (2, 2 * WIDTH) and probe.bias.shape == (2,)


def test_default_reaches_neurox_accuracy(planted):
    store, labels, _ = planted
    fit = {"layers": [0, 1], "test_sentences": (0, 60)}
    ours = Probe(seed=0).fit(store, labels, **fit)
    neurox = Probe(recipe="neurox", seed=0).fit(store, labels, **fit)
    assert ours.accuracy["test"] >= neurox.accuracy["test"] - 1e-9
    # the optimum the default finds has the lower NeuroX objective (mean over the split)
    data = ProbeData(store, labels, **fit)
    x, y = data.arrays("train")
    assert _np_objective(ours.weights, ours.bias, x, y, 1e-5, 1e-5) <= \
        _np_objective(neurox.weights, neurox.bias, x, y, 1e-5, 1e-5)


def test_shuffled_labels_give_chance(planted):
    store, labels, _ = planted
    ids = np.random.default_rng(3).permutation(labels.ids)
    shuffled = Labels(ids=ids, classes=labels.classes, offsets=labels.offsets)
    probe = Probe(seed=0).fit(store, shuffled, layers=[0, 1], test_fraction=0.3)
    assert abs(probe.accuracy["test"] - 0.5) < 0.07


@pytest.mark.parametrize("recipe", ["default", "neurox"])
def test_seeded_runs_are_identical(planted, recipe):
    store, labels, _ = planted
    fit = {"layers": 1, "test_fraction": 0.2, "standardize": True, "balance": True}
    a = Probe(recipe=recipe, seed=7).fit(store, labels, **fit)
    b = Probe(recipe=recipe, seed=7).fit(store, labels, **fit)
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.bias, b.bias)
    assert a.accuracy == b.accuracy and a.losses == b.losses
    # streamed in small blocks: NeuroX's batches are the same rows, so the same weights;
    # the default's full-batch gradient is summed per block (float rounding only)
    s = Probe(recipe=recipe, seed=7).fit(store, labels, **fit, chunk_mb=1e-3, cache_mb=0)
    if recipe == "neurox":
        np.testing.assert_array_equal(s.weights, a.weights)
    else:
        # (rounding moves the non-smooth L-BFGS path a little: same objective, close W)
        np.testing.assert_allclose(s.losses[-1], a.losses[-1], rtol=1e-5)
        np.testing.assert_allclose(s.weights, a.weights, rtol=1e-3, atol=1e-3)
    if recipe == "neurox":
        c = Probe(recipe=recipe, seed=8).fit(store, labels, **fit)
        assert not np.array_equal(a.weights, c.weights)


def _np_objective(w, b, x, y, l1, l2):
    """NeuroX's loss written out: mean cross-entropy + l1 Σ|W| + l2 sqrt(Σ W²)."""
    w, b, x = (np.asarray(v, np.float64) for v in (w, b, x))
    z = x @ w.T + b
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    ce = -logp[np.arange(len(y)), y].mean()
    return ce + l1 * np.abs(w).sum() + l2 * np.sqrt((w ** 2).sum())


def test_neurox_loss_matches_its_formula(tmp_path):
    import torch

    rng = np.random.default_rng(1)
    w = rng.standard_normal((3, 4))
    b = rng.standard_normal(3)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    y = np.array([0, 2, 1, 1, 0])
    l1, l2 = 0.03, 0.7
    got = training.objective(torch.tensor(w), torch.tensor(b), torch.tensor(x, dtype=torch.float64),
                             torch.tensor(y), task="classification", l1=l1, l2=l2)
    assert float(got) == pytest.approx(_np_objective(w, b, x, y, l1, l2), rel=1e-12)
    # the recipe's first step uses that loss, at nn.Linear's seeded initialisation
    sents = [["a", "b", "c"], ["d", "e"]]
    acts = [x[:3, None, :], x[3:, None, :]]
    path = write_store(tmp_path / "tiny.h5", sents, acts)
    labels = Labels.from_sentences([["c0", "c2", "c1"], ["c1", "c0"]])
    with open_store(path) as store:
        data = ProbeData(store, labels)
        w0, b0 = training._init(3, 4, seed=5, device=torch.device("cpu"))
        assert float(w0.detach().abs().max()) <= 0.5 and float(b0.detach().abs().max()) <= 0.5  # U(±1/√4)
        _, _, losses = training.train_neurox(data, 3, l1=l1, l2=l2, epochs=1,
                                             batch_size=32, seed=5)
    expected = _np_objective(w0.detach().numpy(), b0.detach().numpy(), x, y, l1, l2)
    assert losses[0] == pytest.approx(expected, rel=1e-6)


def test_default_minimises_the_formula_on_raw_columns(tmp_path):
    """The default is preconditioned by column moments (a change of variables): the W, b it
    returns are in raw-activation units, its last recorded loss is the formula at them, and
    on columns of scales 1e-7..100 it is no worse than a plain L-BFGS run of equal length."""
    import torch

    rng = np.random.default_rng(3)
    # (the last column is near-constant, as some real layers' are: std 1e-7)
    scales = np.array([0.01, 1.0, 100.0, 5.0, 0.2, 1e-7], dtype=np.float32)
    lengths = rng.integers(5, 12, 60)
    ys = [rng.integers(0, 3, n) for n in lengths]
    acts = [((rng.standard_normal((n, 1, 6)) + 7.0) * scales
             + (y[:, None, None] == 1) * scales * 1.5).astype(np.float32)
            for n, y in zip(lengths, ys, strict=True)]
    sents = [[f"w{i}" for i in range(n)] for n in lengths]
    path = write_store(tmp_path / "scaled.h5", sents, acts, dtype="float32")
    labels = Labels.from_sentences([[f"c{v}" for v in y] for y in ys])
    with open_store(path) as store:
        data = ProbeData(store, labels)
        w, b, losses = training.train_lbfgs(data, 3, l1=1e-3, l2=1e-3, max_iter=20)
        x, y = data.arrays("train")
    assert losses[-1] == pytest.approx(_np_objective(w, b, x, y, 1e-3, 1e-3), rel=1e-4)
    # plain L-BFGS on the same objective, same start and budget (the old default)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    wp = torch.zeros(3, 6, requires_grad=True)
    bp = torch.zeros(3, requires_grad=True)
    opt = torch.optim.LBFGS([wp, bp], max_iter=20, history_size=20,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = (torch.nn.functional.cross_entropy(xt @ wp.T + bp, yt)
                + 1e-3 * wp.abs().sum() + 1e-3 * torch.linalg.vector_norm(wp))
        loss.backward()
        return loss

    opt.step(closure)
    plain = _np_objective(wp.detach().numpy(), bp.detach().numpy(), x, y, 1e-3, 1e-3)
    assert losses[-1] <= plain + 1e-6


def test_save_load_round_trip_is_exact(planted, tmp_path):
    store, labels, _ = planted
    probe = Probe(seed=0, l1=1e-4).fit(store, labels, layers=[0, 1], test_fraction=0.2,
                                       standardize=True)
    path = probe.save(tmp_path / "probe.json")
    doc = json.loads(path.read_text())
    for key in ("classes", "neurons", "weights", "bias", "accuracy", "per_class"):
        assert key in doc
    assert set(doc["accuracy"]) == {"train", "test"}
    assert doc["neurons"][COLUMN] == list(PLANTED)
    back = Probe.load(path)
    np.testing.assert_array_equal(back.weights, probe.weights)
    np.testing.assert_array_equal(back.bias, probe.bias)
    np.testing.assert_array_equal(back.mean, probe.mean)
    np.testing.assert_array_equal(back.std, probe.std)
    assert back.classes == probe.classes and back.neurons == probe.neurons
    assert back.accuracy == probe.accuracy and back.per_class == probe.per_class
    assert back.settings() == probe.settings()
    x = np.random.default_rng(0).standard_normal((10, 2 * WIDTH))
    np.testing.assert_array_equal(back.predict(x), probe.predict(x))
    with pytest.raises(InputError, match="not a probe"):
        Probe.load(labels.save(tmp_path / "labels.json"))


def test_regression_probe(planted):
    store, _, labs = planted
    values = Labels.from_sentences([[str(float(k) * 0.5) for k in s] for s in labs])
    probe = Probe(task="regression", seed=0).fit(store, values, neurons=[(0, 0), PLANTED],
                                                 test_fraction=0.2)
    assert probe.weights.shape == (1, 2) and abs(probe.weights[0, 1]) > 5 * abs(
        probe.weights[0, 0])
    assert probe.correlation["test"]["pearson"] > 0.7
    assert probe.correlation["test"]["spearman"] > 0.7
    neurox = Probe(task="regression", recipe="neurox", seed=0).fit(
        store, values, neurons=[(0, 0), PLANTED], test_fraction=0.2)
    assert neurox.correlation["test"]["pearson"] > 0.5


def test_metrics():
    s = classification_scores(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), 4)
    assert s["accuracy"] == 0.5 and s["per_class"] == [0.5, 1.0, 0.0, None]
    assert s["f1"] == pytest.approx(np.mean([2 / 3, 2 / 4, 0.0]))


def test_bad_probe_input(planted):
    store, labels, _ = planted
    with pytest.raises(InputError, match="unknown recipe"):
        Probe(recipe="fast")
    with pytest.raises(InputError, match="l1 and l2"):
        Probe(l1=-1)
    with pytest.raises(InputError, match="not fitted"):
        Probe().predict(np.zeros((1, 3)))
    with pytest.raises(InputError, match="layer 5 is not in this store"):
        Probe().fit(store, labels, layers=5)
    with pytest.raises(InputError, match="but the store has"):
        Probe().fit(store, Labels.from_sentences([["a"]] * 4))
    with pytest.raises(InputError, match="at least 2 classes"):
        ones = Labels(ids=np.zeros_like(labels.ids), classes=["c0"], offsets=labels.offsets)
        Probe().fit(store, ones, layers=0)
    if not _cuda():
        with pytest.raises(InputError, match="no CUDA GPU"):
            Probe(device="cuda").fit(store, labels, layers=0)


def _cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def test_importing_probing_does_not_import_torch():
    code = ("import sys, neuroheat.probing as p; p.Probe; p.ProbeData; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_fit_without_test_split_and_on_prepared_data(planted, tmp_path):
    store, labels, _ = planted
    data = ProbeData(store, labels, neurons=[PLANTED, (0, 2)])
    probe = Probe(seed=0).fit(data)
    assert probe.accuracy["test"] is None and probe.accuracy["train"] > 0.85
    assert probe.num_rows == {"train": store.num_words, "test": 0}
    back = Probe.load(probe.save(tmp_path / "p.json"))
    assert back.accuracy == probe.accuracy and back.per_class == probe.per_class
    with pytest.raises(InputError, match="the data is for classification"):
        Probe(task="regression").fit(data)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_numpy_and_torch_gradients_agree(planted, task):
    """The default recipe computes its loss and gradient with numpy on the CPU and with
    torch on a GPU: both give the same numbers (here torch on the CPU stands in)."""
    import torch

    store, labels, _ = planted
    if task == "regression":
        labels = Labels(ids=labels.ids, classes=["0.5", "2.0"], offsets=labels.offsets)
    data = ProbeData(store, labels, layers=[0, 1], test_fraction=0.2, task=task, chunk_mb=0.01,
                     cache_mb=0)
    outputs = 2 if task == "classification" else 1
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((outputs, 2 * WIDTH)), rng.standard_normal(outputs)
    dev = torch.device("cpu")

    def blocks():
        for x, y in data.chunks("train"):
            xt, yt = training._tensors(x, y, task, dev)
            yield xt.T, yt

    ref = training._torch_data_grad(blocks, task, dev)(w, b)
    # streamed row blocks, and the column-major copy the in-memory rows are held as
    by_column = [(numpy_loss.transposed(x), y) for x, y in data.chunks("train")]
    for got in (numpy_loss.numpy_data_grad(data, w, b),
                numpy_loss.numpy_data_grad(data, w, b, by_column=by_column)):
        assert got[0] == pytest.approx(ref[0], rel=1e-5)
        np.testing.assert_allclose(got[1], ref[1], rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(got[2], ref[2], rtol=1e-4, atol=1e-3)
    if not torch.cuda.is_available():  # a GPU asked for and none there: one clear error
        with pytest.raises(InputError, match="cuda"):
            training.fit_lbfgs(data, outputs, l1=1e-5, l2=1e-3, device="cuda:0")
