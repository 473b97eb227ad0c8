"""Every analysis function on a latent store equals the same function on a dense store of the
same values (one file and shards); dead latents are reported; probing data and
``neuroheat report`` read latent stores."""

from __future__ import annotations

import numpy as np
import pytest

import neuroheat as nh
from neuroheat.analysis import sparse as sp_analysis
from neuroheat.analysis import sparse_top_words
from neuroheat.cli import main
from neuroheat.probing.data import ProbeData
from neuroheat.probing.labels import Labels
from neuroheat.store import Kernel, ShardedStore, Store, StorePart
from neuroheat.store.sparse_reader import SparseStore
from tests.sae import saes
from tests.sae.conftest import HIDDEN, WORDS

CORPUS = [" ".join(w) for w in WORDS * 4]
D_SAE = 80


@pytest.fixture(scope="module")
def stores(llama, tmp_path_factory):
    """(sparse store, dense store of the same values, sparse shards glob)."""
    root = tmp_path_factory.mktemp("analysis")
    sae, _ = saes.saelens(root / "lens", "blocks.1.hook_resid_post", HIDDEN, D_SAE,
                          architecture="jumprelu", seed=5)
    kw = dict(saes=[str(sae)], device="cpu", batch_tokens=32, quiet=True, plan_block=4)
    sparse = nh.extract_activations(llama, CORPUS, root / "lat.h5", **kw)
    for i in range(2):
        nh.extract_activations(llama, CORPUS, root / "part.h5", shard=f"{i}/2", **kw)
    with nh.open_store(sparse) as s:
        words = [s.words(i) for i in range(s.num_sentences)]
        rows = [s.sentence(i) for i in range(s.num_sentences)]
    dense = nh.store.write_store(root / "dense.h5", words, rows, layers=[2], dtype="float16")
    return sparse, dense, str(root / "part-shard*of2.h5")


def _same_tables(a, b):
    np.testing.assert_array_equal(a.types, b.types)
    np.testing.assert_allclose(a.scores, b.scores, rtol=0, atol=1e-12)


def test_top_words_contexts_stats_equal_dense(stores, monkeypatch):
    sparse, dense, shards = stores
    for k, thr in ((5, 0.1), (None, 0.1), (5, 0.0), (None, 0.001)):  # 0.0: background ranks
        want = nh.analysis.top_words_all(dense, k=k, min_threshold=thr)
        _same_tables(nh.analysis.top_words_all(sparse, k=k, min_threshold=thr), want)
        _same_tables(nh.analysis.top_words_all(shards, k=k, min_threshold=thr), want)
    monkeypatch.setattr(sparse_top_words, "PAIRS_PER_BLOCK", 50)  # many latent blocks
    _same_tables(nh.analysis.top_words_all(sparse, k=5), nh.analysis.top_words_all(dense, k=5))
    for j in (0, 7, D_SAE - 1):
        assert nh.analysis.top_words(sparse, 2, j, k=3) == nh.analysis.top_words(dense, 2, j, k=3)
        for lowest in (False, True):
            a = nh.analysis.top_contexts(sparse, 2, j, k=4, lowest=lowest)
            b = nh.analysis.top_contexts(dense, 2, j, k=4, lowest=lowest)
            assert [c.to_dict() for c in a] == [c.to_dict() for c in b]
            c = nh.analysis.top_contexts(shards, 2, j, k=4, lowest=lowest)
            assert [x.to_dict() for x in c] == [x.to_dict() for x in b]
    for t in (None, 0.0, 0.2, -1.0):
        a, b = nh.analysis.neuron_stats(sparse, threshold=t), nh.analysis.neuron_stats(dense,
                                                                                      threshold=t)
        for col in b.columns:
            np.testing.assert_allclose(getattr(a, col), getattr(b, col), rtol=1e-9, atol=1e-12)
    a = nh.analysis.top_contexts_all(sparse, k=3)
    b = nh.analysis.top_contexts_all(dense, k=3)
    for j in (0, 11):
        assert [c.to_dict() for c in a.contexts(2, j)] == [c.to_dict() for c in b.contexts(2, j)]


def test_dead_latents_and_density(stores):
    sparse, dense, shards = stores
    with nh.open_store(dense) as d:
        col = np.concatenate([d.sentence(i)[:, 0] for i in range(d.num_sentences)])
    active = np.count_nonzero(col, axis=0)
    for src in (sparse, shards):
        table = nh.analysis.latent_density(src)
        np.testing.assert_array_equal(table.active, active)
        np.testing.assert_allclose(table.density, active / len(col))
        np.testing.assert_array_equal(nh.analysis.dead_latents(src)[2], np.flatnonzero(active == 0))
    assert (active == 0).any() and (active > 0).any()  # the test SAE has both
    assert sp_analysis.LatentDensity.from_records(table.to_records(), {}).active.tolist() == \
        table.active.tolist()
    with pytest.raises(nh.errors.InputError, match="needs a sparse"):
        nh.analysis.latent_density(dense)


def test_probing_data_and_report_read_latent_stores(stores, tmp_path):
    sparse, dense, _ = stores
    with nh.open_store(sparse) as s, nh.open_store(dense) as d:
        ids = (np.asarray(s.word_ids) % 2).astype(np.int64)
        labels = Labels(ids, ["a", "b"], np.asarray(s.offsets))
        a = list(ProbeData(s, labels, layers="2", test_fraction=0.25, seed=0).chunks("train"))
        b = list(ProbeData(d, labels, layers="2", test_fraction=0.25, seed=0).chunks("train"))
        for (xa, ya), (xb, yb) in zip(a, b, strict=True):
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ya, yb)
    site = tmp_path / "site"
    assert main(["report", str(sparse), "-o", str(site)]) == 0
    assert (site / "index.html").exists()


def test_info_reports_latents(stores):
    sparse, _, _ = stores
    from neuroheat.store.summary import format_summary, summarize

    info = summarize(sparse)
    with nh.open_store(sparse) as s:
        assert info["nonzeros"] == {2: s.nnz(2)}
        assert info["dead_latents"] == {2: int((s.active(2) == 0).sum())}
    assert "active per word" in format_summary(info) and info["format_version"] == 2


def test_top_neurons_and_word_index_equal_dense(stores):
    sparse, dense, _ = stores
    from neuroheat.analysis.word_index import word_index

    for word in ("the", "neuron", "."):
        assert nh.analysis.word_neurons(sparse, word, k=5) == \
            nh.analysis.word_neurons(dense, word, k=5)
    (ta, ia), (tb, ib) = word_index(sparse, k_words=4, k_neurons=3), \
        word_index(dense, k_words=4, k_neurons=3)
    _same_tables(ta, tb)
    assert ia.get("the") == ib.get("the")


def _run_dense(store, tag):
    return ("dense", tag)


def _run_sparse(store, tag):
    return ("sparse", tag)


def test_one_store_protocol(stores):
    """Dense and sparse files answer the same part operations with the same numbers, and a
    kernel runs the side of the store's own layout (one file or shards)."""
    sparse, dense, shards = stores
    which = Kernel("which", dense=_run_dense, sparse=_run_sparse)
    with nh.open_store(sparse) as s, nh.open_store(dense) as d, nh.open_store(shards) as sh:
        assert isinstance(s, SparseStore) and isinstance(d, Store) and isinstance(sh,
                                                                                  ShardedStore)
        assert all(isinstance(p, StorePart) for p in [s, d, *sh.parts])
        assert (s.apply(which, 1), d.apply(which, 2), sh.apply(which, 3)) == \
            (("sparse", 1), ("dense", 2), ("sparse", 3))
        assert (s.layout, d.layout, sh.layout) == ("sparse-csr", "dense", "sparse-csr")
        for j in (0, 7):
            cols = [np.concatenate([c for _, c in p.columns(2, j, 1e-4)]) for p in (s, d)]
            np.testing.assert_array_equal(cols[0], cols[1])
            np.testing.assert_array_equal(cols[0], d.neuron(2, j))
        for t in (-0.5, 0.0, 0.3):
            np.testing.assert_array_equal(s.count_above(2, t, 1e-4), d.count_above(2, t, 1e-4))
        assert d.layout_summary() == {} and set(s.layout_summary()) == {"nonzeros",
                                                                        "dead_latents"}
    with pytest.raises(nh.errors.StoreError, match="dense and sparse .* cannot be read"):
        ShardedStore([sparse, dense])


def test_store_of_a_sparse_file_is_deprecated(stores):
    sparse, dense, _ = stores
    with pytest.warns(DeprecationWarning, match=r"open_store\(path\)"):
        store = Store(sparse)
    with store:
        assert isinstance(store, SparseStore) and store.num_words > 0
    with Store(dense) as d:
        assert type(d) is Store


@pytest.mark.parametrize("run", [{"threads": 2}, {"workers": 2}], ids=["threads", "processes"])
def test_sparse_top_words_all_honours_run_options(stores, monkeypatch, run):
    """Sparse top_words_all runs its (part, block) tasks through the RunOptions map, as the
    dense path does: threads and processes give the one-thread table, bit for bit."""
    _, _, shards = stores
    monkeypatch.setattr(sparse_top_words, "PAIRS_PER_BLOCK", 60)  # several blocks per layer
    want = nh.analysis.top_words_all(shards, k=6, threads=1)
    seen = []
    real = sparse_top_words.map_parts

    def spy(fn, store, calls, options, **kw):  # the real map, recording how it was asked to run
        seen.append((len(calls), options.uses_pool, options.local_tasks))
        return real(fn, store, calls, options, **kw)

    monkeypatch.setattr(sparse_top_words, "map_parts", spy)
    got = nh.analysis.top_words_all(shards, k=6, **run)
    np.testing.assert_array_equal(got.types, want.types)
    np.testing.assert_array_equal(got.scores, want.scores)
    (n_calls, pool, local), = seen
    assert n_calls > 2 and pool == ("workers" in run) and local == (1 if pool else 2)


def test_sparse_top_words_all_on_dask(stores):
    distributed = pytest.importorskip("distributed")
    _, _, shards = stores
    want = nh.analysis.top_words_all(shards, k=6, threads=1)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            with distributed.get_task_stream(client) as stream:
                got = nh.analysis.top_words_all(shards, k=6, scheduler=client)
    assert sum(str(t["key"]).startswith("run_on_file") for t in stream.data) >= 2
    np.testing.assert_array_equal(got.types, want.types)
    np.testing.assert_array_equal(got.scores, want.scores)
