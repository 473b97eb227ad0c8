"""Analysis over an activation store: top words, a word's neurons, top contexts, statistics.

Pure numpy/scipy (never torch). Every function accepts a :class:`~neuroheat.store.Store`, a
sharded store, a path, a list of paths or a glob, streams rows in chunks (memory bounded by
``chunk_mb`` and the vocabulary, not the corpus), and merges per-shard partial results exactly.

Example:
    >>> import neuroheat as nh
    >>> nh.analysis.top_words("acts.h5", layer=3, neuron=17, k=5)     # doctest: +SKIP
    >>> nh.analysis.top_words_all("acts.h5", k=10).to_csv("top.csv")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from neuroheat.analysis.all_contexts import NeuronContexts, top_contexts_all
from neuroheat.analysis.contexts import Context, Contexts, top_contexts
from neuroheat.analysis.neuron_stats import NeuronStats, neuron_stats
from neuroheat.analysis.options import RunOptions
from neuroheat.analysis.results import TableResult
from neuroheat.analysis.source import open_source
from neuroheat.analysis.sparse import LatentDensity, dead_latents, latent_density
from neuroheat.analysis.top_words import (
    NeuronScore,
    NeuronScores,
    TopWords,
    TopWordsTable,
    top_words,
    top_words_all,
    word_neurons,
)

__all__ = [
    "Context",
    "Contexts",
    "LatentDensity",
    "NeuronContexts",
    "NeuronScore",
    "NeuronScores",
    "NeuronStats",
    "RunOptions",
    "TableResult",
    "TopWords",
    "TopWordsTable",
    "dead_latents",
    "latent_density",
    "neuron_stats",
    "open_source",
    "top_contexts",
    "top_contexts_all",
    "top_words",
    "top_words_all",
    "word_neurons",
]


def __getattr__(name: str) -> Any:
    # deprecated spelling: probing.top_neurons is NeuroX's weight-mass selection, a different concept
    if name == "top_neurons":
        from neuroheat.deprecation import renamed

        renamed("neuroheat.analysis.top_neurons", "neuroheat.analysis.word_neurons")
        return word_neurons
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
