"""Selectivity: which neurons respond to few words, and which stand out on one sentence.

A neuron's selectivity is the gap between its first and second top-word scores
(:func:`selectivity`; NeuroX scores, 0..1, so 0..1 too): the one definition that the
dashboard's index shows and sorts by and that the demo picks neurons with
(:func:`pick_neurons`). :func:`neuroheat.probing.selectivity` is another concept with the
literature's name (Hewitt & Liang's control-task selectivity: task minus control accuracy of
a probe); :func:`standout` measures one sentence, not a neuron's words.

Example:
    >>> import numpy as np
    >>> acts = np.array([[0.0, 1.0], [0.1, 1.1], [5.0, 0.9]])   # [words, neurons]
    >>> int(np.argmax(standout(acts)))
    0
    >>> table = nh.analysis.top_words_all("acts.h5", k=5)   # doctest: +SKIP
    >>> pick_neurons(table, n=4)                             # doctest: +SKIP
    [1021, 305, 1710, 66]
"""

from __future__ import annotations

import numpy as np

from neuroheat.analysis.top_words import TopWordsTable

__all__ = ["pick_neurons", "selectivity", "standout"]


def selectivity(table: TopWordsTable) -> np.ndarray:
    """float64 per table row: first minus second top-word score (0 without words; a neuron
    with one word has its score), rounded to 12 decimals so equal gaps compare equal.

    Example:
        >>> selectivity(top_words_all("acts.h5", k=2))[:2]   # doctest: +SKIP
        array([0.31, 0.02])
    """
    if table.scores.shape[1] == 0:
        return np.zeros(len(table))
    first = np.nan_to_num(table.scores[:, 0], nan=0.0)
    second = np.nan_to_num(table.scores[:, 1], nan=0.0) if table.scores.shape[1] > 1 else 0.0
    return np.round(first - second, 12)


def pick_neurons(table: TopWordsTable, n: int = 4, counts: np.ndarray | None = None,
                 min_count: int = 3) -> list[int]:
    """Rows of ``table`` of the most selective neurons: the largest :func:`selectivity`
    (gap between their first and second word's score), at most one per layer, deeper layers
    first on ties.

    With ``counts`` (occurrences per word type id), neurons whose top word occurs fewer than
    ``min_count`` times come last (a word seen once scores high by chance). Neurons without a
    top word are never picked.
    """
    if len(table) == 0 or table.scores.shape[1] == 0:
        return []
    first = np.nan_to_num(table.scores[:, 0], nan=0.0)
    gap = np.where(first > 0, selectivity(table), -1.0)
    rare = np.zeros(len(table), dtype=bool)
    if counts is not None:
        top = table.types[:, 0]
        rare = (top < 0) | (np.asarray(counts)[np.maximum(top, 0)] < min_count)
    order = np.lexsort((table.neuron, -table.layer, -np.round(gap, 9), rare))
    picked: list[int] = []
    layers_seen: set[int] = set()
    for i in order:
        if gap[i] < 0 or int(table.layer[i]) in layers_seen:
            continue
        picked.append(int(i))
        layers_seen.add(int(table.layer[i]))
        if len(picked) == n:
            break
    return picked


def standout(acts: np.ndarray) -> np.ndarray:
    """How much each neuron's activation on one word stands out from the rest of a sentence:
    ``max |a - median| / std`` over the words, per neuron (``acts`` is ``[n_words, n]``;
    the ``1e-6`` keeps constant neurons finite)."""
    dev = np.abs(acts - np.median(acts, axis=0))
    return dev.max(axis=0) / (acts.std(axis=0) + 1e-6)
