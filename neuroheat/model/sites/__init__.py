"""The registry of site kinds: where activations come from.

Each module of this package that defines ``KIND`` (or ``KINDS``), instances of
:class:`~neuroheat.model.sites.base.SiteKind`, provides site kinds, found by name at first
use — adding a kind is one new module. Today: ``hidden`` (Hugging Face hidden states, layer 0 =
embeddings), ``resid`` (raw residual stream), ``mlp`` (MLP neurons), ``attn_out`` and
``mlp_out`` (sublayer outputs), ``dla`` (MLP neurons' direct effect on the next token's
logit).

Example:
    >>> sorted(SITE_KINDS)
    ['attn_out', 'dla', 'hidden', 'mlp', 'mlp_out', 'resid']
    >>> get_site_kind("mlp").name
    'mlp'
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping

from neuroheat.errors import InputError
from neuroheat.layerspec import select_layers
from neuroheat.model.sites.base import Site, SiteKind, Tap, read_sites

__all__ = ["SITE_KINDS", "Site", "SiteKind", "Tap", "get_site_kind", "read_sites",
           "select_layers", "site_kinds"]

_NOT_KINDS = {"base"}  # modules starting with "_" are skipped too
_KINDS: dict[str, SiteKind] = {}


def site_kinds() -> Mapping[str, SiteKind]:
    """Every site kind by name (modules of this package that define ``KIND``)."""
    if not _KINDS:
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            if info.name in _NOT_KINDS or info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{__name__}.{info.name}")
            found = (getattr(module, "KIND", None), *getattr(module, "KINDS", ()))
            for kind in found:
                if isinstance(kind, SiteKind):
                    _KINDS[kind.name] = kind
    return _KINDS


class _Kinds(Mapping):
    def __getitem__(self, name: str) -> SiteKind:
        return site_kinds()[name]

    def __iter__(self):
        return iter(site_kinds())

    def __len__(self) -> int:
        return len(site_kinds())


SITE_KINDS: Mapping[str, SiteKind] = _Kinds()


def get_site_kind(name: str) -> SiteKind:
    """The site kind called ``name``; the error lists the valid ones."""
    kinds = site_kinds()
    if name not in kinds:
        raise InputError(f"unknown component {name!r}; choose one of {', '.join(kinds)}")
    return kinds[name]
