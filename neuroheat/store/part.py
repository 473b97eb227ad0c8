"""The one protocol of a store file, dense or sparse: :class:`StorePart` and :class:`Kernel`.

A store file holds its activations as dense rows (:class:`~neuroheat.store.reader.Store`) or
as SAE latents in CSR rows (:class:`~neuroheat.store.sparse_reader.SparseStore`). Code above
the store never asks which: what it needs is a method of the part, implemented once per
layout — column reads (:meth:`~StorePart.columns`), threshold counts
(:meth:`~StorePart.count_above`), statistics (``stats``, :meth:`~StorePart.active`), the
extras of ``neuroheat info`` (:meth:`~StorePart.layout_summary`) and the shard merge
(:meth:`~StorePart.merge_shards`).

Numeric kernels that belong to analysis (segment sums per word type, the all-neuron context
scan, the top-words table) are :class:`Kernel` values, one function per layout;
``store.apply(kernel, *args)`` runs the one of the store's own layout (double dispatch: the
store imports nothing from analysis, and analysis calls every kernel the same way).

Example:
    >>> SUMS = Kernel("sums", dense=lambda s, layer: ..., sparse=lambda s, layer: ...)
    >>> with open_store("latents.h5") as store:                   # doctest: +SKIP
    ...     store.apply(SUMS, 7)                                  # runs SUMS.sparse(store, 7)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

__all__ = ["Kernel", "StorePart"]


@dataclass(frozen=True)
class Kernel:
    """An operation written once per store layout: ``dense(store, *args)`` for dense rows,
    ``sparse(store, *args)`` for SAE latents (from the non-zeros). Module-level functions
    keep it picklable, so process pools and Dask workers can run it.

    Example:
        >>> k = Kernel("width", dense=lambda s: s.width, sparse=lambda s: s.width)
        >>> k.name
        'width'
    """

    name: str
    dense: Callable[..., Any]
    sparse: Callable[..., Any]


class StorePart(ABC):
    """What one store file offers besides :class:`~neuroheat.store.base.StoreBase`: the
    operations whose implementation depends on the layout (see the module docstring)."""

    #: ``"dense"`` or ``"sparse-csr"`` (the file's ``layout`` attribute)
    layout: ClassVar[str]
    #: whether the file stores SAE latents as CSR rows (the zeros are not stored)
    sparse: ClassVar[bool]
    path: Path

    @classmethod
    @abstractmethod
    def implementation(cls, kernel: Kernel) -> Callable[..., Any]:
        """The function of ``kernel`` for this layout."""

    @abstractmethod
    def columns(self, layer: int, neuron: int, chunk_mb: float
                ) -> Iterator[tuple[int, np.ndarray]]:
        """``(start_row, float32 values)`` of one neuron over this file, in row order."""

    @abstractmethod
    def count_above(self, layer: int, threshold: float, chunk_mb: float) -> np.ndarray:
        """int64 ``[width]``: rows where each neuron of ``layer`` is > ``threshold``."""

    @abstractmethod
    def active(self, layer: int | None = None) -> np.ndarray:
        """int64 rows where each latent is non-zero (``[width]``, or ``[n_layers, width]``);
        an InputError for a dense file, which does not record them."""

    @abstractmethod
    def layout_summary(self) -> dict[str, Any]:
        """What ``neuroheat info`` adds for this layout (``{}`` when nothing)."""

    @classmethod
    @abstractmethod
    def merge_shards(cls, output: Path, sharded: Any, attrs: dict[str, Any],
                     sentences: list[list[str]], untokenized: list[int], stats: Any, *,
                     virtual: bool, overwrite: bool, chunk_mb: float) -> None:
        """Write the merge of ``sharded`` (shards of this layout) to ``output``."""
