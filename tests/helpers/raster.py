"""Rasterizing helpers for rendering tests: SVG -> pixels with rsvg-convert (or CairoSVG)."""

from __future__ import annotations

import copy
import io
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

SVG_NS = "http://www.w3.org/2000/svg"
NS = {"s": SVG_NS}
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
ET.register_namespace("ev", "http://www.w3.org/2001/xml-events")


def have_rasterizer() -> bool:
    if shutil.which("rsvg-convert"):
        return True
    try:
        import cairosvg  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


needs_raster = pytest.mark.skipif(
    not have_rasterizer(), reason="needs rsvg-convert (apt-get install librsvg2-bin) or cairosvg"
)


def rasterize(svg: str | bytes, scale: float = 1.0, env: dict | None = None) -> np.ndarray:
    """RGB float array in 0..1, shape [H, W, 3], composited on white."""
    from PIL import Image

    data = svg.encode("utf-8") if isinstance(svg, str) else svg
    if shutil.which("rsvg-convert"):
        proc = subprocess.run(
            ["rsvg-convert", "-f", "png", "-z", str(scale), "-b", "white"],
            input=data, capture_output=True, check=True, env=env,
        )
        png = proc.stdout
    else:
        import cairosvg

        png = cairosvg.svg2png(bytestring=data, scale=scale, background_color="white")
    img = Image.open(io.BytesIO(png)).convert("RGB")
    return np.asarray(img, dtype=np.float64) / 255.0


def bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) inclusive pixel bounds of a boolean mask, or None when empty."""
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def _token_groups(root: ET.Element) -> list[ET.Element]:
    return root.findall(".//s:g[@class='nh-token']", NS)


def isolate(svg: str, index: int, part: str) -> str:
    """The figure with only token ``index``'s ``part`` ("rect" or "ink") drawn, in black.

    Everything else (other tokens, title, colour bar, background) is removed, so a raster of
    the result shows exactly where the renderer put that part.
    """
    root = ET.fromstring(svg)
    fig = root.find(".//s:g[@id='neuroheat-figure']", NS)
    assert fig is not None
    for child in list(root):
        if child.tag.endswith("rect"):
            root.remove(child)  # background
    for g in list(fig):
        if g.get("class") != "nh-sentence":
            fig.remove(g)
    found = False
    for sent in fig.findall("s:g[@class='nh-sentence']", NS):
        for tok in list(sent):
            if tok.get("data-index") != str(index) or found:
                sent.remove(tok)
                continue
            found = True
            for child in list(tok):
                tag = child.tag.split("}")[1]
                if tag == "rect":
                    if part == "rect":
                        child.set("fill", "#000000")
                        child.attrib.pop("fill-opacity", None)
                    else:
                        tok.remove(child)
                elif tag == "g":
                    if part == "ink":
                        child.set("fill", "#000000")
                    else:
                        tok.remove(child)
    assert found, f"token {index} not in the figure"
    return ET.tostring(root, encoding="unicode")


def rect_of(svg: str, index: int) -> tuple[float, float, float, float]:
    """x, y, width, height of token ``index``'s rect in the SVG."""
    root = ET.fromstring(svg)
    for tok in _token_groups(root):
        if tok.get("data-index") == str(index):
            r = tok.find("s:rect", NS)
            assert r is not None, f"token {index} has no rect"
            return tuple(float(r.get(k)) for k in ("x", "y", "width", "height"))
    raise AssertionError(f"token {index} not found")


def assert_ink_inside_boxes(dwg, scale: float = 2.0, tol_px: int = 1) -> list:
    """Rasterize each token's ink and box separately; the ink must lie inside the box.

    Every token must have a non-zero activation (so it has a box). Returns the box bounds.
    """
    svg = dwg.tostring()
    n = sum(len(lay.boxes) for lay in dwg.layouts)
    bounds = []
    for i in range(n):
        ink = bbox(rasterize(isolate(svg, i, "ink"), scale).min(axis=2) < 0.6)
        box = bbox(rasterize(isolate(svg, i, "rect"), scale).min(axis=2) < 0.5)
        assert box is not None, f"token {i} has no visible box"
        bounds.append(box)
        if ink is None:
            continue
        assert ink[0] >= box[0] - tol_px and ink[1] >= box[1] - tol_px, (i, ink, box)
        assert ink[2] <= box[2] + tol_px and ink[3] <= box[3] + tol_px, (i, ink, box)
    return bounds


def empty_fontconfig(tmp: Path) -> dict:
    """Environment for a renderer that sees no fonts at all."""
    conf = tmp / "fonts.conf"
    cache = tmp / "fc-cache"
    cache.mkdir(exist_ok=True)
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
        f"<fontconfig><cachedir>{cache}</cachedir></fontconfig>\n"
    )
    env = dict(os.environ)
    env["FONTCONFIG_FILE"] = str(conf)
    env["FONTCONFIG_PATH"] = str(tmp)
    env["XDG_DATA_HOME"] = str(tmp)
    env["HOME"] = str(tmp)
    return env


def deepcopy_svg(svg: str) -> str:
    return ET.tostring(copy.deepcopy(ET.fromstring(svg)), encoding="unicode")
