"""Whether torch's thread pool leaves a CPU core free for a helper thread.

A thread beside the model (the extraction's writer, the ablation's metrics) helps only when a
core is free: with every core in torch's pool, the helper preempts one of torch's threads and
the pool waits for it at every operator, so the work is better done in turn.

Example:
    >>> free_core() in (True, False)   # doctest: +SKIP
    True
"""

from __future__ import annotations

import os

__all__ = ["free_core"]


def free_core() -> bool:
    """True when torch's intra-op threads are fewer than the cores this process may use."""
    import torch

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return torch.get_num_threads() < cores
