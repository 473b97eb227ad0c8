"""Everything that knows model architectures: offline-first loading, the architecture table,
named sites (where activations come from) and the hooks that read them.

Importing this package is cheap; torch and transformers load when a model is loaded.

Example:
    >>> from neuroheat.model import load_model
    >>> loaded = load_model("all-MiniLM-L6-v2", device="cpu")   # doctest: +SKIP
"""

from neuroheat.model.loading import LoadedModel, bundled_minilm_path, load_model

__all__ = ["LoadedModel", "bundled_minilm_path", "load_model"]
