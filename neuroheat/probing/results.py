"""Results of probing runs as objects: :class:`LayerwiseResult`, :class:`ControlResult` and
:class:`ProbeResult` (what ``neuroheat probe`` writes); ``AblationResult`` is beside its
figure in :mod:`neuroheat.probing.ablations`.

Each reads like the dict the functions used to return (``result["top"]["0.1"]``,
``for layer in result``) and has ``to_dict`` / ``save`` / ``load`` (tagged JSON through
:mod:`neuroheat.probing.files`, no pickle), ``to_pandas`` (one row per number) and ``show``
(a figure where there is one to draw, else a one-line summary).

Example:
    >>> r = LayerwiseResult({0: {"train": 0.9, "test": 0.8}, 1: {"train": 0.95, "test": 0.9}})
    >>> r[1]["test"], r.best()
    (0.9, 1)
    >>> r.save("layers.json"); LayerwiseResult.load("layers.json") == r     # doctest: +SKIP
    True
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.probing.files import read_doc, write_doc

__all__ = ["ControlResult", "LayerwiseResult", "ProbeResult", "Result"]


def frame(rows: list[dict[str, Any]], what: str) -> Any:
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(f"{what}.to_pandas needs pandas, which is not installed: pip "
                          "install pandas (or use to_dict)") from None
    return pd.DataFrame(rows)


class Result(Mapping):
    """A read-only mapping over ``self._table`` with tagged-JSON save / load."""

    _TAG = ""
    _table: dict[Any, Any]

    def __getitem__(self, key: Any) -> Any:
        return self._table[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._table!r})"

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def save(self, path: str | os.PathLike) -> Path:
        """Write the result as JSON; :meth:`load` reads it back."""
        return write_doc(path, self._TAG, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike) -> Any:
        """Read a result written by :meth:`save`."""
        return cls.from_dict(read_doc(path, cls._TAG, f"a {cls.__name__}",
                                      f"{cls.__name__}.save"))


class LayerwiseResult(Result):
    """One probe per layer: ``result[layer] = {"train": acc, "test": acc}`` (Pearson r for
    regression), with the ``split`` and the probes' ``selected`` penalties per layer."""

    _TAG = "neuroheat-layerwise"

    def __init__(self, table: dict[int, dict[str, float | None]], *,
                 split: dict[str, Any] | None = None, metric: str = "accuracy",
                 selected: dict[int, Any] | None = None):
        self._table = {int(k): dict(v) for k, v in table.items()}
        self.split, self.metric = split, metric
        self.selected = {int(k): v for k, v in (selected or {}).items()}

    def best(self, split: str = "test") -> int:
        """The layer with the highest score on ``split`` (the lower layer on ties)."""
        return max(self._table, key=lambda lay: (self._table[lay].get(split) or -np.inf,
                                                 -lay))

    def to_dict(self) -> dict[str, Any]:
        return {"layers": {str(k): v for k, v in self._table.items()}, "split": self.split,
                "metric": self.metric,
                "selected": {str(k): v for k, v in self.selected.items()}}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> LayerwiseResult:
        return cls({int(k): v for k, v in doc["layers"].items()}, split=doc.get("split"),
                   metric=doc.get("metric", "accuracy"), selected=doc.get("selected"))

    def to_pandas(self) -> Any:
        """One row per layer: ``layer``, ``train``, ``test``."""
        return frame([{"layer": lay, **v} for lay, v in self._table.items()],
                      "LayerwiseResult")

    def show(self, title: str = "layer-wise probing") -> Any:
        """The layer-wise figure (:func:`~neuroheat.probing.figures.layerwise_figure`)."""
        from neuroheat.probing.figures import layerwise_figure

        return layerwise_figure(self._table, title=title, ylabel=self.metric)


class ControlResult(Result):
    """A control task (Hewitt & Liang 2019): ``result["accuracy"]`` (the control probe's
    ``{"train", "test"}``), ``result["selectivity"]`` and ``result["task"]`` (the real
    probe's accuracy)."""

    _TAG = "neuroheat-control"

    def __init__(self, accuracy: dict[str, Any], selectivity: float, task: dict[str, Any],
                 *, split: dict[str, Any] | None = None):
        self._table = {"accuracy": dict(accuracy), "selectivity": float(selectivity),
                       "task": dict(task)}
        self.split = split

    @property
    def selectivity(self) -> float:
        return float(self._table["selectivity"])

    def to_dict(self) -> dict[str, Any]:
        return {**self._table, "split": self.split}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ControlResult:
        return cls(doc["accuracy"], doc["selectivity"], doc["task"], split=doc.get("split"))

    def to_pandas(self) -> Any:
        """One row per (probe, split): ``probe`` (task / control), ``split``, ``accuracy``."""
        return frame([{"probe": probe, "split": s, "accuracy": acc}
                       for probe, key in (("task", "task"), ("control", "accuracy"))
                       for s, acc in self._table[key].items()], "ControlResult")

    def show(self) -> str:
        """A one-line summary (two numbers: no figure)."""
        acc, task = self._table["accuracy"], self._table["task"]
        split = "test" if acc.get("test") is not None else "train"
        return (f"{split} accuracy: task {task.get(split):.3f}, control {acc.get(split):.3f}, "
                f"selectivity {self.selectivity:.3f}")


class ProbeResult(Result):
    """What ``neuroheat probe`` writes: the probe's document (``Probe.load`` reads it) plus
    ``ranking`` (columns by ``neuron_ordering``), ``split`` and, with a control task,
    ``control`` (``{"accuracy", "selectivity"}``). ``probe`` is the :class:`Probe`."""

    _TAG = "neuroheat-probe"

    def __init__(self, probe: Any, *, split: dict[str, Any] | None = None,
                 control: ControlResult | None = None):
        from neuroheat.probing.rankings import neuron_ordering

        self.probe, self.split, self.control = probe, split, control
        self._table = {k: v for k, v in probe.to_dict().items() if k != "format"}
        self._table["ranking"] = [int(c) for c in neuron_ordering(probe)]
        self._table["split"] = split
        if control is not None:
            self._table["control"] = {"accuracy": control["accuracy"],
                                      "selectivity": control["selectivity"]}

    def to_dict(self) -> dict[str, Any]:
        return dict(self._table)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ProbeResult:
        from neuroheat.probing.probe import Probe

        probe = Probe.from_dict(doc)
        control = None
        if doc.get("control") is not None:
            c = doc["control"]
            control = ControlResult(c["accuracy"], c["selectivity"], dict(probe.accuracy))
        return cls(probe, split=doc.get("split"), control=control)

    def to_pandas(self) -> Any:
        """One row per class: ``class``, ``train``, ``test`` (per-class accuracy)."""
        return frame([{"class": c, **v} for c, v in self.probe.per_class.items()],
                      "ProbeResult")

    def show(self) -> str:
        """A one-line summary, as ``neuroheat probe`` prints it."""
        return self.probe.summary(self.control)
