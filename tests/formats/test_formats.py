"""neuroheat.formats: the textualheatmap data validator and token display, shared by
attribution and viz."""

from __future__ import annotations

import pytest

from neuroheat.errors import InputError
from neuroheat.formats.textualheatmap import validate_textualheatmap
from neuroheat.formats.tokens import display_token


@pytest.mark.parametrize("bad, match", [
    ([], "non-empty"),
    ([{"token": "a", "meta": [], "heat": [1.0, 0.0]}], "list of 1"),
    ([{"token": "a", "meta": [], "heat": [1.5]}], r"\[0, 1\]"),
    ([{"token": "a", "meta": [], "heat": [float("nan")]}], r"\[0, 1\]"),
    ([{"token": "a", "meta": [3], "heat": [1.0]}], "meta"),
    ([{"token": 1, "meta": [], "heat": [1.0]}], "string"),
    ([{"token": "a", "heat": [1.0]}], "meta"),
    ([{"token": " ", "format": "yes"}], "true or false"),
    ([{"token": "a", "meta": [], "heat": [1.0], "colour": "red"}], "unknown keys"),
    ([[{"token": "a", "meta": [], "heat": [1.0]}], [{"token": " ", "format": True}]],
     "different numbers"),
])
def test_validator_rejects(bad, match):
    with pytest.raises(InputError, match=match):
        validate_textualheatmap(bad)


def test_validator_accepts_spacers():
    validate_textualheatmap([{"token": "a", "meta": ["x"], "heat": [1, 0]},
                             {"token": " ", "format": True},
                             {"token": "b", "meta": [], "heat": [0.2, 0.8], "format": False}])


def test_display_token():
    assert display_token("##ing") == "ing" and display_token("##") == "##"
    assert display_token("\u0120fox") == "fox" and display_token("\u2581the") == "the"
