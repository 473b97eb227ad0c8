"""The SAEs of one extraction bound to a model: their sites, widths, and one shared tap.

Each SAE is stored as one *layer* of a latent store: the layer number of its base site
(``resid.7`` -> layer 7), named ``sae.<base site>`` (``sae.resid.7``) in the store's
``sites``. One store holds SAEs of one width at distinct layers (several SAEs at one layer,
or of different widths, go to separate stores). :meth:`LatentSites.tap` hooks every base
site in one forward pass; only the deepest one stops it (blocks after it never run), so the
values equal a full run's.

Example:
    >>> bound = LatentSites(model, [sae6, sae2])       # doctest: +SKIP
    >>> bound.layers, bound.width, bound.names         # doctest: +SKIP
    ([3, 7], 16384, ['sae.resid.3', 'sae.resid.7'])
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

from neuroheat.errors import InputError
from neuroheat.model.sites import Site, get_site_kind
from neuroheat.sae.encoder import SAE
from neuroheat.sae.hooks import module_site

#: order of the per-block sites inside one block (resid l is the block's output)
_ORDER = {"attn_out": 0, "mlp": 1, "mlp_out": 2, "resid": 3}
KIND_PREFIX = "sae"


def bind_site(sae: SAE, model: Any) -> Site:
    """The base site of ``sae`` in ``model``, with its width checked (one-line errors)."""
    site = sae.site if sae.site is not None else module_site(model, sae.hook)
    if site.kind not in _ORDER:
        raise InputError(f"SAE {sae.source}: site {site} cannot be hooked for SAEs; use one of "
                         f"{', '.join(f'{k}.L' for k in _ORDER)}")
    kind = get_site_kind(site.kind)
    layers = kind.layers(model)
    if site.layer not in layers:
        raise InputError(f"SAE {sae.source} reads {site}, but this model has {site.kind} layers "
                         f"{layers[0]}..{layers[-1]}")
    width = kind.width(model)
    if width != sae.d_in:
        raise InputError(f"SAE {sae.source} reads {sae.d_in}-wide vectors, but {site} of this "
                         f"model is {width} wide: it was trained on another model or site")
    return Site(site.kind, site.layer, width)


class LatentSites:
    """SAEs bound to one model; duck-types a site kind for the extraction runner."""

    name = KIND_PREFIX

    def __init__(self, model: Any, saes: Sequence[SAE]):
        if not saes:
            raise InputError("no SAE given")
        pairs = sorted(((bind_site(s, model), s) for s in saes), key=lambda p: p[0].layer)
        self.sites = [p[0] for p in pairs]
        self.saes = [p[1] for p in pairs]
        layers = [s.layer for s in self.sites]
        for a, b in zip(self.sites, self.sites[1:], strict=False):
            if a.layer == b.layer:
                raise InputError(f"SAEs at {a} and {b} share layer {a.layer}; a latent store "
                                 "holds one SAE per layer: extract them into separate stores")
        widths = sorted({s.d_sae for s in self.saes})
        if len(widths) > 1:
            raise InputError(f"SAEs of different widths ({', '.join(map(str, widths))}) cannot "
                             "share a store; extract each width into its own store")
        self.layers = layers
        self._width = widths[0]
        self.names = [f"{KIND_PREFIX}.{s}" for s in self.sites]

    def width(self, model: Any = None) -> int:
        """Latents per SAE."""
        return self._width

    def site(self, model: Any, layer: int) -> Site:
        """The stored site of ``layer`` (kind ``sae.<base kind>``)."""
        base = self.sites[self.layers.index(int(layer))]
        return Site(f"{KIND_PREFIX}.{base.kind}", base.layer, self._width)

    def describe(self) -> list[dict[str, Any]]:
        """One JSON-ready record per SAE, in stored order."""
        return [dict(s.describe(), site=str(site), layer=site.layer)
                for s, site in zip(self.saes, self.sites, strict=True)]

    @contextmanager
    def tap(self, model: Any) -> Iterator[Any]:
        """Hook every base site; yields ``values(outputs) -> [x per SAE]`` ``[b, t, d_in]``.
        Run the forward with :func:`~neuroheat.model.hooks.run_until_stopped`."""
        by_kind: dict[str, list[int]] = {}
        for site in self.sites:
            by_kind.setdefault(site.kind, []).append(site.layer)
        last = max(by_kind, key=lambda k: (max(by_kind[k]), _ORDER[k]))
        with ExitStack() as stack:
            taps = {kind: stack.enter_context(get_site_kind(kind).tap(
                model, layers, stop=kind == last)) for kind, layers in by_kind.items()}

            def values(out: Any) -> list[Any]:
                got = {kind: tap.values(out) for kind, tap in taps.items()}
                return [got[s.kind][by_kind[s.kind].index(s.layer)] for s in self.sites]

            yield taps[last].module, values
