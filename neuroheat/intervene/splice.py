"""SAEs inside interventions: their decoders, latent ablation and splicing metrics.

An SAE given with ``--sae`` reads one model site; its latents are units ``sae.SITE:I``.
Ablating a latent keeps the SAE's error term, so the site moves by exactly
``(f_i' - f_i(x)) * W_dec[i]`` (``-f_i(x) * W_dec[i]`` for ``zero``), scaled back by the input
normalisation where the SAE normalises. Splicing replaces the site by the reconstruction
``x_hat = f(x) @ W_dec + b_dec`` and reports SAELens' fidelity metrics:
``ce_loss_score = (CE_zero - CE_sae) / (CE_zero - CE_clean)`` (CE_zero: the whole site zeroed),
``kl_div_score = (KL_zero - KL_sae) / KL_zero``, ``explained_variance = 1 - Var(x - x_hat) /
Var(x)`` (variance over every token, summed over dimensions), ``l0`` (mean active latents per
token) and ``dead_fraction`` (latents never active on the corpus).

Example:
    >>> bound = bind_saes(model, ["resid.2=path/to/sae"])   # doctest: +SKIP
    >>> sorted(bound)                                       # doctest: +SKIP
    ['resid.2']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import InputError


@dataclass(eq=False)
class BoundSAE:
    """An SAE bound to a model site, with its decoder ``W_dec`` ``[d_sae, d_in]``."""

    sae: Any
    site: str
    W_dec: np.ndarray
    _dev: dict[str, Any] = field(default_factory=dict, repr=False)

    def decoder(self, device: Any) -> Any:
        import torch

        key = str(device)
        if key not in self._dev:
            self._dev[key] = torch.from_numpy(self.W_dec).to(device)
        return self._dev[key]

    def scale(self, x: Any) -> Any:
        """``[..., 1]`` factor from the SAE's normalised space back to the site's."""
        norm = self.sae.normalize_activations
        if norm == "constant_norm_rescale":
            return x.norm(dim=-1, keepdim=True) / self.sae.d_in ** 0.5
        if norm == "layer_norm":
            from neuroheat.sae.encoder import LAYER_NORM_EPS

            return x.std(dim=-1, keepdim=True) + LAYER_NORM_EPS
        return x.new_ones(*x.shape[:-1], 1)

    def reconstruct(self, x: Any, f: Any) -> Any:
        """``x_hat`` of site values ``x`` with latents ``f``, in the site's space."""
        t = self.sae._tensors(x.device)
        out = f @ self.decoder(x.device) + t["b_dec"]
        if self.sae.normalize_activations == "layer_norm":
            return out * self.scale(x) + x.mean(dim=-1, keepdim=True)
        return out * self.scale(x)


def load_decoder(sae: Any) -> np.ndarray:
    """``W_dec`` ``[d_sae, d_in]`` (float32) read from the SAE's folder."""
    path = Path(sae.source)
    if sae.format == "gemma_scope":
        with np.load(path / "params.npz", allow_pickle=False) as z:
            w = z["W_dec"] if "W_dec" in z.files else None
    else:
        from safetensors.numpy import load_file

        name = "sae_weights.safetensors" if sae.format == "saelens" else "sae.safetensors"
        w = load_file(str(path / name)).get("W_dec")
    if w is None:
        raise InputError(f"SAE {path} has no W_dec: splicing and latent units need the decoder")
    w = np.ascontiguousarray(w, dtype=np.float32)
    if w.shape != (sae.d_sae, sae.d_in):
        raise InputError(f"SAE {path}: W_dec has shape {w.shape}, expected "
                         f"({sae.d_sae}, {sae.d_in})")
    return w


def bind_saes(model: Any, saes: Sequence[Any]) -> dict[str, BoundSAE]:
    """SAEs (folders, ``SITE=DIR`` strings or SAE objects) by the model site they read."""
    if not saes:
        return {}
    from neuroheat.sae.formats import load_saes
    from neuroheat.sae.sites import bind_site

    out: dict[str, BoundSAE] = {}
    for sae in load_saes(list(saes)):
        site = str(bind_site(sae, model))
        if site in out:
            raise InputError(f"two SAEs read {site}; give one SAE per site")
        out[site] = BoundSAE(sae, site, load_decoder(sae))
    return out


class SpliceStats:
    """Running sums for explained variance, L0 and dead latents of one SAE."""

    def __init__(self, d_in: int, d_sae: int) -> None:
        import torch

        z = dict(dtype=torch.float64)
        self.n = 0
        self.sx, self.sxx = torch.zeros(d_in, **z), torch.zeros(d_in, **z)
        self.sr, self.srr = torch.zeros(d_in, **z), torch.zeros(d_in, **z)
        self.active = 0.0
        self.alive = torch.zeros(d_sae, dtype=torch.bool)

    def add(self, x: Any, x_hat: Any, f: Any) -> None:
        """Add real tokens: site values ``x`` ``[n, d_in]``, reconstruction, latents."""
        x, r = x.double().cpu(), (x - x_hat).double().cpu()
        self.n += int(x.shape[0])
        self.sx += x.sum(0)
        self.sxx += (x * x).sum(0)
        self.sr += r.sum(0)
        self.srr += (r * r).sum(0)
        on = (f != 0).cpu()
        self.active += float(on.sum())
        self.alive |= on.any(0)

    def result(self) -> dict[str, float]:
        n = max(self.n, 1)
        var_x = float((self.sxx / n - (self.sx / n) ** 2).sum())
        var_r = float((self.srr / n - (self.sr / n) ** 2).sum())
        return {"explained_variance": 1.0 - var_r / var_x if var_x > 0 else float("nan"),
                "l0": self.active / n, "dead_fraction": float((~self.alive).double().mean())}


def scores(sae_effect: dict[str, Any], zero_effect: dict[str, Any]) -> dict[str, float]:
    """``ce_loss_score`` and ``kl_div_score`` from the two runs' effects (vs clean);
    ``ce_loss_score`` is None for masked LMs (no delta_ce)."""
    dz, ds = zero_effect["delta_ce"], sae_effect["delta_ce"]
    kz, ks = zero_effect["kl"], sae_effect["kl"]
    return {"ce_loss_score": (dz - ds) / dz if dz else None,
            "kl_div_score": (kz - ks) / kz if kz else float("nan"),
            "ce_sae_delta": ds, "ce_zero_delta": dz, "kl_sae": ks, "kl_zero": kz}
