"""Random stores and a direct (naive) implementation of the top-words score for the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neuroheat.store import write_store


def small_mixed_store(dirpath: Path):
    """A 3-sentence store (Latin and Arabic words, 3 layers x 8 neurons, float32):
    ``(path, sentences, activations)``."""
    rng = np.random.default_rng(0)
    sents = [["The", "cat", "sat"], ["A", "dog", "ran", "far"], ["مرحبا", "بالعالم"]]
    acts = [rng.standard_normal((len(s), 3, 8)).astype(np.float32) for s in sents]
    path = Path(dirpath) / "acts.h5"
    write_store(path, sents, acts)
    return path, sents, acts


def random_corpus(seed: int, n_sentences: int = 30, n_types: int = 12, n_layers: int = 2,
                  width: int = 8, max_len: int = 9):
    """Sentences over a small vocabulary (many repeats) and float32 activations."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(n_types)] + ["é", "日本", "<b>"]
    sents = [[vocab[j] for j in rng.integers(0, len(vocab), rng.integers(1, max_len))]
             for _ in range(n_sentences)]
    acts = [rng.standard_normal((len(s), n_layers, width)).astype(np.float32) * 2 + 0.5
            for s in sents]
    return sents, acts


def write_shards(dirpath: Path, sents, acts, cuts: list[int], *, layers=None,
                 dtype: str = "float32") -> list[Path]:
    """Write sentences [cuts[i]:cuts[i+1]) to shard files (with the extractor's shard attrs)."""
    bounds = [0, *cuts, len(sents)]
    paths = []
    for i in range(len(bounds) - 1):
        a, b = bounds[i], bounds[i + 1]
        path = Path(dirpath) / f"acts-shard{i}of{len(bounds) - 1}.h5"
        write_store(path, sents[a:b], acts[a:b], layers=layers, dtype=dtype,
                    meta={"shard_index": i, "num_shards": len(bounds) - 1,
                          "num_sentences_total": len(sents), "sentence_start": a,
                          "sentence_stop": b})
        paths.append(path)
    return paths


def stored_values(acts, dtype: str = "float32") -> np.ndarray:
    """float64 ``[rows, n_layers, width]`` exactly as the store holds them."""
    return np.concatenate([np.asarray(a).astype(dtype).astype(np.float32) for a in acts]
                          ).astype(np.float64)


def naive_scores(words: list[str], values: np.ndarray, mu: float, sigma: float,
                 vmin: float, vmax: float) -> list[tuple[str, float]]:
    """NeuroX's loop: per word type (first-occurrence order) the mean of |a - mu| / sigma,
    divided by the largest, rounded to 12 decimals. [] for a constant neuron."""
    if vmin == vmax:
        return []
    agg: dict[str, tuple[float, int]] = {}
    for w, a in zip(words, values, strict=True):
        s, c = agg.get(w, (0.0, 0))
        agg[w] = (s + abs(float(a) - mu) / sigma, c + 1)
    means = [(w, s / c) for w, (s, c) in agg.items()]
    top = max(s for _, s in means)
    return [(w, float(np.round(s / top, 12))) for w, s in means]


def naive_top_words(words, values, mu, sigma, vmin, vmax, k, min_threshold):
    scored = naive_scores(words, values, mu, sigma, vmin, vmax)
    ranked = sorted(scored, key=lambda x: -x[1])  # stable: ties keep first occurrence
    ranked = [(w, s) for w, s in ranked if s > min_threshold]
    return ranked if k is None else ranked[:k]


def assert_same_ranking(got, expected, tol: float = 1e-6) -> None:
    assert [w for w, _ in got] == [w for w, _ in expected], (got, expected)
    for (_, a), (_, b) in zip(got, expected, strict=True):
        assert abs(a - b) <= tol, (got, expected)


def planted_corpus(seed: int, n_sentences: int, n_classes: int, plant, *, width: int = 8,
                   n_layers: int = 2):
    """``(sentences, activations, labels)`` for probing tests: random word classes per
    sentence (1..8 words), noise activations ``[n_words, n_layers, width]``, and
    ``plant(acts, classes)`` writing the signal into each sentence's array in place."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 9, n_sentences)
    labels = [rng.integers(0, n_classes, n).tolist() for n in lengths]
    sents = [[f"w{k}" for k in rng.integers(0, 20, n)] for n in lengths]
    acts = []
    for lab in labels:
        a = rng.standard_normal((len(lab), n_layers, width)).astype(np.float32)
        plant(a, np.asarray(lab))
        acts.append(a)
    return sents, acts, [[f"c{k}" for k in lab] for lab in labels]


def planted_signal_corpus(seed: int, n_sentences: int, *, width: int, n_layers: int = 2,
                          signal=((1, 0),), shift: float = 3.0, n_classes: int = 2,
                          lengths: tuple[int, int] = (4, 17), vocab: int = 30,
                          noise: bool = False):
    """``(sentences, activations, labels, noise)`` of a planted-signal probing store: per
    sentence ``rng.integers(*lengths)`` words ``w0..w{vocab-1}``, class ids in
    ``0..n_classes-1``, noise activations ``[words, n_layers, width]`` with ``shift · id``
    added at every ``(layer, neuron)`` of ``signal``; ``noise`` (when asked) is a second,
    unrelated label sequence. Drawn in that order from ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    lens = rng.integers(lengths[0], lengths[1], n_sentences)
    labs = [rng.integers(0, n_classes, n) for n in lens]
    noise_labs = [rng.integers(0, n_classes, n) for n in lens] if noise else None
    sents = [[f"w{k}" for k in rng.integers(0, vocab, n)] for n in lens]
    acts = []
    for lab in labs:
        a = rng.standard_normal((len(lab), n_layers, width)).astype(np.float32)
        for layer, neuron in signal:
            a[:, layer, neuron] += shift * lab.astype(np.float32)
        acts.append(a)
    return sents, acts, labs, noise_labs


def write_planted_store(path: Path, seed: int, n_sentences: int, *, dtype: str = "float16",
                        **options):
    """Write a :func:`planted_signal_corpus` store to ``path``; returns ``(path, labels,
    noise)`` (the class-id sequences, ``noise`` None unless asked)."""
    from neuroheat.store import write_store

    sents, acts, labs, noise = planted_signal_corpus(seed, n_sentences, **options)
    return write_store(path, sents, acts, dtype=dtype), labs, noise


def class_labels(labs, prefix: str = "c"):
    """:class:`~neuroheat.probing.Labels` named ``{prefix}{id}`` from per-sentence ids."""
    from neuroheat.probing import Labels

    return Labels.from_sentences([[f"{prefix}{k}" for k in s] for s in labs])
