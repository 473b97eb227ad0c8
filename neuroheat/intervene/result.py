"""The result of ablation jobs: :class:`Effects` (EFFECTS.json) and :func:`load`.

EFFECTS.json has exactly the keys issue 20 fixes — ``model``, ``corpus``, ``method``,
``tokens``, ``clean`` (``ce``, ``entropy``), ``results`` (one entry per unit, or one for
``--jointly``: ``units``, ``delta_ce``, ``kl``, ``delta_entropy``, ``top_promoted``,
``top_suppressed``) — plus ``splice`` after ``--splice``. :func:`load` reads several files
(shards) or a glob as one result.

Example:
    >>> e = Effects("m", "c.txt", "zero", 3, {"ce": 1.0, "entropy": 2.0},
    ...             [{"units": ["mlp.1:0"], "delta_ce": 0.5, "kl": 0.1, "delta_entropy": 0.0,
    ...               "top_promoted": [], "top_suppressed": []}])
    >>> e.effect_of("mlp.1:0")["delta_ce"]
    0.5
"""

from __future__ import annotations

import glob
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuroheat.errors import InputError
from neuroheat.jsonfiles import write_json

__all__ = ["Effects", "load"]

KEYS = ("model", "corpus", "method", "tokens", "clean", "results")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


@dataclass
class Effects:
    """Ablation effects of units on the next-token predictions over one corpus."""

    model: str
    corpus: str
    method: str
    tokens: int
    clean: dict[str, Any]
    results: list[dict[str, Any]]
    splice: list[dict[str, Any]] | None = None
    settings: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        out = {"model": self.model, "corpus": self.corpus, "method": self.method,
               "tokens": self.tokens, "clean": self.clean, "results": self.results}
        if self.splice is not None:
            out["splice"] = self.splice
        return _finite(out)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Effects:
        return cls(**{k: data[k] for k in KEYS}, splice=data.get("splice"))

    def save(self, path: str | os.PathLike) -> Path:
        """Write EFFECTS.json."""
        if Path(path).suffix.lower() != ".json":
            raise InputError(f"{Path(path).name}: effects save as .json")
        return write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike | Sequence[str | os.PathLike]) -> Effects:
        """One file, several (shards) or a glob, read as one result."""
        return load(path)

    def effect_of(self, unit: str) -> dict[str, Any]:
        """The result entry of one unit (``"mlp.2:5"``)."""
        for r in self.results:
            if r["units"] == [unit]:
                return r
        raise InputError(f"no result for unit {unit!r} in these effects")

    def by_unit(self) -> dict[str, dict[str, Any]]:
        """Single-unit results by unit name (joint results are left out)."""
        return {r["units"][0]: r for r in self.results if len(r["units"]) == 1}

    def to_pandas(self) -> Any:
        """One row per result: ``units`` (joined by ``+``), ``delta_ce``, ``kl``,
        ``delta_entropy``."""
        import pandas as pd

        return pd.DataFrame([{"units": "+".join(r["units"]), "delta_ce": r["delta_ce"],
                              "kl": r["kl"], "delta_entropy": r["delta_entropy"]}
                             for r in self.results])

    def show(self, top: int = 20) -> str:
        """A text table of the ``top`` results by |delta_ce| (kl where delta_ce is null)."""
        def key(r: dict[str, Any]) -> float:
            return abs(r["delta_ce"] if r["delta_ce"] is not None else r["kl"])

        rows = sorted(self.results, key=key, reverse=True)[:top]
        lines = [f"{self.method} ablation over {self.tokens} tokens of {self.corpus} "
                 f"(clean CE {self.clean.get('ce')})",
                 f"{'units':<24} {'delta_ce':>10} {'kl':>10}  promoted / suppressed"]
        for r in rows:
            up = ", ".join(repr(t) for t, _ in r["top_promoted"][:3])
            down = ", ".join(repr(t) for t, _ in r["top_suppressed"][:3])
            dce = "null" if r["delta_ce"] is None else f"{r['delta_ce']:.5f}"
            lines.append(f"{'+'.join(r['units']):<24} {dce:>10} {r['kl']:>10.5f}  "
                         f"{up} / {down}")
        return "\n".join(lines)


def _paths(source: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    items = [source] if isinstance(source, str | os.PathLike) else list(source)
    out: list[Path] = []
    for item in items:
        text = os.fspath(item)
        matched = sorted(glob.glob(text)) if any(c in text for c in "*?[") else [text]
        if not matched:
            raise InputError(f"no effects file matches {text!r}")
        out += [Path(m) for m in matched]
    return out


def load(source: str | os.PathLike | Sequence[str | os.PathLike]) -> Effects:
    """Effects from EFFECTS.json files (shards of one job) or a glob, as one result.

    Example:
        >>> eff = load("effects.*-of-4.json")       # doctest: +SKIP
    """
    parts = []
    for path in _paths(source):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read effects {path}: {exc}") from None
        missing = [k for k in KEYS if not isinstance(data, dict) or k not in data]
        if missing:
            raise InputError(f"{path} is not an EFFECTS.json file: keys {', '.join(missing)} "
                             "are missing")
        parts.append(Effects.from_dict(data))
    first = parts[0]
    for p in parts[1:]:
        if (p.model, p.corpus, p.method, p.tokens) != (first.model, first.corpus, first.method,
                                                       first.tokens):
            raise InputError("these effects files come from different jobs (model, corpus, "
                             "method or token count differ); load them one by one")
    results = [r for p in parts for r in p.results]
    splice = [s for p in parts for s in (p.splice or [])] or None
    return Effects(first.model, first.corpus, first.method, first.tokens, first.clean, results,
                   splice)
