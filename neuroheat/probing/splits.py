"""Train / test splits of a corpus by sentence: :func:`split_sentences`.

A probe is scored on sentences it never saw: ``test_sentences=(start, stop)`` holds out
sentences ``start..stop-1``, ``test_fraction=F`` a seeded random ``round(F · n)`` of them.

Example:
    >>> split_sentences(4, test_sentences=(1, 3)).tolist()
    [False, True, True, False]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neuroheat.errors import InputError

__all__ = ["split_sentences"]


def split_sentences(num_sentences: int, *, test_sentences: Sequence[int] | None = None,
                    test_fraction: float | None = None, seed: int = 0) -> np.ndarray:
    """bool ``[num_sentences]``: True for held-out (test) sentences (none when neither is
    given)."""
    test = np.zeros(num_sentences, dtype=bool)
    if test_sentences is not None and test_fraction is not None:
        raise InputError("give either test_sentences=(start, stop) or test_fraction=, not both")
    if test_sentences is not None:
        if len(test_sentences) != 2:
            raise InputError(f"test_sentences must be (start, stop), got {test_sentences!r}")
        a, b = (int(v) for v in test_sentences)
        if not 0 <= a < b <= num_sentences:
            raise InputError(f"test_sentences=({a}, {b}) is not a non-empty range of the "
                             f"{num_sentences} sentences (0 <= start < stop <= "
                             f"{num_sentences})")
        test[a:b] = True
    elif test_fraction is not None:
        f = float(test_fraction)
        if not 0.0 < f < 1.0:
            raise InputError(f"test_fraction must be between 0 and 1 (exclusive), got {f}")
        k = round(f * num_sentences)
        if not 0 < k < num_sentences:
            raise InputError(f"test_fraction={f} of {num_sentences} sentences leaves no "
                             "train or no test sentence")
        test[np.random.default_rng(seed).permutation(num_sentences)[:k]] = True
    return test
