"""`neuroheat demo` runs the whole pipeline offline and writes every promised output."""

from __future__ import annotations

import csv
import json

import neuroheat as nh
from neuroheat.cli import main


def test_demo_end_to_end(minilm, tmp_path, capsys):
    assert main(["demo", str(tmp_path), "--sentences", "40", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "status: complete" in out and "Top words of 2688 neurons" in out
    with nh.open_store(tmp_path / "minilm.h5") as store:
        assert store.num_sentences == 40 and store.layers == list(range(7))
        corpus = (tmp_path / "corpus.txt").read_text(encoding="utf-8").splitlines()
        assert [store.words(i) for i in range(40)] == [line.split() for line in corpus]
    with open(tmp_path / "top_words.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {(r["layer"], r["neuron"]) for r in rows} >= {("0", "0"), ("6", "383")}
    printed = [line.split()[1:4:2] for line in out.splitlines() if line.startswith("  layer")]
    for layer, neuron in printed:  # cards are drawn for the neurons the report printed
        assert (tmp_path / "figures" / f"card_layer{layer}_neuron{neuron.rstrip(':')}.pdf").exists()
    for name in ("saliency.html", "saliency_focus.svg", "activations.html"):
        assert (tmp_path / "views" / name).stat().st_size > 1000
    # probing: function vs content words, a probe per layer and the ablation figure
    assert "Probing FUNC/CONTENT/PUNCT/NUM words" in out and "top 10% of its 384 neurons" in out
    probe = json.loads((tmp_path / "probe.json").read_text(encoding="utf-8"))
    assert probe["classes"] == sorted(probe["classes"]) and "FUNC" in probe["classes"]
    assert (tmp_path / "figures" / "ablation.svg").stat().st_size > 1000
