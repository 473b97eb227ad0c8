"""The demo pipeline behind ``neuroheat demo``, written against the public API only.

:mod:`.pipeline` extracts a store and runs the stages: :mod:`.report` (top words of every
neuron, a few selective ones), :mod:`.figures` (neuron cards, a live figure) and
:mod:`.views` (saliency and activation views of one sentence).

Example:
    >>> from neuroheat.demo import run_demo
    >>> result = run_demo("demo_output", sentences=40)   # doctest: +SKIP
    >>> print(result["summary"])                          # doctest: +SKIP
"""

from neuroheat.demo.inputs import DEMO_SENTENCES
from neuroheat.demo.pipeline import run_demo

__all__ = ["DEMO_SENTENCES", "run_demo"]
