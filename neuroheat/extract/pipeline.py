"""Run the model on one unit and gather word rows on the device.

For each micro-batch: pad, forward under ``torch.inference_mode()``, pick the subwords each
window owns, and add them, layer by layer, into a float32 row buffer on the device
(``index_add_``; for ``first``/``last``/``none`` every row receives exactly one value, so the
sum is exact). The
buffer is averaged if asked, cast to the storage dtype *on the device*, reduced to per-neuron
statistics (float64, on the device; on the CPU by the compiled kernel
:func:`neuroheat.kernels.rowstats.row_stats` unless ``NEUROHEAT_KERNELS=numpy``) and copied
out through pinned memory with a non-blocking copy whose CUDA event the writer thread waits
on.

Before anything is stored, one ``torch.isfinite(out).all()`` per unit checks the cast rows:
a value beyond float16's ±65,504 (which the cast turns into infinity) or a NaN/infinity the
model produced stops the run with an :class:`~neuroheat.errors.ActivationRangeError` naming
the site, the corpus line, the word and the value (found only then). A model spread over
devices by accelerate gives each layer on its own device; rows are gathered on the device of
the input embeddings.

Example:
    >>> ctx = UnitRunner(loaded, component, layers, encoded, specials, "last", "float16")  # doctest: +SKIP
    >>> result = ctx.run(unit)                                                           # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

import numpy as np

from neuroheat import kernels
from neuroheat.errors import ActivationRangeError
from neuroheat.extract.align import Encoded, Specials
from neuroheat.extract.plan import Unit
from neuroheat.model.hooks import run_until_stopped
from neuroheat.model.loading import LoadedModel
from neuroheat.model.sites import SiteKind
from neuroheat.store.stats import RunningStats


class UnitResult:
    """One unit's stored rows and statistics; with ``finish`` given, computed on first use
    (in the writer thread when extraction defers them, :attr:`UnitRunner.defer`)."""

    def __init__(self, unit: Unit, row_starts: np.ndarray, rows: Any = None, event: Any = None,
                 stats: RunningStats | None = None,
                 finish: Callable[[], tuple[Any, Any, RunningStats]] | None = None) -> None:
        self.unit = unit
        self.row_starts = row_starts  # start of each of unit.sentences' rows inside ``rows``
        self._rows = rows             # CPU tensor [n_rows, n_layers, width], storage dtype
        self._event = event           # CUDA event to wait on before reading rows (or None)
        self._stats = stats
        self._finish = finish

    def _done(self) -> None:
        if self._finish is not None:
            finish, self._finish = self._finish, None
            self._rows, self._event, self._stats = finish()

    @property
    def rows(self) -> Any:
        self._done()
        return self._rows

    @property
    def stats(self) -> RunningStats:
        self._done()
        return cast(RunningStats, self._stats)

    def numpy(self) -> np.ndarray:
        self._done()
        if self._event is not None:
            self._event.synchronize()
        return self._rows.numpy()


class UnitRunner:
    """Everything needed to turn units into stored rows."""

    def __init__(self, loaded: LoadedModel, component: SiteKind, layers: Sequence[int],
                 encoded: Sequence[Encoded], specials: Specials, aggregation: str, dtype: str,
                 *, first_line: int = 1):
        import torch

        self.torch = torch
        self.loaded = loaded
        self.component = component
        self.layers = list(layers)
        self.encoded = encoded
        self.specials = specials
        self.aggregation = aggregation
        self.dtype = getattr(torch, dtype)
        self.device = loaded.device
        tok = loaded.tokenizer
        pad = tok.pad_token_id
        self.pad_id = int(pad if pad is not None else (tok.eos_token_id or 0))
        self.n_pre, self.n_suf = len(specials.prefix), len(specials.suffix)
        self.first_line = first_line   # corpus line of encoded[0], for error messages
        self._wide: Any = None         # float32 copy of the stored rows, reused (_float32)
        self._free: list[Any] = []     # zeroed row buffers to reuse (_row_buffer, _finish)
        #: cast, statistics and finite check when the result is first used (by extraction's
        #: writer thread on a CPU with a free core) instead of in :meth:`run`
        self.defer = False
        #: compiled statistics and gathers on the CPU: decided once per run from the whole
        #: plan's size (the runner sets it), so that a resumed run computes like the first
        self.compiled = kernels.enabled()

    def _inputs(self, unit: Unit, micro: list[int]) -> tuple[Any, Any]:
        torch = self.torch
        seqs = []
        for j in micro:
            w = unit.windows[j]
            ids = self.encoded[w.sentence].ids[w.start:w.stop]
            seqs.append(np.concatenate([self.specials.prefix, ids, self.specials.suffix]))
        length = max(len(s) for s in seqs)
        ids = np.full((len(seqs), length), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(seqs), length), dtype=np.int64)
        for b, s in enumerate(seqs):
            ids[b, :len(s)] = s
            mask[b, :len(s)] = 1
        return (torch.from_numpy(ids).to(self.device, non_blocking=True),
                torch.from_numpy(mask).to(self.device, non_blocking=True))

    def _selection(self, unit: Unit, micro: list[int], sentence_start: dict[int, int]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(batch index, sequence position, unit row) of every value to gather."""
        bs, ts, rows = [], [], []
        for b, j in enumerate(micro):
            w = unit.windows[j]
            enc = self.encoded[w.sentence]
            base = sentence_start[w.sentence]
            owned = w.owned[enc.use_token[w.owned]]
            bs.append(np.full(len(owned), b))
            ts.append(self.n_pre + owned - w.start)
            rows.append(base + enc.row_of_token[owned])
            n_pre_rows, n_suf_rows = enc.special_rows
            if n_pre_rows and w.start == 0:
                bs.append(np.full(n_pre_rows, b))
                ts.append(np.arange(n_pre_rows))
                rows.append(base + np.arange(n_pre_rows))
            if n_suf_rows and w.stop == len(enc.ids):
                first = self.n_pre + (w.stop - w.start)
                bs.append(np.full(n_suf_rows, b))
                ts.append(first + np.arange(n_suf_rows))
                rows.append(base + len(enc.rows) - n_suf_rows + np.arange(n_suf_rows))
        return np.concatenate(bs), np.concatenate(ts), np.concatenate(rows)

    def row_starts(self, unit: Unit) -> np.ndarray:
        """Start of each of ``unit.sentences``' rows among the unit's rows (and the end)."""
        starts = np.zeros(len(unit.sentences) + 1, dtype=np.int64)
        np.cumsum([len(self.encoded[s].rows) for s in unit.sentences], out=starts[1:])
        return starts

    def micro_batches(self, unit: Unit, starts: np.ndarray, counts: np.ndarray
                      ) -> Iterator[tuple[Any, Any, np.ndarray, np.ndarray, np.ndarray]]:
        """``(ids, mask, batch index, position, unit row)`` of each micro-batch, on the device
        but the last three; ``counts[row]`` counts the values gathered into each row."""
        sentence_start = {s: int(starts[k]) for k, s in enumerate(unit.sentences)}
        for micro in unit.micro:
            ids, mask = self._inputs(unit, micro)
            b, t, rows = self._selection(unit, micro, sentence_start)
            np.add.at(counts, rows, 1.0)
            yield ids, mask, b, t, rows

    def word_at(self, unit: Unit, starts: np.ndarray, row: int) -> tuple[int, str]:
        """Corpus line and word of the unit's ``row``, for error messages."""
        k = int(np.searchsorted(starts, row, side="right")) - 1
        sentence = unit.sentences[k]
        return (self.first_line + sentence,
                self.encoded[sentence].rows[row - int(starts[k])])

    def run(self, unit: Unit) -> UnitResult:
        """Run ``unit``'s micro-batches and gather its rows; the cast to the storage dtype,
        the statistics and the finite check follow at once, or, with :attr:`defer`, when
        the result is first used."""
        torch = self.torch
        starts = self.row_starts(unit)
        width = self.component.width(self.loaded.model)
        full = self._row_buffer(unit.n_rows, width)
        buf = full[:unit.n_rows]
        counts = np.zeros(unit.n_rows, dtype=np.float32)
        with torch.inference_mode():
            for ids, mask, b, t, rows in self.micro_batches(unit, starts, counts):
                self._gather(ids, mask, b, t, rows, buf)

        def finish() -> tuple[Any, Any, RunningStats]:
            return self._finish(unit, starts, full, counts)

        if self.defer:
            return UnitResult(unit, starts, finish=finish)
        rows, event, stats = finish()
        return UnitResult(unit, starts, rows, event, stats)

    def _finish(self, unit: Unit, starts: np.ndarray, full: Any, counts: np.ndarray
                ) -> tuple[Any, Any, RunningStats]:
        """``(rows, event, stats)`` of the gathered ``full[:n_rows]``: averaged if asked, cast
        to the storage dtype, statistics, finite check, copied out of a GPU; the buffer then
        goes back to the pool, zeroed (unless it is the stored float32 rows)."""
        torch = self.torch
        buf = full[:unit.n_rows]
        with torch.inference_mode():
            if self.aggregation == "average":
                buf /= torch.from_numpy(np.maximum(counts, 1.0)).to(self.device)[:, None, None]
            out = buf.to(self.dtype)
            stats, finite = self._stats(out)
            # the statistics see every inf or NaN: the finite check costs nothing beyond
            # them; details are looked up only on failure
            if not finite:
                raise self._range_error(unit, starts, buf, out)
            if out.data_ptr() != buf.data_ptr():
                full.zero_()
                self._free.append(full)
            del buf
            if self.device.type == "cuda":
                host = torch.empty(out.shape, dtype=out.dtype, pin_memory=True)
                host.copy_(out, non_blocking=True)
                event = torch.cuda.Event()
                event.record()
            else:
                host, event = out, None
        return host, event, stats

    def _row_buffer(self, n_rows: int, width: int) -> Any:
        """A zeroed float32 row buffer ``[>= n_rows, n_layers, width]`` on the device: one
        returned to the pool by :meth:`_finish` (already zeroed there, in the writer thread
        when deferred) if one is big enough, else a new one: no fresh pages to fault in for
        each batch. Rows stored as float32 are the buffer itself: never reused."""
        torch = self.torch
        while self._free:
            full = self._free.pop()
            if full.shape[0] >= n_rows:
                return full
        shape = (n_rows, len(self.layers), width)
        return torch.zeros(shape, dtype=torch.float32, device=self.device)

    def _gather(self, ids: Any, mask: Any, b: np.ndarray, t: np.ndarray, rows: np.ndarray,
                buf: Any) -> None:
        """Run one micro-batch and add each layer's values at positions ``(b, t)`` into
        ``buf``'s ``rows``: per layer, on each layer's device (accelerate may spread the
        model), straight into the buffer's layer slot (no stacked copy of all layers); on the
        CPU by the compiled :func:`neuroheat.kernels.gather.add_rows` (same additions, same
        bits, no gathered copy)."""
        torch = self.torch
        with self.component.tap(self.loaded.model, self.layers, stop=True) as tap:
            out = run_until_stopped(tap.module, input_ids=ids, attention_mask=mask,
                                    **tap.kwargs)
            values = tap.values(out)
        del out
        compiled = buf.device.type == "cpu" and self.compiled
        if compiled:
            from neuroheat.kernels.gather import add_rows
        bt = tr = rt = None
        for slot, v in enumerate(values):
            if (compiled and v.device.type == "cpu" and v.dtype == torch.float32
                    and v.is_contiguous()):
                add_rows(v.numpy(), b, t, rows, buf.numpy(), slot)
                continue
            if bt is None:
                bt, tr = torch.from_numpy(b), torch.from_numpy(t)
                rt = torch.from_numpy(rows).to(buf.device)
            picked = v[bt.to(v.device), tr.to(v.device)]
            buf[:, slot].index_add_(0, rt, picked.float().to(buf.device))

    def _range_error(self, unit: Unit, starts: np.ndarray, buf: Any, out: Any
                     ) -> ActivationRangeError:
        """The error naming the first value of ``out`` that is not finite, in the lowest layer
        (where it started: NaN spreads to every position through attention)."""
        torch = self.torch
        slot, row, neuron = (int(i) for i in (~torch.isfinite(out)).transpose(0, 1).nonzero()[0])
        line, word = self.word_at(unit, starts, row)
        layer = self.layers[slot]
        site = self.component.site(self.loaded.model, layer)
        value = float(buf[row, slot, neuron])
        where = (f"{site} (layer {layer}), line {line}, word {word!r}, "
                 f"neuron {neuron}")
        if np.isfinite(value):
            limit = float(torch.finfo(self.dtype).max)
            return ActivationRangeError(
                f"{where}: value {value:.6g} is beyond {str(self.dtype).removeprefix('torch.')}'s "
                f"±{limit:,.0f} and would be stored as infinity; use --dtype float32")
        return ActivationRangeError(
            f"{where}: the model produced {value} (model dtype "
            f"{self.loaded.dtype}); check the weights, or try --model-dtype float32 and "
            "--dtype float32")

    def _stats(self, out: Any) -> tuple[RunningStats, bool]:
        """Per-neuron statistics of the stored rows ``out`` and whether all are finite."""
        torch = self.torch
        n = out.shape[0]
        if n == 0:
            return RunningStats.empty(tuple(out.shape[1:])), True
        if self.device.type == "cpu" and self.compiled:
            # two compiled passes over float32 rows (exact copies of the stored values)
            # instead of a float64 copy, var_mean and aminmax: MiniLM 33 -> 2 ms a batch,
            # a 17 x 512 Llama 125 -> 5 ms (docs/bounds/extraction.md)
            from neuroheat.kernels.rowstats import row_stats

            mean, m2, lo, hi, finite = row_stats(self._float32(out).numpy())
            return RunningStats(np.full(mean.shape, float(n)), mean, m2, lo, hi), finite
        # One fused float64 pass for mean and M2 (var_mean), about half the time of separate
        # passes (scripts/bench_decoders.py); min/max from the same float64 copy (exact: every
        # stored value is a float64), 14% less than aminmax in float16 (bench_bounds.py).
        wide = out.double()
        var, mean = torch.var_mean(wide, dim=0, correction=0)
        lo, hi = torch.aminmax(wide, dim=0)
        arrays = [mean, var * n, lo, hi]
        mean, m2, lo, hi = (a.cpu().numpy() for a in arrays)
        # min and max carry any inf or NaN (both propagate NaN)
        return (RunningStats(np.full(mean.shape, float(n)), mean, m2, lo, hi),
                bool(np.isfinite(lo).all() and np.isfinite(hi).all()))

    def _float32(self, out: Any) -> Any:
        """``out`` as float32 (itself, or a copy into a buffer kept between units)."""
        if out.dtype == self.torch.float32:
            return out
        n = out.shape[0]
        if self._wide is None or self._wide.shape[0] < n or self._wide.shape[1:] != out.shape[1:]:
            self._wide = self.torch.empty(out.shape, dtype=self.torch.float32)
        wide = self._wide[:n]
        wide.copy_(out)
        return wide
