"""HTML pages that work offline: one page shell (strict CSP), inlined static assets.

Example:
    >>> from neuroheat.viz.html import HTMLPage
    >>> HTMLPage("<p>hi</p>", "t").save("t.html")   # doctest: +SKIP
"""

from neuroheat.viz.html.page import CSP, HTMLPage, asset, script_json

__all__ = ["CSP", "HTMLPage", "asset", "script_json"]
