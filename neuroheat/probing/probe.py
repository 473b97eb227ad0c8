"""Linear probes on store activations: :class:`Probe` (scikit-learn style).

Settings go to the constructor (a :class:`~neuroheat.probing.config.ProbeConfig`, or its
fields as keywords), :meth:`Probe.fit` reads the data from a store (streamed, see
:mod:`neuroheat.probing.data`; the split as a :class:`~neuroheat.probing.config.Split` or
``test_sentences=`` / ``test_fraction=``) and returns the probe. ``task="classification"`` trains a
multinomial logistic probe, ``task="regression"`` a linear one (numeric labels), both with
elastic-net regularisation ``l1 · Σ|W| + l2 · ‖W‖_F`` (NeuroX's, the Frobenius norm
unsquared). ``recipe="neurox"`` is NeuroX's training (Adam lr 1e-3, batches of 32 in corpus
order, 10 epochs; its defaults l1 = l2 = 1e-5); ``recipe="default"`` minimises the same
objective over the whole training split with L-BFGS (see :mod:`neuroheat.probing.training`)
and, unless ``l1`` or ``l2`` is given, first selects ``l2`` on a development split of the
training sentences (:mod:`neuroheat.probing.selection`; the choice is ``probe.selected``).
Both are seeded and deterministic; torch is imported only by the neurox recipe or a GPU
(the default recipe computes with numpy on the CPU).

After ``fit``: ``weights`` float64 ``[classes, neurons]`` (``[1, neurons]`` for regression),
``bias``, ``classes``, ``neurons`` (``(layer, index)`` per column), ``accuracy`` / ``f1``
(``{"train": f, "test": f}``), ``per_class`` (``{class: {"train": f, "test": f}}``) and for
regression ``correlation`` (``{"train": {"pearson", "spearman", "mse"}, "test": ...}``).
The rankings accept a probe directly (``top_neurons(probe, 0.5)``). ``save`` / ``load``: JSON,
no pickle.

Example:
    >>> with open_store("acts.h5") as store:                              # doctest: +SKIP
    ...     labels = read_labels("train.conllu", store=store)
    ...     probe = Probe(seed=0).fit(store, labels, layers="3",
    ...                               split=Split(test_fraction=0.2))
    >>> probe.accuracy, probe.selected["l2"], top_neurons(probe, 0.5)[0][:5]  # doctest: +SKIP
    >>> probe.save("probe.json"); Probe.load("probe.json")                # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.probing.config import RECIPES, ProbeConfig, Split, resolve
from neuroheat.probing.data import SPLITS, ProbeData
from neuroheat.probing.files import read_doc, write_doc
from neuroheat.probing.labels import Labels
from neuroheat.probing.metrics import classification_scores, regression_scores

_FORMAT_TAG = "neuroheat-probe"
_VERSION = 1
_CONFIG_FIELDS = frozenset(ProbeConfig.field_names())

__all__ = ["RECIPES", "Probe"]


class Probe:
    """A linear probe (see the module docstring). Settings: a :class:`ProbeConfig` and/or
    its fields as keywords (``Probe(l2=0.01, seed=1)``); they read as attributes
    (``probe.recipe``)."""

    def __init__(self, config: ProbeConfig | None = None, **settings: Any):
        if "config" in settings:
            raise InputError("Probe(config=...) takes the config once")
        self.config = ProbeConfig.build(config, **settings)
        self.weights: np.ndarray | None = None
        self.bias: np.ndarray | None = None
        self.classes: list[str] = []
        self.neurons: list[tuple[int, int]] = []
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.accuracy: dict[str, float | None] = {}
        self.f1: dict[str, float | None] = {}
        self.per_class: dict[str, dict[str, float | None]] = {}
        self.correlation: dict[str, dict[str, float | None]] = {}
        self.losses: list[float] = []
        self.num_rows: dict[str, int] = {}
        #: the penalties the fit used (``l1``, ``l2``)
        self.penalties: dict[str, float] = {}
        #: what the model selection chose (None when the penalty was given)
        self.selected: dict[str, Any] | None = None

    def __getattr__(self, name: str) -> Any:
        if name in _CONFIG_FIELDS:
            return getattr(self.__dict__["config"], name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        if self.weights is None:
            return f"Probe({self.task}, recipe={self.recipe!r}, not fitted)"
        return (f"Probe({self.task}, recipe={self.recipe!r}, {len(self.neurons)} neurons, "
                f"accuracy={self.accuracy})")

    def settings(self) -> dict[str, Any]:
        """The settings (the config's fields); ``l1`` / ``l2`` are the values the fit used
        once fitted (None before when they are to be selected)."""
        out = self.config.to_dict()
        out.update(self.penalties)
        return out

    # -- training ---------------------------------------------------------------------------
    def fit(self, store: Any, labels: Labels | ProbeData | None = None, *,
            layers: int | Sequence[int] | str | None = None,
            neurons: Sequence[Sequence[int]] | None = None, split: Split | None = None,
            **settings: Any) -> Probe:
        """Train on ``store`` with ``labels`` (or on a prepared :class:`ProbeData` given as
        ``store``) and score both splits; returns ``self``. ``split`` (or ``test_sentences=``
        / ``test_fraction=``) holds out the test sentences, seeded by ``seed``; data settings
        given here (``balance=``, ``standardize=``, ``chunk_mb=``, ``cache_mb=``) update the
        probe's config."""
        self.config, split = resolve(self.config, split, settings, where="Probe.fit")
        if isinstance(store, ProbeData):
            data = store
        else:
            if not isinstance(labels, Labels):
                raise InputError("fit(store, labels): labels must be a Labels object "
                                 "(read_labels(...))")
            data = ProbeData(store, labels, layers=layers, neurons=neurons,
                             config=self.config, split=split)
        if data.task != self.task:
            raise InputError(f"the data is for {data.task}, the probe for {self.task}")
        outputs = len(data.classes) if self.task == "classification" else 1
        if self.task == "classification" and outputs < 2:
            raise InputError(f"a classification probe needs at least 2 classes, got {outputs}")
        from neuroheat.probing import training

        l1, l2 = self.config.penalties()
        self.selected, train_columns = None, None
        if self.recipe == "neurox":
            w, b, losses = training.train_neurox(data, outputs, self.config)
        elif self.config.selects_penalty:
            from neuroheat.probing.selection import REFIT_ITERS, select_penalty

            choice = select_penalty(data, outputs, l1=l1, device=self.device)
            l2 = choice.l2
            fit = choice.fitter.fit(l2, min(self.max_iter, REFIT_ITERS))
            w, b, losses = fit.weight, fit.bias, fit.losses
            train_columns = choice.columns
            self.selected = {"l2": l2, "iterations": fit.iterations, "l1": l1,
                             "dev_fraction": data.split.dev_fraction,
                             "dev_rows": choice.dev_rows, "path": choice.path}
        else:
            fit = training.fit_lbfgs(data, outputs, l1=l1, l2=l2, max_iter=self.max_iter,
                                     device=self.device)
            w, b, losses = fit.weight, fit.bias, fit.losses
        self.weights, self.bias, self.losses = w, b, losses
        self.penalties = {"l1": l1, "l2": l2}
        self.classes = list(data.classes) if self.task == "classification" else ["value"]
        self.neurons = [(int(a), int(c)) for a, c in data.columns]
        self.mean, self.std = data.mean, data.std
        self._score(data, train_columns)
        return self

    # -- prediction and scores --------------------------------------------------------------
    def _check_fitted(self) -> tuple[np.ndarray, np.ndarray]:
        if self.weights is None or self.bias is None:
            raise InputError("the probe is not fitted yet: call fit(store, labels) first")
        return self.weights, self.bias

    def decision_function(self, x: np.ndarray, *, standardized: bool = False) -> np.ndarray:
        """float64 ``[rows, outputs]``: x W^T + b for raw activations ``x`` ``[rows,
        neurons]`` (standardised with the training moments unless ``standardized``)."""
        w, b = self._check_fitted()
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != w.shape[1]:
            raise InputError(f"x must be [rows, {w.shape[1]}], got shape {x.shape}")
        if not standardized and self.mean is not None and self.std is not None:
            x = (x - self.mean) / self.std
        return x @ w.T + b

    def predict(self, x: np.ndarray, *, standardized: bool = False) -> np.ndarray:
        """Class ids (int64) or values (float64) for raw activations ``x``."""
        out = self.decision_function(x, standardized=standardized)
        return out[:, 0] if self.task == "regression" else out.argmax(axis=1)

    def score(self, data: ProbeData) -> Probe:
        """Fill in the metrics of both splits of ``data`` (its columns must be the probe's)."""
        return self._score(data, None)

    def _score(self, data: ProbeData, train_columns: Any) -> Probe:
        """:meth:`score`; ``train_columns``: the training rows as ``(float32 [columns,
        rows], targets)`` in any order (the selection's copy), scored instead of reading
        them (the metrics do not depend on the order)."""
        if [tuple(c) for c in data.columns] != self.neurons:
            raise InputError("the data's neurons differ from the probe's")
        self.accuracy, self.f1, self.per_class, self.correlation = {}, {}, {}, {}
        per: dict[str, list[float | None]] = {}
        w, b = self._check_fitted()
        w32, b32 = w.astype(np.float32), b.astype(np.float32)  # block-sized, no float64 copy
        if train_columns is not None:
            data.read("test")  # the training rows are not read again
        for split in SPLITS:
            preds, trues = [], []
            if split == "train" and train_columns is not None:
                out_t = w32 @ train_columns[0] + b32[:, None]  # [outputs, rows]
                preds.append(out_t[0] if self.task == "regression" else out_t.argmax(axis=0))
                trues.append(train_columns[1])
            for x, y in [] if preds else data.chunks(split):
                out = np.asarray(x, dtype=np.float32) @ w32.T + b32
                preds.append(out[:, 0] if self.task == "regression" else out.argmax(axis=1))
                trues.append(y)
            y_pred = np.concatenate(preds) if preds else np.zeros(0)
            y_true = np.concatenate(trues) if trues else np.zeros(0)
            self.num_rows[split] = len(y_true)
            if self.task == "classification":
                s = classification_scores(y_true, y_pred, len(self.classes))
                self.accuracy[split], self.f1[split] = s["accuracy"], s["f1"]
                per[split] = s["per_class"]
            else:
                self.correlation[split] = regression_scores(y_true, y_pred)
                self.accuracy[split] = None
        if self.task == "classification":
            self.per_class = {c: {s: per[s][k] for s in SPLITS}
                              for k, c in enumerate(self.classes)}
        return self

    # -- files ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON document :meth:`save` writes."""
        w, b = self._check_fitted()
        return {"format": _FORMAT_TAG, "version": _VERSION, "settings": self.settings(),
                "classes": list(self.classes), "neurons": [list(n) for n in self.neurons],
                "weights": w.tolist(), "bias": b.tolist(),
                "mean": None if self.mean is None else self.mean.tolist(),
                "std": None if self.std is None else self.std.tolist(),
                "accuracy": self.accuracy, "f1": self.f1, "per_class": self.per_class,
                "correlation": self.correlation, "losses": list(self.losses),
                "num_rows": self.num_rows, "selected": self.selected}

    def save(self, path: str | os.PathLike) -> Path:
        """Write the probe as JSON (floats written exactly); :meth:`load` reads it back."""
        doc = self.to_dict()
        del doc["format"]
        return write_doc(path, _FORMAT_TAG, doc)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Probe:
        """Read a probe written by :meth:`save` (or a ``neuroheat probe`` RESULT.json)."""
        return cls.from_dict(read_doc(path, _FORMAT_TAG, "a probe", "Probe.save"))

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Probe:
        """The probe of a :meth:`to_dict` document."""
        settings = {k: v for k, v in doc["settings"].items() if k in _CONFIG_FIELDS}
        probe = cls(**settings)
        probe.penalties = {k: float(settings[k]) for k in ("l1", "l2")
                           if settings.get(k) is not None}
        probe.selected = doc.get("selected")
        probe.classes = list(doc["classes"])
        probe.neurons = [(int(a), int(c)) for a, c in doc["neurons"]]
        probe.weights = np.asarray(doc["weights"], dtype=np.float64).reshape(
            -1, len(probe.neurons))
        probe.bias = np.asarray(doc["bias"], dtype=np.float64)
        for key in ("mean", "std"):
            value = doc.get(key)
            setattr(probe, key, None if value is None else np.asarray(value, np.float64))
        probe.accuracy, probe.f1 = dict(doc["accuracy"]), dict(doc.get("f1", {}))
        probe.per_class = dict(doc["per_class"])
        probe.correlation = dict(doc.get("correlation", {}))
        probe.losses = [float(v) for v in doc.get("losses", [])]
        probe.num_rows = {k: int(v) for k, v in doc.get("num_rows", {}).items()}
        return probe

    def summary(self, control: Any = None) -> str:
        """One line: layers, neurons, classes, train / test scores, the selected penalty
        and, given a control task's result, its test accuracy and the selectivity."""
        def fmt(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.3f}"

        layers = sorted({lay for lay, _ in self.neurons})
        where = f"layer{'s' if len(layers) > 1 else ''} {','.join(map(str, layers))}"
        if self.task == "classification":
            score = (f"train accuracy {fmt(self.accuracy.get('train'))}, "
                     f"test {fmt(self.accuracy.get('test'))}")
            if control is not None:
                score += (f", control test {fmt(control['accuracy'].get('test'))}, "
                          f"selectivity {control['selectivity']:.3f}")
            what = f"{len(self.classes)} classes"
        else:
            score = (f"train pearson {fmt(self.correlation['train'].get('pearson'))}, "
                     f"test {fmt(self.correlation['test'].get('pearson'))}")
            what = "regression"
        if self.selected is not None:
            score += f"; l2 {self.selected['l2']:g} selected on a development split"
        return f"{where}, {len(self.neurons)} neurons, {what}: {score}"
