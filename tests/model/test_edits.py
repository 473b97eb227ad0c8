"""model/edits against independent references: plain hooks written here, a full recompute
of the sequence for cached generation, the clean forward for resume_at."""

from __future__ import annotations

import pytest
import torch

from neuroheat.errors import InputError
from neuroheat.model.edits import edit, resume_at
from neuroheat.model.sites import get_site_kind
from tests.intervene.models import FAMILIES, build, down_proj, loaded

TEXTS = ["The quick brown fox jumps over the lazy dog .", "cats dogs birds"]


@pytest.fixture(scope="module")
def lms(tmp_path_factory):
    root = tmp_path_factory.mktemp("edit_models")
    return {family: str(build(family, root / family)) for family in FAMILIES}


def _batch(tok, texts=TEXTS, side="right"):
    tok.padding_side = side
    tok.pad_token = tok.pad_token or tok.eos_token
    return tok(texts, return_tensors="pt", padding=True)


@pytest.mark.parametrize("family", FAMILIES)
def test_zero_neuron_equals_a_pre_hook_on_the_down_projection(lms, family):
    model, tok = loaded(lms[family])
    batch = _batch(tok)
    layer, neuron = 2, 5

    def reference(module, args):
        x = args[0].clone()
        x[..., neuron] = 0
        return (x, *args[1:])

    handle = down_proj(model, layer).register_forward_pre_hook(reference)
    with torch.no_grad():
        want = model(**batch).logits
    handle.remove()

    def zero(act, ctx):
        act[..., neuron] = 0
        return act

    with torch.no_grad(), edit(model, {f"mlp.{layer}": zero}):
        got = model(**batch).logits
        clean_after = None
    with torch.no_grad():
        clean_after = model(**batch).logits
    real = batch["attention_mask"].bool()
    assert torch.allclose(got[real], want[real], atol=1e-5)
    assert not torch.allclose(clean_after[real], want[real], atol=1e-5)  # hooks removed


@pytest.mark.parametrize("kind", ["resid", "attn_out", "mlp_out"])
def test_residual_width_sites_equal_hooks_on_their_modules(lms, kind):
    model, tok = loaded(lms["gemma2"])   # post-norm family: attn_out/mlp_out after the norms
    batch = _batch(tok)
    block = model.model.layers[1]
    module = {"resid": block, "attn_out": block.post_attention_layernorm,
              "mlp_out": block.post_feedforward_layernorm}[kind]
    handle = module.register_forward_hook(lambda m, a, out: out * 0.5)
    with torch.no_grad():
        want = model(**batch).logits
    handle.remove()
    with torch.no_grad(), edit(model, {f"{kind}.2": lambda act, ctx: act * 0.5}):
        got = model(**batch).logits
    real = batch["attention_mask"].bool()
    assert torch.allclose(got[real], want[real], atol=1e-5)


def test_padded_positions_keep_their_values_and_the_tap_sees_the_edit(lms):
    model, tok = loaded(lms["llama"])
    batch = _batch(tok, side="left")
    resid = get_site_kind("resid")
    with torch.no_grad(), resid.tap(model, [1]) as tap:
        model(**batch)
        clean = tap.values(None)[0].clone()
    seen = {}

    def plus(act, ctx):
        seen["mask"], seen["index"] = ctx.mask.clone(), ctx.token_index.clone()
        return act + 100.0

    with torch.no_grad(), edit(model, {"resid.1": plus}), resid.tap(model, [1]) as tap:
        model(**batch)
        edited = tap.values(None)[0]
    real = batch["attention_mask"].bool()
    assert torch.equal(seen["mask"], real)
    assert torch.equal(edited[~real], clean[~real])
    assert torch.allclose(edited[real], clean[real] + 100.0)
    row = 1  # left-padded shorter row: its first real token has index 0
    assert int(seen["index"][row][real[row]][0]) == 0


@pytest.mark.parametrize("family", ["llama", "gpt2"])
def test_cached_generation_equals_a_full_recompute_each_step(lms, family):
    model, tok = loaded(lms[family])
    ids = tok("The quick brown", return_tensors="pt")["input_ids"]
    vec = torch.randn(model.config.hidden_size, generator=torch.Generator().manual_seed(1))
    calls = []

    def steer(act, ctx):
        calls.append(ctx.positions.tolist())
        return act + 2.0 * vec

    with torch.no_grad(), edit(model, {"resid.1": steer}):
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=4,
                             do_sample=False, pad_token_id=0)
    n = ids.shape[1]
    assert calls[0] == list(range(n)) and calls[1] == [n] and calls[2] == [n + 1]
    seq = ids
    with torch.no_grad(), edit(model, {"resid.1": lambda a, c: a + 2.0 * vec}):
        for _ in range(4):
            nxt = model(seq, use_cache=False).logits[:, -1].argmax(-1, keepdim=True)
            seq = torch.cat([seq, nxt], dim=1)
    assert torch.equal(out, seq)


def test_float16_edit_clamps_instead_of_inf_and_eval_mode(lms):
    import transformers as tf

    model = tf.AutoModelForCausalLM.from_pretrained(lms["gpt2"], dtype=torch.float16)
    model.train()
    ids = torch.tensor([[1, 2, 3, 4]])
    modes = []

    def huge(act, ctx):
        modes.append(model.training)
        assert act.dtype == torch.float32
        return act + 1e9

    resid = get_site_kind("resid")
    with torch.no_grad(), edit(model, {"resid.1": huge}), resid.tap(model, [1]) as tap:
        model(ids)
        value = tap.values(None)[0]
    assert modes == [False] and model.training  # eval inside, the mode restored after
    assert value.dtype == torch.float16 and torch.isfinite(value).all()


@pytest.mark.parametrize("family", FAMILIES)
def test_resume_at_skips_early_blocks_and_matches_the_clean_forward(lms, family):
    model, tok = loaded(lms[family])
    batch = _batch(tok)
    resid = get_site_kind("resid")
    with torch.no_grad(), resid.tap(model, [2]) as tap:
        clean = model(**batch).logits
        r2 = tap.values(None)[0].clone()
    ran = []
    first = model.base_model.h[0] if family == "gpt2" else model.base_model.layers[0]
    handle = first.register_forward_hook(lambda *a: ran.append(1))
    with torch.no_grad(), resume_at(model, 2, r2):
        got = model(**batch).logits
    handle.remove()
    real = batch["attention_mask"].bool()
    assert torch.allclose(got[real], clean[real], atol=1e-5)
    assert ran == []


@pytest.mark.parametrize("site", ["hidden.1", "mlp.9", "resid.-1", "mlp"])
def test_bad_sites_are_input_errors(lms, site):
    model, _ = loaded(lms["llama"])
    with pytest.raises(InputError), edit(model, {site: lambda a, c: a}):
        pass
