"""The offline page shell shared by every interactive view: CSP, inlined assets, safe JSON.

An :class:`HTMLPage` holds one embeddable fragment (``_repr_html_`` for notebooks) and wraps it
in a complete document whose Content-Security-Policy forbids every request. The CSS and JS of
the views live in ``neuroheat/viz/html/static`` (package data) and are inlined by
:func:`asset`; data goes in as :func:`script_json`.

Example:
    >>> page = HTMLPage("<p>hi</p>", "greeting")
    >>> "Content-Security-Policy" in page.document()
    True
"""

from __future__ import annotations

import html
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from neuroheat.errors import InputError

CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; font-src 'none'; connect-src 'none'"
)
VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


@lru_cache(maxsize=8)
def asset(name: str) -> str:
    """Text of a file under ``neuroheat/viz/html/static`` (shipped as package data)."""
    text = (
        resources.files("neuroheat.viz.html").joinpath("static", name).read_text(encoding="utf-8")
    )
    if "</" in text:  # it is inlined into <script>/<style>
        raise RuntimeError(f"static asset {name} must not contain '</'")  # pragma: no cover
    return text


def script_json(obj: Any) -> str:
    """JSON safe to put inside ``<script>``: no ``<``, ``>``, ``&`` or non-ASCII characters."""
    text = json.dumps(obj, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class HTMLPage:
    """An interactive view: ``_repr_html_`` for notebooks, ``save`` for a standalone page.

    ``fragment`` is the embeddable HTML; ``document()`` the full page. Subclasses set
    ``viewport`` (add a mobile viewport tag) and ``save_hint`` (said when a path is not .html).
    """

    viewport: bool = False
    save_hint: str = "an interactive page saves as .html"

    def __init__(self, fragment: str, title: str) -> None:
        self.fragment = fragment
        self.title = title

    def _repr_html_(self) -> str:
        return self.fragment

    def __str__(self) -> str:
        return self.document()

    def document(self) -> str:
        """A complete HTML page; its CSP forbids all network access."""
        return (
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            + (VIEWPORT if self.viewport else "")
            + f"<title>{html.escape(self.title)}</title></head>\n"
            f'<body style="margin:16px">\n{self.fragment}\n</body></html>\n'
        )

    def save(self, path: str | Path) -> Path:
        """Write the standalone page (UTF-8) and return its path."""
        path = Path(path)
        if path.suffix.lower() not in (".html", ".htm"):
            raise InputError(f"{path.name}: {self.save_hint}")
        path.write_text(self.document(), encoding="utf-8")
        return path
