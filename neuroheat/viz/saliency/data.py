"""What the saliency views draw: facets of tokens with one heat row per target.

Every view accepts a :class:`~neuroheat.attribution.result.Saliency`, a list of them
(one facet each, same tokens), or textualheatmap data (one facet, a list of dicts, or a list
of facets). :func:`as_facets` turns any of these into :class:`HeatFacet` s; :func:`as_matrix`
into a :class:`TargetMatrix` (rows = targets, columns = tokens) for the many-target views.

Indices: a facet's items are its tokens in order, format (spacer) tokens included; the
non-format ones are numbered 0..K-1 (the "heat index", textualheatmap's ``heat[j]``). Focus,
hover and pin use heat indices, and for a ``Saliency`` the heat index of a token is its index.

Example:
    >>> facet = as_facets([{"token": "a", "meta": ["x"], "heat": [1.0, 0.2]},
    ...                    {"token": " ", "format": True},
    ...                    {"token": "b", "meta": [], "heat": [0.5, 1.0]}])[0]
    >>> facet.k, facet.heat_items
    (2, [0, 2])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neuroheat.errors import InputError


@dataclass
class HeatFacet:
    """One facet: its items (``(text, is_format)``), heat rows and meta strings.

    ``heat[i]`` (``[K, K]``) is the heat row shown when non-format token i is in focus;
    ``has_row[i]`` says whether token i is a target at all (False: hovering it does nothing);
    ``meta[i]`` are the strings of the meta row for token i (predictions).
    """

    title: str
    items: list[tuple[str, bool]]
    heat: np.ndarray
    meta: list[list[str]]
    has_row: np.ndarray
    labels: list[str] = field(default_factory=list)

    @property
    def k(self) -> int:
        return int(self.heat.shape[0])

    @property
    def heat_items(self) -> list[int]:
        """Item index of each non-format token."""
        return [i for i, (_, fmt) in enumerate(self.items) if not fmt]

    @property
    def tokens(self) -> list[str]:
        """Text of the non-format tokens, in heat order."""
        return [t for t, fmt in self.items if not fmt]


@dataclass
class TargetMatrix:
    """Rows = targets, columns = tokens: what minimap, tall and dense views draw.

    ``values`` are heats in [0, 1] (``|x| / max |x|`` per row); ``valid[r, j]`` is False where a
    token cannot affect the target (tokens after a causal target). ``positions[r]`` is the
    column of target r's token (``None``: no token, e.g. a class). ``prompt_length``: columns
    from there on were generated.
    """

    tokens: list[str]
    space_before: list[bool]
    labels: list[str]
    values: np.ndarray
    valid: np.ndarray
    positions: list[int | None]
    predictions: list[list[str]]
    prompt_length: int | None = None
    title: str = ""


def _is_saliency(obj: Any) -> bool:
    return hasattr(obj, "to_textualheatmap") and hasattr(obj, "matrix")


def _fmt_prediction(token: str, p: float) -> str:
    from neuroheat.formats.tokens import display_token

    return f"{display_token(token)} {p:.0%}" if 0.0 <= p <= 1.0 else display_token(token)


def _row_map(sal: Any) -> tuple[dict[int, int], list[int]]:
    """Like ``Saliency.to_textualheatmap``: the first row of each token position; the other
    rows (no position, or a second row at one position) are appended as extra tokens."""
    row_at: dict[int, int] = {}
    extra: list[int] = []
    for r, pos in enumerate(sal.target_positions):
        if pos is not None and pos not in row_at:
            row_at[pos] = r
        else:
            extra.append(r)
    return row_at, extra


def facet_from_saliency(sal: Any, title: str | None = None, meta_k: int = 3) -> HeatFacet:
    """A facet of a ``Saliency``, the same tokens and heat as ``sal.to_textualheatmap()``
    (computed with numpy, so 2,000-token texts stay fast): heat ``|x| / max |x|`` per row;
    meta = top predictions with probabilities, or the row's label where the target has none
    (a neuron, a callable)."""
    row_at, extra = _row_map(sal)
    rows = [row_at.get(i) for i in range(sal.n_tokens)] + extra
    items: list[tuple[str, bool]] = []
    for i, shown in enumerate(sal.display_tokens):
        if i > 0 and sal.space_before[i]:
            items.append((" ", True))
        items.append((shown, False))
    for r in extra:
        items.append((" ", True))
        items.append((f"\u21d2{sal.labels[r]}", False))
    k = len(rows)
    mag = np.abs(np.nan_to_num(sal.matrix, nan=0.0))
    top = mag.max(axis=1, keepdims=True) if mag.size else np.zeros((mag.shape[0], 1))
    mag = np.clip(np.divide(mag, top, out=mag.copy(), where=top > 0), 0.0, 1.0)
    heat = np.zeros((k, k))
    present = [(i, r) for i, r in enumerate(rows) if r is not None]
    if present:
        idx, src = zip(*present, strict=True)
        heat[list(idx), : sal.n_tokens] = mag[list(src)]
    meta: list[list[str]] = []
    for r in rows:
        if r is None:
            meta.append([])
        elif sal.predictions[r]:
            meta.append([_fmt_prediction(t, p) for t, p in sal.predictions[r][:meta_k]])
        else:
            meta.append([str(sal.labels[r])])
    labels = [str(sal.labels[r]) if r is not None else "" for r in rows]
    has_row = np.array([r is not None for r in rows])
    return HeatFacet(
        title if title is not None else str(sal.method), items, heat, meta, has_row, labels
    )


def facet_from_textualheatmap(facet: Sequence[dict], title: str) -> HeatFacet:
    """A facet of textualheatmap data (validated first)."""
    from neuroheat.formats.textualheatmap import validate_textualheatmap

    validate_textualheatmap([list(facet)])
    items = [(str(t["token"]), bool(t.get("format", False))) for t in facet]
    rows = [t for t in facet if not t.get("format", False)]
    heat = np.array([t["heat"] for t in rows], dtype=np.float64).reshape(len(rows), len(rows))
    meta = [[str(m) for m in t.get("meta", [])] for t in rows]
    return HeatFacet(
        title, items, heat, meta, np.ones(len(rows), dtype=bool), [str(t["token"]) for t in rows]
    )


def _split_textualheatmap(data: Sequence[Any]) -> list[list[dict]]:
    if all(isinstance(f, list) for f in data):
        return [list(f) for f in data]
    if all(isinstance(t, dict) for t in data):
        return [list(data)]
    raise InputError(
        "textualheatmap data must be a facet (a list of token dicts) or a list of "
        "facets; got a mixture"
    )


def as_facets(
    data: Any, facet_titles: Sequence[str] | None = None, meta_k: int = 3
) -> list[HeatFacet]:
    """Facets of a ``Saliency``, a list of them, or textualheatmap data (see module doc)."""
    if _is_saliency(data):
        sources: list[Any] = [data]
    elif isinstance(data, list | tuple) and data and all(_is_saliency(s) for s in data):
        sources = list(data)
    elif isinstance(data, list | tuple) and data:
        sources = _split_textualheatmap(data)
    else:
        raise InputError(
            "expected a Saliency, a list of Saliency results, or textualheatmap "
            f"data (a list of token dicts or of facets); got {type(data).__name__}"
        )
    if facet_titles is not None:
        if isinstance(facet_titles, str) or len(facet_titles) != len(sources):
            raise InputError(
                f"facet_titles must be a list of {len(sources)} strings (one per "
                f"facet), got {facet_titles!r}"
            )
    facets = []
    for i, src in enumerate(sources):
        title = None if facet_titles is None else str(facet_titles[i])
        if _is_saliency(src):
            facets.append(facet_from_saliency(src, title, meta_k))
        else:
            default = "Heatmap" if len(sources) == 1 else f"Heatmap {i + 1}"
            facets.append(facet_from_textualheatmap(src, default if title is None else title))
    ks = {f.k for f in facets}
    if len(ks) > 1:
        raise InputError(
            f"facets have different numbers of tokens ({sorted(ks)}); every facet "
            "must explain the same tokens (same text and tokenizer)"
        )
    return facets


def default_focus(facet: HeatFacet) -> int:
    """The first token that is a target with some heat (else the first target, else 0)."""
    for i in range(facet.k):
        if facet.has_row[i] and np.any(facet.heat[i] > 0):
            return i
    hits = np.flatnonzero(facet.has_row)
    return int(hits[0]) if hits.size else 0


def check_index(facet: HeatFacet, i: Any, name: str = "focus") -> int:
    """``i`` as a valid heat index (negative counts from the end), or an InputError."""
    if isinstance(i, bool) or not isinstance(i, int | np.integer):
        raise InputError(f"{name} must be a token index (an int), got {i!r}")
    k = facet.k
    j = int(i) + k if int(i) < 0 else int(i)
    if not 0 <= j < k:
        raise InputError(
            f"{name}={i} is out of range: the text has {k} tokens (0..{k - 1}, "
            "format tokens not counted)"
        )
    return j


def as_matrix(data: Any) -> TargetMatrix:
    """Rows of targets over tokens, from a ``Saliency`` or one facet of textualheatmap data."""
    if _is_saliency(data):
        sal = data
        mag = np.abs(np.nan_to_num(sal.matrix, nan=0.0))
        top = mag.max(axis=1, keepdims=True) if mag.size else mag
        values = np.divide(mag, top, out=np.zeros_like(mag), where=top > 0)
        valid = np.ones_like(values, dtype=bool)
        if sal.target in ("causal", "generate"):
            for r, pos in enumerate(sal.target_positions):
                if pos is not None:
                    valid[r, pos:] = False
        from neuroheat.formats.tokens import display_token

        preds = [[display_token(t) for t, _ in row[:3]] for row in sal.predictions]
        return TargetMatrix(
            list(sal.display_tokens),
            list(sal.space_before),
            [str(x) for x in sal.labels],
            values,
            valid,
            list(sal.target_positions),
            preds,
            sal.prompt_length,
            f"{sal.method}, {sal.target} targets",
        )
    facets = as_facets(data)
    if len(facets) != 1:
        raise InputError(
            "this view draws one facet; pass one Saliency or one facet of "
            f"textualheatmap data (got {len(facets)} facets)"
        )
    f = facets[0]
    rows = np.flatnonzero(f.has_row & (f.heat.max(axis=1) > 0))
    spaces = []
    prev_fmt = False
    for _t, fmt in f.items:
        if not fmt:
            spaces.append(prev_fmt)
        prev_fmt = fmt
    return TargetMatrix(
        f.tokens,
        spaces,
        [f.tokens[r] for r in rows],
        np.clip(f.heat[rows], 0.0, 1.0),
        np.ones((rows.size, f.k), dtype=bool),
        [int(r) for r in rows],
        [f.meta[r] for r in rows],
        None,
        f.title,
    )
