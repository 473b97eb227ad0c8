"""Batch planning: windows, length-sorted units that fill a token budget.

A *unit* is a group of whole sentences processed and written together; its windows run in one
or more forward passes (*micro-batches*) of at most ``batch_tokens`` padded tokens. The plan is
a pure function of the tokenized corpus and the settings, so a resumed run replays it exactly.

Example:
    >>> units = plan_units(encoded, n_special=2, capacity=510, batch_tokens=4096, causal=False)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from neuroheat.extract.align import Encoded, Window, make_windows


@dataclass
class Unit:
    sentences: list[int]
    windows: list[Window]
    micro: list[list[int]] = field(default_factory=list)
    n_rows: int = 0


def plan_units(
    encoded: Sequence[Encoded],
    *,
    n_special: int,
    capacity: int,
    batch_tokens: int,
    causal: bool,
) -> list[Unit]:
    """Sort sentences by length (longest first) and pack them into units under the budget."""
    per_sentence: list[list[Window]] = []
    longest = np.zeros(len(encoded), dtype=np.int64)
    for i, enc in enumerate(encoded):
        wins = make_windows(i, len(enc.ids), capacity, causal) if len(enc.ids) else []
        per_sentence.append(wins)
        longest[i] = max((w.stop - w.start for w in wins), default=0) + n_special
    order = sorted((i for i in range(len(encoded)) if per_sentence[i]),
                   key=lambda i: (-longest[i], i))
    units: list[Unit] = []
    current: Unit | None = None
    pad_len = 0
    for i in order:
        wins = per_sentence[i]
        if current is not None and max(pad_len, longest[i]) * (len(current.windows) + len(wins)) \
                > batch_tokens:
            units.append(current)
            current = None
        if current is None:
            current = Unit([], [])
            pad_len = int(longest[i])
        current.sentences.append(i)
        current.windows.extend(wins)
        pad_len = max(pad_len, int(longest[i]))
    if current is not None:
        units.append(current)
    for unit in units:
        unit.n_rows = sum(len(encoded[s].rows) for s in unit.sentences)
        lengths = [w.stop - w.start + n_special for w in unit.windows]
        group: list[int] = []
        group_max = 0
        for j, length in enumerate(lengths):
            if group and max(group_max, length) * (len(group) + 1) > batch_tokens:
                unit.micro.append(group)
                group, group_max = [], 0
            group.append(j)
            group_max = max(group_max, length)
        if group:
            unit.micro.append(group)
    return units


def plan_digest(units: Sequence[Unit]) -> str:
    """A fingerprint of the plan, checked when a run resumes."""
    h = hashlib.sha256()
    for u in units:
        h.update(np.asarray(u.sentences, dtype=np.int64).tobytes())
        h.update(np.asarray([len(m) for m in u.micro], dtype=np.int64).tobytes())
        h.update(b"|")
    return h.hexdigest()
