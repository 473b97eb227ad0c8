"""Result objects of the lens jobs: :class:`LensResult` and :class:`DLAResult`.

Each has ``save`` / ``load`` (JSON with the keys issue 21 fixes, which scripts rely on),
``to_pandas`` and ``show`` (a figure drawn by :mod:`neuroheat.viz.lens` from the plain data).

Example:
    >>> res = LensResult(["a"], [0], [[[["b", 1.0]]]], [[0.0]], [[0.0]])
    >>> LensResult.from_dict(res.to_dict()).tokens
    ['a']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuroheat.errors import InputError
from neuroheat.jsonfiles import read_json, write_json

__all__ = ["DLAResult", "LensResult"]


def _write(data: dict[str, Any], path: str | Path) -> Path:
    if Path(path).suffix.lower() != ".json":
        raise InputError(f"{Path(path).name}: results save as .json; draw figures with show()")
    return write_json(path, data)


@dataclass
class LensResult:
    """What each layer predicts at each position (``[layer][position]`` lists).

    ``top[l][t]`` is ``[[token_text, prob], ...]`` (K most probable), ``entropy`` and
    ``kl_to_final`` (``KL(p_final ‖ p_l)``) are in nats; ``target`` (or None) is
    ``{"token", "logprob", "rank"}`` with rank 0 = top.
    """

    tokens: list[str]
    layers: list[int]
    top: list[list[list[list[Any]]]]
    entropy: list[list[float]]
    kl_to_final: list[list[float]]
    target: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    KEYS = ("tokens", "layers", "top", "entropy", "kl_to_final")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in self.KEYS}
        if self.target is not None:
            out["target"] = self.target
        out.update({k: v for k, v in self.meta.items() if k not in out})
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LensResult:
        meta = {k: v for k, v in data.items() if k not in (*cls.KEYS, "target")}
        return cls(*(data[k] for k in cls.KEYS), target=data.get("target"), meta=meta)

    def save(self, path: str | Path) -> Path:
        """Write the JSON file (``.json``)."""
        return _write(self.to_dict(), path)

    @classmethod
    def load(cls, path: str | Path) -> LensResult:
        """Read a file written by :meth:`save`."""
        return cls.from_dict(read_json(path, cls.KEYS, "lens result"))

    def to_pandas(self) -> Any:
        """One row per (layer, position): top token and probability, entropy, KL to the final
        layer (and the target's log-probability and rank)."""
        import pandas as pd

        rows = []
        for i, layer in enumerate(self.layers):
            for t, token in enumerate(self.tokens):
                best = self.top[i][t][0] if self.top[i][t] else [None, math.nan]
                row = {"layer": layer, "position": t, "token": token, "top_token": best[0],
                       "top_prob": best[1], "entropy": self.entropy[i][t],
                       "kl_to_final": self.kl_to_final[i][t]}
                if self.target is not None:
                    row["target_logprob"] = self.target["logprob"][i][t]
                    row["target_rank"] = self.target["rank"][i][t]
                rows.append(row)
        return pd.DataFrame(rows)

    def show(self, kind: str = "svg", *, color: str | None = None, **options: Any) -> Any:
        """The prediction-trajectory table: ``kind="svg"`` (a figure with ``save``) or
        ``"html"`` (an offline page with the top-K on hover). ``color``: ``entropy`` (default)
        or ``target`` (the target's log-probability)."""
        from neuroheat.viz.lens import lens_html, lens_table_svg

        if kind not in ("svg", "html"):
            raise InputError(f"kind must be 'svg' or 'html', not {kind!r}")
        draw = lens_table_svg if kind == "svg" else lens_html
        return draw(self.to_dict(), color=color, **options)


@dataclass
class DLAResult:
    """Direct logit attribution at one position: components and neurons, in logit units."""

    answer: str
    foil: str | None
    position: int
    logit: float
    bias: float
    components: list[dict[str, Any]]
    neurons: list[dict[str, Any]] = field(default_factory=list)
    softcap: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    KEYS = ("answer", "foil", "position", "logit", "bias", "components", "neurons")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in self.KEYS}
        out["softcap"] = self.softcap
        out.update({k: v for k, v in self.meta.items() if k not in out})
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DLAResult:
        meta = {k: v for k, v in data.items() if k not in (*cls.KEYS, "softcap")}
        return cls(*(data[k] for k in cls.KEYS), softcap=data.get("softcap"), meta=meta)

    def save(self, path: str | Path) -> Path:
        """Write the JSON file (``.json``)."""
        return _write(self.to_dict(), path)

    @classmethod
    def load(cls, path: str | Path) -> DLAResult:
        """Read a file written by :meth:`save`."""
        return cls.from_dict(read_json(path, cls.KEYS, "DLA result"))

    def to_pandas(self) -> Any:
        """One row per component, then per neuron: ``kind``, ``name``, ``value``."""
        import pandas as pd

        rows = [{"kind": "component", "name": c["name"], "value": c["value"]}
                for c in self.components]
        rows += [{"kind": "neuron", "name": n["unit"], "value": n["value"]} for n in self.neurons]
        rows.append({"kind": "bias", "name": "bias", "value": self.bias})
        return pd.DataFrame(rows)

    def show(self, **options: Any) -> Any:
        """A bar chart of the components and the top neurons (an SVG figure)."""
        from neuroheat.viz.lens import dla_bars_svg

        return dla_bars_svg(self.to_dict(), **options)
