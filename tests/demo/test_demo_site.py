"""The demo's dashboard stage on a real MiniLM store (pydoc sentences), checked in Chromium:
all 2,688 neurons are listed, a neuron page shows top_words and top_contexts, offline."""

from __future__ import annotations

import json

import pytest

import neuroheat as nh
from neuroheat.analysis import top_contexts, top_words
from neuroheat.corpora import pydoc_sentences
from neuroheat.demo.pipeline import STAGES, dashboard_stage
from tests.helpers.saliency_views import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def demo_site(minilm, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    store = nh.extract_activations(minilm, pydoc_sentences(24), out / "minilm.h5", quiet=True)
    done = dashboard_stage(store, out, minilm, {})
    return store, done["dashboard"]["site"]


def test_dashboard_is_a_demo_stage():
    assert STAGES[-1] is dashboard_stage


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
def test_demo_site_in_chromium(demo_site):
    sync_api = pytest.importorskip("playwright.sync_api")
    store, index = demo_site
    manifest = (index.parent / "data" / "site.js").read_text(encoding="ascii")
    assert json.loads(manifest[manifest.index("]=") + 2:-2])["width"] == 384
    requests = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.goto(index.as_uri())
        page.wait_for_selector("[data-role=neuron-list] [data-neuron]")
        assert page.evaluate("NH_INDEX.view.length") == 2688
        page.goto(index.parent.joinpath("neuron.html").as_uri() + "#L3N152")
        page.wait_for_selector("[data-role=top-contexts] [data-value]")
        words = page.eval_on_selector_all(
            "[data-role=top-words] [data-word]",
            "els => els.map(e => [e.dataset.word, +e.dataset.score])")
        ctx = page.eval_on_selector_all(
            "[data-role=top-contexts] [data-sentence]",
            "els => els.map(e => [+e.dataset.sentence, +e.dataset.position, +e.dataset.value])")
        browser.close()
    assert [tuple(w) for w in words] == top_words(store, 3, 152, k=10)
    assert ctx == [[c.sentence, c.position, c.value] for c in top_contexts(store, 3, 152, k=10)]
    assert requests and all(u.startswith("file://") for u in requests)
