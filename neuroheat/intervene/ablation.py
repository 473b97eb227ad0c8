"""Ablation effects over a corpus: what removing a unit does to the model's predictions.

Each unit is ablated on its own (one result per unit, in the order given) unless ``jointly``.
Methods: ``zero`` (a <- 0), ``fixed`` (a <- V), ``scale`` (a <- V*a), ``mean`` (the unit's mean
over the whole reference) and ``resample`` (a seeded random reference token's value); see
:mod:`~neuroheat.intervene.reference`. SAE latents (``sae.SITE:I``) are ablated inside the SAE
with its error term kept (:mod:`~neuroheat.intervene.splice`).

Cost: each batch runs clean once, recording the residual stream before every edited site;
edited runs then resume there (:func:`neuroheat.model.edits.resume_at`: the earlier blocks
never run again), and the single-unit ablations of one site run as replicated copies of the
batch, as many as ``batch_tokens`` holds, each copy with a different unit ablated. The output
head runs on the scored tokens only (:func:`~neuroheat.intervene.forward.head_on_rows`), and the
metrics read each run's logits in one compiled pass (:mod:`~neuroheat.intervene.metrics`).

Example:
    >>> res = ablate("path/to/gpt2", "corpus.txt", ["mlp.10:0-63"], method="mean")  # doctest: +SKIP
    >>> res.to_pandas().sort_values("delta_ce").tail(3)                             # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from functools import partial
from typing import Any

from neuroheat.cores import free_core
from neuroheat.errors import InputError
from neuroheat.intervene.config import AblateConfig
from neuroheat.intervene.forward import head_on_rows
from neuroheat.intervene.metrics import Beside, Clean, CleanBatch, Effect
from neuroheat.intervene.result import Effects
from neuroheat.intervene.units import Unit, parse_units

log = logging.getLogger(__name__)


def _width_of(model: Any, saes: dict) -> Any:
    from neuroheat.model.edits import site_of

    def width(site: str) -> int:
        if site.startswith("sae."):
            base = site[4:]
            if base not in saes:
                given = ", ".join(f"sae.{s}" for s in saes) or "none (give --sae DIR)"
                raise InputError(f"unit site {site!r} names no SAE given; SAE sites: {given}")
            return int(saes[base].sae.d_sae)
        return int(site_of(model, site).width or 0)

    return width


def _resume_layer(site: str) -> int:
    """The residual layer a run that edits ``site`` resumes from (its block's input)."""
    from neuroheat.model.sites import Site

    s = Site.parse(site)
    return max(s.layer - 1, 0)


def _shard(units: list[Unit], spec: Any) -> list[Unit]:
    if spec is None:
        return units
    from neuroheat.extract.shard import parse_shard

    index, count = parse_shard(spec)
    size, extra = divmod(len(units), count)
    start = index * size + min(index, extra)
    return units[start:start + size + (1 if index < extra else 0)]


def _new_value(unit: Unit, cur: Any, cfg: AblateConfig, ref: Any, draws: Any) -> Any:
    """The ablated value of ``unit`` given its current values ``cur`` ``[B, T]``."""
    m = cfg.method
    if m == "zero":
        return cur.new_zeros(())
    if m == "fixed":
        return cur.new_tensor(float(cfg.value))
    if m == "scale":
        return cur * float(cfg.value)
    if m == "mean":
        return cur.new_tensor(ref.mean[unit])
    return ref.values[unit].to(cur.device)[draws]


def _editor(site: str, jobs: Sequence[Sequence[Unit]], rows: int, cfg: AblateConfig,
            ref: Any, draws: Any, saes: dict) -> Any:
    """An edit fn of ``site`` for replicas ``j`` (``rows`` each) ablating ``jobs[j]``'s units
    at that site together."""
    units = [[u for u in job if u.model_site == site] for job in jobs]

    def fn(act: Any, ctx: Any) -> Any:
        a = act.view(len(units), rows, *act.shape[1:])
        x0 = a[0].clone() if any(u.is_latent for g in units for u in g) else None
        enc: dict[str, tuple[Any, Any]] = {}  # every replica's site input is the clean one
        for j, group in enumerate(units):
            for u in group:
                if not u.is_latent:
                    a[j, :, :, u.index] = _new_value(u, a[j, :, :, u.index], cfg, ref, draws)
                    continue
                bound = saes[u.model_site]
                if u.model_site not in enc:
                    enc[u.model_site] = (bound.sae.encode(x0), bound.scale(x0))
                f, scale = enc[u.model_site]
                fi = f[..., u.index]
                delta = (_new_value(u, fi, cfg, ref, draws) - fi).unsqueeze(-1) * scale
                a[j] += delta * bound.decoder(act.device)[u.index]
        return act

    return fn


class _Runs:
    """The edited runs of one batch. The edit, resume and head hooks stay in place across
    consecutive runs of the same sites and number of copies, only the edit functions change
    (entering them anew costs a ``model.eval()`` and block swaps per run)."""

    def __init__(self, lm: Any, ids: Any, mask: Any, resid: dict[int, Any], rows: Any) -> None:
        self.lm, self.ids, self.mask, self.resid, self.rows = lm, ids, mask, resid, rows
        self.key: Any = None
        self.stack = ExitStack()
        self.fns: dict[str, Any] = {}

    def __enter__(self) -> _Runs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()

    def run(self, edits: dict[str, Any], copies: int) -> Any:
        """Logits ``[copies, N, V]`` at the scored positions ``rows`` (``[N]``, flat) of the
        batch replicated ``copies`` times with ``edits``, resuming before the shallowest
        edited site."""
        key = (frozenset(edits), copies)
        if key != self.key:
            self._enter(sorted(edits), copies)
            self.key = key
        self.fns.update(edits)
        logits = self.lm(input_ids=self.inputs[0], attention_mask=self.inputs[1],
                         **_no_cache(self.lm)).logits
        at = _at_rows(logits, self.used, self.wanted)
        return at.view(copies, len(self.rows), at.shape[-1])

    def _enter(self, sites: list[str], copies: int) -> None:
        from neuroheat.model.edits import edit, resume_at

        self.stack.close()
        lm, fns = self.lm, self.fns

        def dispatch(site: str) -> Any:
            return lambda act, ctx: fns[site](act, ctx)

        self.stack.enter_context(edit(lm, {s: dispatch(s) for s in sites}))
        start = min(_resume_layer(s) for s in sites)
        if start > 0:
            self.stack.enter_context(
                resume_at(lm, start, self.resid[start].repeat(copies, 1, 1)))
        self.wanted = _replicated(self.rows, copies, self.ids.numel())
        self.used = self.stack.enter_context(head_on_rows(lm, self.wanted))
        self.inputs = (self.ids.repeat(copies, 1), self.mask.repeat(copies, 1))


def _run_edited(lm: Any, ids: Any, mask: Any, resid: dict[int, Any], edits: dict[str, Any],
                copies: int, rows: Any) -> Any:
    """One run of :meth:`_Runs.run`."""
    with _Runs(lm, ids, mask, resid, rows) as runs:
        return runs.run(edits, copies)


def _replicated(rows: Any, copies: int, size: int) -> Any:
    """The flat positions ``rows`` of a batch of ``size`` positions in each of ``copies``."""
    import torch

    if copies == 1:
        return rows
    shift = torch.arange(copies, device=rows.device)[:, None] * size
    return (rows[None, :] + shift).reshape(-1)


def _at_rows(logits: Any, used: list[bool], rows: Any) -> Any:
    """Logits ``[N, V]`` at ``rows``: as the head returned them where it ran on ``rows``
    only, else picked from the full ``[B, T, V]``."""
    if used and logits.shape[:2] == (1, len(rows)):
        return logits[0]
    return logits.reshape(-1, logits.shape[-1])[rows]


def _draws(ref: Any, batch: Any, device: Any) -> Any:
    import torch

    if ref is None or ref.draws is None:
        return None
    mask = torch.from_numpy(batch.mask).bool()
    out = torch.zeros(mask.shape, dtype=torch.int64)
    out[mask] = ref.draws[batch.first_token:batch.first_token + int(mask.sum())]
    return out.to(device)


def ablate(model: Any, corpus: str | os.PathLike | Iterable[str],
           units: str | Sequence[str] | None = None, config: AblateConfig | None = None,
           **overrides: Any) -> Effects:
    """Ablation effects of ``units`` (``"mlp.3:17"``, ``"mlp.3:0-63"``, ``"sae.resid.3:5"``)
    on the next-token predictions over ``corpus`` (a text file or lines).

    Settings are :class:`~neuroheat.intervene.config.AblateConfig` fields (``method``,
    ``value``, ``jointly``, ``reference``, ``sae``, ``splice``, ``seed``, ``batch_tokens``,
    ``device``, ``model_dtype``, ``shard``).

    Example:
        >>> res = ablate("path/to/gpt2", "corpus.txt", "mlp.10:5,17")        # doctest: +SKIP
        >>> [r["delta_ce"] for r in res.results]                              # doctest: +SKIP
    """
    import torch

    from neuroheat.extract.runner import default_batch_tokens
    from neuroheat.intervene.inputs import batches, load_lm, read_lines, sequences
    from neuroheat.intervene.reference import reference_values, store_means
    from neuroheat.intervene.splice import bind_saes
    from neuroheat.model.architectures import is_causal
    from neuroheat.model.loading import model_max_length

    cfg = AblateConfig.build(config, **overrides)
    loaded = load_lm(model, cfg.device, cfg.model_dtype)
    budget = cfg.batch_tokens or default_batch_tokens(loaded.device)
    lm, tok = loaded.model, loaded.tokenizer
    causal = is_causal(lm)
    saes = bind_saes(lm, cfg.sae)
    if cfg.splice and not saes:
        raise InputError("--splice needs --sae DIR (the SAE whose reconstruction replaces its "
                         "site)")
    if not units and not cfg.splice:
        raise InputError("no units given: pass --units SITE:INDEX (e.g. mlp.3:17), or --sae "
                         "DIR --splice")
    unit_list = _shard(parse_units(units, _width_of(lm, saes)), cfg.shard) if units else []
    lines = read_lines(corpus)
    seqs = sequences(tok, lines, model_max_length(lm, tok), causal=causal)
    corpus_tokens = sum(len(s.ids) for s in seqs)
    ref = None
    if cfg.method in ("mean", "resample") and unit_list:
        if cfg.reference and _is_store(cfg.reference):
            if cfg.method == "resample":
                raise InputError("--method resample needs a corpus as --reference, not a store")
            ref = store_means(cfg.reference, unit_list)
        else:
            ref_seqs = seqs if not cfg.reference else sequences(
                tok, read_lines(cfg.reference), model_max_length(lm, tok), causal=causal)
            ref = reference_values(loaded, ref_seqs, unit_list, saes, cfg.method,
                                   budget, corpus_tokens=corpus_tokens, seed=cfg.seed)
    jobs = [unit_list] if cfg.jointly else [[u] for u in unit_list]
    effects = [Effect() for _ in jobs]
    clean = Clean()
    splicing = _Splicing(saes, lm) if cfg.splice else None
    dev = loaded.device
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    # on the CPU, where torch leaves a core free, a worker thread adds each run's effects
    # while the next run goes forward; with every core in torch's pool they are added in
    # turn, each run's sums in pieces over torch's threads
    on_cpu = torch.device(dev).type == "cpu"
    beside = Beside(threaded=on_cpu and free_core(),
                    helpers=torch.get_num_threads() if on_cpu else 1)
    with beside, torch.inference_mode():
        for number, batch in enumerate(batches(seqs, budget, pad)):
            ids = torch.from_numpy(batch.ids).to(dev)
            mask = torch.from_numpy(batch.mask).to(dev)
            scored = torch.from_numpy(batch.scored).to(dev)
            targets = torch.from_numpy(batch.targets).to(dev)[scored] if causal else None
            layers = sorted({_resume_layer(u.model_site) for u in unit_list} |
                            ({_resume_layer(s) for s in saes} if splicing else set()))
            rows = scored.reshape(-1).nonzero()[:, 0]   # the order of [scored]
            logits, resid = _clean_pass(lm, ids, mask, layers, rows)
            clean_lp = CleanBatch(logits, targets)
            clean.add(clean_lp)
            draws = _draws(ref, batch, dev)
            copies = max(1, budget // batch.padded)
            with _Runs(lm, ids, mask, resid, rows) as runs:
                for first, chunk in _chunks(jobs, copies):
                    sites = {u.model_site for job in chunk for u in job}
                    out = runs.run({s: _editor(s, chunk, batch.rows, cfg, ref, draws, saes)
                                    for s in sites}, len(chunk))
                    beside.submit(partial(_add_runs, beside, effects[first:first + len(chunk)],
                                          clean_lp, out, targets))
            if splicing is not None:
                splicing.add(ids, mask, rows, resid, clean_lp, targets)
            if not cfg.quiet:
                log.info("ablate: batch %d, %d sequences", number + 1, batch.rows)
    decode = _decoder(tok)
    results = [dict(units=[str(u) for u in job], **eff.result(decode, causal))
               for job, eff in zip(jobs, effects, strict=True)]
    return Effects(model=loaded.name, corpus=str(corpus) if isinstance(corpus, str | os.PathLike)
                   else "<lines>", method=cfg.method, tokens=clean.tokens,
                   clean=clean.result(causal), results=results,
                   splice=splicing.result(decode, causal) if splicing else None,
                   settings={"value": cfg.value, "jointly": cfg.jointly, "seed": cfg.seed,
                             "reference": cfg.reference, "shard": cfg.shard})


def _add_runs(beside: Beside, effects: list[Effect], clean: CleanBatch, out: Any,
              targets: Any) -> None:
    """Add run ``j`` of ``out`` (``[copies, N, V]``) to ``effects[j]`` (in turn, each
    run's sums in pieces on the helper threads)."""
    for j, effect in enumerate(effects):
        effect.add(clean, out[j], targets, beside.helpers)


def _is_store(path: str) -> bool:
    from pathlib import Path

    p = Path(path)
    return p.is_dir() or p.suffix.lower() in (".h5", ".hdf5", ".nhs")


def _chunks(jobs: list[list[Unit]], copies: int) -> Any:
    """Consecutive jobs of the same edited sites, at most ``copies`` per run."""
    i = 0
    while i < len(jobs):
        sites = {u.model_site for u in jobs[i]}
        j = i + 1
        while j < len(jobs) and j - i < copies and {u.model_site for u in jobs[j]} == sites:
            j += 1
        yield i, jobs[i:j]
        i = j


def _clean_pass(lm: Any, ids: Any, mask: Any, layers: Sequence[int], rows: Any
                ) -> tuple[Any, dict]:
    """Clean logits ``[N, V]`` at the flat positions ``rows`` and the residual stream at
    ``layers`` (for :func:`resume_at`)."""
    from neuroheat.model.sites import get_site_kind

    wanted = [lay for lay in layers if lay > 0]
    with ExitStack() as stack:
        used = stack.enter_context(head_on_rows(lm, rows))
        tap = stack.enter_context(get_site_kind("resid").tap(lm, wanted)) if wanted else None
        out = lm(input_ids=ids, attention_mask=mask, **_no_cache(lm))
        values = tap.values(out) if tap is not None else []
    return _at_rows(out.logits, used, rows), dict(zip(wanted, values, strict=True))


def _no_cache(lm: Any) -> dict[str, Any]:
    from neuroheat.model.architectures import is_causal

    return {"use_cache": False} if is_causal(lm) else {}


def _decoder(tok: Any) -> Any:
    def decode(i: int) -> str:
        return tok.decode([i])

    return decode


class _Splicing:
    """The SAE-spliced and site-zeroed runs of every SAE, with their statistics."""

    def __init__(self, saes: dict, lm: Any) -> None:
        from neuroheat.intervene.splice import SpliceStats

        self.saes, self.lm = saes, lm
        self.sae_runs = {s: Effect() for s in saes}
        self.zero_runs = {s: Effect() for s in saes}
        self.stats = {s: SpliceStats(b.sae.d_in, b.sae.d_sae) for s, b in saes.items()}

    def add(self, ids: Any, mask: Any, rows: Any, resid: dict, clean_lp: Any,
            targets: Any) -> None:
        for site, bound in self.saes.items():
            stats = self.stats[site]

            def spliced(act: Any, ctx: Any, bound: Any = bound, stats: Any = stats) -> Any:
                f = bound.sae.encode(act)
                x_hat = bound.reconstruct(act, f)
                stats.add(act[ctx.mask], x_hat[ctx.mask], f[ctx.mask])
                return x_hat

            out = _run_edited(self.lm, ids, mask, resid, {site: spliced}, 1, rows)
            self.sae_runs[site].add(clean_lp, out[0], targets)
            out = _run_edited(self.lm, ids, mask, resid, {site: lambda a, c: a * 0}, 1, rows)
            self.zero_runs[site].add(clean_lp, out[0], targets)

    def result(self, decode: Any, causal: bool) -> list[dict[str, Any]]:
        from neuroheat.intervene.splice import scores

        out = []
        for site, bound in self.saes.items():
            s = self.sae_runs[site].result(decode, causal)
            z = self.zero_runs[site].result(decode, causal)
            out.append({"site": site, "sae": bound.sae.source, **scores(s, z),
                        **self.stats[site].result()})
        return out
