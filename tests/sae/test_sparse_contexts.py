"""``top_contexts_all`` on latent stores reads only the non-zeros (zeros in closed form) and
equals the dense-store result of the same values bit for bit: top / bottom rows and values
(ties among zeros to the earliest rows), histograms, band edges and quantile samples, for one
file and for shards, with dead latents, latents with fewer than k non-zeros, latents active on
(nearly) every row, ties and negative values."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import neuroheat as nh
from neuroheat.analysis import sparse_contexts
from neuroheat.store.sparse_reader import SparseStore
from neuroheat.store.sparse_writer import SparseStoreWriter
from neuroheat.store.stats import RunningStats

WIDTH, LAYER = 12, 2


def _corpus(seed: int = 0) -> tuple[list[list[str]], np.ndarray]:
    """Sentences and float16 ``[rows, WIDTH]`` latents with every awkward pattern."""
    rng = np.random.default_rng(seed)
    vocab = ["the", "cat", "sat", "on", "a", "mat", ".", "dog"]
    sentences = [[str(w) for w in rng.choice(vocab, int(rng.integers(1, 7)))]
                 for _ in range(14)]
    sentences[5] = ["alone"]  # a one-word sentence (and a one-row shard below)
    n = sum(map(len, sentences))
    x = np.zeros((n, WIDTH), np.float32)
    # 0: dead; 1: one positive value; 2: active on all but three late rows
    x[n // 2, 1] = 1.5
    x[:, 2] = rng.uniform(0.5, 2.0, n)
    x[[n - 9, n - 4, n - 1], 2] = 0
    x[:, 3] = 0.25  # 3: active everywhere, all tied
    x[[4, 9, 10, n - 2], 4] = [-1.0, 2.0, -1.0, 2.0]  # 4: few, negative, ties
    x[::3, 5] = -rng.uniform(0.1, 1.0, len(x[::3]))  # 5: only negative
    x[1:, 6] = rng.uniform(0.1, 1.0, n - 1)  # 6: zero only on row 0
    for j in range(7, WIDTH):  # random sparse, both signs, some float16 ties
        hit = rng.random(n) < 0.2
        x[hit, j] = np.round(rng.normal(0, 1, hit.sum()), 1)
    return sentences, x.astype(np.float16)


def _offsets(sentences: list[list[str]]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum([len(s) for s in sentences])]).astype(np.int64)


def write_sparse(path, sentences, x) -> str:
    """A sparse store of the float16 values ``x`` (rows of ``sentences``)."""
    w = SparseStoreWriter.create(path, sentences, layers=[LAYER], width=WIDTH)
    r, c = np.nonzero(x)
    w.write_unit(0, list(range(len(sentences))), _offsets(sentences),
                 np.count_nonzero(x, axis=1), c, x[r, c])
    w.finalize(RunningStats.of(x[:, None, :].astype(np.float64)),
               np.count_nonzero(x, axis=0)[None, :])
    return str(path)


def write_dense(path, sentences, x) -> str:
    off = _offsets(sentences)
    rows = [x[a:b][:, None, :] for a, b in itertools.pairwise(off)]
    return str(nh.store.write_store(path, sentences, rows, layers=[LAYER], dtype="float16"))


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """(sparse file, dense file of the same values, sparse shards as a list of paths)."""
    root = tmp_path_factory.mktemp("sparse_contexts")
    sentences, x = _corpus()
    off = _offsets(sentences)
    sparse = write_sparse(root / "lat.h5", sentences, x)
    dense = write_dense(root / "dense.h5", sentences, x)
    shards = []
    for i, (a, b) in enumerate([(0, 5), (5, 6), (6, 14)]):  # the middle shard: one row
        shards.append(write_sparse(root / f"shard{i}.h5", sentences[a:b], x[off[a]:off[b]]))
    return sparse, dense, shards


def _same(a: nh.analysis.all_contexts.NeuronContexts,
          b: nh.analysis.all_contexts.NeuronContexts) -> None:
    la, lb = a.layer(LAYER), b.layer(LAYER)
    for name in ("top_rows", "top_values", "bottom_rows", "bottom_values", "histogram",
                 "hist_lo", "hist_hi", "band_edges", "sample_rows", "sample_values"):
        va, vb = getattr(la, name), getattr(lb, name)
        if vb is None:
            assert va is None, name
            continue
        assert va.dtype == vb.dtype and va.shape == vb.shape, name
        np.testing.assert_array_equal(va, vb, err_msg=name)
        if va.dtype.kind == "f":  # bit for bit (the sign of zero included)
            assert np.array_equal(np.signbit(va), np.signbit(vb)), name


@pytest.fixture
def no_dense_rows(monkeypatch):
    """Latent stores may not be read as dense rows."""
    def refuse(*_a, **_k):
        raise AssertionError("the sparse path read dense rows")

    monkeypatch.setattr(SparseStore, "iter_stored_rows", refuse)
    monkeypatch.setattr(SparseStore, "iter_rows", refuse)


CASES = [dict(k=3), dict(k=8, bottom=False), dict(k=40, bins=7, bands=3, samples=5),
         dict(k=5, quantiles="rank", samples=3, seed=4),
         dict(k=2, quantiles="count", bands=4, samples=6, bins=0),
         dict(k=6, bins=20, bands=5, samples=8, seed=1), dict(k=1, samples=0)]


@pytest.mark.parametrize("kw", CASES)
def test_sparse_equals_dense(stores, kw, no_dense_rows):
    sparse, dense, shards = stores
    monkey_free = nh.analysis.top_contexts_all(dense, **kw)
    _same(nh.analysis.top_contexts_all(sparse, **kw), monkey_free)
    _same(nh.analysis.top_contexts_all(shards, **kw), monkey_free)
    _same(nh.analysis.top_contexts_all(sparse, chunk_mb=1e-4, **kw), monkey_free)  # 6 nnz


def test_ties_and_closed_form_zeros(stores):
    sparse, dense, _ = stores
    found = nh.analysis.top_contexts_all(sparse, k=4, bins=10)
    lc = found.layer(LAYER)
    with nh.open_store(dense) as d:
        col = np.concatenate([d.sentence(i)[:, 0] for i in range(d.num_sentences)])
    n = len(col)
    zeros = lambda j: np.flatnonzero(col[:, j] == 0)  # noqa: E731
    assert lc.top_rows[0].tolist() == [0, 1, 2, 3]  # dead: the earliest rows, all 0.0
    assert lc.bottom_rows[0].tolist() == [0, 1, 2, 3] and (lc.top_values[0] == 0).all()
    assert lc.top_rows[1].tolist() == [n // 2, 0, 1, 2]
    assert lc.bottom_rows[2][:3].tolist() == zeros(2)[:3].tolist()  # the late zeros
    assert lc.top_rows[3].tolist() == [0, 1, 2, 3] and (lc.top_values[3] == 0.25).all()
    assert lc.bottom_rows[4].tolist() == [4, 10, 0, 1]  # negatives, then the earliest zeros
    assert lc.top_rows[4].tolist() == [9, n - 2, 0, 1]
    assert lc.top_rows[5].tolist() == zeros(5)[:4].tolist()
    assert lc.bottom_rows[6][0] == 0 and lc.bottom_values[6][0] == 0
    for j in range(WIDTH):  # zeros counted into their bin
        assert lc.histogram[j].sum() == n
    assert lc.histogram[0].tolist() == [0] * 5 + [n] + [0] * 4  # constant 0: 0 ± 0.5


def test_per_neuron_top_contexts(stores):
    sparse, _, shards = stores
    found = nh.analysis.top_contexts_all(shards, k=5)
    for j in range(WIDTH):
        for lowest in (False, True):
            want = nh.analysis.top_contexts(sparse, LAYER, j, k=5, lowest=lowest)
            got = found.contexts(LAYER, j, lowest=lowest)
            assert [c.to_dict() for c in got] == [c.to_dict() for c in want]


def test_first_free_brute_force():
    rng = np.random.default_rng(3)
    for _ in range(50):
        n, width, m = int(rng.integers(1, 30)), int(rng.integers(1, 6)), int(rng.integers(1, 9))
        act = rng.random((width, n)) < rng.random((width, 1))
        lat, pos = np.nonzero(act)
        perm = rng.permutation(len(lat))
        got = sparse_contexts.first_free(lat[perm], pos[perm], n - act.sum(axis=1), m)
        for w in range(width):
            want = np.flatnonzero(~act[w])[:m]
            assert got[w].tolist() == want.tolist() + [-1] * (m - len(want))


def test_edges_equal_linspace():
    rng = np.random.default_rng(5)
    for bins in (1, 7, 40, 2048):
        lo = rng.normal(0, 3, 50)
        hi = lo + rng.exponential(2, 50)
        hi[:3] = lo[:3] + [1e-300, 0.5, 1e-12]  # tiny ranges: some step may underflow
        for sl in (slice(None), slice(3, None)):
            a, b = lo[sl], hi[sl]
            want = np.linspace(a, b, bins + 1, axis=1)
            tiny = bool(((b - a) / bins == 0).any())
            j = np.tile(np.arange(bins + 1), (len(a), 1))
            r = np.repeat(np.arange(len(a)), bins + 1)
            got = sparse_contexts._edge(j.ravel(), a[r], b[r], bins, tiny).reshape(want.shape)
            np.testing.assert_array_equal(got, want)
