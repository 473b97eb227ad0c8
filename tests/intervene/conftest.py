"""Tiny causal LMs of five families, saved once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.intervene.models import FAMILIES, build


@pytest.fixture(scope="session")
def lms(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("intervene_models")
    return {family: build(family, root / family) for family in FAMILIES}
