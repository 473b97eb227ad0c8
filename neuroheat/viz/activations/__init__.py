"""Activation figures: the NeuroX heatmap (:mod:`.figure`), its options as one dataclass
(:mod:`.style`), the block drawing shared with the neuron card (:mod:`.draw`, :mod:`.card`)
and the interactive activation page (:mod:`.page`).

Example:
    >>> from neuroheat.viz.activations import visualize_activations
    >>> dwg = visualize_activations(["a", "b"], [1.0, -1.0], colorbar=True)
"""

from neuroheat.viz.activations.card import neuron_card
from neuroheat.viz.activations.draw import ActivationDrawing
from neuroheat.viz.activations.figure import visualize_activations, visualize_sentences
from neuroheat.viz.activations.page import ActivationHTML, activation_html
from neuroheat.viz.activations.style import RenderStyle

__all__ = ["ActivationDrawing", "ActivationHTML", "RenderStyle", "activation_html",
           "neuron_card", "visualize_activations", "visualize_sentences"]
