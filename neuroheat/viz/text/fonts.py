"""Font discovery and loading: a fallback stack of real font files shipped by pip packages.

Text in neuroheat figures is shaped by HarfBuzz with known font files, so box widths match the
glyphs exactly. The default stack comes from two OFL-licensed PyPI packages that are plain font
bundles with no dependencies:

- ``manimgx-fonts`` (3.5 MB wheel): Noto Sans (Latin, Greek, Cyrillic), Noto Sans Arabic,
  Noto Sans Hebrew, Noto Sans Symbols, the monochrome outline Noto Emoji and Noto Sans for
  16 more scripts (Devanagari, Thai, ...).
- ``noto-cjk-sans-otc`` (15.5 MB wheel): Noto Sans CJK Regular (SC face first, then JP, KR, TC).

Each character uses the first font of the stack that has it; a character no font has is drawn
with the primary font's ``.notdef`` box (never silently dropped). A font of your own goes first
with :func:`font_stack` ``(extra=[path])``.

Example:
    >>> stack = default_font_stack()
    >>> stack.faces[0].name
    'Noto Sans'
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

import uharfbuzz as hb

from neuroheat.errors import InputError

log = logging.getLogger(__name__)

# Face files of manimgx-fonts, in fallback order after the primary Noto Sans. Emoji before
# Symbols so that emoji code points that both cover get emoji shapes.
_MANIMGX_ORDER = [
    "NotoSans[wght].ttf",
    "NotoSansArabic[wght].ttf",
    "NotoSansHebrew[wght].ttf",
    "NotoEmoji[wght].ttf",
    "NotoSansSymbols[wght].ttf",
]
# CJK collection faces: SC, JP, KR, TC (index into NotoSansCJK-Regular.ttc).
_CJK_INDICES = [(2, "Noto Sans CJK SC")]


@dataclass(eq=False)
class FontFace:
    """One font face: a HarfBuzz font in font units (scale = units per em) plus its coverage."""

    path: Path
    index: int = 0
    name: str = ""
    hb_face: hb.Face = field(init=False, repr=False)
    hb_font: hb.Font = field(init=False, repr=False)
    upem: int = field(init=False)
    ascender: int = field(init=False)
    descender: int = field(init=False)  # negative, font units
    _cmap: dict[int, bool] = field(init=False, repr=False, default_factory=dict)
    _count: ClassVar[int] = 0

    def __post_init__(self) -> None:
        if not self.path.is_file():
            raise InputError(f"font file {self.path} does not exist; pass an existing .ttf/.otf")
        blob = hb.Blob.from_file_path(str(self.path))
        self.hb_face = hb.Face(blob, self.index)
        if self.hb_face.glyph_count == 0:
            raise InputError(f"{self.path} (face {self.index}) is not a usable font file")
        self.hb_font = hb.Font(self.hb_face)
        self.upem = self.hb_face.upem
        ext = self.hb_font.get_font_extents("ltr")
        self.ascender, self.descender = ext.ascender, ext.descender
        if not self.name:
            self.name = _face_name(self.hb_face) or self.path.stem
        self.is_emoji = "emoji" in self.name.lower()
        FontFace._count += 1
        self._key = f"f{FontFace._count}"

    @property
    def key(self) -> str:
        """A short identifier, unique in this process (used in SVG ids)."""
        return self._key

    def has_char(self, cp: int) -> bool:
        """True when the font maps code point ``cp`` to a real glyph."""
        hit = self._cmap.get(cp)
        if hit is None:
            hit = self.hb_font.get_nominal_glyph(cp) is not None
            self._cmap[cp] = hit
        return hit


def _face_name(face: hb.Face) -> str:
    for name_id in (16, 1, 4):  # typographic family, family, full name
        try:
            name = face.get_name(name_id)
        except Exception:  # pragma: no cover - depends on uharfbuzz build
            name = None
        if name:
            return str(name)
    return ""


@dataclass(eq=False)
class FontStack:
    """An ordered fallback list of faces; ``faces[0]`` is the primary font."""

    faces: list[FontFace]

    def __post_init__(self) -> None:
        if not self.faces:
            raise InputError("a font stack needs at least one font file")
        self._choice: dict[int, int] = {}

    @property
    def primary(self) -> FontFace:
        return self.faces[0]

    @property
    def emoji_index(self) -> int | None:
        """Index of the first emoji face, if the stack has one."""
        return next((i for i, f in enumerate(self.faces) if f.is_emoji), None)

    def face_index_for(self, cp: int) -> int | None:
        """Index of the first face that has ``cp``, or None when no face has it."""
        hit = self._choice.get(cp, -2)
        if hit == -2:
            hit = next((i for i, f in enumerate(self.faces) if f.has_char(cp)), -1)
            self._choice[cp] = hit
        return None if hit < 0 else hit

    @property
    def key(self) -> tuple[tuple[str, int], ...]:
        return tuple((str(f.path), f.index) for f in self.faces)


def _package_dir(module: str) -> Path | None:
    try:
        mod = __import__(module)
    except ImportError:
        return None
    file = getattr(mod, "__file__", None)
    return Path(file).parent if file else None


def default_font_files() -> list[tuple[Path, int]]:
    """(path, face index) of the default stack that are installed, in fallback order.

    Set ``NEUROHEAT_FONT`` to a font file path to put your own font first.
    """
    files: list[tuple[Path, int]] = []
    env = os.environ.get("NEUROHEAT_FONT")
    if env:
        files.append((Path(env), 0))
    base = _package_dir("manimgx_fonts")
    if base is not None:
        files += [(base / n, 0) for n in _MANIMGX_ORDER if (base / n).is_file()]
        extra = sorted(p for p in base.glob("NotoSans*.ttf") if p.name not in _MANIMGX_ORDER)
        extra = [p for p in extra if "Italic" not in p.name]
        files += [(p, 0) for p in extra]
    cjk = _package_dir("noto_cjk_sans_otc")
    if cjk is not None and (cjk / "NotoSansCJK-Regular.ttc").is_file():
        files += [(cjk / "NotoSansCJK-Regular.ttc", i) for i, _ in _CJK_INDICES]
    if not files:
        raise InputError(
            "no font found for rendering: install the font packages with "
            "`pip install manimgx-fonts noto-cjk-sans-otc` (neuroheat depends on them)"
        )
    return files


@lru_cache(maxsize=16)
def _load(path: str, index: int) -> FontFace:
    return FontFace(Path(path), index)


def font_stack(extra: list[str | os.PathLike] | tuple = ()) -> FontStack:
    """A fallback stack: the ``extra`` font files first, then the default fonts.

    Faces and stacks are loaded once per process and shared (they are read-only), so shaping
    caches keyed by the stack keep working across figures.
    """
    return _stack(tuple(str(p) for p in extra), os.environ.get("NEUROHEAT_FONT", ""))


@lru_cache(maxsize=32)
def _stack(extra: tuple[str, ...], _env: str) -> FontStack:
    items = [(Path(p), 0) for p in extra] + default_font_files()
    seen: set[tuple[str, int]] = set()
    faces = []
    for path, index in items:
        k = (str(path.resolve()) if path.exists() else str(path), index)
        if k in seen:
            continue
        seen.add(k)
        faces.append(_load(*k))
    return FontStack(faces)


@lru_cache(maxsize=1)
def default_font_stack() -> FontStack:
    """The default stack (cached): Noto Sans, Arabic, Hebrew, Emoji, Symbols, scripts, CJK."""
    return font_stack()
