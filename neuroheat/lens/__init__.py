"""Lenses and direct logit attribution: what each layer predicts, and which components and
neurons write the answer.

- :func:`logit_lens` / :func:`tuned_lens`: top-K, entropy and KL to the final layer at every
  layer and position (:class:`LensResult`);
- :func:`dla`: direct logit attribution of an answer (minus a foil) to the embeddings, every
  attention and MLP output and MLP neurons (:class:`DLAResult`);
- the ``dla`` site (``neuroheat extract ... --component dla``) stores every neuron's direct
  effect on the next token's logit over a corpus (:mod:`neuroheat.model.sites.dla`).

Importing this package does not import torch.

Example:
    >>> import neuroheat as nh
    >>> res = nh.lens.logit_lens("path/to/gpt2", "The cat sat", top_k=3)   # doctest: +SKIP
    >>> res.show().save("lens.svg")                                     # doctest: +SKIP
"""

from neuroheat.lens.config import DlaConfig, LensConfig
from neuroheat.lens.dla import dla
from neuroheat.lens.logit_lens import logit_lens
from neuroheat.lens.result import DLAResult, LensResult
from neuroheat.lens.tuned import TunedLens, tuned_lens

__all__ = ["DLAResult", "DlaConfig", "LensConfig", "LensResult", "TunedLens", "dla",
           "logit_lens", "tuned_lens"]
