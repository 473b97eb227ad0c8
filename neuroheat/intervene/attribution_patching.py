"""Attribution patching: the linear estimate of activation patching from one forward and one
backward pass per pair.

The effect of patching a unit (or a grid entry: one position of a site, the whole vector) is
estimated as Σ over its positions (and dimensions) of (a_clean − a_corrupt) · ∂M/∂a, the
gradient taken at the corrupt run. The gradient is read through a zero tensor added at each
site (so a later site's gradient still flows through an earlier one), the model is in eval
mode (no dropout), and the clean and corrupt runs take the same code path, so identical clean
and corrupt inputs give exactly 0.

Example:
    >>> mc, mx, est = attribute(lm, batch, [("mlp.2", 5)], "logit_diff")   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["attribute"]


def _run(lm: Any, ids: Any, sites: Sequence[str]) -> tuple[Any, dict[str, Any],
                                                             dict[str, Any]]:
    """Last-position logits with the graph, each site's values and its zero leaf."""
    import torch

    from neuroheat.intervene.forward import last_logits
    from neuroheat.model.edits import edit

    values: dict[str, Any] = {}
    leaves: dict[str, Any] = {}

    def make(site: str) -> Any:
        def fn(act: Any, ctx: Any) -> Any:
            values[site] = act.detach().clone()
            leaves[site] = torch.zeros_like(act, requires_grad=True)
            return act + leaves[site]
        return fn

    with torch.enable_grad(), edit(lm, {s: make(s) for s in sites}):
        logits = last_logits(lm, ids)
    return logits, values, leaves


def attribute(lm: Any, batch: dict[str, Any], entries: Sequence[tuple[str, Any]],
              metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clean and corrupt metrics ``[B]`` and the estimated effect ``[entries, B]`` of each
    entry: ``(site, index)`` for a unit (every position), ``(site, ("pos", p))`` for a grid
    entry (position ``p``, every dimension)."""
    import torch

    from neuroheat.intervene.forward import metric_of

    sites = list(dict.fromkeys(site for site, _ in entries))
    answer, foil = batch["answer"], batch["foil"]
    logits, clean, _ = _run(lm, batch["clean"], sites)  # with a graph too: the same kernels
    mc = metric_of(logits.detach(), answer, foil, metric)
    logits, corrupt, leaves = _run(lm, batch["corrupt"], sites)
    mx = metric_of(logits, answer, foil, metric)
    grads = torch.autograd.grad(mx.sum(), [leaves[s] for s in sites])
    out = np.zeros((len(entries), len(mx)))
    terms = {}
    for site, grad in zip(sites, grads, strict=True):
        terms[site] = ((clean[site] - corrupt[site]).double() * grad.double())
    for k, (site, job) in enumerate(entries):
        t = terms[site]
        if isinstance(job, tuple):          # ("pos", p): one position, every dimension
            out[k] = t[:, job[1], :].sum(-1).cpu().numpy()
        else:                               # a unit: every position
            out[k] = t[:, :, job].sum(-1).cpu().numpy()
    return mc.detach().cpu().numpy(), mx.detach().cpu().numpy(), out
