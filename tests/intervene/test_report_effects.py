"""``neuroheat report ... --effects EFFECTS.json``: each ablated neuron's record (and page)
holds its delta_ce, kl and promoted / suppressed tokens; other neurons hold none."""

from __future__ import annotations

import json

import pytest

import neuroheat as nh
from neuroheat.cli import main
from tests.helpers import builders
from tests.helpers.saliency_views import CHROMIUM, CHROMIUM_ARGS
from tests.report.test_report_cli import SENTENCES, record
from tests.report.test_site_browser import Page


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def gpt2(tmp_path_factory):
    d = tmp_path_factory.mktemp("gpt2")
    model = builders.tiny_gpt2(d / "model", head="causal")
    store = nh.extract_activations(model, SENTENCES, d / "mlp.h5", component="mlp", quiet=True)
    corpus = d / "corpus.txt"
    corpus.write_text("\n".join(" ".join(s) for s in SENTENCES) + "\n", encoding="utf-8")
    return model, store, corpus


def test_report_shows_effects_on_each_ablated_neuron(gpt2, tmp_path):
    model, store, corpus = gpt2
    for i in range(2):  # two shards, read as one through a glob
        assert main(["ablate", str(model), str(corpus), "-o", str(tmp_path / "eff.json"),
                     "--units", "mlp.1:0,5", "--units", "mlp.2:3", "--shard", f"{i}/2",
                     "--device", "cpu", "--quiet"]) == 0
    site = tmp_path / "site"
    assert main(["report", str(store), "-o", str(site), "--effects",
                 str(tmp_path / "eff.*-of-2.json"), "--top-contexts", "2", "--quiet"]) == 0
    effects = nh.intervene.load(str(tmp_path / "eff.*-of-2.json")).by_unit()
    assert sorted(effects) == ["mlp.1:0", "mlp.1:5", "mlp.2:3"]
    for (layer, neuron) in ((1, 0), (1, 5), (2, 3)):
        rec, _ = record(site, layer, neuron)
        want = effects[f"mlp.{layer}:{neuron}"]
        assert rec["effects"]["delta_ce"] == pytest.approx(want["delta_ce"])
        assert rec["effects"]["kl"] == pytest.approx(want["kl"])
        assert rec["effects"]["top_promoted"] == want["top_promoted"]
        assert rec["effects"]["top_suppressed"] == want["top_suppressed"]
        assert rec["effects"]["method"] == "zero"
    assert record(site, 1, 1)[0]["effects"] is None
    js = (site / "assets" / "dashboard-neuron.js").read_text()
    assert "'effects'" in js


def test_effects_of_another_site_are_a_one_line_error(gpt2, tmp_path, capsys):
    model, store, corpus = gpt2
    eff = tmp_path / "resid.json"
    assert main(["ablate", str(model), str(corpus), "-o", str(eff), "--units", "resid.1:0",
                 "--device", "cpu", "--quiet"]) == 0
    assert main(["report", str(store), "-o", str(tmp_path / "s"), "--effects", str(eff)]) == 2
    assert "no unit of this store's component 'mlp'" in capsys.readouterr().err
    json.loads(eff.read_text())


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
def test_neuron_page_draws_the_effects(gpt2, tmp_path, browser):
    model, store, corpus = gpt2
    eff = tmp_path / "eff.json"
    assert main(["ablate", str(model), str(corpus), "-o", str(eff), "--units", "mlp.1:5",
                 "--device", "cpu", "--quiet"]) == 0
    site = tmp_path / "site"
    assert main(["report", str(store), "-o", str(site), "--effects", str(eff),
                 "--top-contexts", "2", "--quiet"]) == 0
    want = nh.intervene.load(eff).effect_of("mlp.1:5")
    p = Page(browser)
    page = p.open(site / "neuron.html", "[data-role=effects]", "#L1N5")
    text = page.eval_on_selector("[data-role=effects]", "e => e.textContent")
    assert "delta_ce" in text and "kl" in text
    shown = page.eval_on_selector_all("[data-role=effects-promoted] .nh-word",
                                      "els => els.map(e => e.textContent)")
    assert shown == [t for t, _ in want["top_promoted"]]
    assert page.query_selector("[data-role=effects-suppressed] .nh-word") is not None
    p.close()
    page = Page(browser).open(site / "neuron.html", "[data-role=top-words]", "#L1N1")
    assert page.query_selector("[data-role=effects]") is None
