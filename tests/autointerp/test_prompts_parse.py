"""Prompts pinned by golden files (set NEUROHEAT_UPDATE_GOLDEN=1 to rewrite them after a
deliberate change), answer reading and metrics."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from neuroheat.autointerp import prompts as P
from neuroheat.autointerp.clients.base import expected_digit
from neuroheat.autointerp.parse import read_explanation, read_labels
from neuroheat.autointerp.scores import binary_metrics, correlation

GOLDEN = Path(__file__).parent / "golden"
WINDOWS = [["the", "cat", "sat", "on", "the", "mat"], ["a", "dog", "ran"]]


def _prompts() -> dict[str, str]:
    def chat(msgs):
        return "".join(f"[{m['role']}]\n{m['content']}\n" for m in msgs)

    acts = [P.normalise([0.0, 5.0, 1.0, 0.0, 0.0, 0.0], 0.0, 5.0), [0, 0, 0]]
    sim_text, spots = P.simulation_prompt("the word cat", WINDOWS[0])
    return {
        "explainer.txt": chat(P.explainer_prompt(list(zip(WINDOWS, acts, strict=True)))),
        "detection.txt": chat(P.detection_prompt("the word cat", WINDOWS)),
        "detection_one.txt": chat(P.detection_prompt("the word cat", WINDOWS[:1])),
        "fuzzing.txt": chat(P.fuzzing_prompt("the word cat", [(WINDOWS[0], [1]),
                                                              (WINDOWS[1], [0])])),
        "simulation.txt": sim_text + "\n# placeholders at " + json.dumps(spots) + "\n",
    }


@pytest.mark.parametrize("name", sorted(_prompts()))
def test_prompts_match_golden_files(name):
    text = _prompts()[name]
    path = GOLDEN / name
    if os.environ.get("NEUROHEAT_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_normalise_rounds_up_from_the_median():
    assert P.normalise([-1.0, 0.0, 0.01, 2.5, 5.0, 6.0], median=0.0, top=5.0) == \
        [0, 0, 1, 5, 10, 10]
    assert P.normalise([1.0, 2.0], median=2.0, top=2.0) == [0, 0]


@pytest.mark.parametrize("text,n,expected", [
    ("[1, 0, 1]", 3, [1, 0, 1]),
    ("Here you go: [true, false]\n", 2, [1, 0]),
    ("['yes', 'no']", 2, [1, 0]),
    ("[1, 0]", 3, None),
    ("[1, 2, 0]", 3, None),
    ("1 0 1", 3, None),
    ("Yes.", 1, [1]),
    (" no ", 1, [0]),
    ("'0'", 1, [0]),
    ("[1]", 1, [1]),
    ("maybe", 1, None),
    ("", 2, None),
    (None, 1, None),
])
def test_labels_are_read_leniently(text, n, expected):
    assert read_labels(text, n) == expected


def test_explanations_are_read_leniently():
    assert read_explanation("\n  Explanation: **the word cat**\nmore") == "the word cat"
    assert read_explanation("'dates'") == "dates"
    assert read_explanation("  \n ") is None


def test_metrics_by_hand():
    m = binary_metrics([1, 1, 1, 0, 0], [1, 0, 1, 1, 0])
    assert m == pytest.approx({"accuracy": 3 / 5, "balanced_accuracy": (2 / 3 + 1 / 2) / 2,
                               "precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3})
    assert binary_metrics([0, 0], [0, 0])["precision"] == 0.0
    assert correlation([1, 1, 1], [1, 2, 3]) is None
    assert correlation([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert expected_digit({"3": 0.0, "hello": -1.0}) == 3.0
    assert expected_digit({"hello": 0.0}) is None
