"""Interventions: what a neuron does to the model's predictions.

- :func:`ablate`: ablation effects of units (``mlp.3:17``, ``sae.resid.3:1234``) over a corpus
  — zero / mean / resample / fixed / scale, one result per unit or jointly — and SAE splicing
  metrics (:class:`Effects`, EFFECTS.json; :func:`load` reads shards as one);
- :class:`AblateConfig`: its settings, shared with ``neuroheat ablate``;
- custom edits at named sites: :func:`neuroheat.model.edits.edit`.

Importing this package does not import torch.

Example:
    >>> import neuroheat as nh
    >>> res = nh.intervene.ablate("path/to/gpt2", "corpus.txt", ["mlp.10:0-63"])  # doctest: +SKIP
    >>> res.save("effects.json")                                                  # doctest: +SKIP
"""

from neuroheat.lazy import lazy_exports

_LAZY = {
    "ablate": "neuroheat.intervene.ablation",
    "AblateConfig": "neuroheat.intervene.config",
    "Effects": "neuroheat.intervene.result",
    "load": "neuroheat.intervene.result",
    "Unit": "neuroheat.intervene.units",
    "parse_units": "neuroheat.intervene.units",
    "patch": "neuroheat.intervene.patching",
    "PatchConfig": "neuroheat.intervene.patch_config",
    "PatchResult": "neuroheat.intervene.patch_result",
    "steer": "neuroheat.intervene.steering",
    "SteerConfig": "neuroheat.intervene.patch_config",
    "SteerResult": "neuroheat.intervene.steer_result",
    "mean_difference": "neuroheat.intervene.vectors",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
