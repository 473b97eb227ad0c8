"""Activation figures: the NeuroX heatmap (:mod:`.figure`), its options as one dataclass
(:mod:`.style`), the block drawing shared with the neuron card (:mod:`.draw`, :mod:`.card`)
and the interactive activation page (:mod:`.page`). Reading them from a store is
:mod:`neuroheat.report`'s job (``neuron_card``, ``activation_html_from_store``).

Example:
    >>> from neuroheat.viz.activations import visualize_activations
    >>> dwg = visualize_activations(["a", "b"], [1.0, -1.0], colorbar=True)
"""

from typing import Any

from neuroheat.viz.activations.card import CardContext, draw_neuron_card
from neuroheat.viz.activations.draw import ActivationDrawing
from neuroheat.viz.activations.figure import visualize_activations, visualize_sentences
from neuroheat.viz.activations.page import ActivationHTML, activation_html
from neuroheat.viz.activations.style import RenderStyle

__all__ = ["ActivationDrawing", "ActivationHTML", "CardContext", "RenderStyle",
           "activation_html", "draw_neuron_card", "visualize_activations",
           "visualize_sentences"]

# Deprecated spelling: it reads a store, so it lives in neuroheat.report now.
_MOVED = ("neuron_card",)


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        from neuroheat.viz import moved

        return moved(__name__, name, "neuroheat.report")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
