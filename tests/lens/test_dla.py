"""Direct logit attribution against plain torch: components + bias = the logit (difference),
neurons + the down projection's bias term = mlp_out, invariance to a shift of every
unembedding column, and the post-norm families' refusal."""

from __future__ import annotations

import pytest
import torch
import transformers as tf

from neuroheat.cli import main
from neuroheat.lens import dla
from tests.lens.conftest import FAMILIES
from tests.lens.reference import TEXT, states

ALL = 10**6


def _ids(tok, *texts):
    return [tok(t, add_special_tokens=False)["input_ids"][0] for t in texts]


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("foil", [None, " a"])
def test_components_and_bias_sum_to_the_logit(causal_models, family, foil):
    path = causal_models[family]
    res = dla(path, TEXT, " the", foil=foil, position=4, device="cpu")
    ref = states(path)
    a, *f = _ids(ref.tokenizer, " the", *([foil] if foil else []))
    with torch.no_grad():
        logits = ref.readout(ref.resid[-1][4], cap=False).double()
    expected = float(logits[a] - (logits[f[0]] if f else 0.0))
    assert abs(res.logit - expected) < 1e-4
    total = sum(c["value"] for c in res.components) + res.bias
    assert abs(total - expected) < 1e-4
    n = ref.model.config.num_hidden_layers
    assert [c["name"] for c in res.components] == ["embed", *(
        f"{k}.{lay}" for lay in range(1, n + 1) for k in ("attn_out", "mlp_out"))]
    assert res.position == 4 and res.softcap == (2.0 if family == "gemma2" else None)


@pytest.mark.parametrize("family", ["gpt2", "llama", "gpt_neox"])
def test_neurons_and_bias_term_sum_to_mlp_out(causal_models, family):
    path = causal_models[family]
    res = dla(path, TEXT, " the", foil=" a", neurons="all", top=ALL, device="cpu")
    ref = states(path)
    a, f = _ids(ref.tokenizer, " the", " a")
    with torch.no_grad():
        u = (ref.model.get_output_embeddings().weight[a]
             - ref.model.get_output_embeddings().weight[f]).double()
        x = ref.resid[-1][-1].double()
        sigma = ref.sigma(x)
        by_name = {c["name"]: c["value"] for c in res.components}
        for layer in range(1, ref.model.config.num_hidden_layers + 1):
            neurons = [v["value"] for v in res.neurons if v["unit"].startswith(f"mlp.{layer}:")]
            assert len(neurons) == ref.mlp[layer - 1].shape[-1]
            down = ref.down(layer)
            bias = down.bias.double() if down.bias is not None else torch.zeros_like(x)
            term = float(ref.effect(bias, sigma, u))
            assert abs(res.meta["neuron_bias_terms"][f"mlp.{layer}"] - term) < 1e-6
            assert abs(sum(neurons) + term - by_name[f"mlp_out.{layer}"]) < 1e-5
    values = [abs(v["value"]) for v in res.neurons]
    assert values == sorted(values, reverse=True)


@pytest.mark.parametrize("family", ["llama", "gpt_neox"])
def test_shifting_every_unembedding_column_leaves_the_difference(causal_models, family):
    path = causal_models[family]
    model = tf.AutoModelForCausalLM.from_pretrained(path).eval()
    tok = tf.AutoTokenizer.from_pretrained(path)
    before = dla((model, tok), TEXT, " the", foil=" a", neurons=None, device="cpu")
    with torch.no_grad():
        head = model.get_output_embeddings().weight
        head += torch.randn(head.shape[1])   # the same vector added to every column of W_U
    after = dla((model, tok), TEXT, " the", foil=" a", device="cpu")
    for x, y in zip(before.components, after.components, strict=True):
        assert abs(x["value"] - y["value"]) < 1e-5
    alone = dla((model, tok), TEXT, " the", device="cpu")
    assert abs(alone.logit - before.logit) > 1e-3  # without a foil the shift shows


def test_post_norm_neurons_are_one_line_exit_2(causal_models, tmp_path, capsys):
    code = main(["dla", str(causal_models["olmo2"]), "--text", TEXT, "--answer", " the",
                 "--neurons", "all", "-o", str(tmp_path / "d.json")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "post-norm" in err


def test_bad_answer_and_position_are_one_line(causal_models, tmp_path, capsys):
    out = str(tmp_path / "d.json")
    assert main(["dla", str(causal_models["gpt2"]), "--text", TEXT, "--answer",
                 " the quick", "-o", out]) == 2
    assert "not one" in capsys.readouterr().err
    assert main(["dla", str(causal_models["gpt2"]), "--text", TEXT, "--answer", " the",
                 "--position", "99", "-o", out]) == 2
    assert "position 99" in capsys.readouterr().err
