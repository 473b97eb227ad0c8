"""Shared helpers for the saliency view tests: data builders, browser launch, SVG isolation."""

from __future__ import annotations

import shutil
import time
import xml.etree.ElementTree as ET

import numpy as np

from tests.helpers.raster import NS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# textualheatmap's README examples, data shape as documented there.
README_GENERAL = [
    [
        {"token": "a", "meta": ["and", "africa", "america"], "heat": [1, 0, 0]},
        {"token": "n", "meta": ["and", "anecdote", "antelope"], "heat": [0.3, 0.7, 0]},
        {"token": "d", "meta": ["and", "andante", "andosol"], "heat": [0.2, 0.3, 0.5]},
    ],
    [
        {"token": "a", "meta": ["and", "africa", "america"], "heat": [1, 0, 0]},
        {"token": "n", "meta": ["and", "anecdote", "antelope"], "heat": [0.1, 0.9, 0]},
        {"token": "d", "meta": ["and", "andante", "andosol"], "heat": [0.1, 0.1, 0.8]},
    ],
]


def wait_until(page, expression: str, arg=None, timeout: float = 30.0) -> None:
    """Poll ``expression`` (a JS function of ``arg``) with ``page.evaluate`` until it is truthy.

    Not ``page.wait_for_function``: its polling evaluates the predicate with ``eval`` inside
    the page, which our pages' CSP (no 'unsafe-eval') refuses whenever the first check fails.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        time.sleep(0.02)


def word_facet(words: list[str], seed: int = 0, meta_k: int = 3) -> list[dict]:
    """A facet like textualheatmap's BERT example: words separated by ``format`` spaces,
    random heats (row i max 1 at i), meta strings per word."""
    rng = np.random.default_rng(seed)
    k = len(words)
    heat = rng.random((k, k))
    heat[np.arange(k), np.arange(k)] = 1.0
    facet: list[dict] = []
    for i, w in enumerate(words):
        if i:
            facet.append({"token": " ", "format": True})
        facet.append(
            {
                "token": w,
                "meta": [f"{w}{m}" for m in range(meta_k)],
                "heat": [float(round(v, 6)) for v in heat[i]],
            }
        )
    return facet


def rgb_of(css: str) -> tuple[int, int, int]:
    """``rgb(r, g, b)`` / ``rgba(...)`` / ``#rrggbb`` -> (r, g, b)."""
    css = css.strip()
    if css.startswith("#"):
        return int(css[1:3], 16), int(css[3:5], 16), int(css[5:7], 16)
    inside = css[css.index("(") + 1 : css.index(")")]
    parts = [p.strip() for p in inside.split(",")]
    return int(parts[0]), int(parts[1]), int(parts[2])


def strip_ink(svg: str) -> str:
    """The figure without any glyphs (token ink, meta, titles): only boxes and rects remain."""
    root = ET.fromstring(svg)
    for parent in root.iter():
        for child in list(parent):
            tag = child.tag.split("}")[1]
            if tag == "use" or (tag == "g" and child.get("class") == "nh-ink"):
                parent.remove(child)
    return ET.tostring(root, encoding="unicode")


def isolate_token(svg: str, facet: int, index: int, part: str) -> str:
    """Only token (facet, index)'s ``part`` ("rect" or "ink") drawn, in black, on white."""
    root = ET.fromstring(svg)
    for child in list(root):
        if child.tag.endswith("rect"):
            root.remove(child)  # background
    fig = root.find(".//s:g[@id='neuroheat-figure']", NS)
    assert fig is not None
    found = False
    for g in list(fig):
        if g.get("class") != "nh-facet":
            fig.remove(g)
            continue
        g.remove(g[0])  # the content background path
        for tok in list(g):
            if (
                tok.get("class") != "nh-token"
                or tok.get("data-facet") != str(facet)
                or tok.get("data-index") != str(index)
            ):
                g.remove(tok)
                continue
            found = True
            for child in list(tok):
                tag = child.tag.split("}")[1]
                if tag == "rect" and child.get("class") != "nh-focus-mark":
                    if part == "rect":
                        child.set("fill", "#000000")
                    else:
                        tok.remove(child)
                elif tag == "rect":
                    tok.remove(child)
                elif tag == "g":
                    if part == "ink":
                        child.set("fill", "#000000")
                    else:
                        tok.remove(child)
    assert found, (facet, index)
    return ET.tostring(root, encoding="unicode")


def token_rects(svg: str) -> dict[tuple[int, int], tuple[tuple[float, float, float, float], str]]:
    """(facet, index) -> ((x, y, w, h), fill) of every token box of a focus/compare figure."""
    root = ET.fromstring(svg)
    out = {}
    for tok in root.iter(f"{{{NS['s']}}}g"):
        if tok.get("class") != "nh-token":
            continue
        rect = next(r for r in tok.findall("s:rect", NS) if r.get("class") != "nh-focus-mark")
        key = (int(tok.get("data-facet")), int(tok.get("data-index")))
        out[key] = (
            tuple(float(rect.get(a)) for a in ("x", "y", "width", "height")),
            rect.get("fill"),
        )
    return out
