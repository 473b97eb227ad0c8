"""Effects of an intervention on the next-token distribution, from float64 log-probabilities.

Over every scored (predicted) token: ``delta_ce`` = mean(CE_ablated - CE_clean),
``kl`` = mean KL(p_clean || p_ablated), ``delta_entropy`` = mean(H_ablated - H_clean), all in
nats; ``top_promoted`` / ``top_suppressed``: the tokens whose mean log-probability rose / fell
most. Sums are kept in float64, so results do not depend on how the corpus is batched.

No log-probability tensor is formed: with a row's shift ``m`` (its largest logit),
``a = z - m`` and ``L = m + log Σ exp(a)`` (float64), a run's log-probs are ``z - L`` and
CE = ``L - z_target``, H = ``log Σ exp(a) - Σ exp(a) a / Σ exp(a)``,
KL(p‖q) = ``Σ p log p - (Σ p a_q - log Σ exp(a_q) · Σ p)``, the column sums
``Σ a - Σ log Σ exp(a)``; on the CPU one compiled pass per run computes these sums
(:mod:`neuroheat.kernels.softmax`), elsewhere torch does, in float64 on the device.

Example:
    >>> import torch
    >>> z = torch.tensor([[0.0, 1.0], [2.0, 0.0]])
    >>> clean = CleanBatch(z, torch.tensor([1, 0]))
    >>> acc = Effect()
    >>> acc.add(clean, z * 2, torch.tensor([1, 0]))
    >>> round(acc.result(str)["delta_ce"], 4)
    -0.1476
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

TOP = 10


def row_sums(z: Any, p: Any | None = None, col: Any | None = None,
             pool: Executor | None = None) -> tuple[Any, Any]:
    """Row shifts ``m`` ``[n]`` and sums ``[n, 3]`` (``Σ exp(a)``, ``Σ exp(a) a``,
    ``Σ p a``; float64) of logits ``z`` ``[n, V]``, ``a = z - m``; adds ``Σ_r a_r`` to
    ``col`` (float64 ``[V]``) when given. See :func:`neuroheat.kernels.softmax.softmax_sums`
    (``pool``: threads for its pieces, on the CPU).

    Example:
        >>> import torch
        >>> m, sums = row_sums(torch.zeros(1, 4))
        >>> float(sums[0, 0])
        4.0
    """
    import torch

    if z.device.type == "cpu":
        from neuroheat.kernels.softmax import softmax_sums

        if z.dtype not in (torch.float32, torch.float64):
            z = z.float()
        m, sums = softmax_sums(z.numpy(), None if p is None else p.numpy(),
                               None if col is None else col.numpy(), pool=pool)
        return torch.from_numpy(m), torch.from_numpy(sums)
    return _row_sums_torch(z, p, col)


def _row_sums_torch(z: Any, p: Any | None, col: Any | None) -> tuple[Any, Any]:
    """:func:`row_sums` in torch, on the logits' device (float64)."""
    import torch

    zd = z.double()
    m = zd.amax(-1)
    a = zd - m[:, None]
    e = a.exp()
    zero = a.new_zeros(())
    u = torch.where(p > 0, p * a, zero).sum(-1) if p is not None else zd.new_zeros(len(zd))
    if col is not None:
        col += a.sum(0)
    return m, torch.stack([e.sum(-1), torch.where(e > 0, e * a, zero).sum(-1), u], -1)


def _target_sum(z: Any, lse: Any, targets: Any) -> float:
    """Σ log-prob of the targets."""
    return float((z.gather(1, targets[:, None])[:, 0].double() - lse).sum())


class CleanBatch:
    """One batch's clean run, with what every effect reuses (computed once, not once per
    unit): probabilities ``p``, per token Σ p log p and Σ p, the entropy sum, the column sums
    of the log-probs and the targets' log-probs."""

    def __init__(self, logits: Any, targets: Any | None) -> None:
        import torch

        self.tokens = int(logits.shape[0])
        col = torch.zeros(logits.shape[-1], dtype=torch.float64, device=logits.device)
        m, sums = row_sums(logits, None, col)
        log_s = sums[:, 0].log()
        lse = m + log_s
        self.p = (logits.double() - lse[:, None]).exp_()
        self.p_sum = self.p.sum(-1)
        self.p_logp = row_sums(logits, self.p)[1][:, 2] - log_s * self.p_sum
        self.neg_entropy = float((sums[:, 1] / sums[:, 0] - log_s).sum())   # sum of -H_clean
        self.column = col - log_s.sum()
        self.target = _target_sum(logits, lse, targets) if targets is not None else None


class Clean:
    """Sums of the clean run: CE and entropy per scored token."""

    def __init__(self) -> None:
        self.ce = 0.0
        self.entropy = 0.0
        self.tokens = 0

    def add(self, clean: CleanBatch) -> None:
        if clean.target is not None:
            self.ce -= clean.target
        self.entropy -= clean.neg_entropy
        self.tokens += clean.tokens

    def result(self, causal: bool = True) -> dict[str, Any]:
        n = max(self.tokens, 1)
        return {"ce": self.ce / n if causal else None, "entropy": self.entropy / n}


class Effect:
    """Running sums of one intervention's effect."""

    def __init__(self) -> None:
        self.dce = 0.0
        self.kl = 0.0
        self.dh = 0.0
        self.dlogp: Any = None
        self.tokens = 0

    def add(self, clean: CleanBatch, logits: Any, targets: Any | None,
            pool: Executor | None = None) -> None:
        """Add scored tokens: the clean batch, the edited run's logits ``[n, vocab]`` (any
        float dtype), targets ``[n]`` (``pool``: threads for the sums' pieces)."""
        import torch

        if self.dlogp is None:
            self.dlogp = torch.zeros(logits.shape[-1], dtype=torch.float64,
                                     device=logits.device)
        m, sums = row_sums(logits, clean.p, self.dlogp, pool)   # adds Σ a to dlogp
        s, t, u = sums.unbind(-1)
        log_s = s.log()
        if targets is not None:
            self.dce += clean.target - _target_sum(logits, m + log_s, targets)
        self.kl += float((clean.p_logp - (u - log_s * clean.p_sum)).sum())
        self.dh += clean.neg_entropy - float((t / s - log_s).sum())
        self.dlogp -= clean.column + log_s.sum()
        self.tokens += int(logits.shape[0])

    def result(self, decode: Any, causal: bool = True) -> dict[str, Any]:
        """``delta_ce``, ``kl``, ``delta_entropy``, ``top_promoted``, ``top_suppressed``."""
        import torch

        n = max(self.tokens, 1)
        mean = self.dlogp / n if self.dlogp is not None else torch.zeros(1, dtype=torch.float64)
        k = min(TOP, int(mean.numel()))
        up = torch.topk(mean, k)
        down = torch.topk(-mean, k)
        return {"delta_ce": self.dce / n if causal else None, "kl": self.kl / n,
                "delta_entropy": self.dh / n,
                "top_promoted": [[decode(int(i)), float(v)] for v, i in zip(*up, strict=True)],
                "top_suppressed": [[decode(int(i)), -float(v)]
                                   for v, i in zip(*down, strict=True)]}


class Beside:
    """Runs effect additions beside the forward passes: one worker thread takes them in the
    order given, at most one behind (the compiled kernel releases the GIL, so one run's sums
    overlap the next run's forward pass); ``threaded=False`` runs each at once, in turn,
    and then, with ``helpers`` > 1, :attr:`helpers` is a pool for the pieces of each run's
    sums (every core is free between forward passes; the sums are the same either way).

    Example:
        >>> done = []
        >>> with Beside(threaded=True) as beside:
        ...     beside.submit(lambda: done.append(1))
        >>> done
        [1]
    """

    def __init__(self, threaded: bool, helpers: int = 1) -> None:
        self.pool = ThreadPoolExecutor(1, "neuroheat-effects") if threaded else None
        self.helpers = (ThreadPoolExecutor(helpers, "neuroheat-effects")
                        if not threaded and helpers > 1 else None)
        self.pending: Future | None = None

    def submit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` once the previous one is done (its errors are raised here)."""
        if self.pool is None:
            fn()
            return
        self.wait()
        self.pending = self.pool.submit(_inference, fn)

    def wait(self) -> None:
        """Wait for the last ``fn``; raise its error."""
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> Beside:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        try:
            if kind is None:
                self.wait()
        finally:
            for pool in (self.pool, self.helpers):
                if pool is not None:
                    pool.shutdown(wait=True)


def _inference(fn: Callable[[], None]) -> None:
    import torch

    with torch.inference_mode():   # thread-local: the worker's own
        fn()
