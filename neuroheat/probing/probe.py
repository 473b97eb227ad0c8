"""Linear probes on store activations: :class:`Probe` (scikit-learn style).

Settings go to the constructor, :meth:`Probe.fit` reads the data from a store (streamed, see
:mod:`neuroheat.probing.data`) and returns the probe. ``task="classification"`` trains a
multinomial logistic probe, ``task="regression"`` a linear one (numeric labels), both with
elastic-net regularisation ``l1 · Σ|W| + l2 · ‖W‖_F`` (NeuroX's, the Frobenius norm
unsquared). ``recipe="neurox"`` is NeuroX's training (Adam lr 1e-3, batches of 32 in corpus
order, 10 epochs; its defaults l1 = l2 = 1e-5); ``recipe="default"`` minimises the same
objective over the whole training split with L-BFGS (see :mod:`neuroheat.probing.training`).
Both are seeded and deterministic; torch is imported only when a probe trains.

After ``fit``: ``weights`` float64 ``[classes, neurons]`` (``[1, neurons]`` for regression),
``bias``, ``classes``, ``neurons`` (``(layer, index)`` per column), ``accuracy`` / ``f1``
(``{"train": f, "test": f}``), ``per_class`` (``{class: {"train": f, "test": f}}``) and for
regression ``correlation`` (``{"train": {"pearson", "spearman", "mse"}, "test": ...}``).
The rankings accept a probe directly (``top_neurons(probe, 0.5)``). ``save`` / ``load``: JSON,
no pickle.

Example:
    >>> with open_store("acts.h5") as store:                              # doctest: +SKIP
    ...     labels = read_labels("train.conllu", store=store)
    ...     probe = Probe(l1=1e-5, l2=1e-5, seed=0).fit(store, labels, layers="3",
    ...                                                  test_fraction=0.2)
    >>> probe.accuracy, top_neurons(probe, 0.5)[0][:5]                    # doctest: +SKIP
    >>> probe.save("probe.json"); Probe.load("probe.json")                # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.probing.data import DEFAULT_CACHE_MB, SPLITS, TASKS, ProbeData
from neuroheat.probing.files import read_doc, write_doc
from neuroheat.probing.labels import Labels
from neuroheat.probing.metrics import classification_scores, regression_scores
from neuroheat.probing.training import DEFAULT_MAX_ITER
from neuroheat.store.base import DEFAULT_CHUNK_MB

RECIPES = ("default", "neurox")
_FORMAT_TAG = "neuroheat-probe"
_VERSION = 1
_SETTINGS = ("task", "recipe", "l1", "l2", "epochs", "batch_size", "lr", "max_iter", "seed",
             "device")

__all__ = ["RECIPES", "Probe"]


class Probe:
    """A linear probe (see the module docstring)."""

    def __init__(self, *, task: str = "classification", recipe: str = "default",
                 l1: float = 1e-5, l2: float = 1e-5, epochs: int = 10, batch_size: int = 32,
                 lr: float = 1e-3, max_iter: int = DEFAULT_MAX_ITER, seed: int = 0,
                 device: str | None = None):
        if task not in TASKS:
            raise InputError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
        if recipe not in RECIPES:
            raise InputError(f"unknown recipe {recipe!r}; choose one of {', '.join(RECIPES)}")
        if float(l1) < 0 or float(l2) < 0:
            raise InputError(f"l1 and l2 must be >= 0, got l1={l1}, l2={l2}")
        self.task, self.recipe = task, recipe
        self.l1, self.l2, self.lr = float(l1), float(l2), float(lr)
        self.epochs, self.batch_size, self.max_iter = int(epochs), int(batch_size), int(max_iter)
        self.seed, self.device = int(seed), device
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

    def __repr__(self) -> str:
        if self.weights is None:
            return f"Probe({self.task}, recipe={self.recipe!r}, not fitted)"
        return (f"Probe({self.task}, recipe={self.recipe!r}, {len(self.neurons)} neurons, "
                f"accuracy={self.accuracy})")

    def settings(self) -> dict[str, Any]:
        """The constructor's settings."""
        return {k: getattr(self, k) for k in _SETTINGS}

    # -- training ---------------------------------------------------------------------------
    def fit(self, store: Any, labels: Labels | ProbeData | None = None, *,
            layers: int | Sequence[int] | str | None = None,
            neurons: Sequence[Sequence[int]] | None = None,
            test_sentences: Sequence[int] | None = None, test_fraction: float | None = None,
            balance: bool = False, standardize: bool = False,
            chunk_mb: float = DEFAULT_CHUNK_MB, cache_mb: float = DEFAULT_CACHE_MB) -> Probe:
        """Train on ``store`` with ``labels`` (or on a prepared :class:`ProbeData` given as
        ``store``) and score both splits; returns ``self``. The split is seeded by ``seed``."""
        if isinstance(store, ProbeData):
            data = store
        else:
            if not isinstance(labels, Labels):
                raise InputError("fit(store, labels): labels must be a Labels object "
                                 "(read_labels(...))")
            data = ProbeData(store, labels, layers=layers, neurons=neurons,
                             test_sentences=test_sentences, test_fraction=test_fraction,
                             balance=balance, standardize=standardize, seed=self.seed,
                             task=self.task, chunk_mb=chunk_mb, cache_mb=cache_mb)
        if data.task != self.task:
            raise InputError(f"the data is for {data.task}, the probe for {self.task}")
        outputs = len(data.classes) if self.task == "classification" else 1
        if self.task == "classification" and outputs < 2:
            raise InputError(f"a classification probe needs at least 2 classes, got {outputs}")
        from neuroheat.probing import training

        if self.recipe == "neurox":
            w, b, losses = training.train_neurox(
                data, outputs, l1=self.l1, l2=self.l2, epochs=self.epochs,
                batch_size=self.batch_size, lr=self.lr, seed=self.seed, device=self.device)
        else:
            w, b, losses = training.train_lbfgs(data, outputs, l1=self.l1, l2=self.l2,
                                                max_iter=self.max_iter, seed=self.seed,
                                                device=self.device)
        self.weights, self.bias, self.losses = w, b, losses
        self.classes = list(data.classes) if self.task == "classification" else ["value"]
        self.neurons = [(int(a), int(c)) for a, c in data.columns]
        self.mean, self.std = data.mean, data.std
        self.score(data)
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
        if [tuple(c) for c in data.columns] != self.neurons:
            raise InputError("the data's neurons differ from the probe's")
        self.accuracy, self.f1, self.per_class, self.correlation = {}, {}, {}, {}
        per: dict[str, list[float | None]] = {}
        w, b = self._check_fitted()
        w32, b32 = w.astype(np.float32), b.astype(np.float32)  # block-sized, no float64 copy
        for split in SPLITS:
            preds, trues = [], []
            for x, y in data.chunks(split):
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
                "num_rows": self.num_rows}

    def save(self, path: str | os.PathLike) -> Path:
        """Write the probe as JSON (floats written exactly); :meth:`load` reads it back."""
        doc = self.to_dict()
        del doc["format"]
        return write_doc(path, _FORMAT_TAG, doc)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Probe:
        """Read a probe written by :meth:`save`."""
        doc = read_doc(path, _FORMAT_TAG, "a probe", "Probe.save")
        probe = cls(**doc["settings"])
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
