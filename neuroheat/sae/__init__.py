"""Sparse autoencoder (SAE) latents as neurons: load SAEs from a local folder, encode on the device.

Three formats are read offline (:mod:`~neuroheat.sae.formats`): SAELens (``cfg.json`` +
``sae_weights.safetensors``), sparsify (``<hookpoint>/cfg.json`` + ``sae.safetensors``) and
Gemma Scope (``params.npz``). Each SAE is hooked at a neuroheat site
(:mod:`~neuroheat.sae.hooks` holds the hook-name table), and :mod:`~neuroheat.sae.sites`
binds a set of SAEs to a model so that one forward pass feeds all of them.
Nothing here imports torch until a latent is computed.

Example:
    >>> import neuroheat as nh
    >>> sae = nh.sae.load_sae("gemma-scope-2b-pt-res/layer_12/width_16k/average_l0_82")  # doctest: +SKIP
    >>> sae.site, sae.d_sae                                                             # doctest: +SKIP
    (Site(kind='resid', layer=13, width=None), 16384)
"""

from __future__ import annotations

from neuroheat.lazy import lazy_exports

_LAZY = {
    "SAE": "neuroheat.sae.encoder",
    "load_sae": "neuroheat.sae.formats",
    "load_saes": "neuroheat.sae.formats",
    "detect_format": "neuroheat.sae.formats",
    "hook_site": "neuroheat.sae.hooks",
    "HOOK_TABLE": "neuroheat.sae.hooks",
    "LatentSites": "neuroheat.sae.sites",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
