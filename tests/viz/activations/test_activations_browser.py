"""text_mode="embed" in a real browser: the embedded font subsets reproduce the path rendering."""

from __future__ import annotations

import io
import re
import shutil

import numpy as np
import pytest

from neuroheat.viz import visualize_activations

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (make system-deps)")
def test_embedded_fonts_render_like_paths_in_chromium():
    sync_api = pytest.importorskip("playwright.sync_api")
    from PIL import Image

    toks = ["The", "quick", "brown", "fox", "مرحبا", "بالعالم", "2024", "שלום", "中文", "😀"]
    acts = np.linspace(-1, 1, len(toks))
    paths = visualize_activations(toks, acts, char_limit=40).tostring()
    embed = visualize_activations(toks, acts, char_limit=40, text_mode="embed").tostring()
    assert "@font-face" in embed and "<text" in embed and "<use" not in embed
    no_font = re.sub(r"<style.*?</style>", "", embed, flags=re.S)

    shots = {}
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(device_scale_factor=1)
        for name, svg in (("paths", paths), ("embed", embed), ("no_font", no_font)):
            page.set_content(f"<html><body style='margin:0'>{svg}</body></html>")
            page.evaluate("document.fonts.ready.then(() => true)")
            png = page.locator("svg").screenshot()
            shots[name] = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), float) / 255
        browser.close()

    def strong(a, b):
        return (np.abs(a - b).max(axis=2) > 0.3).mean()

    same = strong(shots["paths"], shots["embed"])
    other = strong(shots["paths"], shots["no_font"])
    assert same < 0.03, same  # only anti-aliasing/hinting differences
    assert same < other / 2, (same, other)  # the embedded fonts are what makes it match
