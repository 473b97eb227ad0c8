"""Dense extraction: a site kind's layers, every value of every word row, in a dense store.

The :class:`~neuroheat.extract.strategy.Strategy` of
:func:`~neuroheat.extract.runner.run_extraction` for ``extract_activations`` without
``saes``: batches are computed by :class:`~neuroheat.extract.pipeline.UnitRunner`, written by
:class:`~neuroheat.store.writer.StoreWriter` at fixed row offsets, and summed up in per-neuron
statistics.

Example:
    >>> DenseStrategy().layers_hint
    '--layers'
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.extract.strategy import Strategy
from neuroheat.store.stats import RunningStats

log = logging.getLogger(__name__)

__all__ = ["DenseStrategy"]


class DenseStrategy(Strategy):
    """Store the layers ``cfg.layers`` of site kind ``cfg.component`` densely."""

    def bind(self, loaded: Any, cfg: Any) -> None:
        from neuroheat.layerspec import select_layers
        from neuroheat.model.sites import get_site_kind

        self.sites = get_site_kind(cfg.component)
        self.layers = list(select_layers(self.sites.layers(loaded.model), cfg.layers))

    def runner(self, loaded: Any, encoded: Any, specials: Any, aggregation: str, dtype: str,
               first_line: int) -> Any:
        from neuroheat.extract.pipeline import UnitRunner

        return UnitRunner(loaded, self.sites, self.layers, encoded, specials, aggregation,
                          dtype, first_line=first_line)

    def open(self, path: Path) -> Any | None:
        from neuroheat.store.writer import StoreWriter

        return StoreWriter(path) if _is_store(path) else None

    def create(self, path: Path, rows: list[list[str]], untokenized: list[int],
               settings: dict[str, Any], cfg: Any, loaded: Any) -> Any:
        from neuroheat.store.writer import StoreWriter

        return StoreWriter.create(path, rows, layers=self.layers, width=self.width(loaded),
                                  dtype=cfg.dtype, attrs=settings, untokenized=untokenized,
                                  overwrite=cfg.overwrite or cfg.resume)

    def start(self, state: dict[str, np.ndarray] | None, loaded: Any) -> None:
        self.stats = (RunningStats.from_dict(state) if state is not None else
                      RunningStats.empty((len(self.layers), self.width(loaded))))

    def write(self, writer: Any, result: Any, offsets: np.ndarray) -> None:
        rows = result.numpy()
        dest = store_rows(result.unit.sentences, result.row_starts, offsets)
        for pos in range(rows.shape[1]):
            writer.write_at(pos, dest, rows[:, pos])

    def add(self, result: Any) -> None:
        self.stats = self.stats.merge(result.stats)

    def state(self) -> dict[str, np.ndarray]:
        return self.stats.as_dict()

    def finalize(self, writer: Any) -> None:
        writer.finalize(self.stats)

    def report(self, output: Path, n_sentences: int, n_rows: int) -> None:
        log.info("wrote %s: %d sentences, %d rows, layers %s", output, n_sentences, n_rows,
                 self.layers)


def store_rows(sentences: Any, row_starts: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The store row of each of a unit's rows: sentence ``sentences[k]``'s rows
    ``row_starts[k]:row_starts[k + 1]`` go to its rows from ``offsets[sentence]`` on, so a
    batch is written with one scatter per layer, not one write per sentence and layer
    (7,000 writes, 0.12 s of a 2.4 s MiniLM extraction of 1,000 sentences).

    Example:
        >>> store_rows([2, 0], np.array([0, 2, 3]), np.array([0, 1, 4, 6])).tolist()
        [4, 5, 0]
    """
    row_starts = np.asarray(row_starts, np.int64)
    lengths = np.diff(row_starts)
    shift = np.asarray(offsets, np.int64)[np.asarray(sentences, np.int64)] - row_starts[:-1]
    return np.repeat(shift, lengths) + np.arange(row_starts[0], row_starts[-1])


def _is_store(path: Path) -> bool:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return f.attrs.get("format") in ("neuroheat-activations", b"neuroheat-activations")
    except OSError:
        return False
