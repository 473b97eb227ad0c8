"""The two training recipes of a linear probe, in torch (imported inside the functions).

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
  search (:mod:`neuroheat.probing.lbfgs`: torch's algorithm without ``torch.optim``), the
  gradient accumulated over the streamed blocks, from zero weights. It is preconditioned by the columns' training mean μ and
  standard deviation σ: L-BFGS moves (w, c) and the probe is W = w / σ (per column),
  b = c − W·μ (σ floored at a tenth of the median column's, :data:`SCALE_FLOOR`) — an exact
  change of variables, so the objective above (penalties on W itself)
  is the one minimised, but activation columns of very different scales (BERT-likes' outlier
  dimensions) no longer slow it down.

Example:
    >>> w, b, losses = train_lbfgs(data, outputs=3, l1=1e-5, l2=1e-5)      # doctest: +SKIP
"""

from __future__ import annotations

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


def _preconditioner(data: Any, dev: Any) -> tuple[Any, Any]:
    """Column shift and scale of the training rows (zero and one for standardised data)."""
    import torch

    if data.mean is not None:  # already standardised: the columns have mean 0, std 1
        return (torch.zeros(data.num_columns, device=dev),
                torch.ones(data.num_columns, device=dev))
    mean, std = data.moments("train")
    # a near-constant column (std 1e-8 happens in real layers) would make W = w / σ huge
    # and stall the line search: its scale is floored at a tenth of the median column's
    scale = np.maximum(std, SCALE_FLOOR * float(np.median(std)))
    return (torch.from_numpy(mean.astype(np.float32)).to(dev),
            torch.from_numpy(scale.astype(np.float32)).to(dev))


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
    import torch

    dev = resolve_device(device)
    n_train = data.num_rows("train")
    shift, scale = _preconditioner(data, dev)
    cols = data.num_columns
    size = outputs * cols
    # L-BFGS moves x = (w, c) flat; the probe is W = w / scale, b = c - W·shift (exact)
    if init is None:
        x = torch.zeros(size + outputs, device=dev)
    else:
        w0 = torch.as_tensor(np.asarray(init[0], dtype=np.float32), device=dev)
        b0 = torch.as_tensor(np.asarray(init[1], dtype=np.float32), device=dev)
        x = torch.cat([(w0 * scale).reshape(-1), b0 + w0 @ shift])
    opt = LBFGS(max_iter=min(STEP_ITERS, int(max_iter)), history_size=20,
                tolerance_grad=1e-7, tolerance_change=TOLERANCE_CHANGE)
    losses: list[float] = []

    def probe(flat: Any) -> tuple[Any, Any]:
        weight = flat[:size].view(outputs, cols) / scale
        return weight, flat[size:] - weight @ shift

    # in-memory data: columns-major copies ([columns, rows]) made once; W @ X^T is about
    # twice as fast as X @ W^T for a few outputs. Streamed data: a block at a time.
    resident = ([_tensors_by_column(x_, y_, data.task, dev) for x_, y_ in data.chunks("train")]
                if data.in_memory else None)

    def blocks() -> Any:
        if resident is not None:
            yield from resident
            return
        for xb, yb in data.chunks("train"):
            xt, yt = _tensors(xb, yb, data.task, dev)
            yield xt.T, yt

    def fun(point: Any) -> tuple[float, Any]:
        flat = point.detach().clone().requires_grad_(True)
        total = 0.0
        with torch.enable_grad():
            for x_cols, yt in blocks():
                weight, bias = probe(flat)
                part = _sum_loss(torch.addmm(bias[:, None], weight, x_cols), yt,
                                 data.task) / n_train
                part.backward()
                total += float(part.item())
            weight, _ = probe(flat)
            # ‖W‖_F through vector_norm: its gradient at W = 0 is 0, not NaN
            penalty = l1 * weight.abs().sum() + l2 * torch.linalg.vector_norm(weight)
            penalty.backward()
        total += float(penalty.item())
        losses.append(total)
        return total, flat.grad

    previous = None
    for _ in range(max(1, -(-int(max_iter) // STEP_ITERS))):
        x, _ = opt.step(fun, x)
        current = losses[-1]
        if previous is None and init is not None:
            previous = losses[0]  # a warm start may already be near the optimum
        if previous is not None and previous - current < REL_TOLERANCE * abs(previous):
            break
        previous = current
    with torch.no_grad():
        weight, bias = probe(x)
    w, b = _result(weight, bias)
    if not (np.isfinite(w).all() and np.isfinite(b).all()):
        raise InputError("the probe did not converge (NaN weights); standardize=True or a "
                         "larger l2 may help")
    return LBFGSFit(w, b, losses, opt.n_iter)
