"""The result of a steering job: :class:`SteerResult` (STEER.json).

STEER.json has exactly the keys issue 20 fixes: ``prompt``, ``site`` (for ``--clamp`` the
clamped unit, ``mlp.2:17``), ``method`` (``add``, ``project`` or ``clamp``), ``alpha`` (the
clamp value for ``clamp``), ``default`` and ``steered`` (each ``{"text", "token_ids"}`` of the
generated tokens, the prompt left out) and ``kl`` (KL(p_default ‖ p_steered) of each generated
step, both given the steered prefix, in nats).

Example:
    >>> r = SteerResult("Hi", "resid.1", "add", 2.0, {"text": "a", "token_ids": [64]},
    ...                 {"text": "b", "token_ids": [65]}, [0.25])
    >>> r.to_pandas()["kl"].tolist()
    [0.25]
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuroheat.errors import InputError
from neuroheat.jsonfiles import read_json, write_json

__all__ = ["SteerResult"]

KEYS = ("prompt", "site", "method", "alpha", "default", "steered", "kl")


@dataclass
class SteerResult:
    """The default and the steered continuation of one prompt, with the per-step KL.

    ``tokens`` (not written to STEER.json) holds each generated token's text, for drawing."""

    prompt: str
    site: str
    method: str
    alpha: float
    default: dict[str, Any]
    steered: dict[str, Any]
    kl: list[float | None]
    tokens: dict[str, list[str]] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in KEYS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SteerResult:
        return cls(*(data[k] for k in KEYS))

    def save(self, path: str | os.PathLike) -> Path:
        """Write STEER.json (``.json``), or draw the figure (``.html`` / ``.svg``)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix in (".html", ".svg"):
            return self.show(suffix[1:]).save(path)
        if suffix != ".json":
            raise InputError(f"{path.name}: steering results save as .json, .html or .svg")
        return write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike) -> SteerResult:
        """Read a STEER.json file."""
        return cls.from_dict(read_json(path, KEYS, "STEER.json"))

    def to_pandas(self) -> Any:
        """One row per generated step: ``step``, ``default_id``, ``steered_id``, ``kl``."""
        import pandas as pd

        d, s = self.default["token_ids"], self.steered["token_ids"]
        return pd.DataFrame([{"step": i, "default_id": d[i] if i < len(d) else None,
                              "steered_id": s[i] if i < len(s) else None,
                              "kl": self.kl[i] if i < len(self.kl) else None}
                             for i in range(max(len(d), len(s)))])

    def show(self, kind: str = "svg", **options: Any) -> Any:
        """The two continuations with the per-step KL: ``kind="svg"`` (a figure with ``save``)
        or ``"html"`` (an offline page)."""
        from neuroheat.viz.steering import steering_html, steering_svg

        if kind not in ("svg", "html"):
            raise InputError(f"kind must be 'svg' or 'html', not {kind!r}")
        data = self.to_dict()
        if self.tokens is not None:
            data["tokens"] = self.tokens
        return (steering_svg if kind == "svg" else steering_html)(data, **options)
