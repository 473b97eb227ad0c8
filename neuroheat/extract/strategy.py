"""What differs between extracting dense sites and SAE latents: one strategy object per run.

:mod:`neuroheat.extract.runner` owns everything the two share (the lock, settings, resume
checks, planning, checkpoints, error handling, the writer's lifecycle) and
asks its strategy only what a batch computes (:meth:`Strategy.runner`), how a batch is written
and summed up (:meth:`Strategy.write`, :meth:`Strategy.add`), and what the store records
(:meth:`Strategy.settings`, :meth:`Strategy.create`, :meth:`Strategy.finalize`).
:class:`~neuroheat.extract.dense.DenseStrategy` stores a site kind's layers densely,
:class:`~neuroheat.extract.latents.LatentStrategy` SAE latents sparsely.

Example:
    >>> from neuroheat.extract.dense import DenseStrategy
    >>> DenseStrategy().desc
    'extract'
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Strategy"]


class Strategy(ABC):
    """The part of an extraction that depends on what is stored (subclasses fill it in).

    One object serves one run: :meth:`bind` gives it the loaded model, :meth:`start` the
    checkpoint to continue from, and it keeps the running totals (statistics, ...) that
    :meth:`add` merges and :meth:`state` checkpoints.
    """

    #: progress-bar label and writer-thread name
    desc = "extract"
    thread = "neuroheat-writer"
    #: what a store this strategy can resume is called, in errors
    store_noun = "neuroheat store"
    #: how to choose the same layers again, in the error of a resume that asks for others
    layers_hint = "--layers"
    #: settings besides the config's match fields that must agree for --resume and shards
    extra_match: tuple[str, ...] = ()

    layers: list[int]
    sites: Any  # a site kind (``width``, ``site``) or anything shaped like one

    def check(self, cfg: Any) -> None:
        """Refuse options that do not apply (before anything is loaded)."""
        return None

    def load(self, cfg: Any) -> None:
        """Load what the run needs besides the model (before the model: cheap errors first)."""
        return None

    @abstractmethod
    def bind(self, loaded: Any, cfg: Any) -> None:
        """Choose ``layers`` and ``sites`` of the loaded model."""

    def width(self, loaded: Any) -> int:
        """Values per stored row and layer."""
        return int(self.sites.width(loaded.model))

    @abstractmethod
    def runner(self, loaded: Any, encoded: Sequence[Any], specials: Any, aggregation: str,
               dtype: str, first_line: int) -> Any:
        """The object whose ``run(unit)`` computes one batch on the device."""

    def settings(self, loaded: Any, cfg: Any) -> dict[str, Any]:
        """Store attributes of this kind of store, added to (or replacing) the shared ones."""
        return {}

    @abstractmethod
    def open(self, path: Path) -> Any | None:
        """The writer of the existing store ``path``, or None when it is no such store."""

    @abstractmethod
    def create(self, path: Path, rows: list[list[str]], untokenized: list[int],
               settings: dict[str, Any], cfg: Any, loaded: Any) -> Any:
        """A writer of a new, incomplete store at ``path``."""

    @abstractmethod
    def start(self, state: dict[str, np.ndarray] | None, loaded: Any) -> None:
        """Set the running totals: empty, or those of checkpoint ``state``."""

    def restart(self, writer: Any) -> None:
        """Drop what a checkpoint of another plan left written (nothing, by default)."""
        return None

    @abstractmethod
    def write(self, writer: Any, result: Any, offsets: np.ndarray) -> None:
        """Write one batch's result (``offsets``: each sentence's first store row)."""

    @abstractmethod
    def add(self, result: Any) -> None:
        """Merge one batch's totals into the running ones."""

    @abstractmethod
    def state(self) -> dict[str, np.ndarray]:
        """The running totals as a checkpoint records them."""

    @abstractmethod
    def finalize(self, writer: Any) -> None:
        """Write the totals and mark the store complete."""

    def report(self, output: Path, n_sentences: int, n_rows: int) -> None:
        """Log what was written."""
        return None
