"""The dashboard site in headless Chromium (Debian's chromium through Playwright), offline.

Every neuron is listed (virtual scrolling), sorting and search work (search results are
``word_neurons``), a neuron page shows ``top_words`` and ``top_contexts_all`` values, no
request leaves the folder, hostile corpus lines stay text, Arabic keeps its order, and a
50,000-neuron site opens and scrolls without loading every layer.
"""

from __future__ import annotations

import numpy as np
import pytest

from neuroheat.analysis import top_contexts, top_words, top_words_all, word_neurons
from neuroheat.analysis.all_contexts import top_contexts_all
from neuroheat.analysis.selectivity import selectivity
from neuroheat.cli import main
from neuroheat.report import build_site, neuron_report
from neuroheat.store import open_store, write_store
from tests.helpers.saliency_views import CHROMIUM, CHROMIUM_ARGS, wait_until

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")

XSS = "<img src=x onerror=alert(1)>"
ARABIC = ["مرحبا", "بالعالم", "يا", "صديقي", "العزيز"]
K = 4


def corpus():
    rng = np.random.default_rng(7)
    base = [["The", "cat", "sat", "on", "the", "mat", "."], ["A", "dog", "ran", "far", "away"],
            [XSS, "</script>", "and", "more", "text"], ARABIC]
    sents = [list(base[i % 4]) if i % 3 else list(rng.permutation(base[i % 4]))
             for i in range(28)]
    acts = [rng.standard_normal((len(s), 3, 8)).astype(np.float32) for s in sents]
    acts[2][0, 0, 0] = 9.0        # layer 0 neuron 0 peaks on the hostile line
    acts[3][1, 1, 2] = 9.0        # layer 1 neuron 2 peaks in the Arabic sentence
    return sents, acts


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    d = tmp_path_factory.mktemp("site")
    sents, acts = corpus()
    write_store(d / "acts.h5", sents, acts, dtype="float16")
    assert main(["report", str(d / "acts.h5"), "-o", str(d / "site"), "--top-contexts", str(K),
                 "--window", "8", "--quiet"]) == 0
    return d / "acts.h5", d / "site"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Page:
    """A page that records every request, dialog, console message and script error."""

    def __init__(self, browser, height: int = 700):
        self.page = browser.new_page(viewport={"width": 1000, "height": height})
        self.requests, self.dialogs, self.errors = [], [], []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text)
                     if m.type in ("error", "warning") else None)

    def open(self, path, selector: str, fragment: str = ""):
        self.page.goto(path.as_uri() + fragment)
        self.page.wait_for_selector(selector)
        return self.page

    def close(self):
        assert not self.errors, self.errors
        assert all(u.startswith("file://") for u in self.requests), self.requests
        self.page.close()


def listed(page) -> list[tuple[int, int]]:
    return [tuple(x) for x in page.eval_on_selector_all(
        "[data-role=neuron-list] [data-neuron]",
        "els => els.map(e => [+e.dataset.layer, +e.dataset.neuron])")]


def loaded_rows(page):
    wait_until(page, "() => !document.querySelector('[data-role=neuron-list] .nh-wait')")


def test_index_lists_every_neuron(site, browser):
    p = Page(browser, height=500)
    page = p.open(site[1] / "index.html", "[data-role=neuron-list] [data-neuron]")
    loaded_rows(page)
    seen = set()
    for _ in range(20):
        seen.update(listed(page))
        page.eval_on_selector("[data-role=neuron-list]", "e => { e.scrollTop += 200; }")
        page.wait_for_timeout(50)
        loaded_rows(page)
    assert seen == {(layer, n) for layer in range(3) for n in range(8)}
    assert page.eval_on_selector_all("[data-role=neuron-list] [data-neuron]",
                                     "els => els.length") < 24  # only the visible rows
    p.close()


def test_sorting_and_layer_filter(site, browser):
    table = top_words_all(site[0], k=10)
    sel = selectivity(table)
    ids = np.arange(len(table))
    expected = [(int(table.layer[i]), int(table.neuron[i])) for i in np.lexsort((ids, -sel))]
    p = Page(browser, height=1200)
    page = p.open(site[1] / "index.html", "[data-role=neuron-list] [data-neuron]")
    page.select_option("#nh-sort", "sel")
    page.wait_for_selector("[data-role=neuron-list] [data-neuron]")
    page.wait_for_timeout(200)
    loaded_rows(page)
    got = listed(page)
    assert got == expected[:len(got)] and len(got) >= 10
    page.check("#nh-asc")
    page.wait_for_timeout(200)
    assert listed(page)[:5] == expected[::-1][:5]
    page.select_option("#nh-layer", "1")
    page.wait_for_timeout(200)
    assert listed(page) == [x for x in expected[::-1] if x[0] == 1]
    # by first top word, A to Z
    page.uncheck("#nh-asc")
    page.select_option("#nh-layer", "all")
    page.select_option("#nh-sort", "word")
    page.wait_for_timeout(300)
    firsts = [(table.words(i)[0][0].casefold() if table.words(i) else "\U0010ffff", i)
              for i in range(len(table))]
    by_word = [(int(table.layer[i]), int(table.neuron[i])) for _, i in sorted(firsts)]
    assert page.evaluate("NH_INDEX.view").__len__() == 24
    assert [(i // 8, i % 8) for i in page.evaluate("NH_INDEX.view")] == by_word
    # range filter on a column (the index's 4-digit values), every layer, layer order
    page.select_option("#nh-layer", "all")
    page.select_option("#nh-sort", "layer")
    page.uncheck("#nh-asc")
    page.select_option("#nh-fcol", "mean")
    page.fill("#nh-fmin", "0")
    page.fill("#nh-fmax", "0.5")
    page.wait_for_timeout(500)
    with open_store(site[0]) as store:
        keep = [(layer, n) for layer in store.layers for n, m in
                enumerate(store.running_stats(layer).mean) if 0 <= float(f"{m:.4g}") <= 0.5]
    view = page.evaluate("NH_INDEX.view")
    assert [(i // 8, i % 8) for i in view] == keep and 0 < len(keep) < 24
    p.close()


def test_search_equals_top_neurons(site, browser):
    p = Page(browser)
    page = p.open(site[1] / "index.html", "input[type=search]")
    with open_store(site[0]) as store:
        for word in ("cat", ARABIC[1], XSS):
            page.fill("input[type=search]", word)
            wait_until(page, "w => document.querySelector('[data-role=search-results]')"
                             ".dataset.word === w", word)
            got = page.eval_on_selector_all(
                "[data-role=search-results] [data-neuron]",
                "els => els.map(e => [+e.dataset.layer, +e.dataset.neuron, +e.dataset.score])")
            ref = word_neurons(store, word, k=20)
            assert got == [[s.layer, s.neuron, s.score] for s in ref], word
    page.fill("input[type=search]", "absent-word")
    page.wait_for_selector("[data-role=search-results] .nh-none")
    p.close()


@pytest.mark.parametrize("layer,neuron", [(0, 0), (1, 2), (2, 7)])
def test_neuron_page_matches_the_analysis(site, browser, layer, neuron):
    p = Page(browser)
    page = p.open(site[1] / "neuron.html", "[data-role=top-contexts] [data-value]",
                  f"#L{layer}N{neuron}")
    for role in ("stats", "histogram", "quantiles", "top-words", "top-contexts"):
        assert page.query_selector(f"[data-role={role}]") is not None, role
    words = page.eval_on_selector_all("[data-role=top-words] [data-word]",
                                      "els => els.map(e => [e.dataset.word, +e.dataset.score])")
    assert [tuple(w) for w in words] == top_words(site[0], layer, neuron, k=10)
    ctx = page.eval_on_selector_all(
        "[data-role=top-contexts] [data-sentence]",
        "els => els.map(e => [+e.dataset.sentence, +e.dataset.position, +e.dataset.value])")
    ref = top_contexts_all(site[0], k=K, layers=[layer]).contexts(layer, neuron)
    assert ctx == [[c.sentence, c.position, c.value] for c in ref]
    assert ref.to_records() == top_contexts(site[0], layer, neuron, k=K).to_records()
    bars = page.eval_on_selector_all("[data-role=histogram] rect", "els => els.length")
    assert bars == 40
    # the peak word is outlined, and it is the context's word
    peak = page.eval_on_selector("[data-role=top-contexts] .nh-peak", "e => e.textContent")
    assert peak == ref[0].word
    # neighbour links
    hrefs = page.eval_on_selector_all("[data-role=neighbours] a", "els => els.map(e => e.href)")
    assert any(h.endswith(f"#L{layer}N{neuron + 1}") for h in hrefs) or neuron == 7
    p.close()


def test_hostile_text_is_text(site, browser):
    p = Page(browser)
    page = p.open(site[1] / "neuron.html", "[data-role=top-contexts] [data-value]", "#L0N0")
    first = page.eval_on_selector("[data-role=top-contexts] [data-sentence]",
                                  "e => e.textContent")
    assert XSS in first and "</script>" in first
    assert page.eval_on_selector_all("img, [onerror]", "els => els.length") == 0
    page.goto((site[1] / "index.html").as_uri())
    page.fill("input[type=search]", "</script>")
    page.wait_for_selector("[data-role=search-results] [data-neuron]")
    page.fill("#nh-filter", "onerror")
    page.wait_for_timeout(400)
    assert page.eval_on_selector_all("img, [onerror]", "els => els.length") == 0
    assert not p.dialogs
    csp = page.eval_on_selector("meta[http-equiv=Content-Security-Policy]", "e => e.content")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    p.close()


def test_arabic_context_keeps_word_order(site, browser):
    p = Page(browser)
    page = p.open(site[1] / "neuron.html", "[data-role=top-contexts] [data-value]", "#L1N2")
    first = page.query_selector("[data-role=top-contexts] [data-sentence]")
    assert first.get_attribute("dir") == "auto"
    assert first.get_attribute("data-sentence") == "3"
    direction = first.evaluate("e => getComputedStyle(e.querySelector('.nh-text')).direction")
    assert direction == "rtl"
    boxes = first.eval_on_selector_all(
        ".nh-tok", "els => els.map(e => [e.textContent, e.getBoundingClientRect().x])")
    with open_store(site[0]) as store:
        assert [w for w, _ in boxes] == store.words(3)  # logical order in the DOM
    xs = [x for _, x in boxes]
    assert xs == sorted(xs, reverse=True)  # laid out right to left
    p.close()


def test_neuron_report_page(site, browser, tmp_path):
    report = neuron_report(site[0], 1, 2, k=K)
    assert 'class="nh-report"' in report._repr_html_()
    path = report.save(tmp_path / "n.html")
    p = Page(browser)
    page = p.open(path, "[data-role=top-words] [data-word]")
    words = page.eval_on_selector_all("[data-role=top-words] [data-word]",
                                      "els => els.map(e => [e.dataset.word, +e.dataset.score])")
    assert [tuple(w) for w in words] == top_words(site[0], 1, 2, k=10)
    assert page.query_selector("[data-role=top-contexts] [data-sentence='3']")
    csp = page.eval_on_selector("meta[http-equiv=Content-Security-Policy]", "e => e.content")
    assert "sha256-" in csp and "unsafe-inline" not in csp
    # as a notebook shows it: the fragment inside a page, twice (each renders once)
    page.set_content("<p id=cell>cell</p>" + report._repr_html_() + report._repr_html_())
    page.wait_for_selector("[data-role=top-words] [data-word]")
    assert page.eval_on_selector_all("[data-role=top-words]", "els => els.length") == 2
    assert page.eval_on_selector("#cell", "e => getComputedStyle(document.body).margin") \
        == "8px"  # the notebook's own page is left alone
    p.close()


def test_fifty_thousand_neurons_open_without_every_layer(tmp_path, browser):
    rng = np.random.default_rng(0)
    sents = [[f"w{j}" for j in rng.integers(0, 6, 4)] for _ in range(6)]
    acts = [rng.standard_normal((4, 10, 5000)).astype(np.float16) for _ in sents]
    write_store(tmp_path / "wide.h5", sents, acts, dtype="float16")
    build_site(tmp_path / "wide.h5", tmp_path / "site", k=1, window=1, samples=0, bins=8)
    p = Page(browser)
    page = p.open(tmp_path / "site" / "index.html", "[data-role=neuron-list] [data-neuron]")
    loaded_rows(page)
    assert page.eval_on_selector("#nh-sort", "e => e.value") == "layer"
    assert page.evaluate("NH_INDEX.view.length") == 50000
    page.eval_on_selector("[data-role=neuron-list]", "e => { e.scrollTop = 28 * 27000; }")
    page.wait_for_timeout(100)
    loaded_rows(page)
    assert (5, 2000) in listed(page)
    layers = page.evaluate("Object.keys(NH_DATA).filter(k => k.startsWith('layer-'))")
    assert 1 <= len(layers) <= 3, layers
    assert not any(k.startswith("n-") for k in page.evaluate("Object.keys(NH_DATA)"))
    p.close()
