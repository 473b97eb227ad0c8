"""Entry points shaped like the tools people come from, over :mod:`neuroheat.viz`:

- :class:`TransformersVisualizer` (NeuroX): load a model once, draw any neuron on any tokens.
- :class:`TextualHeatmap` (textualheatmap): ``set_data`` / ``highlight``, offline, exports.

Both stay importable from :mod:`neuroheat.viz` as before.

Example:
    >>> from neuroheat.compat import TextualHeatmap
    >>> hm = TextualHeatmap(facet_titles=["LSTM"])
    >>> hm.set_data([[{"token": "a", "meta": ["and"], "heat": [1.0]}]])
"""

from neuroheat.compat.neurox import TransformersVisualizer
from neuroheat.compat.textualheatmap import TextualHeatmap

__all__ = ["TextualHeatmap", "TransformersVisualizer"]
