"""Never store infinity: float16 overflow and model NaN stop the run with one clear line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import neuroheat as nh
from neuroheat.cli import main
from neuroheat.errors import ActivationRangeError, IncompleteStoreError, InputError, StoreError
from tests.helpers import builders

CORPUS = ["the quick brown fox", "the lazy dog", "the Vinken board", "dogs run ."]


def _scaled_gpt2(root, value: float):
    """Tiny GPT-2 whose embedding of the last token of " Vinken" is ``value`` everywhere, so
    hidden.0 of that word (GPT-2 adds embeddings without a norm) is about ``value``."""
    from transformers import GPT2Model

    path = builders.tiny_gpt2(root / "base")
    model = GPT2Model.from_pretrained(path).eval()
    tok = builders.bpe_tokenizer("gpt2").from_pretrained(path)
    token = tok(" Vinken")["input_ids"][-1]
    others = [tok(line)["input_ids"] for k, line in enumerate(CORPUS) if k != 2]
    assert all(token not in ids for ids in others), "test corpus shares the scaled token"
    with torch.no_grad():
        model.wte.weight[token] = value
    out = root / f"scaled-{value}"
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def overflowing(tmp_path_factory):
    return _scaled_gpt2(tmp_path_factory.mktemp("overflow"), 1e5)


def test_float16_overflow_stops_with_the_site_line_word_and_value(overflowing, tmp_path):
    out = tmp_path / "o.h5"
    with pytest.raises(ActivationRangeError) as info:
        nh.extract_activations(overflowing, CORPUS, out, quiet=True)
    msg = str(info.value)
    assert isinstance(info.value, InputError) and "\n" not in msg
    for part in ("hidden.0 (layer 0)", "line 3", "word 'Vinken'", "value 100000",
                 "float16's ±65,504", "--dtype float32"):
        assert part in msg, (part, msg)
    # the store stays incomplete: readers and a same-settings resume refuse it
    with pytest.raises(IncompleteStoreError):
        nh.open_store(out)
    with pytest.raises(ActivationRangeError):
        nh.extract_activations(overflowing, CORPUS, out, quiet=True, resume=True)
    with pytest.raises(StoreError, match="dtype"):
        nh.extract_activations(overflowing, CORPUS, out, quiet=True, resume=True,
                               dtype="float32")
    with nh.open_store(out, allow_incomplete=True) as store:
        assert not store.meta["complete"]


def test_float32_store_holds_the_large_values(overflowing, tmp_path):
    out = nh.extract_activations(overflowing, CORPUS, tmp_path / "f.h5", quiet=True,
                                 dtype="float32", layers=[0])
    with nh.open_store(out) as store:
        vinken = store.sentence(2)[1, 0]
        assert np.isfinite(store.sentence(2)).all()
        assert np.abs(vinken - 1e5).max() < 1.0
        assert store.meta["complete"]


def test_line_numbers_count_in_the_whole_corpus_for_shards(overflowing, tmp_path):
    first = nh.extract_activations(overflowing, CORPUS, tmp_path / "s.h5", quiet=True,
                                   shard="0/2", plan_block=1)
    with nh.open_store(first) as store:
        assert store.meta["complete"]
    with pytest.raises(ActivationRangeError, match="line 3, word 'Vinken'"):
        nh.extract_activations(overflowing, CORPUS, tmp_path / "s.h5", quiet=True,
                               shard="1/2", plan_block=1)


def test_cli_prints_one_line_and_exits_2(overflowing, tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    out = tmp_path / "cli.h5"
    assert main(["extract", str(overflowing), str(corpus), str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "line 3" in err[0] and "--dtype float32" in err[0], err
    with pytest.raises(IncompleteStoreError):
        nh.open_store(out)
    assert main(["extract", str(overflowing), str(corpus), str(out), "--quiet", "--overwrite",
                 "--dtype", "float32"]) == 0
    with nh.open_store(out) as store:
        assert store.meta["complete"] and store.meta["dtype"] == "float32"


def test_nan_from_the_model_names_the_line(tmp_path):
    path = _scaled_gpt2(tmp_path, float("nan"))
    with pytest.raises(ActivationRangeError, match=r"hidden.0 \(layer 0\), line 3, word "
                                                   r"'Vinken', neuron 0: the model produced nan"):
        nh.extract_activations(path, CORPUS, tmp_path / "n.h5", quiet=True, dtype="float32")


def _mapped(path) -> bool:
    """Whether this process still maps ``path`` into memory (Linux: /proc/self/maps)."""
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
        return any(line.rstrip("\n").endswith(str(path)) for line in fh)


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc/self/maps")
def test_a_failed_run_releases_its_store(overflowing, tmp_path):
    """The writer is closed when a batch fails (before, only latent extraction closed it): a
    notebook keeps the last traceback, and with it the run's frames, so a store left mapped
    kept its disk space even after it was deleted."""
    out = tmp_path / "o.h5"
    with pytest.raises(ActivationRangeError) as info:
        nh.extract_activations(overflowing, CORPUS, out, quiet=True, batch_tokens=8)
    assert info.value.__traceback__ is not None and out.exists()
    assert not _mapped(out)
    # what was written before the failure stays: the first batches resume
    with nh.open_store(out, allow_incomplete=True) as store:
        assert not store.meta["complete"]
