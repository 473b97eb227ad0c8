"""Control tasks (Hewitt & Liang 2019): how much of a probe's accuracy is the probe's own memory.

A control task keeps the shape of the real task but not its meaning: every word TYPE gets one
fixed random label, drawn (seeded) from the class distribution of the training rows, and
every occurrence of the type carries it. A probe that scores well on the control task can
memorise word identity; selectivity says how much better the real task is:

    selectivity = task accuracy − control accuracy

(on the test split when there is one, else on the training split). Rows whose label id is
negative (excluded) stay excluded.

Reference: Hewitt, Liang, "Designing and Interpreting Probes with Control Tasks", EMNLP 2019.

Example:
    >>> with open_store("acts.h5") as store:                               # doctest: +SKIP
    ...     labels = read_labels("train.conllu", store=store)
    ...     control_labels(labels, store, seed=0)          # Labels, same classes
    ...     control_task(store, labels, layers="3", test_fraction=0.2)
    ControlResult({'accuracy': {'train': 0.71, 'test': 0.52}, 'selectivity': 0.41, ...})
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.probing.config import ProbeConfig, Split, resolve
from neuroheat.probing.data import check_aligned
from neuroheat.probing.labels import Labels
from neuroheat.probing.results import ControlResult
from neuroheat.probing.splits import split_sentences

__all__ = ["control_labels", "control_task", "selectivity", "train_rows"]


def train_rows(store: Any, labels: Labels, *, test_sentences: Sequence[int] | None = None,
               test_fraction: float | None = None, seed: int = 0) -> np.ndarray:
    """bool ``[rows]``: the training rows of the split :class:`ProbeData` makes with the same
    arguments (valid labels, sentence not held out)."""
    test = split_sentences(store.num_sentences, test_sentences=test_sentences,
                           test_fraction=test_fraction, seed=seed)
    rows_test = np.repeat(test, np.diff(np.asarray(store.offsets)))
    return (np.asarray(labels.ids) >= 0) & ~rows_test


def control_labels(labels: Labels, store: Any, seed: int = 0, *,
                   train: np.ndarray | None = None) -> Labels:
    """The control task of ``labels``: one label per word type of ``store``, drawn with
    ``np.random.default_rng(seed)`` from the class frequencies of the ``train`` rows (bool
    row mask; every valid row when None). Types are taken in sorted order, so the result
    depends only on the seed, the vocabulary and the distribution. Same ``classes``."""
    check_aligned(store, labels)
    ids = np.asarray(labels.ids, dtype=np.int64)
    valid = ids >= 0
    mask = valid if train is None else np.asarray(train, dtype=bool) & valid
    if mask.shape != ids.shape:
        raise InputError(f"train= must be a bool mask of the {len(ids)} rows")
    if not mask.any():
        raise InputError("control task: no training rows to take the label distribution from")
    counts = np.bincount(ids[mask], minlength=len(labels.classes)).astype(np.float64)
    types, inverse = np.unique(np.asarray(store.all_words(), dtype=str),
                               return_inverse=True)
    rng = np.random.default_rng(seed)
    per_type = rng.choice(len(labels.classes), size=len(types), p=counts / counts.sum())
    new = np.where(valid, per_type[inverse.reshape(-1)], -1).astype(np.int64)
    return dataclasses.replace(labels, ids=new)


def selectivity(task_accuracy: dict[str, float | None],
                control_accuracy: dict[str, float | None]) -> float:
    """Task minus control accuracy, on ``"test"`` when both have it, else ``"train"``."""
    for split in ("test", "train"):
        a, b = task_accuracy.get(split), control_accuracy.get(split)
        if a is not None and b is not None:
            return float(a) - float(b)
    raise InputError("selectivity needs the accuracy of both tasks on one split")


def control_task(store: Any, labels: Labels, *, task_accuracy: dict[str, Any] | None = None,
                 layers: Any = None, neurons: Sequence[Sequence[int]] | None = None,
                 config: ProbeConfig | None = None, split: Split | None = None,
                 **settings: Any) -> ControlResult:
    """Train the same probe on the control task: a
    :class:`~neuroheat.probing.results.ControlResult` (``result["accuracy"]`` ``{"train",
    "test"}``, ``result["selectivity"]``, ``result["task"]``). ``task_accuracy`` is the real
    probe's accuracy (trained here with the same settings when None); ``config`` (or its
    fields as keywords: ``recipe=``, ``l2=``, ``seed=``, ...) sets both probes."""
    from neuroheat.probing.probe import Probe

    config, split = resolve(config, split, settings, where="control_task")
    if config.task != "classification":
        raise InputError("control tasks are for classification probes, not regression")
    cols: dict[str, Any] = dict(layers=layers, neurons=neurons, split=split)
    if task_accuracy is None:
        task_accuracy = Probe(config).fit(store, labels, **cols).accuracy
    seed = split.seed_or(config.seed)
    train = train_rows(store, labels, test_sentences=split.test_sentences,
                       test_fraction=split.test_fraction, seed=seed)
    control = control_labels(labels, store, config.seed, train=train)
    probe = Probe(config).fit(store, control, **cols)
    return ControlResult(dict(probe.accuracy), selectivity(task_accuracy, probe.accuracy),
                         dict(task_accuracy), split=split.to_json(config.seed))
