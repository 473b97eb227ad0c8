"""Hooks on a model's transformer blocks, shared by the block-based site kinds.

Every block gets a pre-hook (its input) and a hook (its output), so the calls alternate
input/output whatever the architecture (ALBERT's one shared block included): residual layer 0
is call 1 (the first block's input) and layer ``l`` is call ``2 * l`` (block ``l``'s output).

Example:
    >>> residual_calls([0, 2])   # call number -> slot
    {1: 0, 4: 1}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from neuroheat.model.architectures import base_of, require, submodule
from neuroheat.model.hooks import Recording, record


def blocks_of(model: Any, what: str) -> list[Any]:
    """The transformer blocks of ``model`` in call order (one-line error if not mapped)."""
    arch = require(model, "blocks", what)
    return list(submodule(base_of(model), arch.blocks or ""))


def residual_calls(layers: Sequence[int]) -> dict[int, int]:
    """Call numbers of residual-stream ``layers`` in :func:`residual_recording`."""
    return {1 if int(lay) == 0 else 2 * int(lay): k for k, lay in enumerate(layers)}


@contextmanager
def residual_recording(model: Any, layers: Sequence[int], what: str, *,
                       stop: bool) -> Iterator[Recording]:
    """Record the residual stream at ``layers`` (0 = the first block's input)."""
    sites = [(block, where) for block in blocks_of(model, what) for where in ("input", "output")]
    with record(sites, residual_calls(layers), stop=stop) as rec:
        yield rec
