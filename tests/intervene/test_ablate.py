"""Ablation effects against an independent pre-hook on the down projection (tiny random-weight
Llama, Qwen2, Gemma2, GPT-2, GPT-NeoX), mean ablation of a constant neuron, batch-size
independence, resampling and sharding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuroheat as nh
from neuroheat.errors import InputError
from tests.intervene import reference as R
from tests.intervene.models import FAMILIES, down_proj, loaded

TOL = 1e-5


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text("\n".join(R.LINES) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("method,value,fn", [
    ("zero", None, lambda x: torch.zeros_like(x)),
    ("fixed", 1.5, lambda x: torch.full_like(x, 1.5)),
    ("scale", 3.0, lambda x: 3.0 * x),
])
def test_single_unit_ablation_equals_a_pre_hook_reference(lms, corpus, family, method, value, fn):
    model, tok = loaded(str(lms[family]))
    layer = 3 if family != "gpt2" else 2
    neurons = [1, 4, 7]
    res = nh.intervene.ablate(str(lms[family]), corpus, [f"mlp.{layer}:1,4,7"], method=method,
                              value=value, device="cpu", batch_tokens=4096, quiet=True)
    clean = R.logprobs(model, tok, R.LINES)
    assert res.clean["ce"] == pytest.approx(R.clean_ce(clean), abs=TOL)
    for n, got in zip(neurons, res.results, strict=True):
        hooked = R.logprobs(model, tok, R.LINES,
                            [(down_proj(model, layer), R.set_neuron(n, fn))])
        want = R.metrics(clean, hooked)
        assert got["units"] == [f"mlp.{layer}:{n}"]
        assert res.tokens == want["tokens"]
        for key in ("delta_ce", "kl", "delta_entropy"):
            assert got[key] == pytest.approx(want[key], abs=TOL), key
        top = int(want["dlogp"].argmax())
        assert got["top_promoted"][0][0] == tok.decode([top])
        assert got["top_promoted"][0][1] == pytest.approx(float(want["dlogp"][top]), abs=TOL)
        assert got["kl"] > 1e-7  # the neuron matters: the test can fail


def test_jointly_equals_a_pre_hook_zeroing_every_unit(lms, corpus):
    model, tok = loaded(str(lms["llama"]))
    res = nh.intervene.ablate(str(lms["llama"]), corpus, ["mlp.2:0-3", "mlp.3:5"],
                              jointly=True, device="cpu", quiet=True)
    assert len(res.results) == 1
    assert res.results[0]["units"] == ["mlp.2:0", "mlp.2:1", "mlp.2:2", "mlp.2:3", "mlp.3:5"]

    def zero(idx):
        def hook(module, args):
            x = args[0].clone()
            x[..., idx] = 0
            return (x, *args[1:])
        return hook

    clean = R.logprobs(model, tok, R.LINES)
    hooked = R.logprobs(model, tok, R.LINES, [(down_proj(model, 2), zero([0, 1, 2, 3])),
                                              (down_proj(model, 3), zero([5]))])
    want = R.metrics(clean, hooked)
    assert res.results[0]["delta_ce"] == pytest.approx(want["delta_ce"], abs=TOL)
    assert res.results[0]["kl"] == pytest.approx(want["kl"], abs=TOL)


def test_batch_tokens_64_and_4096_give_the_same_metrics(lms, corpus):
    kw = dict(device="cpu", quiet=True, method="resample", seed=3)
    small = nh.intervene.ablate(str(lms["gpt2"]), corpus, ["mlp.2:0-5", "resid.1:3"],
                                batch_tokens=64, **kw)
    big = nh.intervene.ablate(str(lms["gpt2"]), corpus, ["mlp.2:0-5", "resid.1:3"],
                              batch_tokens=4096, **kw)
    assert small.tokens == big.tokens
    for a, b in zip(small.results, big.results, strict=True):
        for key in ("delta_ce", "kl", "delta_entropy"):
            assert a[key] == pytest.approx(b[key], abs=TOL)
    other = nh.intervene.ablate(str(lms["gpt2"]), corpus, ["mlp.2:0"], batch_tokens=4096,
                                **dict(kw, seed=4))
    assert other.results[0]["kl"] != pytest.approx(big.results[0]["kl"], abs=1e-9)


def test_mean_ablation_of_a_constant_neuron_changes_nothing(lms, corpus, tmp_path):
    import transformers as tf

    path = tmp_path / "const"
    model = tf.AutoModelForCausalLM.from_pretrained(str(lms["llama"]))
    tok = tf.AutoTokenizer.from_pretrained(str(lms["llama"]))
    with torch.no_grad():  # neuron 2 of mlp.2 = silu(gate) * up with up's row 2 zeroed: 0
        model.model.layers[1].mlp.up_proj.weight[2] = 0
    model.save_pretrained(path)
    tok.save_pretrained(path)
    res = nh.intervene.ablate(str(path), corpus, ["mlp.2:2"], method="mean", device="cpu",
                              quiet=True)
    assert res.results[0]["delta_ce"] == pytest.approx(0, abs=1e-12)
    assert res.results[0]["kl"] == pytest.approx(0, abs=1e-12)


def test_mean_is_over_the_whole_reference_not_a_batch(lms, corpus):
    model, tok = loaded(str(lms["gpt2"]))
    acts = []
    handle = down_proj(model, 1).register_forward_pre_hook(
        lambda m, a: acts.append(a[0][0, :, 6].clone()))
    R.logprobs(model, tok, R.LINES)
    handle.remove()
    mean = float(torch.cat(acts).double().mean())
    clean = R.logprobs(model, tok, R.LINES)
    hooked = R.logprobs(model, tok, R.LINES, [(down_proj(model, 1), R.set_neuron(
        6, lambda x: torch.full_like(x, mean)))])
    want = R.metrics(clean, hooked)
    res = nh.intervene.ablate(str(lms["gpt2"]), corpus, ["mlp.1:6"], method="mean",
                              device="cpu", quiet=True, batch_tokens=32)
    assert res.results[0]["delta_ce"] == pytest.approx(want["delta_ce"], abs=TOL)


def test_shards_split_the_units_and_load_reads_them_as_one(lms, corpus, tmp_path):
    whole = nh.intervene.ablate(str(lms["gpt2"]), corpus, ["mlp.2:0-4"], device="cpu",
                                quiet=True)
    for i in range(2):
        part = nh.intervene.ablate(str(lms["gpt2"]), corpus, ["mlp.2:0-4"], device="cpu",
                                   quiet=True, shard=f"{i}/2")
        part.save(tmp_path / f"effects.{i}-of-2.json")
    merged = nh.intervene.load(str(tmp_path / "effects.*-of-2.json"))
    assert [r["units"] for r in merged.results] == [r["units"] for r in whole.results]
    assert [r["kl"] for r in merged.results] == pytest.approx([r["kl"] for r in whole.results])
    assert set(merged.to_dict()) == {"model", "corpus", "method", "tokens", "clean", "results"}
    assert merged.to_pandas().shape == (5, 4)


@pytest.mark.parametrize("units,message", [
    (["mlp.9:0"], "does not exist"), (["mlp.2:999"], "outside"), (["hidden.1:0"], "cannot be"),
    (["mlp.2"], "cannot read unit"), (["sae.resid.1:0"], "names no SAE")])
def test_bad_units_are_one_line_input_errors(lms, corpus, units, message):
    with pytest.raises(InputError, match=message):
        nh.intervene.ablate(str(lms["gpt2"]), corpus, units, device="cpu", quiet=True)


def test_reference_store_gives_its_stored_mean(lms, corpus, tmp_path):
    words = [line.split() for line in R.LINES]
    store = nh.extract_activations(str(lms["gpt2"]), words, tmp_path / "mlp.h5",
                                   component="mlp", layers=[2], quiet=True)
    with nh.open_store(store) as s:
        mean = float(s.stats(2)["mean"][7])
    got = nh.intervene.ablate(str(lms["gpt2"]), corpus, ["mlp.2:7"], method="mean",
                              reference=str(store), device="cpu", quiet=True)
    want = nh.intervene.ablate(str(lms["gpt2"]), corpus, ["mlp.2:7"], method="fixed",
                               value=mean, device="cpu", quiet=True)
    assert got.results[0]["kl"] == pytest.approx(want.results[0]["kl"], abs=1e-12)
    with pytest.raises(InputError, match="not mlp.1"):
        nh.intervene.ablate(str(lms["gpt2"]), corpus, ["mlp.1:7"], method="mean",
                            reference=str(store), device="cpu", quiet=True)


def test_masked_lm_kl_and_entropy_over_non_special_positions(corpus):
    import transformers as tf

    from tests.helpers import builders

    path = builders.tiny_bert(corpus.parent / "bert-mlm", head="mlm")
    model = tf.AutoModelForMaskedLM.from_pretrained(path).eval()
    with torch.no_grad():  # larger weights: one neuron's effect well above float rounding
        for param in model.parameters():
            if param.ndim == 2:
                param.mul_(5.0)
    model.save_pretrained(path)
    tok = tf.AutoTokenizer.from_pretrained(path)
    special = set(tok.all_special_ids)
    inter = model.bert.encoder.layer[1].intermediate

    def run(hook=None):
        handle = inter.register_forward_hook(hook) if hook else None
        out = []
        with torch.no_grad():
            for line in R.LINES:
                ids = tok(line)["input_ids"]
                logits = model(torch.tensor([ids])).logits[0].double()
                keep = [i for i, t in enumerate(ids) if t not in special]
                out.append(torch.log_softmax(logits, -1)[keep])
        if handle:
            handle.remove()
        return torch.cat(out)

    def zero(m, a, out):
        out = out.clone()
        out[..., 3] = 0
        return out

    clean, edited = run(), run(zero)
    kl = float((clean.exp() * (clean - edited)).sum(-1).mean())
    dh = float(((-(edited.exp() * edited)).sum(-1) + (clean.exp() * clean).sum(-1)).mean())
    res = nh.intervene.ablate(str(path), corpus, ["mlp.2:3"], device="cpu", quiet=True)
    got = res.results[0]
    assert res.clean["ce"] is None and got["delta_ce"] is None
    assert res.tokens == clean.shape[0]
    assert got["kl"] == pytest.approx(kl, abs=TOL) and kl > 1e-8
    assert got["delta_entropy"] == pytest.approx(dh, abs=TOL)


def test_bfloat16_model_gives_finite_metrics_near_float32(lms, corpus):
    kw = dict(device="cpu", quiet=True, method="scale", value=4.0)
    f32 = nh.intervene.ablate(str(lms["llama"]), corpus, ["mlp.3:1"], **kw)
    b16 = nh.intervene.ablate(str(lms["llama"]), corpus, ["mlp.3:1"], model_dtype="bfloat16",
                              **kw)
    got, want = b16.results[0], f32.results[0]
    assert all(np.isfinite(got[k]) for k in ("delta_ce", "kl", "delta_entropy"))
    assert got["kl"] == pytest.approx(want["kl"], rel=0.3)


def test_a_batch_without_predicted_tokens(lms):
    """A one-token line predicts nothing: its batch adds no token, and the rest still counts."""
    kw = dict(device="cpu", quiet=True)
    alone = nh.intervene.ablate(str(lms["llama"]), ["a"], ["mlp.2:0-2"], **kw)
    assert alone.tokens == 0 and alone.results[0]["kl"] == 0.0
    mixed = nh.intervene.ablate(str(lms["llama"]), ["a", R.LINES[0]], ["mlp.2:0-2"],
                                batch_tokens=4, **kw)
    whole = nh.intervene.ablate(str(lms["llama"]), [R.LINES[0]], ["mlp.2:0-2"], **kw)
    assert mixed.tokens == whole.tokens > 0
    assert mixed.results[1]["kl"] == pytest.approx(whole.results[1]["kl"], abs=TOL)
