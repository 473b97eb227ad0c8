"""Activation and attribution patching against plain-torch references on five tiny families
(Llama, Qwen2 and Gemma2 with grouped-query attention), PATCH.json and one-line CLI errors."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import numpy as np
import pytest
import torch

import neuroheat as nh
from neuroheat.cli import main
from tests.intervene.models import FAMILIES, down_proj, loaded
from tests.intervene.patch_helpers import keep, metric, on_input, on_resid, pairs_for


def _setup(lms, family):
    model, tok = loaded(str(lms[family]))
    pairs = pairs_for(tok)
    ids = {k: torch.tensor([tok(p[k])["input_ids"] for p in pairs]) for k in ("clean", "corrupt")}
    a, f = (tok.get_vocab()["Ġa"], tok.get_vocab()["Ġt"])
    return model, tok, pairs, ids, a, f


@pytest.mark.parametrize("family", FAMILIES)
def test_last_layer_resid_at_last_position_scores_exactly_1(lms, family):
    model, tok, pairs, ids, _, _ = _setup(lms, family)
    res = nh.intervene.patch((model, tok), pairs, grid="resid", device="cpu", quiet=True)
    n, length = model.config.num_hidden_layers, ids["clean"].shape[1]
    last = [r for r in res.results if r["site"] == f"resid.{n}"]
    assert [r["position"] for r in last] == list(range(length))
    assert last[-1]["score"] == 1.0
    assert last[-1]["per_pair"] == res.clean
    assert all(r["score"] == 0.0 for r in last[:-1])


@pytest.mark.parametrize("family", FAMILIES)
def test_resid_grid_equals_a_hook_reference(lms, family):
    model, tok, pairs, ids, a, f = _setup(lms, family)
    # 40 tokens: fewer copies per run than positions, so several runs per site
    res = nh.intervene.patch((model, tok), pairs, grid="resid", device="cpu", quiet=True,
                             batch_tokens=40)
    with torch.no_grad():
        m_clean = metric(model(ids["clean"]).logits, a, f).numpy()
        m_corrupt = metric(model(ids["corrupt"]).logits, a, f).numpy()
        np.testing.assert_allclose(res.clean, m_clean, atol=1e-5)
        np.testing.assert_allclose(res.corrupt, m_corrupt, atol=1e-5)
        for r in res.results:
            layer = int(r["site"].split(".")[1])
            saved = {}
            with on_resid(model, layer, keep(saved, "h")):
                model(ids["clean"])

            def put(h, p=r["position"], saved=saved):
                h = h.clone()
                h[:, p] = saved["h"][:, p]
                return h

            with on_resid(model, layer, put):
                want = metric(model(ids["corrupt"]).logits, a, f).numpy()
            np.testing.assert_allclose(r["per_pair"], want, atol=1e-5, err_msg=str(r))
            np.testing.assert_allclose(r["effect"], np.mean(want - m_corrupt), atol=1e-5)
            assert r["score"] == pytest.approx(
                np.mean((want - m_corrupt) / (m_clean - m_corrupt)), abs=1e-5)


@pytest.mark.parametrize("family", ["llama", "gpt2", "gpt_neox"])
def test_units_equal_a_down_projection_pre_hook(lms, family):
    model, tok, pairs, ids, a, f = _setup(lms, family)
    res = nh.intervene.patch((model, tok), pairs, ["mlp.2:0-5", "mlp.3:7"], device="cpu",
                             quiet=True, batch_tokens=30)
    assert [r["units"] for r in res.results] == [[f"mlp.2:{i}"] for i in range(6)] + \
        [["mlp.3:7"]]
    assert all(r["site"] is None and r["position"] is None for r in res.results)
    with torch.no_grad():
        for r in res.results:
            layer, index = (int(x) for x in r["units"][0][4:].split(":"))
            saved = {}
            with on_input(down_proj(model, layer), keep(saved, "x")):
                model(ids["clean"])

            def put(x, i=index, saved=saved):
                x = x.clone()
                x[..., i] = saved["x"][..., i]
                return x

            with on_input(down_proj(model, layer), put):
                want = metric(model(ids["corrupt"]).logits, a, f).numpy()
            np.testing.assert_allclose(r["per_pair"], want, atol=1e-5)


@pytest.mark.parametrize("family", ["llama", "qwen2", "gemma2", "gpt_neox"])
def test_attribution_equals_the_autograd_formula(lms, family):
    model, tok, pairs, ids, a, f = _setup(lms, family)
    res = nh.intervene.patch((model, tok), pairs, ["mlp.2:all"], device="cpu", quiet=True,
                             method="attribution")
    saved = {}

    def grab(name):
        def fn(x):
            x = x.detach().clone().requires_grad_(True)
            saved[name] = x
            return x
        return fn

    with on_input(down_proj(model, 2), grab("clean")), torch.no_grad():
        model(ids["clean"])
    with on_input(down_proj(model, 2), grab("corrupt")):
        m = metric(model(ids["corrupt"]).logits, a, f)
    (grad,) = torch.autograd.grad(m.sum(), [saved["corrupt"]])
    want = ((saved["clean"] - saved["corrupt"]).detach().double() * grad.double()).sum(1)
    got = np.array([r["per_pair"] for r in res.results]).T - np.array(res.corrupt)[:, None]
    np.testing.assert_allclose(got, want.numpy(), atol=1e-5)
    model.zero_grad(set_to_none=True)


@pytest.mark.parametrize("family", ["llama", "gpt2"])
def test_attribution_of_identical_inputs_is_exactly_0(lms, family, caplog):
    model, tok, pairs, _, _, _ = _setup(lms, family)
    same = [dict(p, corrupt=p["clean"]) for p in pairs]
    with caplog.at_level(logging.WARNING):
        res = nh.intervene.patch((model, tok), same, ["mlp.1:all", "resid.2:0-3"],
                                 device="cpu", quiet=True, method="attribution")
        grid = nh.intervene.patch((model, tok), same, grid="mlp_out", device="cpu",
                                  quiet=True, method="attribution")
    for r in res.results + grid.results:
        assert r["effect"] == 0.0 and r["score"] is None
    assert "M_clean = M_corrupt" in caplog.text


def test_grid_attribution_is_close_to_exact_for_a_small_change(lms):
    model, tok, pairs, _, _, _ = _setup(lms, "llama")
    exact = nh.intervene.patch((model, tok), pairs, grid="attn_out", device="cpu", quiet=True)
    approx = nh.intervene.patch((model, tok), pairs, grid="attn_out", device="cpu",
                                quiet=True, method="attribution")
    assert [(r["site"], r["position"]) for r in exact.results] == \
        [(r["site"], r["position"]) for r in approx.results]
    e = np.array([r["effect"] for r in exact.results])
    g = np.array([r["effect"] for r in approx.results])
    assert np.corrcoef(e, g)[0, 1] > 0.5


def test_patch_json_and_batching(lms, tmp_path):
    model, tok, pairs, _, _, _ = _setup(lms, "qwen2")
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in pairs), encoding="utf-8")
    out = tmp_path / "patch.json"
    rc = main(["patch", str(lms["qwen2"]), str(path), "-o", str(out), "--grid", "mlp_out",
               "--device", "cpu", "--quiet", "--metric", "logprob", "--batch-tokens", "12"])
    assert rc == 0
    data = json.loads(out.read_text())
    assert set(data) == {"metric", "clean", "corrupt", "results"}
    assert data["metric"] == "logprob" and len(data["clean"]) == len(pairs)
    assert set(data["results"][0]) == {"site", "position", "units", "score", "effect",
                                       "per_pair"}
    big = nh.intervene.patch((model, tok), path, grid="mlp_out", metric="logprob",
                             device="cpu", quiet=True, batch_tokens=4096)
    np.testing.assert_allclose([r["per_pair"] for r in data["results"]],
                               [r["per_pair"] for r in big.results], atol=1e-5)
    back = nh.intervene.PatchResult.load(out)
    assert back.to_pandas().shape == (len(data["results"]), 5)
    assert "mlp_out" in back.show()
    svg = back.show("svg").tostring()
    length = len(tok(pairs[0]["clean"])["input_ids"])
    assert svg.count('class="nh-patch-cell"') == len(data["results"]) == 3 * length


@pytest.mark.parametrize("line,extra,message", [
    ({"clean": "the cat sat on", "corrupt": "the dog", "answer": " a", "foil": " t"},
     ["--grid", "resid"], "pair 1: clean"),
    ({"clean": "the cat", "corrupt": "the cap", "answer": " a"}, ["--grid", "resid"],
     "pair 1 lacks foil"),
    (None, ["--units", "mlp.7:0"], "does not exist"),
    (None, ["--units", "mlp.2:4096"], "outside"),
    (None, ["--units", "bogus.2:1"], "cannot be edited"),
    (None, ["--grid", "resid", "--units", "mlp.1:0"], "not both"),
])
def test_bad_input_is_one_line_and_exit_2(lms, tmp_path, line, extra, message):
    pair = line or {"clean": "the cat sat on", "corrupt": "the cap sat on", "answer": " a",
                    "foil": " t"}
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps(pair) + "\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "neuroheat", "patch", str(lms["gpt2"]), str(path), "-o",
           str(tmp_path / "p.json"), "--device", "cpu", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    lines = [x for x in proc.stderr.splitlines() if x.startswith("neuroheat: error")]
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_a_model_without_a_head_is_refused(tiny_bert, tmp_path, capsys):
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps({"clean": "a b", "corrupt": "a c", "answer": "d",
                                "foil": "e"}) + "\n", encoding="utf-8")
    rc = main(["patch", str(tiny_bert), str(path), "-o", str(tmp_path / "p.json"), "--grid",
               "resid", "--device", "cpu"])
    assert rc == 2
    assert "language model with its head" in capsys.readouterr().err


def test_a_multi_token_answer_warns_and_uses_its_first_token(lms, caplog):
    model, tok, pairs, _, _, _ = _setup(lms, "gpt2")
    long = [dict(p, answer=" answer") for p in pairs[:1]]
    with caplog.at_level(logging.WARNING):
        res = nh.intervene.patch((model, tok), long, ["mlp.1:0"], device="cpu", quiet=True,
                                 metric="logprob")
    assert "answer ' answer' is" in caplog.text and "first token" in caplog.text
    first = tok(" answer", add_special_tokens=False)["input_ids"][0]
    with torch.no_grad():
        logits = model(torch.tensor([tok(pairs[0]["clean"])["input_ids"]])).logits[0, -1]
    assert res.clean[0] == pytest.approx(float(torch.log_softmax(logits.double(), -1)[first]),
                                         abs=1e-6)
