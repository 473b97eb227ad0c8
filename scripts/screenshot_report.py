"""The README's dashboard pictures: the index and a neuron page of a site, in headless Chromium.

Usage: python scripts/screenshot_report.py SITE [--neuron L,N] [--search WORD] [--out docs/figures]
(SITE: a folder written by ``neuroheat report``, e.g. ``demo_output/site`` after ``make demo``.)
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from playwright.sync_api import sync_playwright


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site", type=Path)
    ap.add_argument("--neuron", default="3,152")
    ap.add_argument("--search", default="function")
    ap.add_argument("--out", type=Path, default=Path("docs/figures"))
    args = ap.parse_args()
    layer, neuron = (int(x) for x in args.neuron.split(","))
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 760})
        page.goto((args.site / "index.html").resolve().as_uri())
        page.wait_for_selector("[data-role=neuron-list] [data-neuron]")
        page.select_option("#nh-sort", "sel")
        page.fill("input[type=search]", args.search)
        page.wait_for_selector("[data-role=search-results] [data-neuron]")
        page.wait_for_function("!document.querySelector('.nh-wait')")
        page.screenshot(path=str(args.out / "dashboard_index.png"))
        page.goto((args.site / "neuron.html").resolve().as_uri() + f"#L{layer}N{neuron}")
        page.wait_for_selector("[data-role=top-contexts] [data-value]")
        page.set_viewport_size({"width": 1100, "height": 1400})
        page.screenshot(path=str(args.out / "dashboard_neuron.png"))
        browser.close()


if __name__ == "__main__":
    main()
