"""Reference values of units for ``mean`` and ``resample`` ablation.

``mean``: each unit's mean over *every* real token of the reference (default: the corpus), never
over a batch. ``resample``: each corpus token takes the unit's value at a uniformly random
reference token, drawn once for the whole corpus from ``seed`` (so results do not depend on
batching, and the same seed gives identical results). A reference store (a neuroheat store of
the same site) gives its stored per-neuron mean.

Example:
    >>> ref = reference_values(loaded, seqs, units, saes, "mean", 4096)   # doctest: +SKIP
    >>> ref.mean[units[0]]                                                # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.intervene.units import Unit


@dataclass
class Reference:
    """Per-unit means and (for resample) the values at every reference token."""

    mean: dict[Unit, float] = field(default_factory=dict)
    values: dict[Unit, Any] = field(default_factory=dict)   # torch float32 [N_ref]
    tokens: int = 0
    draws: Any = None   # torch int64 [corpus real tokens]: reference token of each


def site_values(loaded: Any, ids: Any, mask: Any, sites: Sequence[str]) -> dict[str, Any]:
    """``{site: [batch, tokens, width]}`` of one forward pass (blocks after the deepest
    stop)."""
    from contextlib import ExitStack

    from neuroheat.model.hooks import run_until_stopped
    from neuroheat.model.sites import Site, get_site_kind

    parsed = [Site.parse(s) for s in sites]
    deepest = max(p.layer for p in parsed)
    out: dict[str, Any] = {}
    with ExitStack() as stack:
        taps = []
        for p in parsed:
            stop = p.layer == deepest and p.kind in ("resid",)
            tap = stack.enter_context(get_site_kind(p.kind).tap(loaded.model, [p.layer],
                                                                stop=stop))
            taps.append((str(p), tap))
        res = run_until_stopped(loaded.model, input_ids=ids, attention_mask=mask)
        for name, tap in taps:
            out[name] = tap.values(res)[0]
    return out


def reference_values(loaded: Any, seqs: Sequence[Any], units: Sequence[Unit], saes: dict,
                     method: str, budget: int, *, corpus_tokens: int, seed: int) -> Reference:
    """Means (and resample values and draws) of ``units`` over reference sequences."""
    import torch

    from neuroheat.intervene.inputs import batches

    ref = Reference()
    sites = sorted({u.model_site for u in units})
    by_site = {s: [u for u in units if u.model_site == s] for s in sites}
    sums = {u: 0.0 for u in units}
    kept: dict[Unit, list[Any]] = {u: [] for u in units}
    dev = loaded.device
    with torch.inference_mode():
        for batch in batches(seqs, budget):
            ids = torch.from_numpy(batch.ids).to(dev)
            mask = torch.from_numpy(batch.mask).to(dev)
            values = site_values(loaded, ids, mask, sites)
            real = mask.bool()
            for site, group in by_site.items():
                x = values[site][real].float()
                f = None
                if any(u.is_latent for u in group):
                    f = saes[site].sae.encode(x)
                for u in group:
                    col = (f if u.is_latent else x)[:, u.index].double().cpu()
                    sums[u] += float(col.sum())
                    if method == "resample":
                        kept[u].append(col.float())
            ref.tokens += int(real.sum())
    if ref.tokens == 0:
        raise InputError("the reference has no token")
    ref.mean = {u: sums[u] / ref.tokens for u in units}
    if method == "resample":
        ref.values = {u: torch.cat(kept[u]) for u in units}
        gen = np.random.default_rng(seed)
        ref.draws = torch.from_numpy(gen.integers(0, ref.tokens, size=corpus_tokens))
    return ref


def store_means(path: str, units: Sequence[Unit]) -> Reference:
    """Per-neuron means of ``units`` from a neuroheat store of the same model and site (the
    store's own statistics: means over its stored vectors, words or tokens as extracted)."""
    from neuroheat.model.sites import Site
    from neuroheat.store import open_store
    from neuroheat.store.summary import summarize

    ref = Reference()
    component = summarize(path)["component"]
    with open_store(path) as store:
        for u in units:
            if u.is_latent:
                raise InputError("--reference STORE gives means of model neurons only; use a "
                                 "corpus as the reference for SAE latents")
            site = Site.parse(u.model_site)
            if component != site.kind or site.layer not in store.layers:
                raise InputError(f"store {path} holds {component} layers {store.layers}, not "
                                 f"{u.model_site} of unit {u}; give a store of that site")
            ref.mean[u] = float(store.stats(site.layer)["mean"][u.index])
        ref.tokens = int(store.num_words)
    return ref
