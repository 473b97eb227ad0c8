"""Decoder tokenizers: SentencePiece-style vocabularies with byte fallback keep the original
words, a character split over several byte tokens belongs to its word, BOS is fed to the model
(and stored only with include_special_tokens)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers as tf

from neuroheat.extract.activations import activations_for_words
from tests.helpers.builders import TRAIN_TEXT

WORDS = [["The", "cat", "sat", "in", "日本", "😀", "."], ["Vinken", "joined"]]


@pytest.fixture(scope="module")
def llama_like():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first")
    tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace()])
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    tok.train_from_iterator(TRAIN_TEXT, trainers.BpeTrainer(
        vocab_size=600, special_tokens=["<unk>", "<s>", "</s>", *byte_tokens]))
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))])
    fast = tf.PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                      unk_token="<unk>", model_max_length=64)
    torch.manual_seed(0)
    model = tf.LlamaModel(tf.LlamaConfig(
        vocab_size=len(fast), hidden_size=32, intermediate_size=48, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
        bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id, pad_token_id=0)).eval()
    return model, fast


def test_words_bytes_and_bos(llama_like):
    model, tok = llama_like
    pieces = tok.convert_ids_to_tokens(tok(" ".join(WORDS[0]))["input_ids"])
    assert pieces[0] == "<s>" and "<0xE6>" in pieces  # BOS, and 日 falls back to bytes
    got = activations_for_words(llama_like, WORDS, component="resid", aggregation="average",
                                layers=[1], device="cpu")
    assert [a.shape[0] for a in got] == [len(w) for w in WORDS]
    # reference: the tokenizer's own encoding of the words (BOS first), one forward pass
    enc = tok(WORDS[0], is_split_into_words=True, return_tensors="pt")
    assert enc["input_ids"][0, 0] == tok.bos_token_id
    kept = []
    hook = model.layers[0].register_forward_hook(lambda m, a, out: kept.append(out[0]))
    with torch.no_grad():
        model(**enc)
    hook.remove()
    word_ids = enc.word_ids()
    for w in range(len(WORDS[0])):
        tokens = [t for t, i in enumerate(word_ids) if i == w]
        np.testing.assert_allclose(got[0][w, 0], kept[0][tokens].mean(0).numpy(), atol=1e-5)
    with_special = activations_for_words(llama_like, WORDS[:1], component="resid", layers=[1],
                                         include_special_tokens=True, device="cpu")[0]
    assert with_special.shape[0] == len(WORDS[0]) + 1  # the BOS row
    np.testing.assert_allclose(with_special[0, 0], kept[0][0].numpy(), atol=1e-5)
