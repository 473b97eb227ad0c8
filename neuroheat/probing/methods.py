"""Neuron-ranking methods by name: the registry behind ``neuroheat rank --method``.

Every method is a function ``(store, labels, layers, **options) -> Ranking`` (or a column
order, most important first). Registered:

- ``weights``: train a :class:`~neuroheat.probing.probe.Probe` on the training split and rank
  by :func:`~neuroheat.probing.rankings.neuron_ordering` of its weights (Dalvi et al. 2019);
- ``probeless``: :func:`~neuroheat.probing.means.probeless` on the training rows
  (Antverg & Belinkov 2022);
- ``gaussian`` (``neuroheat.probing.gaussian_probe``) and ``iou`` (``neuroheat.probing.iou_masks``),
  imported on first use; :func:`get_method` says so in one line when a module is missing.

Options a method's function does not accept are dropped (unless it takes ``**kwargs``), so
one set of CLI options serves every method. Held-out sentences (``test_sentences`` /
``test_fraction``) are never seen by any method: a function that takes no split gets labels
whose held-out rows are excluded (id -1).

Example:
    >>> sorted(METHODS)
    ['gaussian', 'iou', 'probeless', 'weights']
    >>> rank("probeless", store, labels, "3", test_fraction=0.2).pairs(5)   # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.probing.config import ProbeConfig, Split, resolve
from neuroheat.probing.labels import Labels
from neuroheat.probing.result import Ranking

__all__ = ["METHODS", "available", "get_method", "rank", "train_labels"]

#: method name → (module, function)
METHODS: dict[str, tuple[str, str]] = {
    "weights": ("neuroheat.probing.methods", "weights_ranking"),
    "probeless": ("neuroheat.probing.methods", "probeless_ranking"),
    "gaussian": ("neuroheat.probing.gaussian_probe", "gaussian"),
    "iou": ("neuroheat.probing.iou_masks", "iou"),
}


def available(name: str) -> bool:
    """Whether method ``name`` is registered and its module can be imported."""
    if name not in METHODS:
        return False
    return importlib.util.find_spec(METHODS[name][0]) is not None


def get_method(name: str) -> Callable[..., Any]:
    """The function of method ``name`` (InputError, one line, when unknown or missing)."""
    if name not in METHODS:
        raise InputError(f"unknown ranking method {name!r}; choose one of "
                         f"{', '.join(sorted(METHODS))}")
    module, func = METHODS[name]
    if not available(name):
        raise InputError(f"ranking method {name!r} needs the module {module}, which this "
                         "version of neuroheat does not have yet; use --method weights or "
                         "--method probeless")
    return getattr(importlib.import_module(module), func)


def _accepted(func: Callable[..., Any], options: dict[str, Any]) -> dict[str, Any]:
    params = inspect.signature(func).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return dict(options)
    names = {p.name for p in params}
    return {k: v for k, v in options.items() if k in names}


def _expand(options: dict[str, Any]) -> dict[str, Any]:
    """``config=`` / ``split=`` objects spelled out as keywords (the explicit keywords win)."""
    config, split = options.pop("config", None), options.pop("split", None)
    base: dict[str, Any] = {}
    if config is not None:
        base.update(config.to_dict())
    if split is not None:
        base.update(test_sentences=split.test_sentences, test_fraction=split.test_fraction,
                    dev_fraction=split.dev_fraction)
        if split.seed is not None:
            base["seed"] = split.seed
    return {**base, **options}


def rank(name: str, store: Any, labels: Labels, layers: Any = None,
         **options: Any) -> Ranking:
    """Rank the neurons of ``layers`` with method ``name`` on the training rows; a plain
    column order is wrapped in a :class:`Ranking` (scores: n − position). ``options``: the
    method's own (``k=``, ``quantile=``, ...) and the probing settings (``config=``,
    ``split=``, or their fields as keywords); each method gets those it takes."""
    from neuroheat.probing.data import select_columns

    func = get_method(name)
    options = _expand(options)
    accepted = _accepted(func, options)
    if "test_sentences" not in accepted and "test_fraction" not in accepted:
        labels = train_labels(store, labels, test_sentences=options.get("test_sentences"),
                              test_fraction=options.get("test_fraction"),
                              seed=options.get("seed", 0))
    result = func(store, labels, layers, **accepted)
    if isinstance(result, Ranking):
        return result
    order = np.asarray(result, dtype=np.int64).reshape(-1)
    neurons = np.asarray(select_columns(store, layers), dtype=np.int64).reshape(-1, 2)
    scores = np.zeros(len(neurons))
    scores[order] = len(order) - np.arange(len(order))
    return Ranking(order=order, scores=scores, neurons=neurons, method=name)


def train_labels(store: Any, labels: Labels, *, test_sentences: Any = None,
                 test_fraction: float | None = None, seed: int = 0) -> Labels:
    """``labels`` with the held-out rows' ids set to -1 (excluded)."""
    from neuroheat.probing.control import train_rows

    if test_sentences is None and test_fraction is None:
        return labels
    keep = train_rows(store, labels, test_sentences=test_sentences,
                      test_fraction=test_fraction, seed=seed)
    ids = np.where(keep, np.asarray(labels.ids, dtype=np.int64), -1)
    return dataclasses.replace(labels, ids=ids)


def weights_ranking(store: Any, labels: Labels, layers: Any = None, *,
                    config: ProbeConfig | None = None, split: Split | None = None,
                    **settings: Any) -> Ranking:
    """Train a probe on the training split; rank by ``neuron_ordering`` of its weights
    (scores: 1 − entry mass, 0 for neurons no class selects)."""
    from neuroheat.probing.probe import Probe
    from neuroheat.probing.rankings import entry_mass, neuron_ordering

    config, split = resolve(config, split, settings, where="weights_ranking")
    probe = Probe(config).fit(store, labels, layers=layers, split=split)
    mass = entry_mass(probe)
    scores = np.where(np.isfinite(mass), 1.0 - mass, 0.0)
    return Ranking(order=neuron_ordering(probe), scores=scores,
                   neurons=np.asarray(probe.neurons, dtype=np.int64).reshape(-1, 2),
                   method="weights")


def probeless_ranking(store: Any, labels: Labels, layers: Any = None, *,
                      test_sentences: Any = None, test_fraction: float | None = None,
                      seed: int = 0, chunk_mb: float | None = None) -> Ranking:
    """:func:`~neuroheat.probing.means.probeless` on the training rows only."""
    from neuroheat.probing.means import probeless

    train = train_labels(store, labels, test_sentences=test_sentences,
                         test_fraction=test_fraction, seed=seed)
    kw = {} if chunk_mb is None else {"chunk_mb": chunk_mb}
    return probeless(store, train, layers, **kw)
