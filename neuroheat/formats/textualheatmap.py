"""textualheatmap's data format (Madsen 2019), checked without any dependency.

A list of facets; a facet is a list of ``{"token", "meta", "heat", "format"}`` dicts;
``format: true`` tokens are shown verbatim and uncoloured, every other token has ``heat`` of
length K (its non-format tokens) with values in [0, 1], the colour ratio of the viridis slice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from neuroheat.errors import InputError


def validate_textualheatmap(data: Sequence[Any]) -> None:
    """Check ``data`` is textualheatmap data: one facet, or a list of facets.

    A facet is a list of token dicts. A ``format: true`` token has a string ``token`` and is
    shown verbatim; every other token has ``token`` (str), ``meta`` (list of str) and ``heat``
    (list of K finite numbers in [0, 1], K = number of non-format tokens of the facet). Raises
    :class:`InputError` naming the first problem.

    Example:
        >>> validate_textualheatmap([{"token": "a", "meta": [], "heat": [1.0]}])
    """
    if not isinstance(data, list) or not data:
        raise InputError("textualheatmap data must be a non-empty list (a facet or facets)")
    facets = data if all(isinstance(f, list) for f in data) else [data]
    lengths = set()
    for fi, facet in enumerate(facets):
        k = 0
        for ti, tok in enumerate(facet):
            if not isinstance(tok, dict):
                raise InputError(f"facet {fi} token {ti}: expected a dict, got {type(tok).__name__}")
            unknown = set(tok) - {"token", "meta", "heat", "format"}
            if unknown:
                raise InputError(f"facet {fi} token {ti}: unknown keys {sorted(unknown)}")
            if not isinstance(tok.get("token"), str):
                raise InputError(f"facet {fi} token {ti}: 'token' must be a string")
            fmt = tok.get("format", False)
            if not isinstance(fmt, bool):
                raise InputError(f"facet {fi} token {ti}: 'format' must be true or false")
            if not fmt:
                k += 1
        for ti, tok in enumerate(facet):
            if tok.get("format", False):
                continue
            meta, heat = tok.get("meta"), tok.get("heat")
            if not isinstance(meta, list) or not all(isinstance(m, str) for m in meta):
                raise InputError(f"facet {fi} token {ti}: 'meta' must be a list of strings")
            if not isinstance(heat, list) or len(heat) != k:
                raise InputError(f"facet {fi} token {ti}: 'heat' must be a list of {k} numbers "
                                 "(one per non-format token)")
            for v in heat:
                if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) \
                        or not 0.0 <= v <= 1.0:
                    raise InputError(f"facet {fi} token {ti}: heat value {v!r} is not a number "
                                     "in [0, 1]")
        lengths.add(k)
    if len(lengths) > 1:
        raise InputError(f"facets have different numbers of non-format tokens: {sorted(lengths)}")
