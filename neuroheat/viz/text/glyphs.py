"""Writing laid-out text into an SVG so it looks the same on every machine.

Two modes:

- ``"paths"`` (default): every glyph becomes an SVG path, defined once in ``<defs>`` and
  placed with ``<use>``. Exact (the pixels do not depend on the viewer's fonts or shaping),
  works in every renderer (browsers, librsvg, CairoSVG, Inkscape, LaTeX via PDF). Each token
  also carries a ``<title>`` with its text, so viewers show it on hover and screen readers read
  it.
- ``"embed"``: the text stays text (selectable, searchable, editable in Inkscape): each token is a
  ``<text>`` element anchored at the centre of its shaped width, and a subset of every font used
  is embedded as a base64 ``@font-face``. Browsers render it as laid out; librsvg and CairoSVG
  ignore ``@font-face`` and substitute a system font, so use "paths" for files you convert.

Example:
    >>> import svgwrite
    >>> from neuroheat.viz.text.layout import layout_tokens
    >>> dwg = svgwrite.Drawing(debug=False)
    >>> writer = GlyphWriter(dwg)
    >>> lay = layout_tokens(["hi"])
    >>> _ = writer.draw(dwg, lay.boxes[0])
    >>> writer.finish()
    >>> "<use" in dwg.tostring()
    True
"""

from __future__ import annotations

import base64
import logging
import re
from collections import defaultdict
from functools import lru_cache

import uharfbuzz as hb
from fontTools.pens.svgPathPen import SVGPathPen

from neuroheat.errors import InputError
from neuroheat.viz.text.fonts import FontFace
from neuroheat.viz.text.layout import TokenBox

log = logging.getLogger(__name__)

TEXT_MODES = ("paths", "embed")


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` with characters XML cannot hold replaced: C0 controls by their visible
    control pictures (U+2400...), surrogates and non-characters by U+FFFD."""

    def sub(m: re.Match) -> str:
        cp = ord(m.group())
        return chr(0x2400 + cp) if cp < 0x20 else "\ufffd"

    return _XML_BAD.sub(sub, text)


def _num(v: float) -> str:
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


@lru_cache(maxsize=32768)
def glyph_path(face: FontFace, gid: int) -> str:
    """SVG path data of glyph ``gid`` in font units (y up), drawn by HarfBuzz."""
    pen = SVGPathPen(None, ntos=lambda v: _num(v))
    face.hb_font.draw_glyph_with_pen(gid, pen)
    return pen.getCommands()


class GlyphWriter:
    """Draws the glyphs of :class:`TokenBox` es into one ``svgwrite.Drawing``."""

    def __init__(self, drawing, mode: str = "paths") -> None:
        if mode not in TEXT_MODES:
            raise InputError(f"text_mode must be one of {TEXT_MODES}, not {mode!r}")
        self.dwg = drawing
        self.mode = mode
        self._defined: set[str] = set()
        self._chars: dict[FontFace, set[str]] = defaultdict(set)
        self._families: list[FontFace] = []

    def draw(self, parent, box: TokenBox, dx: float = 0.0, dy: float = 0.0, fill: str = "#000"):
        """Add the glyphs of ``box`` shifted by (dx, dy) to ``parent``; returns the group."""
        g = self.dwg.g(fill=fill)
        if self.mode == "paths":
            for gl in box.glyphs:
                ref = f"{gl.face.key}-{gl.gid}"
                if ref not in self._defined:
                    self._defined.add(ref)
                    self.dwg.defs.add(self.dwg.path(d=glyph_path(gl.face, gl.gid), id=ref))
                s = gl.scale
                tr = f"matrix({_num4(s)} 0 0 {_num4(-s)} {_num(gl.x + dx)} {_num(gl.y + dy)})"
                g.add(self.dwg.use(f"#{ref}", transform=tr))
        else:
            faces = {gl.face for gl in box.glyphs}
            for face in faces:
                self._chars[face].update(box.text)
                if face not in self._families:
                    self._families.append(face)
            if box.glyphs:
                size = box.glyphs[0].scale * box.glyphs[0].face.upem
                t = self.dwg.text(
                    xml_safe(box.text),
                    insert=(_num(box.pen_x + box.advance / 2 + dx), _num(box.baseline + dy)),
                    style=f"font-size:{_num(size)}px",
                )
                t["text-anchor"] = "middle"
                t["direction"] = "rtl" if box.rtl else "ltr"
                t["xml:space"] = "preserve"
                g.add(t)
        parent.add(g)
        return g

    def draw_layout(self, parent, lay, x: float, y: float, fill: str = "#000") -> None:
        """Add every box of the :class:`TextLayout` ``lay``, its origin at (x, y)."""
        for box in lay.boxes:
            self.draw(parent, box, x, y, fill=fill)

    def finish(self) -> None:
        """Write what the drawn glyphs need (embedded font subsets in "embed" mode)."""
        if self.mode != "embed" or not self._families:
            return
        rules = []
        names = []
        for face in self._families:
            data, fmt = subset_font(face, "".join(sorted(self._chars[face])))
            name = f"nh-{face.key}"
            names.append(f"'{name}'")
            b64 = base64.b64encode(data).decode("ascii")
            rules.append(
                f"@font-face{{font-family:'{name}';src:url(data:font/{fmt};base64,{b64}) "
                f"format('{'opentype' if fmt == 'otf' else 'truetype'}');}}"
            )
        rules.append(f"text{{font-family:{','.join(names)};font-kerning:normal}}")
        self.dwg.defs.add(self.dwg.style("\n".join(rules)))


def _num4(v: float) -> str:
    s = f"{v:.6f}".rstrip("0").rstrip(".")
    return s or "0"


def subset_font(face: FontFace, text: str) -> tuple[bytes, str]:
    """A subset of ``face`` with the glyphs and shaping features ``text`` needs.

    HarfBuzz's subsetter (milliseconds even for the CJK font); variable fonts are pinned to
    their default instance. Returns the font bytes and "ttf" or "otf".
    """
    inp = hb.SubsetInput()
    inp.unicode_set.update(ord(c) for c in text + " " if not 0xD800 <= ord(c) <= 0xDFFF)
    try:
        inp.pin_all_axes_to_default(face.hb_face)
    except Exception:  # pragma: no cover - static fonts or older HarfBuzz
        log.debug("could not pin the axes of %s", face.name)
    sub = hb.subset(face.hb_face, inp)
    if sub is None:  # pragma: no cover - HarfBuzz refused the font
        raise InputError(f"cannot embed a subset of font {face.name!r}; use text_mode='paths'")
    data = bytes(sub.blob.data)
    return data, ("otf" if data[:4] == b"OTTO" else "ttf")
