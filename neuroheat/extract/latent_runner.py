"""Run the model on one unit and encode SAE latents on the device, keeping only non-zeros.

Per micro-batch: one forward pass with every SAE's base site hooked (early exit after the
deepest), the owned subword positions gathered, and each SAE's
:meth:`~neuroheat.sae.encoder.SAE.sparse_codes` (chunked: never a ``[tokens, d_sae]``
matrix). Non-zeros of one unit are sorted by (row, latent); for ``average`` the subwords of a
word are summed (float32) and divided by their count, as the dense pipeline does. Values are
cast to the storage dtype on the device, zeros after the cast dropped, and statistics over
*every* row (zeros included) computed from the non-zeros alone: with ``n`` rows, ``s`` the sum
and ``mean = s / n``, ``M2 = sum over non-zeros of (v - mean)^2 + (n - active) * mean^2``;
min/max include 0 where a latent is inactive on some row.

Example:
    >>> runner = LatentRunner(loaded, bound, encoded, specials, "last", "float16")  # doctest: +SKIP
    >>> res = runner.run(unit); res.codes[0].row_nnz.sum()                          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroheat.errors import ActivationRangeError
from neuroheat.extract.align import Encoded, Specials
from neuroheat.extract.pipeline import UnitRunner
from neuroheat.extract.plan import Unit
from neuroheat.model.hooks import run_until_stopped
from neuroheat.model.loading import LoadedModel
from neuroheat.sae.sites import LatentSites
from neuroheat.store.stats import RunningStats


@dataclass
class Codes:
    """The non-zeros of one SAE over one unit's rows, sorted by (row, latent)."""

    row_nnz: np.ndarray     # int32 [n_rows]
    indices: np.ndarray     # int32 [nnz]
    values: np.ndarray      # storage dtype [nnz]


@dataclass
class LatentResult:
    unit: Unit
    codes: list[Codes]      # one per SAE, in stored order
    stats: RunningStats     # [n_sae, d_sae]
    active: np.ndarray      # int64 [n_sae, d_sae]
    row_starts: np.ndarray  # start of each of unit.sentences' rows


class LatentRunner(UnitRunner):
    """A :class:`~neuroheat.extract.pipeline.UnitRunner` that stores SAE latents sparsely."""

    def __init__(self, loaded: LoadedModel, bound: LatentSites, encoded: Sequence[Encoded],
                 specials: Specials, aggregation: str, dtype: str, *, first_line: int = 1):
        super().__init__(loaded, bound, bound.layers, encoded, specials, aggregation, dtype,
                         first_line=first_line)
        self.bound = bound

    def run(self, unit: Unit) -> LatentResult:  # type: ignore[override]
        torch = self.torch
        starts = self.row_starts(unit)
        n_sae = len(self.bound.saes)
        found: list[list[tuple[Any, Any, Any]]] = [[] for _ in range(n_sae)]
        counts = np.zeros(unit.n_rows, dtype=np.float32)
        model = self.loaded.model
        with torch.inference_mode():
            for ids, mask, b, t, rows in self.micro_batches(unit, starts, counts):
                with self.bound.tap(model) as (module, values):
                    xs = values(run_until_stopped(module, input_ids=ids, attention_mask=mask))
                for k, (sae, x) in enumerate(zip(self.bound.saes, xs, strict=True)):
                    dev = x.device
                    sel = x[torch.from_numpy(b).to(dev), torch.from_numpy(t).to(dev)]
                    tok, lat, val = sae.sparse_codes(sel)
                    found[k].append((torch.from_numpy(rows).to(dev)[tok], lat, val))
                del xs
            codes, stats, active = [], [], []
            for k, parts in enumerate(found):
                c, st, act = self._finish(unit, starts, k, parts, counts)
                codes.append(c)
                stats.append(st)
                active.append(act)
        merged = RunningStats(*(np.stack([getattr(s, f) for s in stats]) for f in
                                ("count", "mean", "M2", "min", "max")))
        return LatentResult(unit, codes, merged, np.stack(active), starts)

    def _finish(self, unit: Unit, starts: np.ndarray, k: int, parts: list, counts: np.ndarray
                ) -> tuple[Codes, RunningStats, np.ndarray]:
        torch = self.torch
        d = self.bound.width()
        n = unit.n_rows
        if not parts:
            return (Codes(np.zeros(n, np.int32), np.zeros(0, np.int32),
                          np.zeros(0, self.dtype_np)), RunningStats.empty((d,)),
                    np.zeros(d, np.int64))
        rows = torch.cat([p[0] for p in parts])
        lat = torch.cat([p[1] for p in parts])
        val = torch.cat([p[2] for p in parts])
        dev = val.device
        key = rows * d + lat
        if self.aggregation == "average":
            key, inverse = torch.unique(key, sorted=True, return_inverse=True)
            val = torch.zeros(len(key), dtype=torch.float32, device=dev).index_add_(
                0, inverse, val)
            rows, lat = key // d, key % d
            val = val / torch.from_numpy(np.maximum(counts, 1.0)).to(dev)[rows]
        else:  # every row has one token: no duplicates, only the order to fix
            key, order = torch.sort(key)
            rows, lat, val = rows[order], lat[order], val[order]
        stored = val.to(self.dtype)
        keep = stored != 0
        rows, lat, stored = rows[keep], lat[keep], stored[keep]
        if not bool(torch.isfinite(stored).all()):
            raise self._latent_error(unit, starts, k, rows, lat, val[keep], stored)
        v = stored.double()
        active = torch.bincount(lat, minlength=d)
        mean = torch.zeros(d, dtype=torch.float64, device=dev).index_add_(0, lat, v) / max(n, 1)
        m2 = torch.zeros(d, dtype=torch.float64, device=dev).index_add_(
            0, lat, (v - mean[lat]) ** 2) + (n - active) * mean ** 2
        lo = torch.full((d,), torch.inf, dtype=torch.float64, device=dev).scatter_reduce_(
            0, lat, v, "amin")
        hi = torch.full((d,), -torch.inf, dtype=torch.float64, device=dev).scatter_reduce_(
            0, lat, v, "amax")
        some_zero = active < n
        lo = torch.where(some_zero, torch.clamp(lo, max=0.0), lo)
        hi = torch.where(some_zero, torch.clamp(hi, min=0.0), hi)
        st = RunningStats(np.full(d, float(n)), *(a.cpu().numpy() for a in (mean, m2, lo, hi)))
        row_nnz = torch.bincount(rows, minlength=n).to(torch.int32).cpu().numpy()
        return (Codes(row_nnz, lat.to(torch.int32).cpu().numpy(), stored.cpu().numpy()), st,
                active.cpu().numpy().astype(np.int64))

    @property
    def dtype_np(self) -> np.dtype:
        return np.dtype(str(self.dtype).removeprefix("torch."))

    def _latent_error(self, unit: Unit, starts: np.ndarray, k: int, rows: Any, lat: Any,
                      raw: Any, stored: Any) -> ActivationRangeError:
        bad = int((~self.torch.isfinite(stored)).nonzero()[0, 0])
        row, latent, value = int(rows[bad]), int(lat[bad]), float(raw[bad])
        line, word = self.word_at(unit, starts, row)
        site = self.bound.names[k]
        return ActivationRangeError(
            f"{site}, line {line}, word {word!r}, latent {latent}: value "
            f"{value:.6g} does not fit {self.dtype_np}; use --dtype float32")
