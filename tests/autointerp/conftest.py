"""Fixtures of the autointerp tests: a planted store (one file and shards), a tiny chat model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neuroheat.store import write_store

#: neuron 0 of layer 1 fires (5.0) on "cat", neuron 1 on "dog" (3.0), neuron 2 on "bird"
#: (2.0); neuron 3 is random; everything else is 0.
PLANTED = {0: ("cat", 5.0), 1: ("dog", 3.0), 2: ("bird", 2.0)}
VOCAB = ["the", "a", "sat", "ran", "on", "mat", "big", "small", "red", "ate", "cat", "dog",
         "bird", "and", "then", "it"]


def planted_corpus(n: int = 80, seed: int = 0):
    rng = np.random.default_rng(seed)
    sents, acts = [], []
    for i in range(n):
        length = int(rng.integers(3, 9))
        plain = VOCAB[:10] + VOCAB[13:]
        words = [plain[j] for j in rng.integers(0, len(plain), length)]
        if i % 3 == 0:  # a third of the sentences hold an animal
            words[int(rng.integers(0, length))] = ["cat", "dog", "bird"][i // 3 % 3]
        a = np.zeros((length, 2, 4), np.float32)
        for k, (word, value) in PLANTED.items():
            a[:, 1, k] = [value if w == word else 0.0 for w in words]
        a[:, :, 3] = rng.standard_normal((length, 2))
        sents.append(words)
        acts.append(a)
    return sents, acts


@pytest.fixture(scope="session")
def planted(tmp_path_factory) -> dict:
    """``{"file": path, "shards": [paths], "sents": ..., "acts": ...}`` (2 layers x 4)."""
    root = tmp_path_factory.mktemp("autointerp")
    sents, acts = planted_corpus()
    path = root / "acts.h5"
    write_store(path, sents, acts, layers=[0, 1])
    shards = []
    for i, (a, b) in enumerate([(0, 27), (27, 50), (50, len(sents))]):
        p = root / f"acts-shard{i}of3.h5"
        write_store(p, sents[a:b], acts[a:b], layers=[0, 1],
                    meta={"shard_index": i, "num_shards": 3,
                          "num_sentences_total": len(sents), "sentence_start": a,
                          "sentence_stop": b})
        shards.append(str(p))
    return {"file": str(path), "shards": shards, "sents": sents, "acts": acts}


CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")


def tiny_chat_model(path: Path, seed: int = 0) -> Path:
    """A tiny Llama (2 layers, hidden 32) with a byte-level BPE tokenizer trained on the spot
    and a chat template, saved to ``path``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from tests.helpers.builders import bpe_tokenizer

    tok = bpe_tokenizer("gpt2", vocab_size=400)
    tok.model_max_length = 4096
    tok.chat_template = CHAT_TEMPLATE
    eos = tok.convert_tokens_to_ids("<|endoftext|>")
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64,
                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
                      max_position_embeddings=4096, bos_token_id=eos, eos_token_id=eos,
                      pad_token_id=eos)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(cfg).eval()
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def chat_model(tmp_path_factory) -> Path:
    return tiny_chat_model(tmp_path_factory.mktemp("chat") / "tiny-llama")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "slow: starts a real model server (about 30-60 s); "
                            "deselect with -m 'not slow'")
