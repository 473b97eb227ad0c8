"""L-BFGS with a strong-Wolfe line search on one flat torch tensor, without ``torch.optim``.

The algorithm of ``torch.optim.LBFGS`` (``step`` ported line for line, and its
``_strong_wolfe`` line search called as is), but a plain object: building a
``torch.optim.Optimizer`` imports ``torch._dynamo`` on first use, about 1.3 s of CPU on this
project's machines — more than a whole default probe on a 40k-word task takes to train.
State (the curvature history) carries over between :meth:`LBFGS.step` calls, as the
optimizer's does, so training can run in rounds.

Example:
    >>> import torch
    >>> def fun(x):
    ...     x = x.detach().requires_grad_(True)
    ...     loss = ((x - 3.0) ** 2).sum()
    ...     loss.backward()
    ...     return float(loss), x.grad
    >>> opt = LBFGS(max_iter=20)
    >>> round(float(opt.step(fun, torch.zeros(2))[0]), 4)
    3.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["LBFGS"]

Fun = Callable[[Any], tuple[float, Any]]


class LBFGS:
    """``torch.optim.LBFGS(lr=1, line_search_fn="strong_wolfe")`` over a flat tensor;
    ``n_iter`` counts the iterations of every :meth:`step`."""

    def __init__(self, *, max_iter: int = 20, history_size: int = 100,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9):
        self.max_iter, self.max_eval = int(max_iter), int(max_iter) * 5 // 4
        self.history_size = int(history_size)
        self.tolerance_grad, self.tolerance_change = tolerance_grad, tolerance_change
        self.n_iter = 0
        self.func_evals = 0
        self._d: Any = None
        self._t: float = 1.0
        self._dirs: list[Any] = []
        self._stps: list[Any] = []
        self._ro: list[Any] = []
        self._h_diag: Any = 1.0
        self._prev_grad: Any = None

    def step(self, fun: Fun, x: Any) -> tuple[Any, float]:
        """Up to ``max_iter`` iterations from ``x``; returns ``(x, loss at the start)``.
        ``fun(x)`` returns ``(loss, gradient)`` (the gradient a tensor shaped like ``x``)."""
        import torch
        from torch.optim.lbfgs import _strong_wolfe

        with torch.no_grad():
            loss, grad = fun(x)
            orig_loss = loss
            evals = 1
            self.func_evals += 1
            if grad.abs().max() <= self.tolerance_grad:
                return x, orig_loss
            n_iter = 0
            while n_iter < self.max_iter:
                n_iter += 1
                self.n_iter += 1
                d = self._direction(grad)
                if self._prev_grad is None:
                    self._prev_grad = grad.clone(memory_format=torch.contiguous_format)
                else:
                    self._prev_grad.copy_(grad)
                prev_loss = loss
                t = (min(1.0, 1.0 / float(grad.abs().sum())) if self.n_iter == 1 else 1.0)
                gtd = grad.dot(d)
                if gtd > -self.tolerance_change:
                    break

                def obj_func(x0: Any, step: float, direction: Any) -> tuple[float, Any]:
                    return fun(torch.add(x0, direction, alpha=step))

                loss, grad, t, ls_evals = _strong_wolfe(obj_func, x, t, d, loss, grad, gtd,
                                                        max_ls=self.max_eval - evals)
                x = torch.add(x, d, alpha=t)
                self._d, self._t = d, t
                evals += ls_evals
                self.func_evals += ls_evals
                if n_iter == self.max_iter or evals >= self.max_eval:
                    break
                if grad.abs().max() <= self.tolerance_grad:
                    break
                if d.mul(t).abs().max() <= self.tolerance_change:
                    break
                if abs(loss - prev_loss) < self.tolerance_change:
                    break
        return x, orig_loss

    def _direction(self, grad: Any) -> Any:
        """The L-BFGS direction (two-loop recursion), updating the curvature history."""
        import torch

        if self.n_iter == 1:
            self._dirs, self._stps, self._ro, self._h_diag = [], [], [], 1.0
            return grad.neg()
        y = grad.sub(self._prev_grad)
        s = self._d.mul(self._t)
        ys = y.dot(s)
        if ys > 1e-10:
            if len(self._dirs) == self.history_size:
                self._dirs.pop(0)
                self._stps.pop(0)
                self._ro.pop(0)
            self._dirs.append(y)
            self._stps.append(s)
            self._ro.append(1.0 / ys)
            self._h_diag = ys / y.dot(y)
        al = [None] * len(self._dirs)
        q = grad.neg()
        for i in range(len(self._dirs) - 1, -1, -1):
            al[i] = self._stps[i].dot(q) * self._ro[i]
            q.add_(self._dirs[i], alpha=-al[i])
        r = torch.mul(q, self._h_diag)
        for i in range(len(self._dirs)):
            be_i = self._dirs[i].dot(r) * self._ro[i]
            r.add_(self._stps[i], alpha=al[i] - be_i)
        return r
