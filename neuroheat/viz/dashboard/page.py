"""One neuron's dashboard page, self-contained: the page of a record (what a site's
``data/n-*.js`` holds for the neuron), for notebooks and files.

The page is the neuron page of a ``neuroheat report`` site (statistics, histogram, top
words, top / bottom contexts, quantile samples) with its data and code inlined. Its CSP
allows only the page's own inline script and style, by hash: no event-handler attribute, no
request of any kind. The record comes from :func:`neuroheat.report.neuron_report`.

Example:
    >>> page = NeuronPage(record, vocab, site)    # doctest: +SKIP
    >>> page.save("neuron.html")                  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import hashlib
import html
import uuid
from typing import Any

from neuroheat.viz.html.page import VIEWPORT, HTMLPage, asset, script_json

__all__ = ["NeuronPage"]


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


class NeuronPage(HTMLPage):
    """One neuron's page: ``_repr_html_`` in a notebook, ``save(path)`` for a file; ``data``
    is its record (the same JSON a site's ``data/n-*.js`` holds for it)."""

    save_hint = "a neuron report saves as .html"

    def __init__(self, record: dict[str, Any], vocab: list[str], site: dict[str, Any]) -> None:
        self.data, self.vocab, self.site = record, vocab, site
        payload = script_json({"site": site, "neuron": record, "vocab": vocab})
        self._style = asset("dashboard.css")
        self._script = asset("dashboard.js") + "\n" + asset("dashboard-neuron.js")
        fragment = (f'<div class="nh-report" id="nh-report-{uuid.uuid4().hex[:8]}">'
                    f'<script type="application/json" class="nh-report-data">{payload}'
                    f"</script></div>\n<style>{self._style}</style>\n"
                    f"<script>{self._script}</script>")
        super().__init__(fragment, f"layer {record['layer']} neuron {record['neuron']}")

    def document(self) -> str:
        """The standalone page; its CSP admits only its own script and style (by hash)."""
        csp = (f"default-src 'none'; script-src {_sha256(self._script)}; "
               f"style-src {_sha256(self._style)}; img-src data:; connect-src 'none'")
        return ('<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
                f'<meta http-equiv="Content-Security-Policy" content="{csp}">{VIEWPORT}'
                f"<title>{html.escape(self.title)}</title></head>\n"
                f"<body>\n{self.fragment}\n</body></html>\n")
