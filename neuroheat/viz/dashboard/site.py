"""A static neuron dashboard: one folder that works from ``file://`` with no server.

Layout of ``SITE/`` (every data file is a script that stores one JSON value in
``window.NH_DATA[name]``: browsers block ``fetch`` on ``file://``, but not ``<script src>``)::

    index.html            every neuron: virtual-scrolled list, sort, filters, word search
    neuron.html           one neuron: neuron.html#L{layer}N{neuron}
    assets/dashboard.js   what both pages share; dashboard-index.js and dashboard-neuron.js
                          the pages; dashboard.css
    data/site.js          the manifest (layers, width, settings); the only file both pages load
    data/layer-{L}.js     index columns of layer L (mean, std, selectivity, top words)
    data/order-{key}.js   every neuron sorted by key (sel, mean, std: descending; word: first
                          top word A to Z)
    data/n-{L}-{B}.js     the full records of neurons B*64 .. B*64+63 of layer L
    data/search-{H}.js    for each word hashed to bucket H, its top neurons (word_neurons)
    data/explanations.js  [[layer, neuron, explanation, score], ...] (only with explanations:
                          loaded by the index's search box on first use)

Pages load ``data/site.js`` and then only the files they need (a layer when one of its rows
scrolls into view, a block of neurons when one is opened), so a site of 100,000+ neurons
opens at once. The pages' Content-Security-Policy allows scripts and styles from the folder
only: no inline script or event handler, no request outside the folder; token text is set
with ``textContent`` only, and data files escape ``<``, ``>`` and ``&``.

This module writes the files from the data it is given (:class:`SiteData`);
:func:`neuroheat.report.build_site` computes that data from a store and calls it.

Example:
    >>> nh.report.build_site("acts.h5", "site/", k=10, window=8)   # doctest: +SKIP
    PosixPath('site/index.html')
"""

from __future__ import annotations

import html
import logging
import os
import shutil
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from neuroheat.errors import OutputExistsError
from neuroheat.viz.html.page import asset, script_json

__all__ = ["BLOCK", "SITE_CSP", "SiteData", "check_output", "search_bucket", "write_site"]

log = logging.getLogger(__name__)

#: neurons per data/n-*.js file
BLOCK = 64
#: what the site's pages may load: their own folder's scripts and styles, data: images
SITE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'none'; font-src 'none'; form-action 'none'; base-uri 'none'")
_ORDER_KEYS = ("sel", "mean", "std")
_MARKER = "neuroheat-dashboard"


class SiteData(Protocol):
    """What :func:`write_site` draws, already computed (:class:`neuroheat.report.data.
    DashboardData` is one): the JSON-ready records and columns of every neuron.

    ``index`` holds every word's top neurons: ``vocab`` (words) and ``layer`` / ``neuron``
    / ``score`` arrays ``[words, search_k]`` (layer < 0: no neuron in that slot).
    """

    layers: list[int]
    width: int
    meta: dict[str, Any]
    k: int
    window: int
    index: Any
    probe: dict[tuple[int, int], dict[str, float]]
    outputs: dict[int, dict[str, Any]]
    explanations: dict[tuple[int, int], dict[str, Any]]

    @property
    def quantiles(self) -> str:
        """How the quantile bands were cut (``value``, ``rank`` or ``count``)."""

    def column(self, layer: int, key: str) -> np.ndarray:
        """float64 ``[width]`` of ``"sel"``, ``"mean"`` or ``"std"``."""

    def layer_words(self, layer: int) -> list[list[list[Any]]]:
        """``[[word, score], ...]`` of every neuron of ``layer``."""

    def layer_index(self, layer: int) -> dict[str, Any]:
        """The index columns of ``layer`` (the JSON of ``data/layer-{L}.js``)."""

    def block(self, layer: int, b0: int, b1: int) -> dict[str, Any]:
        """The records of neurons ``b0:b1`` (the JSON of one ``data/n-*.js``)."""


def search_bucket(word: str, buckets: int) -> int:
    """The data/search-{H}.js file of ``word``: FNV-1a over its UTF-16 code units (what the
    page computes with ``charCodeAt``), modulo ``buckets``.

    Example:
        >>> search_bucket("cat", 64)
        7
    """
    h = 0x811C9DC5
    data = word.encode("utf-16-le")
    for i in range(0, len(data), 2):
        h ^= data[i] | (data[i + 1] << 8)
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h % buckets


def _write_data(folder: Path, name: str, value: Any) -> int:
    text = f"(window.NH_DATA=window.NH_DATA||{{}})[{script_json(name)}]={script_json(value)};\n"
    (folder / f"{name}.js").write_text(text, encoding="ascii")
    return len(text)


def _page(title: str, role: str) -> str:
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{SITE_CSP}\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title>"
            "<link rel=\"stylesheet\" href=\"assets/dashboard.css\">"
            "<script src=\"data/site.js\"></script>"
            "<script src=\"assets/dashboard.js\"></script>"
            f"<script src=\"assets/dashboard-{role}.js\"></script></head>\n"
            f"<body data-page=\"{role}\"><noscript>This dashboard needs JavaScript."
            "</noscript></body></html>\n")


def check_output(out: Path, overwrite: bool) -> bool:
    """Whether ``out`` holds a site to replace; OutputExistsError when it may not be written
    (not empty without ``overwrite``, or not a dashboard: never deleted).

    Example:
        >>> check_output(Path("new-site"), overwrite=False)   # doctest: +SKIP
        False
    """
    if not out.exists():
        return False
    if not out.is_dir():
        raise OutputExistsError(f"{out} is a file; the site is a folder: choose another path")
    if not any(out.iterdir()):
        return False
    if not overwrite:
        raise OutputExistsError(f"{out} exists and is not empty; pass --overwrite to replace "
                                "the site in it")
    if not (out / "data" / "site.js").exists():
        raise OutputExistsError(f"{out} is not a neuroheat dashboard (no data/site.js): "
                                "refusing to delete it; choose an empty folder")
    return True


def _prepare(out: Path, overwrite: bool) -> None:
    if check_output(out, overwrite):
        shutil.rmtree(out / "data", ignore_errors=True)
        shutil.rmtree(out / "assets", ignore_errors=True)
    (out / "data").mkdir(parents=True, exist_ok=True)
    (out / "assets").mkdir(exist_ok=True)


def write_site(data: SiteData, outdir: str | os.PathLike, *, title: str | None = None,
               overwrite: bool = False) -> Path:
    """Write the site of ``data`` into ``outdir``; returns ``outdir/index.html``.

    Example:
        >>> write_site(nh.report.collect("acts.h5"), "site")   # doctest: +SKIP
    """
    out = Path(outdir)
    _prepare(out, overwrite)
    folder = out / "data"
    title = title or f"neuroheat: {data.meta.get('model') or 'neurons'}"
    width, layers = data.width, data.layers
    total = 0
    for layer in layers:
        total += _write_data(folder, f"layer-{layer}", data.layer_index(layer))
        for b0 in range(0, width, BLOCK):
            total += _write_data(folder, f"n-{layer}-{b0 // BLOCK}",
                                 data.block(layer, b0, min(width, b0 + BLOCK)))
    ids = np.arange(len(layers) * width)
    for key in _ORDER_KEYS:
        column = np.concatenate([data.column(layer, key) for layer in layers])
        order = np.lexsort((ids, -column))
        total += _write_data(folder, f"order-{key}", order.tolist())
    # by first top word, A to Z (case-folded; neurons without words last)
    first = [ws[0][0].casefold() if ws else "\U0010ffff" for layer in layers
             for ws in data.layer_words(layer)]
    order = sorted(range(len(first)), key=lambda i: (first[i], i))
    total += _write_data(folder, "order-word", order)
    buckets = max(1, min(256, len(data.index.vocab) // 500))
    searches: list[dict[str, list]] = [{} for _ in range(buckets)]
    for word, lays, neus, scores in zip(data.index.vocab, data.index.layer.tolist(),
                                        data.index.neuron.tolist(), data.index.score.tolist(),
                                        strict=True):
        hits = [[a, b, s] for a, b, s in zip(lays, neus, scores, strict=True) if a >= 0]
        if hits:
            searches[search_bucket(word, buckets)][word] = hits
    for h, found in enumerate(searches):
        total += _write_data(folder, f"search-{h}", found)
    explained = sorted((a, b, e["text"], e["score"]) for (a, b), e in data.explanations.items()
                       if e.get("text"))
    if explained:
        total += _write_data(folder, "explanations", [list(x) for x in explained])
    manifest = {"format": _MARKER, "title": title, "layers": layers, "width": width,
                "block": BLOCK, "buckets": buckets, "k": data.k, "window": data.window,
                "search_k": int(data.index.layer.shape[1]), "meta": data.meta,
                "quantiles": data.quantiles, "probe": bool(data.probe),
                "outputs": bool(data.outputs), "explanations": bool(explained),
                "orders": [*_ORDER_KEYS, "word"]}
    total += _write_data(folder, "site", manifest)
    for name in ("dashboard.js", "dashboard-index.js", "dashboard-neuron.js", "dashboard.css"):
        (out / "assets" / name).write_text(asset(name), encoding="utf-8")
    (out / "index.html").write_text(_page(title, "index"), encoding="utf-8")
    (out / "neuron.html").write_text(_page(title, "neuron"), encoding="utf-8")
    log.info("wrote %s: %d neurons, %.1f MB of data", out, len(layers) * width, total / 1e6)
    return out / "index.html"
