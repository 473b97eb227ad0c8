"""Correlation clustering of redundant neurons on stores with planted duplicates."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from neuroheat import open_store
from neuroheat.errors import InputError
from neuroheat.probing.clustering import (
    cluster_correlations,
    correlations,
    redundancy_clusters,
)
from neuroheat.probing.gaussian_probe import moments_of_ids
from neuroheat.store import write_store
from tests.helpers.stores import stored_values, write_shards

WIDTH = 8


def _corpus(seed: int = 0, n_sentences: int = 50):
    """Layer 1: neuron 1 = neuron 0 exactly, neuron 2 = −neuron 0 + small noise,
    neuron 6 ≈ neuron 4; layer 0 neuron 3 = layer 1 neuron 4; the rest independent."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 9, n_sentences)
    sents = [[f"w{k}" for k in rng.integers(0, 20, n)] for n in lengths]
    acts = []
    for n in lengths:
        a = rng.standard_normal((n, 2, WIDTH)).astype(np.float32)
        a[:, 1, 1] = a[:, 1, 0]
        a[:, 1, 2] = -a[:, 1, 0] + 0.05 * rng.standard_normal(n)
        a[:, 1, 6] = a[:, 1, 4] + 0.1 * rng.standard_normal(n)
        a[:, 0, 3] = a[:, 1, 4]
        acts.append(a)
    return sents, acts


@pytest.fixture
def store(tmp_path):
    sents, acts = _corpus()
    path = write_store(tmp_path / "acts.h5", sents, acts, dtype="float16")
    with open_store(path) as s:
        yield s, acts


@pytest.mark.parametrize("chunk_mb", [1e-5, 3e-4, 64.0])
def test_streamed_sums_equal_direct(store, chunk_mb):
    s, acts = store
    x = stored_values(acts, "float16").reshape(-1, 2 * WIDTH)
    m = moments_of_ids(s, np.zeros(len(x), dtype=np.int64), 1, None, chunk_mb=chunk_mb)
    np.testing.assert_allclose(m.sums[0], x.sum(axis=0), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(m.outer[0], x.T @ x, rtol=1e-12, atol=1e-9)
    got = redundancy_clusters(s, chunk_mb=chunk_mb).correlations
    np.testing.assert_allclose(got, np.abs(np.corrcoef(x, rowvar=False)), atol=1e-9)


def test_duplicates_cluster_together(store):
    s, _ = store
    res = redundancy_clusters(s, layers=[1], threshold=0.3)
    assert [c.tolist() for c in res.clusters] == [[0, 1, 2], [3], [4, 6], [5], [7]]
    assert res.labels.tolist() == [0, 0, 0, 1, 2, 3, 2, 4]
    assert res.representatives.tolist() == [0, 3, 4, 5, 7]  # 0 and 1 tie: the lower
    assert res.representative_pairs()[0] == [1, 0]
    across = redundancy_clusters(s, threshold=0.3)
    assert [3, 8 + 4, 8 + 6] in [c.tolist() for c in across.clusters]
    assert len(across) == 16 - 2 - 2
    tight = redundancy_clusters(s, layers=[1], threshold=0.0)
    assert [c.tolist() for c in tight.clusters] == [[0, 1], [2], [3], [4], [5], [6], [7]]
    loose = redundancy_clusters(s, layers=[1], threshold=1.0)
    assert len(loose) == 1 and loose.clusters[0].tolist() == list(range(8))


def test_matches_scipy_directly_and_is_deterministic(tmp_path):
    sents, acts = _corpus(seed=3)
    paths = write_shards(tmp_path, sents, acts, [11, 30])
    x = stored_values(acts).reshape(-1, 2 * WIDTH)
    r = np.abs(np.corrcoef(x, rowvar=False))
    dist = np.clip(1 - r, 0, 1)
    np.fill_diagonal(dist, 0)
    raw = fcluster(linkage(squareform(dist, checks=False), "average"), 0.5, "distance")
    with open_store([str(p) for p in paths]) as s:
        a = redundancy_clusters(s, threshold=0.5, chunk_mb=1e-4)
        b = redundancy_clusters(s, threshold=0.5, chunk_mb=0.01)
    assert [c.tolist() for c in a.clusters] == [c.tolist() for c in b.clusters]
    assert a.representatives.tolist() == b.representatives.tolist()
    for i in range(16):
        for j in range(16):
            assert (a.labels[i] == a.labels[j]) == (raw[i] == raw[j])


def test_representative_highest_mean_r():
    r = np.array([[1.0, 0.9, 0.8], [0.9, 1.0, 0.95], [0.8, 0.95, 1.0]])
    clusters, reps, labels = cluster_correlations(r, 0.5)
    assert len(clusters) == 1 and reps.tolist() == [1]


def test_constant_column_and_rows_mask(tmp_path):
    sents, acts = _corpus(seed=1)
    for a in acts:
        a[:, 1, 7] = 1.5
    path = write_store(tmp_path / "c.h5", sents, acts)
    with open_store(path) as s:
        res = redundancy_clusters(s, layers=[1])
        assert [7] in [c.tolist() for c in res.clusters]
        assert res.correlations[7, :7].max() == 0.0
        keep = np.zeros(s.num_words, dtype=bool)
        keep[: s.num_words // 2] = True
        half = redundancy_clusters(s, layers=[1], rows=keep)
        x = stored_values(acts).reshape(-1, 2, WIDTH)[keep, 1, :7]
        np.testing.assert_allclose(half.correlations[:7, :7],
                                   np.abs(np.corrcoef(x, rowvar=False)), atol=1e-9)
    np.testing.assert_array_equal(correlations(np.zeros((2, 2))), np.eye(2))


def test_bad_input(store):
    s, _ = store
    with pytest.raises(InputError, match="threshold"):
        redundancy_clusters(s, threshold=1.5)
    with pytest.raises(InputError, match="chunk_mb"):
        redundancy_clusters(s, chunk_mb=0)
    with pytest.raises(InputError, match="layer 5 is not in this store"):
        redundancy_clusters(s, layers=[5])
    with pytest.raises(InputError, match="bool mask"):
        redundancy_clusters(s, rows=np.ones(3, dtype=bool))
    with pytest.raises(InputError, match="at least 2 words"):
        redundancy_clusters(s, rows=np.zeros(s.num_words, dtype=bool))
