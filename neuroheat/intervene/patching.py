"""Activation patching: which activations carry the difference between a clean and a corrupt
prompt, measured by a metric of the answer at the last position.

``grid`` (``resid``, ``attn_out`` or ``mlp_out``): every (layer, position) of that kind is
patched from the clean run into the corrupt run, one at a time; ``units`` (``mlp.3:17``): each
unit is patched at every position. ``method="attribution"`` estimates the same effects from one
forward and backward pass per pair (:mod:`~neuroheat.intervene.attribution_patching`).

Cost: pairs of one length run together (no padding at all); each batch runs clean once
(recording the patched sites) and corrupt once (recording the residual stream); the patched
runs then resume before the patched site (:func:`neuroheat.model.edits.resume_at`: earlier
blocks never run again; a patched ``resid.L`` is the residual they resume from) as replicated
copies of the batch, as many as ``batch_tokens`` holds,
each copy patching a different entry, and compute logits at the last position only.

Example:
    >>> res = patch("path/to/gpt2", "pairs.jsonl", grid="resid")   # doctest: +SKIP
    >>> sites, scores = res.grid()                                 # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.intervene.forward import last_logits, metric_of, record
from neuroheat.intervene.pairs import Pair
from neuroheat.intervene.patch_config import PatchConfig
from neuroheat.intervene.patch_result import PatchResult, entry

__all__ = ["patch"]

log = logging.getLogger(__name__)


def groups(pairs: Sequence[Pair], budget: int) -> Iterator[list[int]]:
    """Indices of pairs of one length, at most ``budget`` tokens (one pair at least) each."""
    by_len: dict[int, list[int]] = {}
    for i, p in enumerate(pairs):
        by_len.setdefault(len(p), []).append(i)
    for length, idx in by_len.items():
        rows = max(1, budget // length)
        for k in range(0, len(idx), rows):
            yield idx[k:k + rows]


def tensors(pairs: Sequence[Pair], idx: Sequence[int], device: Any) -> dict[str, Any]:
    """Clean / corrupt ids ``[B, T]`` and answer / foil ids ``[B]`` of the pairs ``idx``."""
    import torch

    def t(rows: Any) -> Any:
        return torch.tensor(rows, dtype=torch.long, device=device)

    sel = [pairs[i] for i in idx]
    return {"clean": t([p.clean for p in sel]), "corrupt": t([p.corrupt for p in sel]),
            "answer": t([p.answer for p in sel]),
            "foil": t([p.foil if p.foil is not None else 0 for p in sel])}


def _start(site: str, blocks: int) -> tuple[int, bool]:
    """Where runs patching ``site`` resume, and whether they patch the residual they resume
    from directly (``resid.L`` inside the stack: block L need not run again)."""
    kind, layer = site.rsplit(".", 1)
    if kind == "resid" and 0 < int(layer) < blocks:
        return int(layer), True
    return max(int(layer) - 1, 0), False


def _patched_runs(lm: Any, corrupt: Any, resid: dict, site: str, jobs: Sequence[Any],
                  clean: Any, copies: int, put: Any, blocks: int
                  ) -> Iterator[tuple[int, Any]]:
    """Last-position logits ``[n, B, V]`` of the corrupt batch with ``site`` patched by
    ``put(a_copy, clean, job)``, ``copies`` jobs per run; yields (first job, logits)."""
    from neuroheat.model.edits import edit, resume_at

    rows = corrupt.shape[0]
    start, direct = _start(site, blocks)
    for first in range(0, len(jobs), copies):
        chunk = jobs[first:first + copies]

        def fn(act: Any, ctx: Any, chunk: Any = chunk) -> Any:
            a = act.view(len(chunk), rows, *act.shape[1:])
            src = clean.to(act.dtype)
            for j, job in enumerate(chunk):
                put(a[j], src, job)
            return act

        with ExitStack() as stack:
            if direct:
                base = fn(resid[start].repeat(len(chunk), 1, 1), None)
                stack.enter_context(resume_at(lm, start, base))
            else:
                stack.enter_context(edit(lm, {site: fn}))
                if start > 0:
                    stack.enter_context(resume_at(lm, start,
                                                  resid[start].repeat(len(chunk), 1, 1)))
            logits = last_logits(lm, corrupt.repeat(len(chunk), 1))
        yield first, logits.view(len(chunk), rows, -1)


def _put_position(a: Any, clean: Any, p: int) -> None:
    a[:, p] = clean[:, p]


def _put_unit(a: Any, clean: Any, i: int) -> None:
    a[..., i] = clean[..., i]


def _entries(lm: Any, cfg: PatchConfig, units: list[Any], length: int
             ) -> list[tuple[str, Any]]:
    """(site, job) of every result entry: a position of a grid site, or a unit index."""
    from neuroheat.model.sites import get_site_kind

    if cfg.grid:
        return [(f"{cfg.grid}.{layer}", p) for layer in get_site_kind(cfg.grid).layers(lm)
                for p in range(length)]
    return [(u.site, u.index) for u in units]


def patch(model: Any, pairs: str | os.PathLike | Iterable[Mapping[str, Any]],
          units: str | Sequence[str] | None = None, config: PatchConfig | None = None,
          **overrides: Any) -> PatchResult:
    """Patch clean activations into corrupt runs: a ``grid`` of every (layer, position) of a
    site kind, or each of ``units`` (``"mlp.3:17"``, ``"mlp.3:0-7"``) at every position.

    ``pairs``: a PAIRS.jsonl file or dicts with ``clean``, ``corrupt``, ``answer``, ``foil``.
    Settings are :class:`~neuroheat.intervene.patch_config.PatchConfig` fields (``grid``,
    ``method``, ``metric``, ``batch_tokens``, ``device``, ``model_dtype``).

    Example:
        >>> res = patch("path/to/gpt2", "pairs.jsonl", ["mlp.2:0-63"], method="attribution")  # doctest: +SKIP
        >>> res.to_pandas().sort_values("effect").tail(3)                                   # doctest: +SKIP
    """
    import torch

    from neuroheat.intervene.inputs import load_lm
    from neuroheat.intervene.pairs import read_pairs

    cfg = PatchConfig.build(config, **overrides)
    if bool(cfg.grid) == bool(units):
        raise InputError("give either --grid KIND (resid, attn_out, mlp_out) or --units U, "
                         "not both and not neither")
    loaded = load_lm(model, cfg.device, cfg.model_dtype)
    lm, tok = loaded.model, loaded.tokenizer
    unit_list = _units(lm, units) if units else []
    plist = read_pairs(tok, pairs, cfg.metric)
    if cfg.grid:
        for p in plist[1:]:
            if len(p) != len(plist[0]):
                raise InputError(f"pair {p.number} is {len(p)} tokens, pair "
                                 f"{plist[0].number} {len(plist[0])}; a --grid needs every "
                                 "pair of one length (positions must line up)")
    entries = _entries(lm, cfg, unit_list, len(plist[0]))
    n = len(plist)
    clean_m, corrupt_m = np.zeros(n), np.zeros(n)
    patched = np.zeros((len(entries), n))
    lm.eval()
    for number, idx in enumerate(groups(plist, cfg.batch_tokens)):
        batch = tensors(plist, idx, loaded.device)
        if cfg.method == "attribution":
            from neuroheat.intervene.attribution_patching import attribute

            jobs = [(s, ("pos", j)) for s, j in entries] if cfg.grid else entries
            mc, mx, est = attribute(lm, batch, jobs, cfg.metric)
            patched[:, idx] = mx[None, :] + est
        else:
            with torch.inference_mode():
                mc, mx, out = _exact(lm, batch, entries, cfg)
            patched[:, idx] = out
        clean_m[idx], corrupt_m[idx] = mc, mx
        if not cfg.quiet:
            log.info("patch: batch %d, %d pair(s)", number + 1, len(idx))
    same = int(np.sum(clean_m == corrupt_m))
    if same:
        log.warning("%d of %d pair(s) have M_clean = M_corrupt; they are left out of the "
                    "scores", same, n)
    results = [entry(site if cfg.grid else None, job if cfg.grid else None,
                     None if cfg.grid else [f"{site}:{job}"], patched[k], clean_m, corrupt_m)
               for k, (site, job) in enumerate(entries)]
    return PatchResult(cfg.metric, [float(v) for v in clean_m],
                       [float(v) for v in corrupt_m], results,
                       settings={"model": loaded.name, "method": cfg.method, "grid": cfg.grid})


def _units(lm: Any, units: str | Sequence[str]) -> list[Any]:
    from neuroheat.intervene.units import parse_units
    from neuroheat.model.edits import site_of

    def width(site: str) -> int:
        if site.startswith("sae."):
            raise InputError(f"patching SAE latents ({site}) is not supported; patch model "
                             "sites (mlp.L, resid.L, attn_out.L, mlp_out.L)")
        return int(site_of(lm, site).width or 0)

    return parse_units(units, width)


def _exact(lm: Any, batch: dict[str, Any], entries: list[tuple[str, Any]], cfg: PatchConfig
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clean and corrupt metrics ``[B]`` and patched metrics ``[entries, B]`` of one batch."""
    sites = list(dict.fromkeys(site for site, _ in entries))
    kinds: dict[str, list[int]] = {}
    for site in sites:
        kind, layer = site.rsplit(".", 1)
        kinds.setdefault(kind, []).append(int(layer))
    from neuroheat.model.sites import get_site_kind

    blocks = len(get_site_kind("resid").layers(lm)) - 1
    starts = sorted({_start(s, blocks)[0] for s in sites} - {0})
    answer, foil = batch["answer"], batch["foil"]
    logits, clean = record(lm, batch["clean"], kinds)
    mc = metric_of(logits, answer, foil, cfg.metric)
    logits, res = record(lm, batch["corrupt"], {"resid": starts})
    mx = metric_of(logits, answer, foil, cfg.metric)
    resid = {int(k.rsplit(".", 1)[1]): v for k, v in res.items()}
    rows, length = batch["corrupt"].shape
    copies = max(1, cfg.batch_tokens // (rows * length))
    out = np.zeros((len(entries), rows))
    put = _put_position if cfg.grid else _put_unit
    for site in sites:
        where = [k for k, (s, _) in enumerate(entries) if s == site]
        jobs = [entries[k][1] for k in where]
        for first, logits in _patched_runs(lm, batch["corrupt"], resid, site, jobs,
                                           clean[site], copies, put, blocks):
            m = metric_of(logits.reshape(-1, logits.shape[-1]), answer.repeat(len(logits)),
                          foil.repeat(len(logits)), cfg.metric).view(len(logits), rows)
            out[where[first:first + len(logits)]] = m.cpu().numpy()
    return mc.cpu().numpy(), mx.cpu().numpy(), out
