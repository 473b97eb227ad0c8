"""Forward passes of the patching jobs: last-position logits (the head runs on the last
position only), the metric, and one pass recording sites; :func:`head_on_rows` runs the output
head on chosen positions only (the ablations' scored tokens).

Example:
    >>> m = metric_of(last_logits(model, ids), answer, foil, "logit_diff")   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

__all__ = ["head_on_rows", "last_logits", "metric_of", "record"]


def metric_of(logits: Any, answer: Any, foil: Any, metric: str) -> Any:
    """The metric ``[B]`` (float64) of last-position logits ``[B, V]``."""
    import torch

    x = logits.double()
    a = x.gather(1, answer[:, None])[:, 0]
    if metric == "logprob":
        return a - torch.logsumexp(x, dim=-1)
    return a - x.gather(1, foil[:, None])[:, 0]


def last_logits(lm: Any, ids: Any) -> Any:
    """Logits ``[B, V]`` at the last position (no padding: the pairs of a batch have one
    length); the head runs on the last position only."""
    return forward_last(lm, ids).logits[:, -1]


def forward_last(lm: Any, ids: Any) -> Any:
    """One unpadded forward pass, logits at the last position only where the head allows."""
    import inspect

    extra = {"logits_to_keep": 1} if "logits_to_keep" in \
        inspect.signature(lm.forward).parameters else {}
    return lm(input_ids=ids, attention_mask=ids.new_ones(ids.shape), use_cache=False, **extra)


def record(lm: Any, ids: Any, sites: Mapping[str, Sequence[int]]) -> tuple[Any, dict]:
    """Last-position logits and ``{"kind.L": [B, T, W]}`` of the ``sites`` (kind -> layers)."""
    from neuroheat.model.sites import get_site_kind

    with ExitStack() as stack:
        taps = {kind: stack.enter_context(get_site_kind(kind).tap(lm, list(layers)))
                for kind, layers in sites.items() if layers}
        out = forward_last(lm, ids)
        values = {f"{kind}.{layer}": v for kind, tap in taps.items()
                  for layer, v in zip(sites[kind], tap.values(out), strict=True)}
    return out.logits[:, -1], values


@contextmanager
def head_on_rows(lm: Any, rows: Any) -> Iterator[list[bool]]:
    """Inside, the output head runs on the flat positions ``rows`` (``[N]`` indices into
    ``batch * tokens``) only, so a forward pass returns logits ``[1, N, V]``: padding and
    unscored positions never reach the vocabulary-sized matrix product (about half of a
    padded batch's head work). Yields a flag list, ``[True]`` once the head ran that way; a
    model whose head is not its output-embeddings module returns full logits.

    Example:
        >>> with head_on_rows(lm, mask.flatten().nonzero()[:, 0]) as used:  # doctest: +SKIP
        ...     logits = lm(input_ids=ids, attention_mask=mask).logits    # [1, N, V]
    """
    used: list[bool] = []
    head = lm.get_output_embeddings() if hasattr(lm, "get_output_embeddings") else None
    if head is None:
        yield used
        return

    def pick(module: Any, args: tuple) -> tuple:
        hidden = args[0]
        if hidden.ndim != 3:
            return args
        used[:] = [True]
        at = rows if rows.device == hidden.device else rows.to(hidden.device)  # split models
        return (hidden.reshape(1, -1, hidden.shape[-1])[:, at], *args[1:])

    handle = head.register_forward_pre_hook(pick)
    try:
        yield used
    finally:
        handle.remove()
