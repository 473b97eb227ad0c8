"""neuroheat: neuron interpretability for transformer language models.

Extract per-layer activations into an HDF5 store, rank the top words of every neuron, render
activations and saliency as SVG/HTML. ``import neuroheat`` is cheap: torch and transformers
load only when a function that needs them runs.

Example:
    >>> import neuroheat as nh
    >>> path = nh.extract_activations("all-MiniLM-L6-v2", ["The cat sat ."], "acts.h5")  # doctest: +SKIP
    >>> with nh.open_store(path) as store:                                           # doctest: +SKIP
    ...     nh.analysis.top_words(store, layer=3, neuron=17)
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "open_store": ("neuroheat.store", "open_store"),
    "write_store": ("neuroheat.store", "write_store"),
    "extract_activations": ("neuroheat.extract.activations", "extract_activations"),
    "load_model": ("neuroheat.model.loading", "load_model"),
    "merge_stores": ("neuroheat.store.merge", "merge_stores"),
    "import_neurox": ("neuroheat.store.interop.neurox", "import_neurox"),
    "export_neurox": ("neuroheat.store.interop.neurox", "export_neurox"),
    "saliency": ("neuroheat.attribution", "saliency"),
    "gradcam": ("neuroheat.attribution", "gradcam"),
    "Saliency": ("neuroheat.attribution.result", "Saliency"),
    "ExtractConfig": ("neuroheat.extract.config", "ExtractConfig"),
    "SaliencyConfig": ("neuroheat.attribution.config", "SaliencyConfig"),
    "Site": ("neuroheat.model.sites.base", "Site"),
}
_SUBMODULES = ("analysis", "viz", "store", "extract", "model", "attribution", "compat", "demo",
               "probing", "errors", "sae", "report", "lens", "autointerp", "intervene")

__all__ = ["__version__", *_LAZY, *_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"neuroheat.{name}")
    raise AttributeError(f"module 'neuroheat' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
