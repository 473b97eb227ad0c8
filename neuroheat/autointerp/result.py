"""EXPLAIN.json and its result object.

The file is ``{"explainer": {settings}, "neurons": [record, ...]}``; a record has exactly the
keys ``layer, neuron, explanation, explain_examples, score_examples, scores, error`` (see
the README's "Automatic explanations"). It is written atomically (a temporary file, then a
rename), so a reader never sees half a file.

Example:
    >>> res = ExplainResult.load("EXPLAIN.json")             # doctest: +SKIP
    >>> res.summary()                                         # doctest: +SKIP
    'explained 12 neurons, 0 failed; mean detection balanced accuracy 0.71, ...'
    >>> load_explanations("EXPLAIN.json")[(3, 17)].explanation   # doctest: +SKIP
    'dates and times'
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from neuroheat.errors import InputError
from neuroheat.jsonfiles import write_json

__all__ = ["RECORD_KEYS", "ExplainResult", "Explanation", "load_explanations"]

RECORD_KEYS = ("layer", "neuron", "explanation", "explain_examples", "score_examples",
               "scores", "error")
#: the metric shown as "the" score of a scorer (summary line and dashboard)
HEADLINE = {"detection": "balanced_accuracy", "fuzzing": "balanced_accuracy",
            "simulation": "correlation"}


class ExplainResult:
    """The explanations and scores of a run: ``settings`` (EXPLAIN.json's ``explainer``) and
    ``neurons`` (its records, in (layer, neuron) order)."""

    def __init__(self, settings: dict[str, Any], neurons: Iterable[dict[str, Any]]) -> None:
        self.settings = dict(settings)
        self.neurons = sorted(neurons, key=lambda r: (r["layer"], r["neuron"]))

    def to_dict(self) -> dict[str, Any]:
        return {"explainer": self.settings,
                "neurons": [{k: r.get(k) for k in RECORD_KEYS} for r in self.neurons]}

    def save(self, path: str | os.PathLike) -> Path:
        """Write EXPLAIN.json atomically; returns the path."""
        write_json(path, self.to_dict(), allow_nan=True)
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> ExplainResult:
        """Read an EXPLAIN.json."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(data["explainer"], data["neurons"])
        except FileNotFoundError:
            raise InputError(f"{path}: no such file; write it with neuroheat explain") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path} is not an EXPLAIN.json file ({exc}); write it with "
                             "neuroheat explain") from None

    def __len__(self) -> int:
        return len(self.neurons)

    def __getitem__(self, unit: tuple[int, int]) -> dict[str, Any]:
        for r in self.neurons:
            if (r["layer"], r["neuron"]) == tuple(unit):
                return r
        raise KeyError(unit)

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Records with an error (or without an explanation)."""
        return [r for r in self.neurons if r.get("error") or r.get("explanation") is None]

    def mean_scores(self) -> dict[str, float]:
        """Mean headline score per scorer over the neurons that have it."""
        out = {}
        for scorer, metric in HEADLINE.items():
            vals = [r["scores"][scorer][metric] for r in self.neurons
                    if (r.get("scores") or {}).get(scorer)]
            if vals:
                out[scorer] = sum(vals) / len(vals)
        return out

    def summary(self) -> str:
        """One line: neurons explained, failed, mean scores."""
        n_fail = len(self.failed)
        line = f"explained {len(self.neurons) - n_fail} neurons, {n_fail} failed"
        means = self.mean_scores()
        if means:
            line += "; mean " + ", ".join(
                f"{s} {HEADLINE[s].replace('_', ' ')} {v:.3f}" for s, v in means.items())
        return line

    def to_pandas(self) -> Any:
        """One row per neuron: layer, neuron, explanation, error and every metric as
        ``scorer.metric`` columns."""
        import pandas as pd

        rows = []
        for r in self.neurons:
            row = {"layer": r["layer"], "neuron": r["neuron"],
                   "explanation": r.get("explanation"), "error": r.get("error")}
            for scorer, metrics in (r.get("scores") or {}).items():
                for name, value in (metrics or {}).items():
                    row[f"{scorer}.{name}"] = value
            rows.append(row)
        return pd.DataFrame(rows)

    def show(self) -> str:
        """A plain-text table (one line per neuron) and the summary line."""
        lines = []
        for r in self.neurons:
            det = ((r.get("scores") or {}).get("detection") or {}).get("balanced_accuracy")
            score = f"{det:.2f}" if det is not None else "  - "
            text = r.get("explanation") or f"(failed: {r.get('error')})"
            lines.append(f"{r['layer']}:{r['neuron']}\t{score}\t{text}")
        lines.append(self.summary())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"ExplainResult({self.summary()})"


class Explanation(NamedTuple):
    """What a dashboard shows for one neuron: the explanation (None if it failed) and the
    detection score (balanced accuracy; None when not scored), plus every score."""

    explanation: str | None
    score: float | None
    scores: dict[str, Any]


def load_explanations(path: str | os.PathLike) -> dict[tuple[int, int], Explanation]:
    """``{(layer, neuron): Explanation}`` of an EXPLAIN.json (for the dashboard).

    Example:
        >>> found = load_explanations("EXPLAIN.json")      # doctest: +SKIP
        >>> found[(3, 17)].score                             # doctest: +SKIP
        0.85
    """
    out = {}
    for r in ExplainResult.load(path).neurons:
        scores = r.get("scores") or {}
        det = (scores.get("detection") or {}).get("balanced_accuracy")
        out[(int(r["layer"]), int(r["neuron"]))] = Explanation(r.get("explanation"), det,
                                                               scores)
    return out
