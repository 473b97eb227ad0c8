"""Shaping one token: Unicode bidi levels, font fallback per cluster, HarfBuzz shaping.

:func:`bidi_levels` resolves the embedding level of every character of a paragraph with the
Unicode bidirectional algorithm (python-bidi's reference implementation, rules W1-I2).
:func:`shape_token` turns one token and its levels into glyphs in visual order, positioned in
em units, so the result is independent of the font size and cached.

Example:
    >>> from neuroheat.viz.text.fonts import default_font_stack
    >>> shaped = shape_token("cat", (0, 0, 0), default_font_stack())
    >>> len(shaped.glyphs), round(shaped.advance, 3) > 0
    (3, True)
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import uharfbuzz as hb
from bidi import algorithm as _uba

from neuroheat.viz.text.fonts import FontStack

_RTL_TYPES = frozenset({"R", "AL", "AN", "RLE", "RLO", "RLI"})
_X9_REMOVED = frozenset(_uba.X9_REMOVED)


def bidi_levels(text: str, rtl: bool) -> list[int]:
    """Resolved bidi embedding level of every character of ``text`` (one paragraph).

    ``rtl`` sets the paragraph direction. Characters removed by rule X9 (format characters such
    as ZWJ) take the level of the character before them.
    """
    base = 1 if rtl else 0
    if not text:
        return []
    if not rtl and not any(_uba.bidirectional(ch) in _RTL_TYPES for ch in text):
        return [0] * len(text)
    storage = _uba.get_empty_storage()
    storage["base_level"] = base
    storage["base_dir"] = "R" if rtl else "L"
    _uba.get_embedding_levels(text, storage, False, False)
    chars = list(storage["chars"])  # keep references: X9 drops some from the storage list
    _uba.explicit_embed_and_overrides(storage, False)
    _uba.resolve_weak_types(storage, False)
    _uba.resolve_neutral_types(storage, False)
    _uba.resolve_implicit_levels(storage, False)
    levels: list[int] = []
    prev = base
    for ch in chars:
        if ch["orig"] in _X9_REMOVED:
            levels.append(prev)
        else:
            prev = ch["level"]
            levels.append(prev)
    return levels


def visual_order(levels: list[int]) -> list[int]:
    """Indices of items in visual (left-to-right) order, by rule L2 of the bidi algorithm."""
    order = list(range(len(levels)))
    if not levels:
        return order
    top = max(levels)
    low_odd = min(lv for lv in levels) | 1
    for k in range(top, low_odd - 1, -1):
        i = 0
        while i < len(order):
            if levels[order[i]] >= k:
                j = i
                while j < len(order) and levels[order[j]] >= k:
                    j += 1
                order[i:j] = order[i:j][::-1]
                i = j
            else:
                i += 1
    return order


@dataclass(frozen=True)
class ShapedGlyph:
    """A glyph of a shaped token: face index in the stack, glyph id, origin in em (y down)."""

    face: int
    gid: int
    x: float
    y: float


@dataclass(frozen=True)
class ShapedText:
    """A shaped token, in em units: glyphs in visual order, pen advance, ink extents."""

    text: str
    glyphs: tuple[ShapedGlyph, ...]
    advance: float
    ink: tuple[float, float, float, float] | None  # x0, y0 (top), x1, y1 (bottom); baseline y=0
    level: int  # lowest bidi level of the token: its place in the line's reordering


def _sticky(cp: int, cat: str) -> bool:
    """Characters that belong to the cluster before them (marks, joiners, selectors)."""
    return (
        cat in ("Mn", "Mc", "Me")
        or cp in (0x200C, 0x200D, 0x20E3)
        or 0xFE00 <= cp <= 0xFE0F
        or 0x1F3FB <= cp <= 0x1F3FF
        or 0xE0020 <= cp <= 0xE007F
        or 0xE0100 <= cp <= 0xE01EF
    )


def _itemize(text: str, start: int, end: int, stack: FontStack) -> list[tuple[int, int, int]]:
    """Split ``text[start:end]`` into (start, end, face index) runs, one face per cluster."""
    segs: list[list[int]] = []
    emoji = stack.emoji_index
    for i in range(start, end):
        cp = ord(text[i])
        cat = unicodedata.category(text[i])
        cur = segs[-1][2] if segs else None
        if cur is not None and _sticky(cp, cat):
            face = cur
        elif (
            emoji is not None
            and i + 1 < end
            and ord(text[i + 1]) == 0xFE0F
            and stack.faces[emoji].has_char(cp)
        ):
            face = emoji
        elif cur is not None and cat[0] in "ZPN" and stack.faces[cur].has_char(cp):
            face = cur  # spaces, punctuation, digits stay in the current script's font
        else:
            found = stack.face_index_for(cp)
            face = 0 if found is None else found  # no font has it: primary .notdef box
        if segs and segs[-1][2] == face:
            segs[-1][1] = i + 1
        else:
            segs.append([i, i + 1, face])
    return [(a, b, f) for a, b, f in segs]


def _runs(levels: tuple[int, ...]) -> list[tuple[int, int, int]]:
    runs: list[tuple[int, int, int]] = []
    for i, lv in enumerate(levels):
        if runs and runs[-1][2] == lv:
            runs[-1] = (runs[-1][0], i + 1, lv)
        else:
            runs.append((i, i + 1, lv))
    return runs


@lru_cache(maxsize=65536)
def _shape_cached(text: str, levels: tuple[int, ...], stack: FontStack) -> ShapedText:
    if not text:
        return ShapedText(text, (), 0.0, None, min(levels) if levels else 0)
    runs = _runs(levels)
    pieces: list[tuple[int, int, int, int]] = []  # start, end, face, level in visual order
    for r in visual_order([lv for _, _, lv in runs]):
        a, b, lv = runs[r]
        segs = _itemize(text, a, b, stack)
        if lv % 2:
            segs = segs[::-1]
        pieces += [(s, e, f, lv) for s, e, f in segs]
    glyphs: list[ShapedGlyph] = []
    pen = 0.0
    x0 = y0 = float("inf")
    x1 = y1 = float("-inf")
    for s, e, f, lv in pieces:
        face = stack.faces[f]
        buf = hb.Buffer()
        buf.add_str(text, s, e - s)
        buf.direction = "rtl" if lv % 2 else "ltr"
        buf.guess_segment_properties()
        hb.shape(face.hb_font, buf, {})
        k = 1.0 / face.upem
        for info, pos in zip(buf.glyph_infos, buf.glyph_positions, strict=True):
            gx = pen + pos.x_offset * k
            gy = -pos.y_offset * k
            ext = face.hb_font.get_glyph_extents(info.codepoint)
            if ext is not None and ext.width and ext.height:
                ex0 = gx + ext.x_bearing * k
                ex1 = ex0 + ext.width * k
                top = gy - ext.y_bearing * k
                bottom = top - ext.height * k  # height is negative (y up in font units)
                x0, x1 = min(x0, ex0, ex1), max(x1, ex0, ex1)
                y0, y1 = min(y0, top, bottom), max(y1, top, bottom)
                glyphs.append(ShapedGlyph(f, info.codepoint, gx, gy))
            pen += pos.x_advance * k
    ink = (x0, y0, x1, y1) if glyphs else None
    return ShapedText(text, tuple(glyphs), pen, ink, min(levels))


def shape_token(text: str, levels: tuple[int, ...], stack: FontStack) -> ShapedText:
    """Shape ``text`` whose characters have the given bidi ``levels`` with the font ``stack``.

    Glyphs come out in visual order; glyphs without ink (spaces) are left out of
    ``glyphs`` but count in ``advance``. Results are cached.
    """
    if len(levels) != len(text):
        raise ValueError(f"{len(levels)} levels for {len(text)} characters")
    return _shape_cached(text, tuple(levels), stack)
