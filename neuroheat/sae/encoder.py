"""One sparse autoencoder's encoder: weights, settings, and ``encode`` in torch.

The latents of an input ``x`` (``[..., d_in]``), in the order SAELens applies the steps::

    x = normalise(x)                    none | constant_norm_rescale: x * sqrt(d_in) / ||x||
                                        | layer_norm: (x - mean) / (std + 1e-5)  (std unbiased)
    x = x - b_dec                       only with apply_b_dec_to_input (sparsify: always)
    pre = x @ W_enc + b_enc
    relu:     relu(pre)
    jumprelu: relu(pre) where pre > threshold, else 0        (Gemma Scope, SAELens jumprelu)
    topk:     the k largest of pre, relu'd; every other latent 0   (sparsify, SAELens topk)

Encoding runs in float32 on the device of the model (weights are moved once and kept).
:meth:`SAE.sparse_codes` gives the non-zeros only, in chunks of tokens whose dense
``[chunk, d_sae]`` pre-activations fit a fixed memory budget, so a 1M-latent SAE never holds a
``[tokens, d_sae]`` matrix.

Example:
    >>> import numpy as np
    >>> sae = SAE(W_enc=np.eye(2, dtype=np.float32), b_enc=np.zeros(2, np.float32),
    ...           b_dec=np.zeros(2, np.float32), activation="relu", hook="blocks.0.hook_resid_pre")
    >>> import torch
    >>> sae.encode(torch.tensor([[1.0, -2.0]])).tolist()
    [[1.0, 0.0]]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.model.sites.base import Site

ACTIVATIONS = ("relu", "jumprelu", "topk")
NORMALIZATIONS = ("none", "constant_norm_rescale", "layer_norm")
#: bytes of float32 pre-activations one encoding chunk may hold (tokens per chunk follow)
CHUNK_BYTES = 256 * 2**20
LAYER_NORM_EPS = 1e-5


@dataclass(eq=False)
class SAE:
    """An SAE encoder. ``W_enc`` is ``[d_in, d_sae]``; ``hook`` is its hook name as the
    format writes it; ``site`` is the neuroheat site when known without a model (SAELens hook
    names and Gemma Scope folders) or given explicitly."""

    W_enc: np.ndarray
    b_enc: np.ndarray
    b_dec: np.ndarray
    activation: str = "relu"
    hook: str = ""
    k: int | None = None
    threshold: np.ndarray | None = None
    apply_b_dec_to_input: bool = False
    normalize_activations: str = "none"
    site: Site | None = None
    format: str = ""
    source: str = ""
    _device_tensors: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.W_enc = np.ascontiguousarray(self.W_enc, dtype=np.float32)
        self.b_enc = np.asarray(self.b_enc, dtype=np.float32).reshape(-1)
        self.b_dec = np.asarray(self.b_dec, dtype=np.float32).reshape(-1)
        where = f"SAE {self.source or self.hook}"
        if self.W_enc.ndim != 2:
            raise InputError(f"{where}: W_enc must be 2-D [d_in, d_sae], got {self.W_enc.shape}")
        d_in, d_sae = self.W_enc.shape
        if self.b_enc.shape != (d_sae,) or self.b_dec.shape != (d_in,):
            raise InputError(f"{where}: b_enc {self.b_enc.shape} / b_dec {self.b_dec.shape} do "
                             f"not fit W_enc [{d_in}, {d_sae}]")
        if self.activation not in ACTIVATIONS:
            raise InputError(f"{where}: activation {self.activation!r} is not supported; "
                             f"supported: {', '.join(ACTIVATIONS)}")
        if self.normalize_activations not in NORMALIZATIONS:
            raise InputError(f"{where}: normalize_activations {self.normalize_activations!r} "
                             f"is not supported; supported: {', '.join(NORMALIZATIONS)}")
        if self.activation == "topk" and not (isinstance(self.k, int) and 0 < self.k <= d_sae):
            raise InputError(f"{where}: a top-k SAE needs k in 1..{d_sae}, got {self.k!r}")
        if self.activation == "jumprelu":
            if self.threshold is None:
                raise InputError(f"{where}: a JumpReLU SAE needs a threshold")
            self.threshold = np.asarray(self.threshold, dtype=np.float32).reshape(-1)
            if self.threshold.shape != (d_sae,):
                raise InputError(f"{where}: threshold has shape {self.threshold.shape}, "
                                 f"expected ({d_sae},)")

    @property
    def d_in(self) -> int:
        """Width of the activations the SAE reads."""
        return int(self.W_enc.shape[0])

    @property
    def d_sae(self) -> int:
        """Number of latents."""
        return int(self.W_enc.shape[1])

    def describe(self) -> dict[str, Any]:
        """What a store records about this SAE (JSON-ready)."""
        return {"format": self.format, "hook": self.hook, "source": self.source,
                "d_in": self.d_in, "d_sae": self.d_sae, "activation": self.activation,
                "k": self.k, "apply_b_dec_to_input": bool(self.apply_b_dec_to_input),
                "normalize_activations": self.normalize_activations,
                "fingerprint": self.fingerprint()}

    def fingerprint(self) -> str:
        """sha256 (16 hex digits) of the encoder weights and settings: resume and shards check
        that every part used the same SAE."""
        import hashlib

        h = hashlib.sha256()
        for a in (self.W_enc, self.b_enc, self.b_dec, self.threshold):
            if a is not None:
                h.update(np.ascontiguousarray(a).tobytes())
        h.update(repr((self.activation, self.k, self.apply_b_dec_to_input,
                       self.normalize_activations)).encode())
        return h.hexdigest()[:16]

    # -- encoding ---------------------------------------------------------------------------
    def _tensors(self, device: Any) -> dict[str, Any]:
        import torch

        key = str(device)
        if key not in self._device_tensors:
            arrays = {"W_enc": self.W_enc, "b_enc": self.b_enc, "b_dec": self.b_dec}
            if self.threshold is not None:
                arrays["threshold"] = self.threshold
            self._device_tensors[key] = {k: torch.from_numpy(v).to(device)
                                         for k, v in arrays.items()}
        return self._device_tensors[key]

    def pre_activations(self, x: Any) -> Any:
        """float32 ``x @ W_enc + b_enc`` after normalisation and the ``b_dec`` subtraction."""
        import torch

        t = self._tensors(x.device)
        x = x.float()
        if self.normalize_activations == "constant_norm_rescale":
            x = x * (self.d_in ** 0.5 / x.norm(dim=-1, keepdim=True))
        elif self.normalize_activations == "layer_norm":
            x = x - x.mean(dim=-1, keepdim=True)
            x = x / (x.std(dim=-1, keepdim=True) + LAYER_NORM_EPS)
        if self.apply_b_dec_to_input:
            x = x - t["b_dec"]
        # addmm adds the bias inside the product: one pass over the [n, d_sae] output, not two
        flat = torch.addmm(t["b_enc"], x.reshape(-1, self.d_in), t["W_enc"])
        return flat.reshape(*x.shape[:-1], self.d_sae)

    def encode(self, x: Any) -> Any:
        """Dense float32 latents ``[..., d_sae]`` of a torch tensor ``x`` ``[..., d_in]``.

        Example:
            >>> sae.encode(torch.zeros(3, sae.d_in)).shape    # doctest: +SKIP
            torch.Size([3, 16384])
        """
        import torch

        pre = self.pre_activations(x)
        if self.activation == "relu":
            return torch.relu(pre)
        if self.activation == "jumprelu":
            return torch.where(pre > self._tensors(x.device)["threshold"], torch.relu(pre),
                               torch.zeros_like(pre))
        values, indices = pre.topk(int(self.k or 0), dim=-1)
        return torch.zeros_like(pre).scatter_(-1, indices, torch.relu(values))

    def sparse_codes(self, x: Any) -> tuple[Any, Any, Any]:
        """Non-zero latents of ``x`` ``[n, d_in]``: ``(token, latent, value)`` torch tensors
        (int64, int64, float32), sorted by token then latent.

        Example:
            >>> tok, lat, val = sae.sparse_codes(torch.randn(5, sae.d_in))   # doctest: +SKIP
        """
        import torch

        step = max(1, CHUNK_BYTES // (4 * self.d_sae))
        toks, lats, vals = [], [], []
        for a in range(0, x.shape[0], step):
            chunk = x[a:a + step]
            if self.activation == "topk":
                v, i = self.pre_activations(chunk).topk(int(self.k or 0), dim=-1)
                v = torch.relu(v)
                i, order = i.sort(dim=-1)
                v = v.gather(-1, order)
                t = torch.arange(a, a + len(chunk), device=x.device)[:, None].expand_as(i)
                keep = v != 0
                toks.append(t[keep])
                lats.append(i[keep])
                vals.append(v[keep])
            else:
                dense = self.encode(chunk)
                t, i = dense.nonzero(as_tuple=True)
                toks.append(t + a)
                lats.append(i)
                vals.append(dense[t, i])
            del chunk
        if not toks:
            empty = torch.zeros(0, dtype=torch.int64, device=x.device)
            return empty, empty, torch.zeros(0, dtype=torch.float32, device=x.device)
        return torch.cat(toks), torch.cat(lats), torch.cat(vals)
