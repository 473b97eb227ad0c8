"""Text layout: tokens -> positioned boxes whose extents cover their shaped glyphs.

Every token is shaped with HarfBuzz (see :mod:`neuroheat.viz.text.shaping`), lines are broken in
logical order (by pixel width and/or NeuroX's ``char_limit``), tokens of a line are ordered for
display by the Unicode bidirectional algorithm, and right-to-left paragraphs are right-aligned.
A token is never split; a token wider than a line gets a line of its own.

This is the layout every neuroheat text figure uses (activation heatmaps, saliency views).

Example:
    >>> lay = layout_tokens(["The", "cat", "sat"], font_size=20)
    >>> [round(b.x) for b in lay.boxes][0], lay.lines
    (0, 1)
    >>> all(b.contains_ink() for b in lay.boxes)
    True
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from neuroheat.errors import InputError
from neuroheat.viz.text.fonts import FontFace, FontStack, default_font_stack, font_stack
from neuroheat.viz.text.shaping import ShapedText, bidi_levels, shape_token, visual_order

_EMPTY_TOKEN_EM = 0.3  # width of the box of an empty token, so its colour still shows
_VPAD = 0.05  # em above the ascent and below the descent of every box


@dataclass(frozen=True)
class PlacedGlyph:
    """A glyph at its final position: origin on the baseline, pixels, y down."""

    face: FontFace
    gid: int
    x: float
    y: float
    scale: float  # pixels per font unit


@dataclass(frozen=True)
class TokenBox:
    """One token: its box (``x, y, width, height``), baseline, glyphs and ink extents.

    ``index`` is the token's position in the input (logical order), ``line`` its line,
    ``slot`` its visual position in the line from the left. Coordinates are pixels, y down,
    relative to the layout's top-left corner.
    """

    index: int
    text: str
    line: int
    slot: int
    x: float
    y: float
    width: float
    height: float
    baseline: float
    pen_x: float  # left end of the token's advance
    advance: float
    ink: tuple[float, float, float, float] | None  # x0, y0, x1, y1 or None (no visible glyph)
    glyphs: tuple[PlacedGlyph, ...]
    rtl: bool  # the token's lowest bidi level is odd

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    def contains_ink(self, tol: float = 1e-6) -> bool:
        """True when every glyph's ink lies inside the box."""
        if self.ink is None:
            return True
        x0, y0, x1, y1 = self.ink
        return (
            x0 >= self.x - tol
            and x1 <= self.right + tol
            and y0 >= self.y - tol
            and y1 <= self.bottom + tol
        )


@dataclass(frozen=True)
class TextLayout:
    """Result of :func:`layout_tokens`: boxes in input order plus the overall size."""

    boxes: tuple[TokenBox, ...]
    width: float
    height: float
    line_height: float  # height of one box
    line_pitch: float  # distance between the tops of two lines
    lines: int
    font_size: float
    rtl: bool
    stack: FontStack


def _resolve_stack(fonts: FontStack | Sequence[str | os.PathLike] | None) -> FontStack:
    if fonts is None:
        return default_font_stack()
    if isinstance(fonts, FontStack):
        return fonts
    return font_stack(list(fonts))


def _check_tokens(tokens: Sequence[str]) -> list[str]:
    if isinstance(tokens, str):
        raise InputError(
            "tokens must be a list of strings, not one string; split it first, "
            "e.g. text.split()"
        )
    out = []
    for i, tok in enumerate(tokens):
        if not isinstance(tok, str):
            raise InputError(
                f"token {i} is a {type(tok).__name__}, not a string; pass tokens as str"
            )
        out.append(tok)
    return out


def shape_tokens(
    tokens: Sequence[str], *, rtl: bool = False, fonts: FontStack | None = None
) -> tuple[list[ShapedText], list[int]]:
    """Shape every token once, with bidi levels resolved over the whole paragraph.

    Returns the shaped tokens and the bidi level of the space after each token (the
    tokens are joined by single spaces into one paragraph).
    """
    stack = _resolve_stack(fonts)
    paragraph = " ".join(tokens)
    levels = bidi_levels(paragraph, rtl)
    base = 1 if rtl else 0
    shaped, seps, pos = [], [], 0
    for tok in tokens:
        if tok:
            shaped.append(shape_token(tok, tuple(levels[pos : pos + len(tok)]), stack))
        else:
            shaped.append(_empty(base))
        pos += len(tok)
        seps.append(levels[pos] if pos < len(levels) else base)
        pos += 1
    return shaped, seps


def _empty(level: int) -> ShapedText:
    return ShapedText("", (), 0.0, None, level)


def layout_tokens(
    tokens: Sequence[str],
    *,
    font_size: float = 20,
    direction: str = "ltr",
    max_width: float | None = None,
    char_limit: int | None = None,
    fonts: FontStack | Sequence[str | os.PathLike] | None = None,
    pad: float | None = None,
    gap: float = 0.0,
    line_gap: float | None = None,
) -> TextLayout:
    """Lay out ``tokens`` as words separated by spaces; one box per token.

    Three steps: shape and measure every token (:func:`shape_tokens`, :func:`measure_tokens`),
    break lines in logical order (:func:`break_lines`), place the boxes of each line in visual
    order (:func:`place_line`).

    Args:
        tokens: token strings (any script; empty strings get a narrow box).
        font_size: em size in pixels.
        direction: paragraph direction, ``"ltr"``, ``"rtl"`` (right-aligned) or ``"auto"``
            (from the first strong character, as the bidi algorithm's rules P2-P3).
        max_width: wrap lines wider than this many pixels (None: no width limit).
        char_limit: wrap lines longer than this many characters, counting one space between
            tokens (NeuroX's rule; None: no character limit).
        fonts: a :class:`FontStack`, font file paths to put before the default fonts, or None.
        pad: horizontal padding of a box around its glyphs, pixels (default 0.15 em, so
            adjacent boxes leave about one space between words).
        gap: extra pixels between adjacent boxes (default 0: boxes touch, as in NeuroX).
        line_gap: vertical pixels between lines (default 0.2 em).
    """
    tokens = _check_tokens(tokens)
    rtl = _resolve_direction(tokens, direction) == "rtl"
    _check_sizes(font_size, char_limit, max_width)
    stack = _resolve_stack(fonts)
    s = float(font_size)
    pad = 0.15 * s if pad is None else float(pad)
    line_gap = 0.2 * s if line_gap is None else float(line_gap)

    shaped, seps = shape_tokens(tokens, rtl=rtl, fonts=stack)
    m = measure_tokens(shaped, stack, s, pad)
    pitch = m.box_height + line_gap
    lines = break_lines(tokens, m.widths, max_width=max_width, char_limit=char_limit, gap=gap)

    line_widths = [sum(m.widths[i] for i in ln) + gap * (len(ln) - 1) for ln in lines]
    content_w = max(line_widths, default=0.0)
    if max_width is not None:
        content_w = max(content_w, float(max_width))
    boxes: list[TokenBox] = []
    for li, ln in enumerate(lines):
        x = content_w - line_widths[li] if rtl else 0.0
        boxes += place_line(tokens, shaped, seps, m, stack, ln, li, x, li * pitch, gap)
    height = len(lines) * pitch - line_gap if lines else 0.0
    return TextLayout(
        boxes=tuple(sorted(boxes, key=lambda b: b.index)),
        width=content_w,
        height=max(height, 0.0),
        line_height=m.box_height,
        line_pitch=pitch,
        lines=len(lines),
        font_size=s,
        rtl=rtl,
        stack=stack,
    )


def _resolve_direction(tokens: list[str], direction: str) -> str:
    direction = str(direction).lower()
    if direction not in ("ltr", "rtl", "auto"):
        raise InputError(f"text_direction must be 'ltr', 'rtl' or 'auto', not {direction!r}")
    if direction == "auto":  # the first strong character decides (rules P2, P3)
        from bidi import get_base_level

        direction = "rtl" if tokens and get_base_level(" ".join(tokens)) == 1 else "ltr"
    return direction


def _check_sizes(font_size: float, char_limit: int | None, max_width: float | None) -> None:
    if not font_size or font_size <= 0:
        raise InputError(f"font_size must be a positive number of pixels, not {font_size!r}")
    if char_limit is not None and char_limit < 1:
        raise InputError(f"char_limit must be at least 1 (or None), not {char_limit!r}")
    if max_width is not None and max_width <= 0:
        raise InputError(f"width must be a positive number of pixels, not {max_width!r}")


@dataclass(frozen=True)
class TokenMetrics:
    """Pixel extents of shaped tokens: each box's span around its pen start and its width,
    and the vertical metrics (in em) shared by all boxes."""

    spans: list[tuple[float, float]]
    widths: list[float]
    ascent: float
    descent: float
    vpad: float  # above the ascent and below the descent
    scale: float  # pixels per em

    @property
    def box_height(self) -> float:
        """Height of every box, pixels."""
        return (self.ascent + self.descent + 2 * self.vpad) * self.scale


def measure_tokens(shaped: Sequence[ShapedText], stack: FontStack, s: float,
                   pad: float) -> TokenMetrics:
    """Box extents of ``shaped`` tokens at ``s`` pixels per em with ``pad`` pixels each side."""
    # Horizontal extent of each token's box relative to its pen start.
    spans = []
    for sh in shaped:
        left, right = 0.0, sh.advance * s
        if sh.ink is not None:
            left, right = min(left, sh.ink[0] * s), max(right, sh.ink[2] * s)
        if right - left < _EMPTY_TOKEN_EM * s and not sh.glyphs:
            right = left + _EMPTY_TOKEN_EM * s
        spans.append((left - pad, right + pad))
    widths = [b - a for a, b in spans]

    # Vertical extent shared by all boxes: the primary font's ascent/descent or the ink.
    prim = stack.primary
    asc = prim.ascender / prim.upem
    desc = -prim.descender / prim.upem
    for sh in shaped:
        if sh.ink is not None:
            asc, desc = max(asc, -sh.ink[1]), max(desc, sh.ink[3])
    return TokenMetrics(spans, widths, asc, desc, _VPAD, s)


def break_lines(
    tokens: Sequence[str],
    widths: Sequence[float],
    *,
    max_width: float | None = None,
    char_limit: int | None = None,
    gap: float = 0.0,
) -> list[list[int]]:
    """Token indices of each line, in logical order: a line ends before the token that would
    make it wider than ``max_width`` pixels or longer than ``char_limit`` characters (one
    space between tokens, NeuroX's rule). A token wider than the limit gets a line of its own.

    Example:
        >>> break_lines(["ab", "cd", "ef"], [10, 10, 10], max_width=25)
        [[0, 1], [2]]
    """
    lines: list[list[int]] = []
    cur: list[int] = []
    cur_w = 0.0
    cur_chars = 0
    for i, tok in enumerate(tokens):
        w = widths[i]
        if cur:
            too_wide = max_width is not None and cur_w + gap + w > max_width + 1e-9
            too_long = char_limit is not None and cur_chars + 1 + len(tok) > char_limit
            if too_wide or too_long:
                lines.append(cur)
                cur, cur_w, cur_chars = [], 0.0, 0
        cur_w += (gap if cur else 0.0) + w
        cur_chars += (1 if cur else 0) + len(tok)
        cur.append(i)
    if cur:
        lines.append(cur)
    return lines


def place_line(
    tokens: Sequence[str],
    shaped: Sequence[ShapedText],
    seps: Sequence[int],
    m: TokenMetrics,
    stack: FontStack,
    line: Sequence[int],
    li: int,
    x: float,
    top: float,
    gap: float,
) -> list[TokenBox]:
    """The boxes of the tokens of ``line`` (line number ``li``), placed from ``x`` in visual
    order: the tokens and the spaces between them (``seps``: the bidi level of the space after
    each token) are reordered by rule L2, then the spaces are dropped."""
    items, item_levels = [], []
    for k, i in enumerate(line):
        if k:
            items.append(-1)
            item_levels.append(seps[line[k - 1]])
        items.append(i)
        item_levels.append(shaped[i].level)
    order = [items[k] for k in visual_order(item_levels) if items[k] >= 0]
    s = m.scale
    baseline = top + (m.vpad + m.ascent) * s
    boxes = []
    for slot, i in enumerate(order):
        sh = shaped[i]
        pen = x - m.spans[i][0]
        glyphs = tuple(
            PlacedGlyph(
                stack.faces[g.face],
                g.gid,
                pen + g.x * s,
                baseline + g.y * s,
                s / stack.faces[g.face].upem,
            )
            for g in sh.glyphs
        )
        ink = None
        if sh.ink is not None:
            ink = (
                pen + sh.ink[0] * s,
                baseline + sh.ink[1] * s,
                pen + sh.ink[2] * s,
                baseline + sh.ink[3] * s,
            )
        boxes.append(TokenBox(
            index=i,
            text=tokens[i],
            line=li,
            slot=slot,
            x=x,
            y=top,
            width=m.widths[i],
            height=m.box_height,
            baseline=baseline,
            pen_x=pen,
            advance=sh.advance * s,
            ink=ink,
            glyphs=glyphs,
            rtl=bool(sh.level % 2),
        ))
        x += m.widths[i] + gap
    return boxes
