"""Effects of an intervention on the next-token distribution, from float64 log-probabilities.

Over every scored (predicted) token: ``delta_ce`` = mean(CE_ablated - CE_clean),
``kl`` = mean KL(p_clean || p_ablated), ``delta_entropy`` = mean(H_ablated - H_clean), all in
nats; ``top_promoted`` / ``top_suppressed``: the tokens whose mean log-probability rose / fell
most. Sums are kept in float64, so results do not depend on how the corpus is batched.

Example:
    >>> acc = Effect(vocab=50257)                       # doctest: +SKIP
    >>> acc.add(clean_logprobs, ablated_logprobs, targets)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

TOP = 10


def log_probs(logits: Any) -> Any:
    """float64 log-softmax of ``logits`` ``[n, vocab]``."""
    import torch

    return torch.log_softmax(logits.to(torch.float64), dim=-1)


def entropy(lp: Any) -> Any:
    return -(lp.exp() * lp).sum(-1)


class Clean:
    """Sums of the clean run: CE and entropy per scored token."""

    def __init__(self) -> None:
        self.ce = 0.0
        self.entropy = 0.0
        self.tokens = 0

    def add(self, lp: Any, targets: Any | None) -> None:
        if targets is not None:
            self.ce += float(-lp.gather(1, targets[:, None]).sum())
        self.entropy += float(entropy(lp).sum())
        self.tokens += int(lp.shape[0])

    def result(self, causal: bool = True) -> dict[str, Any]:
        n = max(self.tokens, 1)
        return {"ce": self.ce / n if causal else None, "entropy": self.entropy / n}


class CleanBatch:
    """One batch's clean log-probs with what every effect reuses (computed once, not once
    per unit): probabilities, entropy sum, per-token column sums and target log-probs."""

    def __init__(self, lp: Any, targets: Any | None) -> None:
        self.lp = lp
        self.p = lp.exp()
        self.neg_entropy = float((self.p * lp).sum())   # sum of -H_clean
        self.column = lp.sum(0)
        self.target = lp.gather(1, targets[:, None]).sum() if targets is not None else None


class Effect:
    """Running sums of one intervention's effect."""

    def __init__(self) -> None:
        self.dce = 0.0
        self.kl = 0.0
        self.dh = 0.0
        self.dlogp: Any = None
        self.tokens = 0

    def add(self, clean: CleanBatch, edited: Any, targets: Any | None) -> None:
        """Add scored tokens: the clean batch, float64 log-probs ``[n, vocab]`` of the edited
        run, targets ``[n]``. KL(p‖q) = Σ p log p − Σ p log q; ΔH = H_q − H_p."""
        if targets is not None:
            self.dce += float(clean.target - edited.gather(1, targets[:, None]).sum())
        self.kl += clean.neg_entropy - float((clean.p * edited).sum())
        self.dh += float(-(edited.exp() * edited).sum()) + clean.neg_entropy
        diff = edited.sum(0) - clean.column
        self.dlogp = diff if self.dlogp is None else self.dlogp + diff
        self.tokens += int(edited.shape[0])

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
