"""L-BFGS with a strong-Wolfe line search over a flat float64 numpy vector.

``torch.optim.LBFGS``'s algorithm (its ``step``, ``_strong_wolfe`` and
``_cubic_interpolate``, themselves ported from torch7's ``optim`` package; PyTorch's BSD-3
licence) in numpy, as a plain object: the objective may compute with numpy (the default probe
on the CPU imports no torch at all) or with torch on a GPU. Building a
``torch.optim.Optimizer`` instead imports ``torch._dynamo`` on first use, about 1.3 s of CPU
per process. State (the curvature history) carries over between :meth:`LBFGS.step` calls, as
the optimizer's does, so training can run in rounds.

Example:
    >>> import numpy as np
    >>> def fun(x):
    ...     return float(((x - 3.0) ** 2).sum()), 2 * (x - 3.0)
    >>> x, _ = LBFGS(max_iter=20).step(fun, np.zeros(2))
    >>> np.round(x, 4).tolist()
    [3.0, 3.0]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["LBFGS", "strong_wolfe"]

Fun = Callable[[np.ndarray], tuple[float, np.ndarray]]


def _cubic_interpolate(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                       bounds: tuple[float, float] | None = None) -> float:
    """Minimiser of the cubic through two points with values and slopes, within bounds."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square ** 0.5
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, lo), hi)
    return (lo + hi) / 2.0


def strong_wolfe(fun: Fun, x: np.ndarray, t: float, d: np.ndarray, f: float, g: np.ndarray,
                 gtd: float, *, max_ls: int = 25) -> tuple[float, np.ndarray, float, int]:
    """A step ``t`` along ``d`` from ``x`` meeting the strong Wolfe conditions (c1 = 1e-4,
    c2 = 0.9): ``(f, g, t, evaluations)``, as torch's ``_strong_wolfe``."""
    c1, c2, tolerance_change = 1e-4, 0.9, 1e-9
    d_norm = float(np.abs(d).max())
    f_new, g_new = fun(x + t * d)
    evals = 1
    gtd_new = float(g_new @ d)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    bracket: list[float] = []
    bracket_f: list[float] = []
    bracket_g: list[np.ndarray] = []
    bracket_gtd: list[float] = []
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        min_step, max_step = t + 0.01 * (t - t_prev), t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new, gtd_new
        f_new, g_new = fun(x + t * d)
        evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0.0, t], [f, f_new], [g, g_new]
    insufficient = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1],
                               bracket_f[1], bracket_gtd[1])
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insufficient or t >= max(bracket) or t <= min(bracket):
                t = (max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket))
                     else min(bracket) + eps)
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        f_new, g_new = fun(x + t * d)
        evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low]:
            bracket[high], bracket_f[high] = t, f_new
            bracket_g[high], bracket_gtd[high] = g_new, gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low] = t, f_new
            bracket_g[low], bracket_gtd[low] = g_new, gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals


class LBFGS:
    """``torch.optim.LBFGS(lr=1, line_search_fn="strong_wolfe")`` over a flat float64
    vector; ``n_iter`` counts the iterations of every :meth:`step`."""

    def __init__(self, *, max_iter: int = 20, history_size: int = 100,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9):
        self.max_iter, self.max_eval = int(max_iter), int(max_iter) * 5 // 4
        self.history_size = int(history_size)
        self.tolerance_grad, self.tolerance_change = tolerance_grad, tolerance_change
        self.n_iter = 0
        self.func_evals = 0
        self._d = np.zeros(0)
        self._t = 1.0
        self._dirs: list[np.ndarray] = []
        self._stps: list[np.ndarray] = []
        self._ro: list[float] = []
        self._h_diag = 1.0
        self._prev_grad: np.ndarray | None = None
        self._skip_pair = False

    def forget_last_step(self) -> None:
        """Keep the curvature history but make no pair of the last step (the objective
        changed since: another penalty or other rows)."""
        self._skip_pair = True

    def step(self, fun: Fun, x: np.ndarray) -> tuple[np.ndarray, float]:
        """Up to ``max_iter`` iterations from ``x``; returns ``(x, loss at the start)``.
        ``fun(x)`` returns ``(loss, gradient)`` (float64, shaped like ``x``)."""
        x = np.asarray(x, dtype=np.float64)
        loss, grad = fun(x)
        orig_loss = loss
        evals = 1
        self.func_evals += 1
        if np.abs(grad).max() <= self.tolerance_grad:
            return x, orig_loss
        n_iter = 0
        while n_iter < self.max_iter:
            n_iter += 1
            self.n_iter += 1
            d = self._direction(grad)
            self._prev_grad = grad.copy()
            prev_loss = loss
            t = min(1.0, 1.0 / float(np.abs(grad).sum())) if self.n_iter == 1 else 1.0
            gtd = float(grad @ d)
            if gtd > -self.tolerance_change:
                break
            loss, grad, t, ls_evals = strong_wolfe(fun, x, t, d, loss, grad, gtd,
                                                   max_ls=self.max_eval - evals)
            x = x + t * d
            self._d, self._t = d, t
            evals += ls_evals
            self.func_evals += ls_evals
            if n_iter == self.max_iter or evals >= self.max_eval:
                break
            if np.abs(grad).max() <= self.tolerance_grad:
                break
            if np.abs(d * t).max() <= self.tolerance_change:
                break
            if abs(loss - prev_loss) < self.tolerance_change:
                break
        return x, orig_loss

    def _direction(self, grad: np.ndarray) -> np.ndarray:
        """The L-BFGS direction (two-loop recursion), updating the curvature history."""
        if self.n_iter == 1 or self._prev_grad is None:  # no previous step: steepest descent
            self._dirs, self._stps, self._ro, self._h_diag = [], [], [], 1.0
            return -grad
        y = grad - self._prev_grad
        s = self._d * self._t
        ys = float(y @ s)
        if ys > 1e-10 and not self._skip_pair:
            if len(self._dirs) == self.history_size:
                self._dirs.pop(0)
                self._stps.pop(0)
                self._ro.pop(0)
            self._dirs.append(y)
            self._stps.append(s)
            self._ro.append(1.0 / ys)
            self._h_diag = ys / float(y @ y)
        self._skip_pair = False
        al = [0.0] * len(self._dirs)
        q = -grad
        for i in range(len(self._dirs) - 1, -1, -1):
            al[i] = float(self._stps[i] @ q) * self._ro[i]
            q = q - al[i] * self._dirs[i]
        r = q * self._h_diag
        for i in range(len(self._dirs)):
            be_i = float(self._dirs[i] @ r) * self._ro[i]
            r = r + (al[i] - be_i) * self._stps[i]
        return r
