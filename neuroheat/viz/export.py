"""Export SVG figures to PNG and vector PDF.

Backends, first found wins: ``rsvg-convert`` (Debian/Ubuntu ``librsvg2-bin``, Homebrew
``librsvg``) or CairoSVG (``pip install 'neuroheat[export]'``). Both write PDFs with vector
paths (text figures drawn in "paths" mode stay sharp at any zoom). Set
``NEUROHEAT_SVG_BACKEND=cairosvg`` or ``rsvg`` to force one.

Example:
    >>> from neuroheat.viz import visualize_activations
    >>> save(visualize_activations(["a"], [1.0]), "a.pdf")   # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from neuroheat.errors import ExportError, InputError

__all__ = ["FORMATS", "ExportError", "backend", "convert", "save"]

FORMATS = (".svg", ".png", ".pdf")


def _svg_bytes(figure: Any) -> bytes:
    if isinstance(figure, bytes):
        return figure
    if isinstance(figure, str):
        return figure.encode("utf-8")
    if hasattr(figure, "tostring"):
        return ('<?xml version="1.0" encoding="utf-8" ?>\n' + figure.tostring()).encode("utf-8")
    raise InputError(f"cannot export a {type(figure).__name__}; pass an SVG drawing or string")


def _have_cairosvg() -> bool:
    try:
        import cairosvg  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def backend() -> str:
    """Name of the converter that will be used: "rsvg" or "cairosvg"."""
    forced = os.environ.get("NEUROHEAT_SVG_BACKEND", "").lower()
    if forced in ("rsvg", "rsvg-convert"):
        if not shutil.which("rsvg-convert"):
            raise ExportError("NEUROHEAT_SVG_BACKEND=rsvg but rsvg-convert is not on PATH")
        return "rsvg"
    if forced == "cairosvg":
        if not _have_cairosvg():
            raise ExportError("NEUROHEAT_SVG_BACKEND=cairosvg but cairosvg is not installed")
        return "cairosvg"
    if shutil.which("rsvg-convert"):
        return "rsvg"
    if _have_cairosvg():
        return "cairosvg"
    raise ExportError(
        "no SVG converter found for PNG/PDF export: install librsvg2-bin "
        "(apt-get install librsvg2-bin) or CairoSVG (pip install 'neuroheat[export]'), "
        "or save as .svg"
    )


def convert(figure: Any, fmt: str, *, scale: float = 2.0) -> bytes:
    """Convert an SVG (drawing, str or bytes) to ``"png"`` or ``"pdf"`` bytes.

    ``scale`` multiplies the pixel size of PNGs (2 = 192 dpi for a 96-dpi SVG); PDFs keep the
    SVG's size in points and are vector.
    """
    if fmt not in ("png", "pdf"):
        raise InputError(f"format must be 'png' or 'pdf', not {fmt!r}")
    if not scale or scale <= 0:
        raise InputError(f"scale must be positive, not {scale!r}")
    svg = _svg_bytes(figure)
    which = backend()
    if which == "rsvg":
        cmd = ["rsvg-convert", "-f", fmt]
        if fmt == "png":
            cmd += ["-z", str(scale)]
        proc = subprocess.run(cmd, input=svg, capture_output=True, check=False)
        if proc.returncode != 0:
            msg = proc.stderr.decode("utf-8", "replace").strip()
            raise ExportError(f"rsvg-convert failed: {msg}")
        return proc.stdout
    import cairosvg

    if fmt == "png":
        return cairosvg.svg2png(bytestring=svg, scale=scale)
    return cairosvg.svg2pdf(bytestring=svg)


def save(figure: Any, path: str | os.PathLike, *, scale: float = 2.0) -> Path:
    """Write ``figure`` to ``path``; the suffix picks the format (.svg, .png, .pdf)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(
            f"cannot tell the format of {path.name!r}; the file name must end in "
            f"{', '.join(FORMATS)}"
        )
    if path.parent and not path.parent.exists():
        raise InputError(f"folder {path.parent} does not exist; create it first")
    data = _svg_bytes(figure) if suffix == ".svg" else convert(figure, suffix[1:], scale=scale)
    path.write_bytes(data)
    return path
