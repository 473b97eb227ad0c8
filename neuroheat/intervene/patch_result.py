"""The result of a patching job: :class:`PatchResult` (PATCH.json).

PATCH.json has exactly the keys issue 20 fixes: ``metric``, ``clean`` and ``corrupt`` (the
metric of each pair's clean and corrupt run) and ``results``, one entry per patched
(site, position) of a grid or per unit: ``site``, ``position``, ``units`` (null for grid
entries; for units ``site`` / ``position`` are null), ``score`` = mean over pairs of
(M_patched - M_corrupt) / (M_clean - M_corrupt) (pairs with M_clean = M_corrupt left out; null
when none is left), ``effect`` = mean over pairs of M_patched - M_corrupt, and ``per_pair``:
M_patched of each pair (estimated, M_corrupt + the attribution, with ``--method
attribution``).

Example:
    >>> r = PatchResult("logit_diff", [2.0], [0.0],
    ...                 [{"site": "resid.1", "position": 0, "units": None, "score": 0.5,
    ...                   "effect": 1.0, "per_pair": [1.0]}])
    >>> r.to_pandas()["score"].tolist()
    [0.5]
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.jsonfiles import read_json, write_json

__all__ = ["PatchResult", "entry"]

KEYS = ("metric", "clean", "corrupt", "results")


def _num(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def entry(site: str | None, position: int | None, units: list[str] | None,
          patched: np.ndarray, clean: np.ndarray, corrupt: np.ndarray) -> dict[str, Any]:
    """One result entry from the metric of each pair's patched, clean and corrupt run."""
    patched = np.asarray(patched, dtype=np.float64)
    effect = patched - corrupt
    keep = clean != corrupt
    score = float(np.mean(effect[keep] / (clean[keep] - corrupt[keep]))) if keep.any() else None
    return {"site": site, "position": position, "units": units,
            "score": None if score is None else _num(score), "effect": _num(effect.mean()),
            "per_pair": [_num(v) for v in patched]}


@dataclass
class PatchResult:
    """Activation (or attribution) patching scores of grid entries or units."""

    metric: str
    clean: list[float]
    corrupt: list[float]
    results: list[dict[str, Any]]
    settings: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "clean": self.clean, "corrupt": self.corrupt,
                "results": self.results}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PatchResult:
        return cls(*(data[k] for k in KEYS))

    def save(self, path: str | os.PathLike) -> Path:
        """Write PATCH.json."""
        if Path(path).suffix.lower() != ".json":
            raise InputError(f"{Path(path).name}: patching results save as .json")
        return write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike) -> PatchResult:
        """Read a file written by :meth:`save`."""
        return cls.from_dict(read_json(path, KEYS, "PATCH.json"))

    def to_pandas(self) -> Any:
        """One row per entry: ``site``, ``position``, ``units`` (joined by ``+``), ``score``,
        ``effect``."""
        import pandas as pd

        return pd.DataFrame([{"site": r["site"], "position": r["position"],
                              "units": None if r["units"] is None else "+".join(r["units"]),
                              "score": r["score"], "effect": r["effect"]}
                             for r in self.results])

    def grid(self) -> tuple[list[str], np.ndarray]:
        """The grid entries as sites and a ``[site, position]`` array of scores (NaN where
        null).

        Example:
            >>> sites, scores = result.grid()     # doctest: +SKIP
        """
        rows = [r for r in self.results if r["site"] is not None]
        if not rows:
            raise InputError("this result has no grid entries (it patched units)")
        sites = list(dict.fromkeys(r["site"] for r in rows))
        width = max(r["position"] for r in rows) + 1
        out = np.full((len(sites), width), np.nan)
        for r in rows:
            out[sites.index(r["site"]), r["position"]] = np.nan if r["score"] is None \
                else r["score"]
        return sites, out

    def show(self, kind: str = "text", *, top: int = 20, **options: Any) -> Any:
        """``kind="text"``: a table of the ``top`` entries by |effect|; ``"svg"``: the grid as
        a heatmap of sites x positions (a figure with ``save``; ``value="effect"`` colours by
        the effect, ``tokens=`` labels the positions)."""
        if kind == "svg":
            from neuroheat.viz.patching import patch_grid_svg

            return patch_grid_svg(self.to_dict(), **options)
        if kind != "text":
            raise InputError(f"kind must be 'text' or 'svg', not {kind!r}")
        rows = sorted(self.results, key=lambda r: abs(r["effect"] or 0.0), reverse=True)[:top]
        lines = [f"patching ({self.metric}) of {len(self.clean)} pair(s); mean clean "
                 f"{np.mean(self.clean):.4g}, corrupt {np.mean(self.corrupt):.4g}",
                 f"{'entry':<28} {'score':>10} {'effect':>10}"]
        for r in rows:
            name = "+".join(r["units"]) if r["units"] else f"{r['site']}@{r['position']}"
            score = "null" if r["score"] is None else f"{r['score']:.4f}"
            lines.append(f"{name:<28} {score:>10} {r['effect']:>10.4f}")
        return "\n".join(lines)
