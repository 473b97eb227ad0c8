"""top_contexts_all: the per-neuron top_contexts for every neuron (ties, shards, chunking),
histograms equal to np.histogram, quantile samples inside their bands."""

from __future__ import annotations

import numpy as np
import pytest

from neuroheat.analysis import top_contexts
from neuroheat.analysis.all_contexts import top_contexts_all
from neuroheat.analysis.distributions import RANK_BANDS
from neuroheat.errors import InputError
from neuroheat.store import open_store, write_store
from tests.helpers.stores import random_corpus, write_shards


@pytest.fixture(scope="module")
def tied(tmp_path_factory):
    """float16 values rounded to halves (many ties), a -0.0 next to 0.0; one file and the
    same corpus in three shards."""
    d = tmp_path_factory.mktemp("ctx")
    sents, acts = random_corpus(1, n_sentences=40, width=8, n_layers=2)
    acts = [np.round(a * 2) / 2 for a in acts]
    acts[0][0, 0, 0] = -0.0
    acts[1][0, 0, 0] = 0.0
    write_store(d / "a.h5", sents, acts, dtype="float16")
    return d / "a.h5", write_shards(d, sents, acts, [10, 25], dtype="float16")


@pytest.mark.parametrize("which", ["file", "shards"])
@pytest.mark.parametrize("run", [{}, {"threads": 2, "chunk_mb": 0.0005}])
def test_equals_per_neuron_top_contexts(tied, which, run):
    src = tied[0] if which == "file" else tied[1]
    found = top_contexts_all(src, k=7, **run)
    with open_store(src) as store:
        for layer in store.layers:
            for n in range(store.width):
                for lowest in (False, True):
                    ref = top_contexts(store, layer, n, k=7, lowest=lowest)
                    got = found.contexts(layer, n, lowest=lowest)
                    assert got.to_records() == ref.to_records(), (layer, n, lowest)


def test_k_larger_than_corpus(tmp_path):
    write_store(tmp_path / "s.h5", [["a", "b"]], [np.ones((2, 1, 3), np.float32)])
    found = top_contexts_all(tmp_path / "s.h5", k=5)
    ref = top_contexts(tmp_path / "s.h5", 0, 1, k=5)
    assert found.contexts(0, 1).to_records() == ref.to_records() and len(ref) == 2
    assert found.layer(0).top_rows.shape == (3, 2)


@pytest.mark.parametrize("mode,bins", [("value", 16), ("value", 40), ("rank", 16),
                                       ("count", 16)])
def test_histograms_and_samples(tied, mode, bins):
    one = top_contexts_all(tied[0], k=3, quantiles=mode, bins=bins, samples=3)
    sharded = top_contexts_all(tied[1], k=3, quantiles=mode, bins=bins, samples=3,
                               chunk_mb=0.0005)
    with open_store(tied[0]) as store:
        for layer in store.layers:
            values = store.rows(layer, 0, store.num_words).astype(np.float64)
            a, b = one.layer(layer), sharded.layer(layer)
            assert np.array_equal(a.sample_rows, b.sample_rows)  # same draw everywhere
            assert np.array_equal(a.histogram, b.histogram)
            n_bands = len(RANK_BANDS) if mode == "rank" else 10
            assert a.band_edges.shape == (store.width, n_bands + 1)
            for n in range(store.width):
                ref, _ = np.histogram(values[:, n], bins, range=(a.hist_lo[n], a.hist_hi[n]))
                assert np.array_equal(a.histogram[n], ref)
                edges = a.band_edges[n]
                for band in range(n_bands):
                    rows = a.sample_rows[n, band]
                    rows = rows[rows >= 0]
                    inside = (values[:, n] >= edges[band]) & (
                        (values[:, n] < edges[band + 1]) if band < n_bands - 1 else True)
                    assert len(set(rows.tolist())) == len(rows)
                    assert len(rows) == min(3, int(inside.sum())), (n, band)
                    assert inside[rows].all()
                    assert np.array_equal(a.sample_values[n, band][:len(rows)],
                                          values[rows, n])


def test_bad_arguments(tied):
    with pytest.raises(InputError, match="quantiles"):
        top_contexts_all(tied[0], quantiles="deciles")
    with pytest.raises(InputError, match="k must"):
        top_contexts_all(tied[0], k=0)


def test_streamed_samples_equal_one_draw():
    from neuroheat.analysis.distributions import sample_bands, update_samples

    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 3000))
    band = rng.integers(-1, 4, x.shape).astype(np.int16)
    band[0] = 3  # one band holds every row of neuron 0
    band[1, 5:] = -1  # neuron 1 has 5 rows in bands
    rows = np.arange(3000) + 10**6
    whole = sample_bands(x, band, rows, 4, 3, seed=2)
    state = None
    for a in range(0, 3000, 217):
        state = update_samples(state, x[:, a:a + 217], band[:, a:a + 217], rows[a:a + 217], 4,
                               3, seed=2)
    for got, ref in zip(state, whole, strict=True):
        np.testing.assert_array_equal(got, ref)
