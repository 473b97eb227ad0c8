"""Extract SAE latents of a corpus into a sparse store (``extract_activations(..., saes=[...])``).

The :class:`~neuroheat.extract.strategy.Strategy` of
:func:`~neuroheat.extract.runner.run_extraction` for SAEs: the same corpus reading, alignment,
plan, shards, lock, resume and checkpoints as dense extraction; batches are computed by
:class:`~neuroheat.extract.latent_runner.LatentRunner` and staged by
:class:`~neuroheat.store.sparse_writer.SparseStoreWriter`. The stored layers are the SAEs'
base-site layers, named ``sae.<site>`` in ``sites``; the SAEs' records (format, hook, site,
widths, weight fingerprint) are the ``saes`` attribute, and the fingerprints must agree for
``--resume`` and between shards (and, on ``--resume``, the stored layers).

Example:
    >>> nh.extract_activations(llama, "corpus.txt", "lat.h5", saes=["saes/blocks.6.hook_resid_post"])  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import InputError, StoreError
from neuroheat.extract.config import ExtractConfig
from neuroheat.extract.runner import run_extraction
from neuroheat.extract.strategy import Strategy
from neuroheat.store.stats import RunningStats

log = logging.getLogger(__name__)

__all__ = ["LatentStrategy", "extract_latents"]


def extract_latents(model: Any, lines: Any, spec: Any, block: int, output: Path,
                    cfg: ExtractConfig) -> None:
    """Extract the latents of ``cfg.saes`` for the sentences of shard ``spec`` of ``lines``
    (the caller holds the output's lock).

    Example:
        >>> extract_latents(llama, lines, spec, 1024, Path("lat.h5"), cfg)   # doctest: +SKIP
    """
    run_extraction(model, lines, spec, block, output, cfg, LatentStrategy())


class LatentStrategy(Strategy):
    """Store the latents of ``cfg.saes`` sparsely, one stored layer per SAE."""

    desc = "extract latents"
    thread = "neuroheat-latent-writer"
    store_noun = "sparse neuroheat store"
    layers_hint = "SAE sites (SITE=DIR)"
    extra_match = ("sae_fingerprints",)

    def check(self, cfg: Any) -> None:
        if cfg.layers is not None:
            raise InputError("--layers does not apply with --sae: the stored layers are the "
                             "SAEs' sites")
        if cfg.component != "hidden":
            raise InputError(f"--component {cfg.component} does not apply with --sae: each "
                             "SAE's hook names its site (give SITE=DIR to choose one)")

    def load(self, cfg: Any) -> None:
        from neuroheat.sae.formats import load_saes

        self.saes = load_saes(list(cfg.saes))

    def bind(self, loaded: Any, cfg: Any) -> None:
        from neuroheat.sae.sites import LatentSites

        self.sites = LatentSites(loaded.model, self.saes)
        self.layers = list(self.sites.layers)

    def runner(self, loaded: Any, encoded: Any, specials: Any, aggregation: str, dtype: str,
               first_line: int) -> Any:
        from neuroheat.extract.latent_runner import LatentRunner

        return LatentRunner(loaded, self.sites, encoded, specials, aggregation, dtype,
                            first_line=first_line)

    def settings(self, loaded: Any, cfg: Any) -> dict[str, Any]:
        records = self.sites.describe()
        return {"component": "sae", "saes": records,
                "sae_fingerprints": ",".join(r["fingerprint"] for r in records)}

    def open(self, path: Path) -> Any | None:
        from neuroheat.store.sparse_writer import SparseStoreWriter

        try:
            return SparseStoreWriter(path)
        except (OSError, StoreError):
            return None

    def create(self, path: Path, rows: list[list[str]], untokenized: list[int],
               settings: dict[str, Any], cfg: Any, loaded: Any) -> Any:
        from neuroheat.store.sparse_writer import SparseStoreWriter

        return SparseStoreWriter.create(path, rows, layers=self.layers, width=self.width(loaded),
                                        dtype=cfg.dtype, attrs=settings, untokenized=untokenized,
                                        overwrite=cfg.overwrite or cfg.resume,
                                        max_nnz=[s.k or 0 for s in self.sites.saes])

    def start(self, state: dict[str, np.ndarray] | None, loaded: Any) -> None:
        shape = (len(self.layers), self.width(loaded))
        if state is None:
            self.stats, self.active = RunningStats.empty(shape), np.zeros(shape, np.int64)
        else:
            self.stats = RunningStats.from_dict(state)
            self.active = state["active"].astype(np.int64)

    def restart(self, writer: Any) -> None:
        writer.truncate([0] * len(self.layers))

    def write(self, writer: Any, result: Any, offsets: np.ndarray) -> None:
        for pos, codes in enumerate(result.codes):
            writer.write_unit(pos, result.unit.sentences, result.row_starts, codes.row_nnz,
                              codes.indices, codes.values)

    def add(self, result: Any) -> None:
        self.stats = self.stats.merge(result.stats)
        self.active = self.active + result.active

    def state(self) -> dict[str, np.ndarray]:
        return dict(self.stats.as_dict(), active=self.active)

    def finalize(self, writer: Any) -> None:
        writer.finalize(self.stats, self.active)

    def report(self, output: Path, n_sentences: int, n_rows: int) -> None:
        """Log each SAE's active latents per word and dead latents (the first thing to know)."""
        from neuroheat.store.sparse_reader import SparseStore

        log.info("wrote %s: %d sentences, SAE latents at %s", output, n_sentences,
                 ", ".join(self.sites.names))
        with SparseStore(output) as store:
            for name, layer in zip(self.sites.names, self.layers, strict=True):
                dead = int((store.active(layer) == 0).sum())
                log.info("%s: %.1f latents active per word; %d of %d never active on this "
                         "corpus (dead)", name, store.nnz(layer) / max(1, store.num_words),
                         dead, self.sites.width())
