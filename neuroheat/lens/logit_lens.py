"""The logit lens: what each layer would predict if the model stopped there.

For every layer l = 0..L of the ``resid`` site (0 = embeddings, l = block l's output),
``logits_l = unembed(final_norm(resid_l))`` with the norm's statistics recomputed from
``resid_l`` (:mod:`neuroheat.lens.final_norm`); at l = L the model's own logits are used, so the
last row is the model's prediction exactly (Hugging Face's already-normed last hidden state is
never normed twice). Probabilities, entropies and KL are computed from float64 log-probs.

Example:
    >>> res = logit_lens("path/to/gpt2", "The capital of France is", top_k=3)   # doctest: +SKIP
    >>> res.top[-1][-1][0]                                                     # doctest: +SKIP
    [' Paris', 0.31]
"""

from __future__ import annotations

from typing import Any

from neuroheat.lens.config import LensConfig
from neuroheat.lens.inputs import load_causal
from neuroheat.lens.result import LensResult
from neuroheat.lens.trajectory import trajectory

__all__ = ["logit_lens"]


def logit_lens(model: Any, text: str, config: LensConfig | None = None,
               **options: Any) -> LensResult:
    """The logit lens of ``text``: top-K tokens, entropy and KL to the final layer at every
    layer and position (see the module docstring). ``options`` are
    :class:`~neuroheat.lens.config.LensConfig` fields (``top_k``, ``target``, ``device``).

    Example:
        >>> logit_lens(model_dir, "The cat sat", top_k=3, target=" on").target["rank"]  # doctest: +SKIP
    """
    cfg = LensConfig.build(config, **options)
    if cfg.lens == "tuned":
        from neuroheat.lens.tuned import tuned_lens

        return tuned_lens(model, text, cfg.tuned_lens, config=cfg)
    loaded = load_causal(model, cfg.device)
    return trajectory(loaded, text, cfg)
