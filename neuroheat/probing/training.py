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

import copy
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.probing.config import DEFAULT_MAX_ITER, ProbeConfig
from neuroheat.probing.lbfgs import LBFGS
from neuroheat.probing.numpy_loss import numpy_data_grad
from neuroheat.probing.rows import columns_of

__all__ = ["DEFAULT_MAX_ITER", "Fitter", "LBFGSFit", "fit_lbfgs", "objective", "resolve_device",
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


def _preconditioner(data: Any, moments: tuple[np.ndarray, np.ndarray] | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """float64 column shift and scale of the training rows (zero and one for standardised
    data); ``moments``: their mean and std when known (else read from ``data``)."""
    if data.mean is not None:  # already standardised: the columns have mean 0, std 1
        return np.zeros(data.num_columns), np.ones(data.num_columns)
    mean, std = data.moments("train") if moments is None else moments
    # a near-constant column (std 1e-8 happens in real layers) would make W = w / σ huge
    # and stall the line search: its scale is floored at a tenth of the median column's
    scale = np.maximum(std, SCALE_FLOOR * float(np.median(std)))
    return np.asarray(mean, dtype=np.float64), scale.astype(np.float64)


def _torch_data_grad(blocks: Any, task: str, dev: Any) -> Any:
    """The same as :func:`~neuroheat.probing.numpy_loss.numpy_data_grad` in torch on
    ``dev`` (a GPU)."""
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
    return Fitter(data, outputs, l1=l1, device=device, init=init).fit(l2, max_iter)


class Fitter:
    """The default recipe's objective on ``data`` and an L-BFGS state that carries over
    between :meth:`fit` calls: a penalty path (:mod:`neuroheat.probing.selection`) changes
    ``l2`` and goes on from the last weights *and* the curvature history, so every step
    after the first starts with full quasi-Newton steps instead of a short gradient step.

    Example:
        >>> fitter = Fitter(data, outputs=3, l1=1e-5)                 # doctest: +SKIP
        >>> [fitter.fit(l2, max_iter=5).iterations for l2 in (1e-2, 1e-3)]  # doctest: +SKIP
        [5, 5]
    """

    def __init__(self, data: Any, outputs: int, *, l1: float, device: str | None = None,
                 init: tuple[np.ndarray, np.ndarray] | None = None, by_column: Any = None,
                 moments: tuple[np.ndarray, np.ndarray] | None = None):
        self.n_train = data.num_rows("train")
        self.shift, self.scale = _preconditioner(data, moments)
        self.outputs, self.cols = outputs, data.num_columns
        self.size = outputs * self.cols
        self.l1, self.l2 = float(l1), 0.0
        # L-BFGS moves x = (w, c) flat; the probe is W = w / scale, b = c - W·shift (exact)
        if init is None:
            self.x = np.zeros(self.size + outputs)
        else:
            w0 = np.asarray(init[0], dtype=np.float64)
            self.x = np.concatenate([(w0 * self.scale).reshape(-1),
                                     np.asarray(init[1]) + w0 @ self.shift])
        self.warm = init is not None
        self.device = device
        self.data_grad = _data_grad(data, device, by_column)
        self.opt = LBFGS(max_iter=STEP_ITERS, history_size=20, tolerance_grad=1e-7,
                         tolerance_change=TOLERANCE_CHANGE)
        self.evaluations = 0
        self._last: tuple[np.ndarray, tuple[float, np.ndarray, np.ndarray]] | None = None

    def moved(self, data: Any, init: tuple[np.ndarray, np.ndarray], by_column: Any = None
              ) -> Fitter:
        """A fitter on other rows of the same columns (the refit on every training row after
        a selection) that starts from ``init`` with this one's preconditioner and curvature
        history: its first iteration is a quasi-Newton step, not a short gradient step."""
        other = copy.copy(self)
        other.n_train = data.num_rows("train")
        other.data_grad = _data_grad(data, self.device, by_column)
        other.opt = copy.deepcopy(self.opt)
        other.opt.forget_last_step()
        w0 = np.asarray(init[0], dtype=np.float64)
        other.x = np.concatenate([(w0 * self.scale).reshape(-1),
                                  np.asarray(init[1]) + w0 @ self.shift])
        other.evaluations, other._last = 0, None
        return other

    def probe(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(W, b)`` of the flat L-BFGS variables."""
        weight = flat[:self.size].reshape(self.outputs, self.cols) / self.scale
        return weight, flat[self.size:] - weight @ self.shift

    def objective(self, flat: np.ndarray) -> tuple[float, np.ndarray]:
        """The mean objective at ``flat`` and its gradient in the flat variables."""
        weight, bias = self.probe(flat)
        if self._last is not None and np.array_equal(self._last[0], flat):
            total, g_w, g_b = self._last[1]  # a new penalty at the last point: no data pass
        else:
            total, g_w, g_b = self.data_grad(weight, bias)
            self.evaluations += 1
            self._last = (flat.copy(), (total, g_w, g_b))
        n, l1, l2 = self.n_train, self.l1, self.l2
        norm = float(np.sqrt(np.sum(weight * weight)))
        penalty = l1 * float(np.abs(weight).sum()) + l2 * norm
        # W = w / scale and b = c - W·shift: chain rule to (w, c); d‖W‖ = W / ‖W‖ (0 at 0)
        g_w = g_w / n - np.outer(g_b / n, self.shift) + l1 * np.sign(weight)
        if norm > 0:
            g_w += l2 * weight / norm
        return total / n + penalty, np.concatenate([(g_w / self.scale).reshape(-1),
                                                    g_b / n])

    def _norm_grad(self, flat: np.ndarray) -> np.ndarray:
        """The gradient of ‖W‖ in the flat variables (zero in the bias)."""
        weight, _ = self.probe(flat)
        norm = float(np.sqrt(np.sum(weight * weight)))
        out = np.zeros_like(flat)
        if norm > 0:
            out[:self.size] = (weight / (norm * self.scale)).reshape(-1)
        return out

    def _retarget(self, l2: float) -> None:
        """Set the penalty; the gradient L-BFGS remembers from the last iteration is moved
        to the new penalty, so its next curvature pair measures the objective, not the
        change of ``l2``."""
        prev = self.opt._prev_grad
        if l2 != self.l2 and prev is not None and self.opt._d.size:
            self.opt._prev_grad = prev + (l2 - self.l2) * self._norm_grad(
                self.x - self.opt._t * self.opt._d)
        self.l2 = l2

    def fit(self, l2: float, max_iter: int = DEFAULT_MAX_ITER) -> LBFGSFit:
        """Up to ``max_iter`` more L-BFGS iterations with penalty ``l2`` from where the last
        call stopped (in rounds of :data:`STEP_ITERS`, stopping when a round lowers the
        objective by less than :data:`REL_TOLERANCE`); the fit (float64 copies)."""
        self._retarget(float(l2))
        losses: list[float] = []

        def fun(flat: np.ndarray) -> tuple[float, np.ndarray]:
            loss, grad = self.objective(flat)
            losses.append(loss)
            return loss, grad

        start = self.opt.n_iter
        self.opt.max_iter = min(STEP_ITERS, int(max_iter))
        self.opt.max_eval = self.opt.max_iter * 5 // 4
        previous = None
        for _ in range(max(1, -(-int(max_iter) // STEP_ITERS))):
            self.x, _ = self.opt.step(fun, self.x)
            current = losses[-1]
            if previous is None and self.warm:
                previous = losses[0]  # a warm start may already be near the optimum
            if previous is not None and previous - current < REL_TOLERANCE * abs(previous):
                break
            previous = current
        self.warm = True
        weight, bias = self.probe(self.x)
        w, b = weight.copy(), np.asarray(bias, dtype=np.float64).copy()
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise InputError("the probe did not converge (NaN weights); standardize=True or "
                             "a larger l2 may help")
        return LBFGSFit(w, b, losses, self.opt.n_iter - start)


def _data_grad(data: Any, device: str | None, by_column: Any = None) -> Any:
    """``(weight, bias) -> (summed data loss, dW, db)`` over ``data``'s training rows: numpy
    on the CPU (``by_column``: those rows as ``[(columns x rows array, targets)]``, made
    here when they are in memory), torch on a GPU (the products there, the small L-BFGS
    state here)."""
    if device in (None, "cpu"):
        if by_column is None and data.in_memory:  # one column-major copy of the rows
            by_column = [columns_of(data, [np.flatnonzero(data.masks["train"])])]
        return functools.partial(numpy_data_grad, data, by_column=by_column)
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

    return _torch_data_grad(blocks, data.task, dev)
