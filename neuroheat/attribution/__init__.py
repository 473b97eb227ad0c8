"""Saliency: which input tokens drove each prediction, every target in one batched pass.

``saliency`` (transformers; connectivity, gradient, grad x input, integrated gradients) and
``gradcam`` (1-D convolutional text classifiers) return scores per input token; ``Saliency`` is
the result object (numpy + JSON; importing it never imports torch). Names load lazily, so
importing this package stays cheap.

Example:
    >>> from neuroheat.attribution import Saliency    # no torch import
    >>> sal = saliency("path/to/bert-mlm", "The cat sat .")  # doctest: +SKIP
    >>> sal.save("cat.json"); Saliency.load("cat.json")      # doctest: +SKIP
"""

from __future__ import annotations

from neuroheat.lazy import lazy_exports

__all__ = ["Saliency", "gradcam", "saliency", "validate_textualheatmap"]

_LAZY = {
    "saliency": "neuroheat.attribution.api",
    "gradcam": "neuroheat.attribution.grad_cam",
    "Saliency": "neuroheat.attribution.result",
    "validate_textualheatmap": "neuroheat.formats.textualheatmap",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
