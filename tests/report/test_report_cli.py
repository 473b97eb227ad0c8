"""``neuroheat report`` with --probe and --model: probe weights per class and the output
tokens a neuron promotes / suppresses (checked against the weights computed here)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import neuroheat as nh
from neuroheat.cli import main
from neuroheat.formats.bytelevel import decode_token
from neuroheat.probing.probe import Probe
from tests.helpers import builders

SENTENCES = [["the", "cat", "sat", "on", "the", "mat"], ["a", "dog", "ran", "far"],
             ["the", "bird", "sang", "a", "song"]]


def record(site, layer, neuron, block=64):
    text = (site / "data" / f"n-{layer}-{neuron // block}.js").read_text(encoding="ascii")
    doc = json.loads(text[text.index("]=") + 2:-2])
    return doc["neurons"][neuron % block], doc["vocab"]


@pytest.fixture(scope="module")
def gpt2(tmp_path_factory):
    d = tmp_path_factory.mktemp("gpt2")
    model = builders.tiny_gpt2(d / "model", head="causal")
    store = nh.extract_activations(model, SENTENCES, d / "mlp.h5", component="mlp", quiet=True)
    return model, store


def assert_output_tokens(listed, model_dir, direction, k):
    """``listed`` ([token, logit] pairs) are the k largest logits of ``direction`` times the
    unembedding, computed here in float64, each shown as its text. Tokens whose logits tie
    within float32 rounding may come in either order (the site computes in float32)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    m = AutoModelForCausalLM.from_pretrained(model_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    logits = (m.get_output_embeddings().weight.detach().double().numpy() @
              np.asarray(direction, dtype=np.float64))
    top = np.argsort(-logits, kind="stable")[:k]
    np.testing.assert_allclose([v for _, v in listed], logits[top], rtol=1e-5, atol=1e-6)
    shown = []
    for t in tok.convert_ids_to_tokens(list(range(len(logits)))):
        text = tok.convert_tokens_to_string([t])
        shown.append(decode_token(t) if "\ufffd" in text else text)  # a lone byte: \xNN
    for token, value in listed:
        near = np.flatnonzero(np.abs(logits - value) <= 1e-5 * max(1.0, abs(value)))
        assert token in {shown[i] for i in near}, (token, [shown[i] for i in near])


def test_output_tokens_of_mlp_neurons(gpt2, tmp_path):
    model, store = gpt2
    probe = Probe()
    probe.classes, probe.neurons = ["det", "other"], [(1, 0), (1, 5), (2, 3)]
    probe.weights = np.array([[0.5, -1.25, 2.0], [-0.5, 1.25, -2.0]])
    probe.bias = np.zeros(2)
    probe.save(tmp_path / "probe.json")
    site = tmp_path / "site"
    assert main(["report", str(store), "-o", str(site), "--model", str(model), "--probe",
                 str(tmp_path / "probe.json"), "--top-contexts", "3", "--window", "2",
                 "--quiet"]) == 0
    from transformers import AutoModelForCausalLM

    m = AutoModelForCausalLM.from_pretrained(model)
    for layer, neuron in ((1, 0), (2, 77)):
        rec, _ = record(site, layer, neuron)
        direction = m.transformer.h[layer - 1].mlp.c_proj.weight[neuron].detach().numpy()
        assert_output_tokens(rec["out"]["promote"], model, direction, 10)
        assert_output_tokens([[t, -v] for t, v in rec["out"]["suppress"]], model, -direction,
                             10)
        assert "no final norm" in rec["out"]["what"]
    rec, _ = record(site, 1, 5)
    assert rec["probe"] == {"det": -1.25, "other": 1.25}
    assert record(site, 1, 1)[0]["probe"] is None
    manifest = (site / "data" / "site.js").read_text()
    assert '"probe":true' in manifest and '"outputs":true' in manifest


def test_errors_are_one_line(gpt2, tmp_path, capsys):
    _, store = gpt2
    tiny_bert = builders.tiny_bert(tmp_path / "bert")
    assert main(["report", str(store), "-o", str(tmp_path / "s"), "--top-contexts", "0"]) == 2
    assert main(["report", str(store), "-o", str(tmp_path / "s"), "--layers", "7"]) == 2
    assert main(["report", str(store), "-o", str(tmp_path / "s"), "--model",
                 str(tiny_bert)]) == 2  # a BERT without a head for a GPT-2 mlp store
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    assert main(["report", str(store), "-o", str(tmp_path / "x"), "--overwrite"]) == 2
    assert (tmp_path / "x" / "keep.txt").exists()
    err = [line for line in capsys.readouterr().err.splitlines()
           if line.startswith("neuroheat")]  # (saving the model draws progress bars)
    assert len(err) == 4 and all(line.startswith("neuroheat: error:") for line in err)


@pytest.mark.parametrize("component", ["hidden", "mlp"])
def test_output_tokens_of_a_masked_lm(tmp_path, component):
    from transformers import AutoModelForMaskedLM

    from neuroheat.model.unembedding import output_tokens

    model = builders.tiny_bert(tmp_path / "bert", head="mlm")
    m = AutoModelForMaskedLM.from_pretrained(model)
    U = m.get_output_embeddings().weight.detach().double().numpy()
    width = 32 if component == "hidden" else 64
    got = output_tokens(str(model), component, [1], width, k=5)[1]
    for j in (0, 9):
        if component == "hidden":
            direction = np.eye(32)[j]  # a residual dimension: its basis vector
        else:  # BERT's neurons feed output.dense: its column j
            direction = m.bert.encoder.layer[0].output.dense.weight[:, j].detach().numpy()
        logits = U @ direction
        assert np.allclose([v for _, v in got[j]["promote"]],
                           np.sort(logits)[::-1][:5], rtol=1e-4, atol=1e-6)
        assert np.allclose([v for _, v in got[j]["suppress"]], np.sort(logits)[:5],
                           rtol=1e-4, atol=1e-6)
