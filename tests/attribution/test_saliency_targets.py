"""Saliency targets (causal, generate, classifier, neuron, callable) and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuroheat.attribution import saliency
from neuroheat.errors import InputError, UnsupportedModelError
from neuroheat.model.loading import load_model
from tests.helpers import builders

TEXT = "The quick brown fox jumps over the lazy dog ."


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    root = tmp_path_factory.mktemp("targets")
    return {
        "mlm": builders.tiny_bert(root / "mlm", head="mlm"),
        "causal": builders.tiny_gpt2(root / "gpt", head="causal"),
        "classifier": builders.tiny_bert(root / "cls", head="classifier"),
        "base": builders.tiny_bert(root / "base"),
    }


def test_auto_target_follows_the_head(paths):
    assert saliency(paths["mlm"], TEXT, positions=[1]).target == "mlm"
    assert saliency(paths["causal"], TEXT, positions=[1]).target == "causal"
    assert saliency(paths["classifier"], TEXT).target == "classifier"


def test_mlm_rows_and_predictions(paths):
    sal = saliency(paths["mlm"], TEXT, top_k=4)
    assert sal.tokens[0] == "[CLS]" and sal.tokens[-1] == "[SEP]"
    assert sal.target_positions == list(range(1, sal.n_tokens - 1))
    assert all(len(p) == 4 for p in sal.predictions)
    assert all(0 <= prob <= 1 for row in sal.predictions for _, prob in row)
    probs = [prob for _, prob in sal.predictions[0]]
    assert probs == sorted(probs, reverse=True)
    np.testing.assert_allclose(np.abs(sal.matrix).max(1), 1.0)


def test_generate_greedy_and_sampled(paths):
    lm = load_model(paths["causal"], "causal", device="cpu")
    greedy = saliency(lm, "The quick brown", generate=4)
    assert greedy.target == "generate"
    n_prompt = greedy.prompt_length
    assert n_prompt == len(lm.tokenizer("The quick brown")["input_ids"])
    assert greedy.target_positions == list(range(n_prompt, greedy.n_tokens))
    # greedy: each generated token is the argmax of its prefix
    ids = lm.tokenizer.convert_tokens_to_ids(greedy.tokens)
    with torch.no_grad():
        logits = lm.model(torch.tensor([ids])).logits[0]
    assert [int(logits[p - 1].argmax()) for p in greedy.target_positions] == ids[n_prompt:]
    assert [greedy.predictions[r][0][0] for r in range(greedy.n_targets)] == \
        greedy.tokens[n_prompt:]
    # each generated token is explained over everything before it, never after
    for r, p in enumerate(greedy.target_positions):
        assert np.all(greedy.matrix[r, p:] == 0) and np.any(greedy.matrix[r, :p] > 0)
    a = saliency(lm, "The quick brown", generate=6, seed=1)
    b = saliency(lm, "The quick brown", generate=6, seed=1)
    assert a.tokens == b.tokens
    np.testing.assert_array_equal(a.matrix, b.matrix)


def test_classifier_targets(paths):
    lm = load_model(paths["classifier"], "classifier", device="cpu")
    sal = saliency(lm, TEXT, method="grad_x_input")
    with torch.no_grad():
        logits = lm.model(**lm.tokenizer(TEXT, return_tensors="pt")).logits[0]
    assert sal.n_targets == 1 and sal.target_positions == [None]
    assert sal.labels == [lm.model.config.id2label[int(logits.argmax())]]
    assert sal.predictions[0][0][0] == sal.labels[0]
    both = saliency(lm, TEXT, target=[0, 2], method="grad_x_input", normalize="none")
    assert both.labels == ["LABEL_0", "LABEL_2"]
    one = saliency(lm, TEXT, target="LABEL_2", method="grad_x_input", normalize="none")
    np.testing.assert_allclose(one.matrix[0], both.matrix[1], rtol=1e-5, atol=1e-8)
    with pytest.raises(InputError, match="out of range"):
        saliency(lm, TEXT, target=7)
    with pytest.raises(InputError, match="LABEL_0"):
        saliency(lm, TEXT, target="POSITIVE")


def test_neuron_targets_match_direct_gradient(paths):
    lm = load_model(paths["base"], device="cpu")
    sal = saliency(lm, TEXT, target=(2, 5, 3), method="gradient", normalize="none")
    assert sal.target == "neuron" and sal.target_positions == [3]
    enc = lm.tokenizer(TEXT, return_tensors="pt")
    x = lm.model.get_input_embeddings()(enc["input_ids"]).detach().requires_grad_(True)
    out = lm.model(inputs_embeds=x, output_hidden_states=True)
    (g,) = torch.autograd.grad(out.hidden_states[2][0, 3, 5], x)
    np.testing.assert_allclose(sal.matrix[0], g[0].norm(dim=-1).numpy(), rtol=1e-5, atol=1e-8)
    # layer 0 is the embedding output: only its own position matters
    emb = saliency(lm, TEXT, target=(0, 1, 4), method="gradient", normalize="none")
    assert np.flatnonzero(emb.matrix[0]).tolist() == [4]
    every = saliency(lm, TEXT, target=(1, 2))
    assert every.target_positions == list(range(1, every.n_tokens - 1))
    with pytest.raises(InputError, match="layers are 0"):
        saliency(lm, TEXT, target=(9, 0, 1))


def test_callable_target(paths):
    lm = load_model(paths["base"], device="cpu")

    def two_targets(outputs):  # [batch, 2]: a neuron sum and a norm
        h = outputs.last_hidden_state
        return torch.stack([h[:, 1, :].sum(-1), h[:, 2].norm(dim=-1)], dim=1)

    sal = saliency(lm, TEXT, target=two_targets, method="gradient", normalize="none")
    assert sal.target == "callable" and sal.n_targets == 2
    x = lm.model.get_input_embeddings()(lm.tokenizer(TEXT, return_tensors="pt")["input_ids"])
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(two_targets(lm.model(inputs_embeds=x))[0, 1], x)
    np.testing.assert_allclose(sal.matrix[1], g[0].norm(dim=-1).numpy(), rtol=1e-5, atol=1e-8)
    single = saliency(lm, TEXT, target=lambda o: o.last_hidden_state[:, 0, 0])
    assert single.n_targets == 1


def test_bad_input(paths):
    with pytest.raises(InputError, match="empty"):
        saliency(paths["mlm"], "   ")
    with pytest.raises(InputError, match="connectivity, gradient"):
        saliency(paths["mlm"], TEXT, method="lime")
    with pytest.raises(InputError, match="limit of 64"):
        saliency(paths["mlm"], " ".join(["fox"] * 80))
    with pytest.raises(InputError, match="limit"):
        saliency(paths["causal"], "The fox", generate=70)
    with pytest.raises(UnsupportedModelError, match="BertForMaskedLM") as err:
        saliency(paths["base"], TEXT, target="mlm")
    assert "BertModel" in str(err.value)
    with pytest.raises(UnsupportedModelError, match="GPT2LMHeadModel|causal"):
        saliency(paths["mlm"], TEXT, target="causal")
    with pytest.raises(InputError, match="no masked-LM, causal-LM or classification head"):
        saliency(paths["base"], TEXT)
    with pytest.raises(InputError, match="causal"):
        saliency(paths["mlm"], TEXT, generate=3)
    with pytest.raises(InputError, match="normalize"):
        saliency(paths["mlm"], TEXT, normalize="l2")
    with pytest.raises(InputError, match="baseline"):
        saliency(paths["mlm"], TEXT, method="ig", baseline="noise", steps=2)
    with pytest.raises(InputError, match="unknown target 'nouns'"):
        saliency(paths["mlm"], TEXT, target="nouns")
    with pytest.raises(InputError, match="outside"):
        saliency(paths["mlm"], TEXT, positions=[99])
    with pytest.raises(InputError, match="depend"):
        saliency(paths["base"], TEXT, target=lambda o: torch.zeros(o.last_hidden_state.shape[0]))


def test_merge_words(paths):
    text = "Pierre Vinken unbelievable"
    sal = saliency(paths["mlm"], text, method="grad_x_input", normalize="none")
    words = saliency(paths["mlm"], text, method="grad_x_input", normalize="none", merge="sum")
    assert words.tokens == ["[CLS]", "pierre", "vinken", "unbelievable", "[SEP]"]
    n_pierre = len(builders.bert_tokenizer().tokenize("pierre"))
    pierre = list(range(1, 1 + n_pierre))
    assert n_pierre > 1 and words.token_map[1] == pierre
    assert words.target_positions == [1, 2, 3]
    pierre_rows = [r for r, p in enumerate(sal.target_positions) if p in pierre]
    expected = sal.matrix[pierre_rows][:, pierre].sum()
    assert words.matrix[0, 1] == pytest.approx(expected)
    mx = sal.merge_words("max").renormalize("max")
    assert np.abs(mx.matrix).max() == pytest.approx(1.0)


def test_encoder_decoder_neuron_and_roberta_display(tmp_path):
    t5 = builders.tiny_t5(tmp_path / "t5")
    sal = saliency(t5, "The quick brown fox", target=(1, 3, 2), method="gradient")
    assert sal.target == "neuron" and sal.tokens[-1] == "</s>"
    rob = builders.tiny_roberta(tmp_path / "rob")
    sal = saliency(rob, "The quick brown fox", target=(2, 3))
    facet = sal.to_textualheatmap()
    assert "".join(t["token"] for t in facet) == "<s> The quick brown fox </s>"


def test_completeness_warning(paths, caplog):
    """The warning appears exactly when attributions miss f(x) - f(baseline) by over 5%."""
    with caplog.at_level("WARNING"):
        sal = saliency(paths["mlm"], TEXT, method="ig", steps=1, positions=[1, 2, 3, 4])
    deltas, diffs = sal.info["completeness_delta"], sal.info["f_difference"]
    worst = max(abs(d) / max(abs(f), 1e-12) for d, f in zip(deltas, diffs, strict=True))
    assert ("more steps" in caplog.text) == (worst > 0.05)
    caplog.clear()
    with caplog.at_level("WARNING"):
        saliency(paths["mlm"], TEXT, method="ig", steps=64, positions=[2])
    assert "more steps" not in caplog.text
