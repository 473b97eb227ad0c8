"""The :class:`Saliency` result: which input tokens drove each target, as a plain numpy object.

This module never imports torch: views and analysis code read saved results without it.
Files are JSON (never pickle), so they are safe to share and easy to read from other tools.

Example:
    >>> sal = Saliency(tokens=["[CLS]", "hi", "[SEP]"], matrix=np.array([[0.5, 1.0, 0.2]]),
    ...                target_positions=[1], predictions=[[("hi", 0.9)]], method="gradient",
    ...                model="tiny")
    >>> sal.n_targets, sal.n_tokens
    (1, 3)
    >>> [t["token"] for t in sal.to_textualheatmap() if not t["format"]]
    ['[CLS]', 'hi', '[SEP]']
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.formats.textualheatmap import validate_textualheatmap
from neuroheat.formats.tokens import display_token

__all__ = ["Saliency", "display_token", "normalize_rows", "validate_textualheatmap"]

FORMAT_NAME = "neuroheat.saliency"
FORMAT_VERSION = 1
NORMALIZATIONS = ("max", "sum", "none")
MERGES = ("sum", "mean", "max")


def normalize_rows(raw: np.ndarray, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Normalise each row: ``max`` (max |x| = 1), ``sum`` (sum |x| = 1) or ``none``.

    Returns ``(normalized, scale)`` with ``normalized * scale[:, None] == raw``; a row of zeros
    keeps scale 1 (no division by zero).
    """
    if mode not in NORMALIZATIONS:
        raise InputError(f"unknown normalize={mode!r}; choose one of {', '.join(NORMALIZATIONS)}")
    raw = np.asarray(raw, dtype=np.float64)
    if mode == "none" or raw.size == 0:
        return raw.copy(), np.ones(raw.shape[0])
    mag = np.abs(raw)
    scale = mag.max(axis=1) if mode == "max" else mag.sum(axis=1)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    return raw / scale[:, None], scale


@dataclass
class Saliency:
    """Saliency of every target over the input tokens.

    Attributes:
        tokens: the model's token strings, special tokens included (words after ``merge_words``).
        matrix: ``[n_targets, n_tokens]``; row r explains target r (normalised as ``normalize``).
        target_positions: token index each row explains (``None``: no token, e.g. a class).
        predictions: top-k ``(token, probability)`` per row (empty for neuron/callable targets).
        method: ``connectivity``, ``gradient``, ``grad_x_input`` or ``integrated_gradients``.
        model: model name or path.
        target: kind of target (``mlm``, ``causal``, ``generate``, ``classifier``, ``neuron``,
            ``callable``).
        normalize: normalisation applied to the rows; ``row_scale`` undoes it.
        labels: one short label per row (the target token, class or neuron).
        display_tokens: tokens for display (markers stripped, bytes decoded).
        space_before: whether a space precedes each token in the text (display spacers).
        word_ids: word index of each token (``None`` for special tokens).
        special: whether each token is a special token.
        prompt_length: with ``generate``, tokens from this index on were generated.
        token_map: after ``merge_words``, the original token indices of each merged token.
        merged: how subwords were merged (``sum``/``mean``/``max``) or ``None``.
        info: method details (steps, baseline, integrated-gradients completeness, seed, ...).
    """

    tokens: list[str]
    matrix: np.ndarray
    target_positions: list[int | None]
    predictions: list[list[tuple[str, float]]]
    method: str
    model: str
    target: str = "custom"
    normalize: str = "none"
    labels: list[str] = field(default_factory=list)
    display_tokens: list[str] = field(default_factory=list)
    space_before: list[bool] = field(default_factory=list)
    word_ids: list[int | None] = field(default_factory=list)
    special: list[bool] = field(default_factory=list)
    row_scale: np.ndarray | None = None
    prompt_length: int | None = None
    token_map: list[list[int]] | None = None
    merged: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.matrix = np.asarray(self.matrix, dtype=np.float64)
        n_rows, n_tok = len(self.target_positions), len(self.tokens)
        if self.matrix.ndim != 2 or self.matrix.shape != (n_rows, n_tok):
            raise InputError(
                f"saliency matrix has shape {self.matrix.shape}, expected ({n_rows}, {n_tok}) "
                "= (number of target positions, number of tokens)"
            )
        self.predictions = [[(str(t), float(p)) for t, p in row] for row in self.predictions]
        if not self.predictions:
            self.predictions = [[] for _ in range(n_rows)]
        if not self.labels:
            self.labels = [self.tokens[p] if p is not None else f"target {r}"
                           for r, p in enumerate(self.target_positions)]
        if not self.display_tokens:
            self.display_tokens = [display_token(t) for t in self.tokens]
        if not self.space_before:
            self.space_before = [i > 0 and not t.startswith("##") for i, t in enumerate(self.tokens)]
        if not self.special:
            self.special = [False] * n_tok
        if not self.word_ids:
            self.word_ids = list(range(n_tok))
        self.row_scale = (np.ones(n_rows) if self.row_scale is None
                          else np.asarray(self.row_scale, dtype=np.float64))
        for name in ("predictions", "labels"):
            if len(getattr(self, name)) != n_rows:
                raise InputError(f"saliency {name} has {len(getattr(self, name))} rows, "
                                 f"expected {n_rows} (one per target)")
        for name in ("display_tokens", "space_before", "word_ids", "special"):
            if len(getattr(self, name)) != n_tok:
                raise InputError(f"saliency {name} has {len(getattr(self, name))} entries, "
                                 f"expected {n_tok} (one per token)")
        if self.row_scale.shape != (n_rows,):
            raise InputError(f"saliency row_scale has shape {self.row_scale.shape}, "
                             f"expected ({n_rows},)")

    # -- shape and access -------------------------------------------------------------------
    @property
    def n_targets(self) -> int:
        return self.matrix.shape[0]

    @property
    def n_tokens(self) -> int:
        return self.matrix.shape[1]

    def __repr__(self) -> str:
        return (f"Saliency(method={self.method!r}, target={self.target!r}, model={self.model!r}, "
                f"{self.n_targets} targets x {self.n_tokens} tokens, normalize={self.normalize!r})")

    def raw(self) -> np.ndarray:
        """The matrix before normalisation."""
        return self.matrix * self.row_scale[:, None]

    def row_for(self, position: int) -> np.ndarray:
        """The row explaining token ``position`` (first such row)."""
        for r, p in enumerate(self.target_positions):
            if p == position:
                return self.matrix[r]
        raise InputError(f"no target at token {position}; targets are at "
                         f"{[p for p in self.target_positions if p is not None]}")

    def renormalize(self, mode: str) -> Saliency:
        """A copy with rows normalised by ``mode`` (``max``, ``sum`` or ``none``)."""
        matrix, scale = normalize_rows(self.raw(), mode)
        return self._replace(matrix=matrix, row_scale=scale, normalize=mode)

    def _replace(self, **changes: Any) -> Saliency:
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values.update(changes)
        return Saliency(**values)

    # -- subword to word merging ------------------------------------------------------------
    def word_groups(self) -> list[list[int]]:
        """Token indices of each word: consecutive tokens sharing a word id; specials alone."""
        groups: list[list[int]] = []
        for i, wid in enumerate(self.word_ids):
            prev = self.word_ids[i - 1] if i else None
            if groups and wid is not None and wid == prev and not self.special[i]:
                groups[-1].append(i)
            else:
                groups.append([i])
        return groups

    def merge_words(self, how: str = "sum") -> Saliency:
        """Merge subword tokens into words (columns and rows) with ``sum``, ``mean`` or ``max``.

        Rows explaining subwords of the same word merge the same way; the word keeps the first
        subword's predictions. ``token_map`` keeps the original token indices of each word.

        Example:
            >>> words = sal.merge_words("sum")          # doctest: +SKIP
            >>> words.tokens, words.token_map           # doctest: +SKIP
        """
        if how not in MERGES:
            raise InputError(f"unknown merge={how!r}; choose one of {', '.join(MERGES)}")
        if self.merged is not None:
            raise InputError("this saliency is already merged into words; merge the original")
        reducer = {"sum": np.sum, "mean": np.mean, "max": np.max}[how]
        groups = self.word_groups()
        raw = self.raw()
        cols = np.stack([reducer(raw[:, g], axis=1) for g in groups], axis=1) if groups else raw
        tok_to_group = {i: gi for gi, g in enumerate(groups) for i in g}
        row_groups: list[list[int]] = []
        seen: dict[int, int] = {}
        for r, pos in enumerate(self.target_positions):
            if pos is None:
                row_groups.append([r])
                continue
            gi = tok_to_group[pos]
            if gi in seen:
                row_groups[seen[gi]].append(r)
            else:
                seen[gi] = len(row_groups)
                row_groups.append([r])
        rows = np.stack([reducer(cols[rg], axis=0) for rg in row_groups]) if row_groups \
            else cols
        matrix, scale = normalize_rows(rows.reshape(len(row_groups), len(groups)),
                                       self.normalize)
        positions = [None if self.target_positions[rg[0]] is None
                     else tok_to_group[self.target_positions[rg[0]]] for rg in row_groups]
        words = ["".join(self.display_tokens[i] for i in g) for g in groups]
        prompt = None if self.prompt_length is None else (
            tok_to_group[self.prompt_length] if self.prompt_length < self.n_tokens else len(groups))
        info = dict(self.info)
        if "completeness_delta" in info:  # per-row values do not survive merging rows
            info["completeness_delta"] = [info["completeness_delta"][rg[0]] for rg in row_groups]
        return Saliency(
            tokens=words, matrix=matrix, target_positions=positions,
            predictions=[self.predictions[rg[0]] for rg in row_groups], method=self.method,
            model=self.model, target=self.target, normalize=self.normalize,
            labels=["".join(self.display_tokens[self.target_positions[r]]
                            if self.target_positions[r] is not None else self.labels[r]
                            for r in rg) if len(rg) > 1 else self.labels[rg[0]]
                    for rg in row_groups],
            display_tokens=words, space_before=[self.space_before[g[0]] for g in groups],
            word_ids=[None if all(self.special[i] for i in g) else gi
                      for gi, g in enumerate(groups)],
            special=[all(self.special[i] for i in g) for g in groups], row_scale=scale,
            prompt_length=prompt, token_map=[list(g) for g in groups], merged=how, info=info,
        )

    # -- textualheatmap ---------------------------------------------------------------------
    def to_textualheatmap(self, *, meta_k: int = 3, scale: str = "row") -> list[dict[str, Any]]:
        """One textualheatmap facet: ``{"token", "meta", "heat", "format"}`` dicts.

        ``format: true`` spacer tokens sit between words; every other token has ``heat`` of
        length K (the number of non-format tokens): ``heat[j]`` is the importance of token j
        for the prediction at this token, ``|x| / max |x|`` of its row with ``scale="row"``
        (``scale="none"``: ``|x|`` clipped to [0, 1]). Tokens that are no target get zeros and
        empty meta; rows without a token (a class, a second row at one position) are appended
        as labelled extra tokens so that nothing is lost.

        Example:
            >>> from textualheatmap import TextualHeatmap     # doctest: +SKIP
            >>> TextualHeatmap(show_meta=True).set_data([sal.to_textualheatmap()])  # doctest: +SKIP
        """
        if scale not in ("row", "none"):
            raise InputError(f"unknown scale={scale!r}; choose 'row' or 'none'")
        row_at: dict[int, int] = {}
        extra: list[int] = []
        for r, pos in enumerate(self.target_positions):
            if pos is not None and pos not in row_at:
                row_at[pos] = r
            else:
                extra.append(r)
        k = self.n_tokens + len(extra)

        def heat(r: int | None) -> list[float]:
            if r is None:
                return [0.0] * k
            mag = np.abs(np.nan_to_num(self.matrix[r], nan=0.0))
            if scale == "row":
                top = mag.max() if mag.size else 0.0
                mag = mag / top if top > 0 else mag
            return [float(v) for v in np.clip(mag, 0.0, 1.0)] + [0.0] * len(extra)

        def meta(r: int | None) -> list[str]:
            return [] if r is None else [display_token(t) for t, _ in self.predictions[r][:meta_k]]

        facet: list[dict[str, Any]] = []
        for i, shown in enumerate(self.display_tokens):
            if i > 0 and self.space_before[i]:
                facet.append({"token": " ", "format": True})
            r = row_at.get(i)
            facet.append({"token": shown, "meta": meta(r), "heat": heat(r), "format": False})
        for r in extra:
            facet.append({"token": " ", "format": True})
            facet.append({"token": f"\u21d2{self.labels[r]}", "meta": meta(r), "heat": heat(r),
                          "format": False})
        return facet

    # -- persistence ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (non-finite numbers become ``null``)."""

        def clean(values: Any) -> list[Any]:
            return [[v if math.isfinite(v) else None for v in row] for row in values]

        return {
            "format": FORMAT_NAME, "version": FORMAT_VERSION,
            "tokens": list(self.tokens), "matrix": clean(self.matrix.tolist()),
            "target_positions": list(self.target_positions),
            "predictions": [[[t, p] for t, p in row] for row in self.predictions],
            "method": self.method, "model": self.model, "target": self.target,
            "normalize": self.normalize, "labels": list(self.labels),
            "display_tokens": list(self.display_tokens), "space_before": list(self.space_before),
            "word_ids": list(self.word_ids), "special": list(self.special),
            "row_scale": clean([self.row_scale.tolist()])[0],
            "prompt_length": self.prompt_length, "token_map": self.token_map,
            "merged": self.merged, "info": self.info,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Saliency:
        """Inverse of :meth:`to_dict`; checks the format name and version."""
        if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
            raise InputError("not a neuroheat saliency file (missing format "
                             f"{FORMAT_NAME!r}); create it with Saliency.save()")
        if data.get("version") != FORMAT_VERSION:
            raise InputError(f"saliency file version {data.get('version')!r} is not supported "
                             f"(this neuroheat reads version {FORMAT_VERSION}); upgrade neuroheat")
        try:
            n_tok = len(data["tokens"])
            matrix = np.array([[np.nan if v is None else v for v in row]
                               for row in data["matrix"]], dtype=np.float64)
            matrix = matrix.reshape(len(data["target_positions"]), n_tok)
            return cls(
                tokens=list(data["tokens"]), matrix=matrix,
                target_positions=list(data["target_positions"]),
                predictions=[[(t, p) for t, p in row] for row in data["predictions"]],
                method=data["method"], model=data["model"], target=data.get("target", "custom"),
                normalize=data.get("normalize", "none"), labels=list(data.get("labels") or []),
                display_tokens=list(data.get("display_tokens") or []),
                space_before=list(data.get("space_before") or []),
                word_ids=list(data.get("word_ids") or []),
                special=list(data.get("special") or []),
                row_scale=(None if data.get("row_scale") is None else
                           np.array([np.nan if v is None else v for v in data["row_scale"]])),
                prompt_length=data.get("prompt_length"), token_map=data.get("token_map"),
                merged=data.get("merged"), info=dict(data.get("info") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError(f"damaged saliency file: {type(exc).__name__}: {exc}") from exc

    def save(self, path: str | Path) -> Path:
        """Write this result as JSON (UTF-8) and return the path."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, allow_nan=False),
                        encoding="utf-8")
        return path

    def show(self, view: str = "focus", **options: Any) -> Any:
        """Draw this result as an SVG figure, displayed inline in a notebook.

        ``view`` is one of the static saliency views (``focus``, ``minimap``, ``tall``,
        ``dense``); ``options`` go to its drawing function (e.g. ``focus=2`` for the focus
        view). Returns the figure (it has ``save`` and ``_repr_svg_``).

        Example:
            >>> sal.show(focus=2)                    # doctest: +SKIP
        """
        import importlib

        from neuroheat.viz.saliency.registry import VIEWS

        if view not in VIEWS:
            raise InputError(f"unknown view {view!r}; choose one of {', '.join(VIEWS)}")
        spec = VIEWS[view]
        draw = getattr(importlib.import_module(spec.module), spec.function)
        figure = draw(self, **{**spec.options, **options})
        try:
            from IPython.display import display  # type: ignore[import-not-found]
        except ImportError:
            return figure
        if _in_notebook():
            display(figure)
        return figure

    @classmethod
    def load(cls, path: str | Path) -> Saliency:
        """Read a result written by :meth:`save`."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: not a JSON saliency file ({exc})") from exc
        return cls.from_dict(data)


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython  # type: ignore[import-not-found]
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ != "TerminalInteractiveShell"
