"""The ablation metrics' one-pass sums: the compiled kernel against the numpy code and the
torch (device) code on random and tricky logits, the whole ablation with the numpy code
against the float64 reference, and the output head run on the scored rows only."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

import neuroheat as nh
from neuroheat import kernels
from neuroheat.intervene import metrics
from neuroheat.intervene.forward import head_on_rows
from neuroheat.kernels.softmax import softmax_sums
from tests.intervene import reference as R
from tests.intervene.models import down_proj, loaded

pytestmark = pytest.mark.skipif(importlib.util.find_spec("numba") is None,
                                reason="numba is not installed")


def _logits(dtype, width: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((23, width)) * 4
    z[1] = 7.0                         # ties: every logit equal
    z[2, :3] = -np.inf                 # banned tokens
    z[3, 0] = 900.0                    # one huge logit: the rest underflow
    z[4, ::2] = -750.0                 # exp(a) below the smallest float64
    z[5] *= 1e-6                       # nearly uniform
    z[6, -1] = np.nan
    z[7] = np.linspace(-700, 0, width)
    return z.astype(dtype)


def _weights(width: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    p = np.exp(_logits(np.float64, width, seed=2).clip(-50, 50))
    p[np.isnan(p)] = 1.0
    p = p / p.sum(1, keepdims=True) * rng.uniform(0.5, 1.0, (len(p), 1))
    p[:, 1::5] = 0.0                   # where p is 0, u adds nothing (even for a -inf logit)
    return p


def _both(z, p):
    out = []
    for env in ("numpy", ""):
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv(kernels.ENV, env)
            col = np.zeros(z.shape[1])
            m, sums = softmax_sums(z, p, col)
            out.append((m, sums, col))
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("width", [1, 3, 4, 257, 5889])
def test_kernel_equals_the_numpy_code(dtype, width):
    z = _logits(dtype, width)
    p = _weights(width)
    (m0, s0, c0), (m1, s1, c1) = _both(z, p)
    np.testing.assert_array_equal(m0, m1)
    np.testing.assert_array_equal(np.isfinite(s0), np.isfinite(s1))
    np.testing.assert_array_equal(np.isnan(s0), np.isnan(s1))
    finite = np.isfinite(s0)
    scale = np.abs(s0).max(0, where=finite, initial=1.0)   # per sum: s, t, u
    for k in range(3):
        ok = finite[:, k]
        assert np.abs(s1[ok, k] - s0[ok, k]).max() <= 1e-14 * scale[k], k
    np.testing.assert_allclose(c1, c0, rtol=1e-12, atol=1e-9, equal_nan=True)
    assert np.all(s1[:, 0][finite[:, 0]] >= 1.0)   # the row's maximum contributes exp(0) = 1


def test_kernel_exp_is_float64_accurate(monkeypatch):
    monkeypatch.setenv(kernels.ENV, "")
    a = -np.linspace(0.0, 707.0, 400_001)
    _, sums = softmax_sums(a[None, :])
    assert sums[0, 0] == pytest.approx(np.exp(a).sum(), rel=1e-14)
    one = np.array([[0.0, -1e-300, -0.5, -np.log(2.0)]])
    assert softmax_sums(one)[1][0, 0] == pytest.approx(2.0 + np.exp(-0.5) + 0.5, rel=3e-16)


def test_without_p_or_rows():
    m, sums = softmax_sums(np.zeros((0, 5), np.float32))
    assert m.shape == (0,) and sums.shape == (0, 3)
    _, sums = softmax_sums(np.zeros((2, 4), np.float16))   # other dtypes are read as float32
    assert sums[:, 0].tolist() == [4.0, 4.0] and sums[:, 2].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("env", ["numpy", ""])
def test_cpu_sums_equal_the_torch_device_code(env, monkeypatch):
    monkeypatch.setenv(kernels.ENV, env)
    z = torch.from_numpy(_logits(np.float32, 301))[:6]   # finite rows and -inf
    p = torch.from_numpy(_weights(301))[:6]
    col_cpu = torch.zeros(301, dtype=torch.float64)
    col_dev = torch.zeros(301, dtype=torch.float64)
    m0, s0 = metrics.row_sums(z, p, col_cpu)
    m1, s1 = metrics._row_sums_torch(z, p, col_dev)
    assert torch.equal(m0, m1)
    assert torch.allclose(s0, s1, rtol=1e-13, atol=1e-12)
    assert torch.allclose(col_cpu, col_dev, rtol=1e-13)


@pytest.mark.parametrize("env", ["numpy", ""])
def test_effects_equal_float64_log_softmax(env, monkeypatch):
    """CleanBatch / Effect against the metrics from explicit float64 log-probabilities."""
    monkeypatch.setenv(kernels.ENV, env)
    g = torch.Generator().manual_seed(0)
    clean = torch.randn(40, 97, generator=g) * 3
    edited = clean + torch.randn(40, 97, generator=g) * 0.3
    targets = torch.randint(0, 97, (40,), generator=g)
    acc = metrics.Effect()
    batch = metrics.CleanBatch(clean, targets)
    acc.add(batch, edited, targets)
    got = acc.result(str)
    c = torch.log_softmax(clean.double(), -1)
    e = torch.log_softmax(edited.double(), -1)
    rows = torch.arange(40)
    assert got["delta_ce"] == pytest.approx(float((c - e)[rows, targets].mean()), abs=1e-12)
    assert got["kl"] == pytest.approx(float((c.exp() * (c - e)).sum(-1).mean()), abs=1e-12)
    h = lambda lp: -(lp.exp() * lp).sum(-1)  # noqa: E731
    assert got["delta_entropy"] == pytest.approx(float((h(e) - h(c)).mean()), abs=1e-12)
    top = int((e - c).mean(0).argmax())
    assert got["top_promoted"][0] == [str(top), pytest.approx(float((e - c).mean(0)[top]))]
    same = metrics.Effect()
    same.add(batch, clean, targets)
    assert same.result(str)["kl"] == 0.0 and same.result(str)["delta_ce"] == 0.0


def test_ablation_with_the_numpy_code_equals_the_reference(lms, tmp_path, monkeypatch):
    monkeypatch.setenv(kernels.ENV, "numpy")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(R.LINES) + "\n", encoding="utf-8")
    model, tok = loaded(str(lms["llama"]))
    res = nh.intervene.ablate(str(lms["llama"]), corpus, ["mlp.3:4"], device="cpu", quiet=True)
    clean = R.logprobs(model, tok, R.LINES)
    hooked = R.logprobs(model, tok, R.LINES, [(down_proj(model, 3), R.set_neuron(
        4, lambda x: torch.zeros_like(x)))])
    want = R.metrics(clean, hooked)
    for key in ("delta_ce", "kl", "delta_entropy"):
        assert res.results[0][key] == pytest.approx(want[key], abs=1e-5), key
    assert res.results[0]["kl"] > 1e-7


@pytest.mark.parametrize("family", ["llama", "gemma2", "gpt2"])
def test_head_on_rows_equals_the_full_logits_at_those_rows(lms, family):
    model, tok = loaded(str(lms[family]))
    lines = [tok(line)["input_ids"] for line in R.LINES[:3]]
    ids = torch.zeros(3, max(map(len, lines)), dtype=torch.int64)
    mask = torch.zeros_like(ids)
    for i, line in enumerate(lines):      # right-padded with 0
        ids[i, :len(line)], mask[i, :len(line)] = torch.tensor(line), 1
    rows = mask.reshape(-1).nonzero()[:, 0]
    with torch.inference_mode():
        full = model(input_ids=ids, attention_mask=mask).logits
        with head_on_rows(model, rows) as used:
            part = model(input_ids=ids, attention_mask=mask).logits
    assert used == [True]
    assert part.shape == (1, len(rows), full.shape[-1])   # gemma2's soft cap applies too
    assert torch.allclose(part[0], full.reshape(-1, full.shape[-1])[rows], atol=1e-5)


def test_beside_keeps_order_and_raises_the_workers_error():
    done: list[int] = []
    with metrics.Beside(threaded=True) as beside:
        for i in range(5):
            beside.submit(lambda i=i: done.append(i))
    assert done == [0, 1, 2, 3, 4]

    def fail() -> None:
        raise ValueError("in the worker")

    with pytest.raises(ValueError, match="in the worker"):
        with metrics.Beside(threaded=True) as beside:
            beside.submit(fail)
            beside.submit(lambda: done.append(5))   # waits for fail: raises here
    assert done == [0, 1, 2, 3, 4]


def test_pieces_on_threads_give_the_same_sums(monkeypatch):
    """The kernel's row pieces have their own column sums, added in order: running them on a
    pool (the ablation in turn, every core free) changes no bit."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv(kernels.ENV, "")
    rng = np.random.default_rng(3)
    z = (rng.standard_normal((301, 257)) * 5).astype(np.float32)
    p = _weights(257)[rng.integers(0, 23, 301)]
    col0, col1 = np.full(257, 0.5), np.full(257, 0.5)
    m0, s0 = softmax_sums(z, p, col0)
    with ThreadPoolExecutor(3) as pool:
        m1, s1 = softmax_sums(z, p, col1, pool=pool)
    np.testing.assert_array_equal(m0, m1)
    np.testing.assert_array_equal(s0, s1)
    np.testing.assert_array_equal(col0, col1)
    a = z.astype(np.float64) - z.max(1, keepdims=True)
    np.testing.assert_allclose(col0 - 0.5, a.sum(0), rtol=1e-12)


def test_ablation_in_turn_equals_beside_the_forward(lms, tmp_path, monkeypatch):
    """With a free core the metrics run in a worker beside the forward passes; with every core
    in torch's pool, in turn with their pieces on helper threads: the same effects, bit for
    bit."""
    from neuroheat.intervene import ablation
    from neuroheat.kernels import softmax

    monkeypatch.setenv(kernels.ENV, "")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(R.LINES * 3) + "\n", encoding="utf-8")
    made: list[metrics.Beside] = []

    def run(free: bool) -> list[dict]:
        monkeypatch.setattr(ablation, "free_core", lambda: free)
        monkeypatch.setattr(torch, "get_num_threads", lambda: 3)
        monkeypatch.setattr(ablation, "Beside", lambda **kw: made.append(
            metrics.Beside(**kw)) or made[-1])
        return nh.intervene.ablate(str(lms["llama"]), corpus, ["mlp.3:0-5"], device="cpu",
                                   quiet=True).results

    pooled: list[int] = []
    real = softmax.softmax_sums

    def spy(z, p=None, col=None, pool=None):
        if pool is not None and len(z) >= 2 * softmax.MIN_PIECE_ROWS:
            pooled.append(len(z))
        return real(z, p, col, pool)

    monkeypatch.setattr(softmax, "softmax_sums", spy)
    beside, in_turn = run(True), run(False)
    assert pooled   # the pieces did run on the helpers
    assert made[0].pool is not None and made[0].helpers is None
    assert made[1].pool is None and made[1].helpers is not None
    assert beside == in_turn and beside[0]["kl"] > 0
