"""Loading options for big models: model dtype, device map, attention implementation."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
import torch

import neuroheat as nh
from neuroheat.cli import main
from neuroheat.errors import InputError, UnsupportedModelError
from neuroheat.model.loading import load_model
from neuroheat.model.placement import resolve_model_dtype
from tests.helpers import builders

CORPUS = ["The quick brown fox jumps over the lazy dog .", "Vinken will join the board .",
          "cats dogs birds fish run"]
HAS_ACCELERATE = importlib.util.find_spec("accelerate") is not None


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory):
    """A saved tiny Llama (3 layers, width 32, grouped-query attention) with a BPE tokenizer."""
    from transformers import LlamaConfig, LlamaModel

    tok = builders.bpe_tokenizer("gpt2")
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=56,
                      num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2,
                      max_position_embeddings=64)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("llama")
    LlamaModel(cfg).eval().save_pretrained(path)
    tok.save_pretrained(path)
    return path


def _all(path) -> np.ndarray:
    with nh.open_store(path) as store:
        return np.concatenate([store.sentence(i) for i in range(store.num_sentences)])


def test_bfloat16_model_stays_within_bfloat16_precision(tiny_llama, tmp_path):
    common = dict(dtype="float32", aggregation="average", quiet=True)
    ref = nh.extract_activations(tiny_llama, CORPUS, tmp_path / "f32.h5", **common)
    half = nh.extract_activations(tiny_llama, CORPUS, tmp_path / "bf16.h5",
                                  model_dtype="bfloat16", **common)
    a, b = _all(ref), _all(half)
    assert a.shape == b.shape and not np.array_equal(a, b)
    for layer in range(a.shape[1]):   # bfloat16 keeps 8 bits: ~0.4% per rounding
        ref_l, got_l = a[:, layer], b[:, layer]
        np.testing.assert_allclose(got_l, ref_l, rtol=2e-2, atol=2e-2 * np.abs(ref_l).max())
    with nh.open_store(ref) as sr, nh.open_store(half) as sh:
        assert sr.meta["model_dtype"] == "float32"      # auto on CPU
        assert sh.meta["model_dtype"] == "bfloat16"
        assert "model_dtype" in sh.meta["match_settings"].split(",")


def test_model_dtype_auto_is_the_checkpoint_dtype_on_cuda_float32_on_cpu():
    from transformers import LlamaConfig

    cfg = LlamaConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
                      intermediate_size=8, dtype="bfloat16")
    assert resolve_model_dtype("auto", cfg, "cuda") == torch.bfloat16
    assert resolve_model_dtype("auto", cfg, "cpu") == torch.float32
    assert resolve_model_dtype("auto", LlamaConfig(), "cuda") == torch.float32  # unsaid
    assert resolve_model_dtype(None, cfg, "cuda") == torch.bfloat16
    with pytest.raises(InputError, match="unknown model dtype 'int8'"):
        resolve_model_dtype("int8", cfg, "cpu")


def test_load_model_dtype_and_pairs(tiny_llama):
    assert load_model(tiny_llama, device="cpu").dtype == "float32"   # default: float32
    lm = load_model(tiny_llama, device="cpu", model_dtype="float16")
    assert lm.dtype == "float16" and lm.model.dtype == torch.float16
    pair = (lm.model, lm.tokenizer)
    assert load_model(pair, device="cpu").dtype == "float16"         # a pair keeps its dtype
    assert load_model(pair, device="cpu", model_dtype="bfloat16").dtype == "bfloat16"


def test_attn_implementation_passes_through(tiny_llama, tmp_path):
    assert load_model(tiny_llama, device="cpu").config._attn_implementation == "sdpa"
    eager = load_model(tiny_llama, device="cpu", attn_implementation="eager")
    assert eager.config._attn_implementation == "eager"
    with pytest.raises(UnsupportedModelError, match="--attn-implementation nope is not "
                                                    "available for this model"):
        load_model(tiny_llama, device="cpu", attn_implementation="nope")
    out = nh.extract_activations(tiny_llama, CORPUS, tmp_path / "e.h5", quiet=True,
                                 attn_implementation="eager", dtype="float32")
    ref = nh.extract_activations(tiny_llama, CORPUS, tmp_path / "s.h5", quiet=True,
                                 dtype="float32")
    with nh.open_store(out) as se, nh.open_store(ref) as ss:
        assert se.meta["attn_implementation"] == "eager"
        assert ss.meta["attn_implementation"] == "sdpa"
        np.testing.assert_allclose(se.sentence(1), ss.sentence(1), rtol=1e-5, atol=1e-5)


def test_cli_loading_flags(tiny_llama, tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(CORPUS), encoding="utf-8")
    out = tmp_path / "cli.h5"
    assert main(["extract", str(tiny_llama), str(corpus), str(out), "--model-dtype", "bfloat16",
                 "--attn-implementation", "eager", "--quiet"]) == 0
    with nh.open_store(out) as store:
        assert store.meta["model_dtype"] == "bfloat16"
        assert store.meta["attn_implementation"] == "eager"
    with pytest.raises(SystemExit):
        main(["extract", str(tiny_llama), str(corpus), str(out), "--model-dtype", "int8"])
    with pytest.raises(SystemExit):
        main(["extract", str(tiny_llama), str(corpus), str(out), "--device-map", "everywhere"])
    capsys.readouterr()


def test_device_map_excludes_device_and_random_weights(tiny_llama):
    if not HAS_ACCELERATE:
        pytest.skip("needs accelerate")
    with pytest.raises(UnsupportedModelError, match="exclude each other"):
        load_model(tiny_llama, device="cpu", device_map="auto")
    with pytest.raises(UnsupportedModelError, match="--random-weights"):
        load_model(tiny_llama, device_map="auto", random_weights=True)


def test_device_map_without_accelerate_is_one_clear_line(tiny_llama, tmp_path, capsys,
                                                         monkeypatch):
    monkeypatch.setitem(sys.modules, "accelerate", None)  # `import accelerate` fails, as uninstalled
    with pytest.raises(UnsupportedModelError, match="pip install accelerate"):
        load_model(tiny_llama, device_map="auto")
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(CORPUS), encoding="utf-8")
    assert main(["extract", str(tiny_llama), str(corpus), str(tmp_path / "o.h5"),
                 "--device-map", "auto", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install accelerate" in err
    assert not (tmp_path / "o.h5").exists()


@pytest.mark.skipif(not HAS_ACCELERATE, reason="accelerate is not installed")
@pytest.mark.parametrize("device_map", ["auto", "balanced", "sequential"])
def test_device_map_places_the_model_and_feeds_the_embeddings_device(tiny_llama, tmp_path,
                                                                     device_map):
    """On a CPU-only machine accelerate places every module on the CPU; the values equal a
    plain run bit for bit and the model is never moved as a whole."""
    lm = load_model(tiny_llama, device_map=device_map)
    assert lm.device == lm.model.get_input_embeddings().weight.device
    assert lm.device_map
    spread = nh.extract_activations(tiny_llama, CORPUS, tmp_path / "m.h5", quiet=True,
                                    device_map=device_map, dtype="float32")
    plain = nh.extract_activations(tiny_llama, CORPUS, tmp_path / "p.h5", quiet=True,
                                   dtype="float32", device="cuda" if torch.cuda.is_available()
                                   else "cpu")
    if not torch.cuda.is_available():
        np.testing.assert_array_equal(_all(spread), _all(plain))
    else:
        np.testing.assert_allclose(_all(spread), _all(plain), rtol=1e-5, atol=1e-5)
