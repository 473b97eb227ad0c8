"""The two training recipes of a linear probe (torch imported inside the functions that use it).

Both minimise the same objective over the weights W ``[outputs, columns]`` and bias b:

    loss = data_loss(x W^T + b, y) + l1 · Σ|W| + l2 · ‖W‖_F

(cross-entropy for classification, mean squared error for regression; ‖W‖_F is the
Frobenius norm, not squared, and the bias is not penalised) — NeuroX's objective
(``neurox/interpretation/linear_probe.py``, ``_train_probe``).

- :func:`train_neurox` is NeuroX's recipe: weights initialised like ``torch.nn.Linear``
  (uniform in ±1/√columns, seeded), Adam (lr 1e-3, torch's default betas and eps), batches of
  32 consecutive training rows in corpus order (no shuffling), 10 epochs, the loss of each
  batch being its mean data loss plus the penalties. Differences: NeuroX trains with mixed
  precision on a GPU (here the GPU path stays float32), and it sizes the output layer by the
  classes present in the training rows (here: every class of the labels, so ids never shift).
- :func:`train_lbfgs` (the default; :func:`fit_lbfgs` also warm-starts) minimises the
  full-batch objective (mean over every training row) with L-BFGS and a strong-Wolfe line
  search (:mod:`neuroheat.probing.lbfgs`: torch's algorithm, in numpy), the gradient
  accumulated over the streamed blocks, from zero weights. On the CPU the loss and gradient
  are computed with numpy, so the default probe imports no torch (about 1.2 s of CPU per
  process); with ``device="cuda"`` they are computed by torch on the GPU. It is preconditioned by the columns' training mean μ and
  standard deviation σ: L-BFGS moves (w, c) and the probe is W = w / σ (per column),
  b = c − W·μ (σ floored at a tenth of the median column's, :data:`SCALE_FLOOR`) — an exact
  change of variables, so the objective above (penalties on W itself)
  is the one minimised, but activation columns of very different scales (BERT-likes' outlier
  dimensions) no longer slow it down.

Example:
    >>> w, b, losses = train_lbfgs(data, outputs=3, l1=1e-5, l2=1e-5)      # doctest: +SKIP
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.probing.config import DEFAULT_MAX_ITER, ProbeConfig
from neuroheat.probing.lbfgs import LBFGS

__all__ = ["DEFAULT_MAX_ITER", "LBFGSFit", "fit_lbfgs", "objective", "resolve_device",
           "train_lbfgs", "train_neurox"]


def resolve_device(device: str | None) -> Any:
    """A torch device: ``"cpu"`` (default) or ``"cuda"`` (InputError when none is there)."""
    import torch

    name = "cpu" if device in (None, "cpu") else str(device)
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"device={name!r} was asked but no CUDA GPU is available; "
                         "use device='cpu'")
    if not (name == "cpu" or name.startswith("cuda")):
        raise InputError(f"unknown device {name!r}; use 'cpu' or 'cuda'")
    return torch.device(name)


def _data_loss(out: Any, y: Any, task: str, reduction: str = "mean") -> Any:
    import torch.nn.functional as F

    if task == "classification":
        return F.cross_entropy(out, y, reduction=reduction)
    return F.mse_loss(out[:, 0], y, reduction=reduction)


def objective(weight: Any, bias: Any, x: Any, y: Any, *, task: str, l1: float,
              l2: float) -> Any:
    """NeuroX's loss of one batch: mean data loss + l1 · Σ|W| + l2 · sqrt(Σ W²)."""
    import torch

    out = x @ weight.T + bias
    return (_data_loss(out, y, task) + l1 * weight.abs().sum()
            + l2 * torch.sqrt(weight.pow(2).sum()))


def _tensors(x: np.ndarray, y: np.ndarray, task: str, device: Any) -> tuple[Any, Any]:
    import torch

    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(device)
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64 if task == "classification"
                                     else np.float32)).to(device)
    return xt, yt


def _sum_loss(out_t: Any, y: Any, task: str) -> Any:
    """Summed data loss of transposed outputs ``[outputs, rows]``: cross-entropy
    (log-sum-exp minus the true class's logit) or squared error."""
    import torch

    if task == "classification":
        return torch.logsumexp(out_t, 0).sum() - out_t.gather(0, y[None])[0].sum()
    return (out_t[0] - y).pow(2).sum()


def _tensors_by_column(x: np.ndarray, y: np.ndarray, task: str, device: Any
                       ) -> tuple[Any, Any]:
    xt, yt = _tensors(x, y, task, device)
    return xt.T.contiguous(), yt


def _init(outputs: int, columns: int, seed: int, device: Any) -> tuple[Any, Any]:
    """``nn.Linear``'s initialisation (U(−k, k), k = 1/√columns), from a seeded generator."""
    import torch

    g = torch.Generator().manual_seed(int(seed))
    k = 1.0 / np.sqrt(max(columns, 1))
    w = (torch.rand(outputs, columns, generator=g) * 2 - 1) * k
    b = (torch.rand(outputs, generator=g) * 2 - 1) * k
    return (w.to(device).requires_grad_(True), b.to(device).requires_grad_(True))


def _result(weight: Any, bias: Any) -> tuple[np.ndarray, np.ndarray]:
    return (weight.detach().cpu().double().numpy().copy(),
            bias.detach().cpu().double().numpy().copy())


def train_neurox(data: Any, outputs: int, config: ProbeConfig | None = None,
                 **settings: Any) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """NeuroX's recipe (see the module docstring): ``(W, b, mean batch loss per epoch)``.
    Settings: ``config`` or its fields as keywords (``l1``, ``l2``, ``epochs``,
    ``batch_size``, ``lr``, ``seed``, ``device``; penalties default to 1e-5)."""
    import torch

    cfg = ProbeConfig.build(config, **settings)
    l1, l2 = cfg.penalties()
    dev = resolve_device(cfg.device)
    weight, bias = _init(outputs, data.num_columns, cfg.seed, dev)
    opt = torch.optim.Adam([weight, bias], lr=cfg.lr)
    batch_size = cfg.batch_size
    losses = []
    for _ in range(int(cfg.epochs)):
        total, n = 0.0, 0
        for x, y in data.batches("train", batch_size):
            xt, yt = _tensors(x, y, data.task, dev)
            opt.zero_grad()
            loss = objective(weight, bias, xt, yt, task=data.task, l1=l1, l2=l2)
            loss.backward()
            opt.step()
            total += float(loss.item())
            n += 1
        losses.append(total / max(n, 1))
    w, b = _result(weight, bias)
    return w, b, losses


# L-BFGS runs in rounds of STEP_ITERS iterations and stops when a round lowers the objective
# by less than REL_TOLERANCE of its value (the l1 term keeps the objective from ever meeting
# a gradient tolerance). On the MiniLM benchmark (scripts/bench_probe.py) this stops after a
# few dozen iterations instead of max_iter, at NeuroX's test accuracy or better.
STEP_ITERS = 10
REL_TOLERANCE = 1e-2
# The default budget of L-BFGS iterations (DEFAULT_MAX_ITER, in neuroheat.probing.config):
# 30 reach NeuroX's test accuracy (0.98 on the benchmark's word classes) in about a sixth of
# its training time; more keep lowering the training loss of near-separable tasks with no
# test gain.
TOLERANCE_CHANGE = 1e-9
SCALE_FLOOR = 0.1  # of the median column std: the smallest preconditioning scale


def _preconditioner(data: Any) -> tuple[np.ndarray, np.ndarray]:
    """float64 column shift and scale of the training rows (zero and one for standardised
    data)."""
    if data.mean is not None:  # already standardised: the columns have mean 0, std 1
        return np.zeros(data.num_columns), np.ones(data.num_columns)
    mean, std = data.moments("train")
    # a near-constant column (std 1e-8 happens in real layers) would make W = w / σ huge
    # and stall the line search: its scale is floored at a tenth of the median column's
    scale = np.maximum(std, SCALE_FLOOR * float(np.median(std)))
    return np.asarray(mean, dtype=np.float64), scale.astype(np.float64)


def _numpy_data_grad(data: Any, weight: np.ndarray, bias: np.ndarray
                     ) -> tuple[float, np.ndarray, np.ndarray]:
    """Summed data loss over the training rows and its gradient in W and b (float32
    products, float64 sums): cross-entropy or squared error. The logits are kept as
    ``[outputs, rows]`` so the per-row reductions run along contiguous memory."""
    w32, b32 = weight.astype(np.float32), bias.astype(np.float32)
    total = 0.0
    g_w = np.zeros(weight.shape)
    g_b = np.zeros(bias.shape)
    for x, y in data.chunks("train"):
        out = w32 @ x.T
        out += b32[:, None]
        if data.task == "classification":
            rows = np.arange(len(y))
            out -= out.max(axis=0)
            true = out[y, rows]  # the true class's logit minus the row's largest
            np.exp(out, out=out)
            norm = out.sum(axis=0)
            total += float(np.sum(np.log(norm), dtype=np.float64)
                           - np.sum(true, dtype=np.float64))
            out /= norm  # softmax; the loss's gradient in the logits is softmax - one-hot
            out[y, rows] -= 1.0
        else:
            err = out[0] - y.astype(np.float32)
            total += float(np.dot(err.astype(np.float64), err))
            out[0] = 2.0 * err
        g_w += out @ x
        g_b += out.sum(axis=1, dtype=np.float64)
    return total, g_w, g_b


def _torch_data_grad(blocks: Any, task: str, dev: Any) -> Any:
    """The same as :func:`_numpy_data_grad` in torch on ``dev`` (a GPU)."""
    import torch

    def grad(weight: np.ndarray, bias: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        w = torch.tensor(weight, dtype=torch.float32, device=dev, requires_grad=True)
        b = torch.tensor(bias, dtype=torch.float32, device=dev, requires_grad=True)
        total = 0.0
        for x_cols, yt in blocks():
            part = _sum_loss(torch.addmm(b[:, None], w, x_cols), yt, task)
            part.backward()
            total += float(part.item())
        return (total, w.grad.double().cpu().numpy(), b.grad.double().cpu().numpy())

    return grad


@dataclass
class LBFGSFit:
    """What :func:`fit_lbfgs` returns: the probe ``weight`` / ``bias`` (float64), the
    objective at every evaluation and the L-BFGS iterations run."""

    weight: np.ndarray
    bias: np.ndarray
    losses: list[float]
    iterations: int


def train_lbfgs(data: Any, outputs: int, *, l1: float = 1e-5, l2: float = 1e-5,
                max_iter: int = DEFAULT_MAX_ITER, seed: int = 0, device: str | None = None,
                ) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """The default recipe: full-batch L-BFGS on the mean objective, ``(W, b, losses)``
    (the objective at every evaluation). Deterministic; ``seed`` is unused (zero start)."""
    del seed
    fit = fit_lbfgs(data, outputs, l1=l1, l2=l2, max_iter=max_iter, device=device)
    return fit.weight, fit.bias, fit.losses


def fit_lbfgs(data: Any, outputs: int, *, l1: float, l2: float,
              max_iter: int = DEFAULT_MAX_ITER, device: str | None = None,
              init: tuple[np.ndarray, np.ndarray] | None = None) -> LBFGSFit:
    """:func:`train_lbfgs` from zero weights, or warm-started from ``init`` = ``(W, b)``
    (a probe of the same columns); returns an :class:`LBFGSFit`."""
    n_train = data.num_rows("train")
    shift, scale = _preconditioner(data)
    cols = data.num_columns
    size = outputs * cols
    # L-BFGS moves x = (w, c) flat; the probe is W = w / scale, b = c - W·shift (exact)
    if init is None:
        x = np.zeros(size + outputs)
    else:
        w0 = np.asarray(init[0], dtype=np.float64)
        x = np.concatenate([(w0 * scale).reshape(-1), np.asarray(init[1]) + w0 @ shift])
    if device in (None, "cpu"):
        data_grad = functools.partial(_numpy_data_grad, data)
    else:  # a GPU: the products in torch there, the (small) L-BFGS state in numpy here
        dev = resolve_device(device)
        resident = ([_tensors_by_column(xb, yb, data.task, dev) for xb, yb
                     in data.chunks("train")] if data.in_memory else None)

        def blocks() -> Any:
            if resident is not None:
                yield from resident
                return
            for xb, yb in data.chunks("train"):
                xt, yt = _tensors(xb, yb, data.task, dev)
                yield xt.T, yt

        data_grad = _torch_data_grad(blocks, data.task, dev)
    opt = LBFGS(max_iter=min(STEP_ITERS, int(max_iter)), history_size=20,
                tolerance_grad=1e-7, tolerance_change=TOLERANCE_CHANGE)
    losses: list[float] = []

    def probe(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        weight = flat[:size].reshape(outputs, cols) / scale
        return weight, flat[size:] - weight @ shift

    def fun(flat: np.ndarray) -> tuple[float, np.ndarray]:
        weight, bias = probe(flat)
        total, g_w, g_b = data_grad(weight, bias)
        norm = float(np.sqrt(np.sum(weight * weight)))
        penalty = l1 * float(np.abs(weight).sum()) + l2 * norm
        # W = w / scale and b = c - W·shift: chain rule to (w, c); d‖W‖ = W / ‖W‖ (0 at 0)
        g_w = g_w / n_train - np.outer(g_b / n_train, shift) + l1 * np.sign(weight)
        if norm > 0:
            g_w += l2 * weight / norm
        loss = total / n_train + penalty
        losses.append(loss)
        return loss, np.concatenate([(g_w / scale).reshape(-1), g_b / n_train])

    previous = None
    for _ in range(max(1, -(-int(max_iter) // STEP_ITERS))):
        x, _ = opt.step(fun, x)
        current = losses[-1]
        if previous is None and init is not None:
            previous = losses[0]  # a warm start may already be near the optimum
        if previous is not None and previous - current < REL_TOLERANCE * abs(previous):
            break
        previous = current
    weight, bias = probe(x)
    w, b = weight.copy(), np.asarray(bias, dtype=np.float64).copy()
    if not (np.isfinite(w).all() and np.isfinite(b).all()):
        raise InputError("the probe did not converge (NaN weights); standardize=True or a "
                         "larger l2 may help")
    return LBFGSFit(w, b, losses, opt.n_iter)
