"""Automatic explanations: a sentence for every neuron, scored, from a local model or a
loopback OpenAI-compatible server.

Modules: :mod:`~.examples` (which windows are shown and scored), :mod:`~.prompts`,
:mod:`~.parse` (reading answers), :mod:`~.scores` (metrics), :mod:`~.scorers` (the explainer
and the detection / fuzzing / simulation scorers), :mod:`~.clients`, :mod:`~.runner`
(the loop) and :mod:`~.result` (EXPLAIN.json). ``neuroheat explain`` is the CLI.

Example:
    >>> import neuroheat.autointerp as ai
    >>> res = ai.explain("acts.h5", "EXPLAIN.json", layers="3",
    ...                  explainer_model="path/to/model")       # doctest: +SKIP
    >>> res.to_pandas().head()                                  # doctest: +SKIP
"""

from __future__ import annotations

from neuroheat.autointerp.config import SCORERS, ExplainConfig
from neuroheat.autointerp.result import ExplainResult, Explanation, load_explanations
from neuroheat.autointerp.runner import explain, parse_units

__all__ = ["SCORERS", "ExplainConfig", "ExplainResult", "Explanation", "explain",
           "load_explanations", "parse_units"]
