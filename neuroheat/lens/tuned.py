"""The tuned lens: an affine translator per layer before the logit lens's readout.

A lens folder in tuned-lens' published layout holds ``config.json`` (``d_model``,
``num_hidden_layers``, ``bias``, optional ``unembed_hash`` and ``lens_type``) and ``params.pt``,
the translators' state dict (``{i}.weight`` ``[d, d]``, ``{i}.bias`` ``[d]`` for i = 0..L−1),
loaded with ``torch.load(..., weights_only=True)`` (no code runs, no network).
``logits_l = unembed(final_norm(h_l + A_l h_l + b_l))`` for l < L; the model's own logits at L.

Example:
    >>> lens = TunedLens.load("lenses/gpt2")                       # doctest: +SKIP
    >>> tuned_lens("path/to/gpt2", "The cat sat", "lenses/gpt2")   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neuroheat.errors import InputError
from neuroheat.lens.config import LensConfig
from neuroheat.lens.inputs import load_causal
from neuroheat.lens.result import LensResult
from neuroheat.lens.trajectory import trajectory

__all__ = ["TunedLens", "tuned_lens", "unembed_hash"]

log = logging.getLogger(__name__)


def unembed_hash(weight: Any) -> str:
    """tuned-lens' hash of an unembedding matrix: sha256 of numpy's one-decimal print."""
    import numpy as np

    array = weight.detach().float().cpu().numpy()
    return hashlib.sha256(np.array_str(array, precision=1).encode()).hexdigest()


@dataclass
class TunedLens:
    """Translators ``weights[l]`` ``[d, d]`` and ``biases[l]`` ``[d]`` (or None), l = 0..L−1."""

    d_model: int
    num_layers: int
    weights: list[Any]
    biases: list[Any]
    unembed_hash: str | None = None
    source: str = ""

    @classmethod
    def load(cls, folder: str | Path) -> TunedLens:
        """Read a lens folder (``config.json`` + ``params.pt``); one-line errors."""
        import torch

        folder = Path(folder)
        cfg_path, params_path = folder / "config.json", folder / "params.pt"
        if not cfg_path.is_file() or not params_path.is_file():
            raise InputError(f"{folder} is not a tuned lens: it needs config.json and params.pt")
        try:
            cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
            d, n = int(cfg["d_model"]), int(cfg["num_hidden_layers"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{cfg_path}: not a tuned-lens config ({exc}); it needs d_model "
                             "and num_hidden_layers") from None
        try:
            state = torch.load(params_path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable or unsafe pickle
            raise InputError(f"{params_path}: cannot read the translators ({exc})") from None
        state = {k.removeprefix("layer_translators."): v for k, v in state.items()}
        weights, biases = [], []
        for i in range(n):
            w = state.get(f"{i}.weight")
            if w is None or tuple(w.shape) != (d, d):
                raise InputError(f"{params_path}: translator {i} weight is "
                                 f"{None if w is None else tuple(w.shape)}, not [{d}, {d}]")
            b = state.get(f"{i}.bias")
            weights.append(w.float())
            biases.append(None if b is None else b.float())
        return cls(d, n, weights, biases, cfg.get("unembed_hash"), str(folder))

    def check(self, loaded: Any) -> None:
        """A one-line error when the lens was made for another width or depth; a warning when
        its ``unembed_hash`` differs from the model's."""
        if self.d_model != loaded.hidden_size or self.num_layers != loaded.num_layers:
            raise InputError(
                f"tuned lens {self.source} is for d_model={self.d_model}, "
                f"{self.num_layers} layers; the model has d_model={loaded.hidden_size}, "
                f"{loaded.num_layers} layers: use a lens trained on this model")
        if self.unembed_hash:
            head = loaded.model.get_output_embeddings()
            if head is not None and unembed_hash(head.weight) != self.unembed_hash:
                log.warning("tuned lens %s: its unembed_hash differs from this model's "
                            "unembedding; it may have been trained on another checkpoint",
                            self.source)

    def __call__(self, layer: int, h: Any) -> Any:
        """``h + A_l h + b_l``."""
        w = self.weights[layer].to(h.device)
        out = h + h @ w.T
        b = self.biases[layer]
        return out + b.to(h.device) if b is not None else out


def tuned_lens(model: Any, text: str, lens: str | Path | TunedLens,
               config: LensConfig | None = None, **options: Any) -> LensResult:
    """The tuned lens of ``text`` (same result as :func:`~neuroheat.lens.logit_lens`);
    ``lens`` is a folder or a loaded :class:`TunedLens`.

    Example:
        >>> tuned_lens(model_dir, "The cat sat", "lens_dir", top_k=3).layers   # doctest: +SKIP
    """
    cfg = LensConfig.build(config, **options)
    translators = lens if isinstance(lens, TunedLens) else TunedLens.load(lens)
    loaded = load_causal(model, cfg.device)
    translators.check(loaded)
    return trajectory(loaded, text, cfg, translators, lens="tuned")
