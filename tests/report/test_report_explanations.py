"""``neuroheat report --explanations``: each neuron's explanation and scores on its page, and
the index's search box finds a neuron by a word of its explanation (headless Chromium)."""

from __future__ import annotations

import numpy as np
import pytest

from neuroheat.autointerp.result import ExplainResult
from neuroheat.cli import main
from neuroheat.report.build import explanation_records
from neuroheat.store import write_store
from tests.helpers.saliency_views import CHROMIUM, CHROMIUM_ARGS, wait_until

XSS = "<img src=x onerror=alert(1)>"


def _record(layer, neuron, text, det):
    scores = {"detection": {"accuracy": det, "balanced_accuracy": det, "precision": 1.0,
                            "recall": 0.5, "f1": 0.6667}} if det is not None else {}
    return {"layer": layer, "neuron": neuron, "explanation": text, "explain_examples": [],
            "score_examples": [], "scores": scores, "error": None if text else "HTTP 500"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    d = tmp_path_factory.mktemp("explained")
    rng = np.random.default_rng(3)
    sents = [["The", "cat", "sat", "on", "the", "mat"], ["A", "dog", "ran", "away"]] * 6
    write_store(d / "acts.h5", sents,
                [rng.standard_normal((len(s), 2, 4)).astype(np.float32) for s in sents])
    ExplainResult({"model": "judge", "seed": 0}, [
        _record(0, 1, "animals such as cats and dogs", 0.75),
        _record(1, 2, f"the determiner at the start of a sentence {XSS}", 0.5),
        _record(1, 3, "Cats in subject position", None),
        _record(1, 0, None, None),  # failed: shown as failed, not searchable
    ]).save(d / "EXPLAIN.json")
    assert main(["report", str(d / "acts.h5"), "-o", str(d / "site"), "--explanations",
                 str(d / "EXPLAIN.json"), "--quiet"]) == 0
    return d


def test_records_keep_text_and_detection_score(site):
    rec = explanation_records(site / "EXPLAIN.json")
    assert rec[(0, 1)]["text"] == "animals such as cats and dogs"
    assert rec[(0, 1)]["score"] == 0.75 and rec[(1, 3)]["score"] is None
    assert rec[(1, 0)]["text"] is None


def test_a_missing_file_is_one_line(tmp_path, capsys):
    write_store(tmp_path / "a.h5", [["a", "b"]], [np.ones((2, 1, 2), np.float32)])
    assert main(["report", str(tmp_path / "a.h5"), "-o", str(tmp_path / "s"),
                 "--explanations", str(tmp_path / "nope.json"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "nope.json" in err and len(err.splitlines()) == 1


@pytest.fixture(scope="module")
def page():
    if CHROMIUM is None:
        pytest.skip("needs Debian's chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pg = browser.new_page()
        dialogs = []
        pg.on("dialog", lambda dlg: (dialogs.append(dlg.message), dlg.dismiss()))
        yield pg
        assert not dialogs
        browser.close()


def test_neuron_page_shows_explanation_and_score(site, page):
    page.goto((site / "site" / "neuron.html").as_uri() + "#L1N2")
    page.wait_for_selector("[data-role=explanation]")
    ex = page.query_selector("[data-role=explanation]")
    assert ex.get_attribute("data-score") == "0.5"
    assert ex.query_selector(".nh-explanation").text_content() == \
        f"the determiner at the start of a sentence {XSS}"   # text, never markup
    assert page.query_selector("[data-role=explanation] img") is None
    metrics = page.eval_on_selector_all("[data-role=explanation] [data-metric]",
                                        "els => els.map(e => e.dataset.metric)")
    assert "balanced_accuracy" in metrics
    page.goto((site / "site" / "neuron.html").as_uri() + "#L0N0")
    page.wait_for_selector("[data-role=stats]")
    assert page.query_selector("[data-role=explanation]") is None  # not explained


def test_index_search_finds_neurons_by_their_explanation(site, page):
    page.goto((site / "site" / "index.html").as_uri())
    page.wait_for_selector("input[type=search]")
    page.fill("input[type=search]", "cats")
    wait_until(page, "w => document.querySelector('[data-role=search-results]')"
                     ".dataset.word === w", "cats")
    page.wait_for_selector("[data-role=explanation-hits]")
    got = page.eval_on_selector_all("[data-role=explanation-hits] [data-neuron]",
                                    "els => els.map(e => [+e.dataset.layer, +e.dataset.neuron])")
    assert got == [[0, 1], [1, 3]]  # case-insensitive; scored first
