"""Builders of tiny SAE folders in the three published layouts, and the reference encoder.

The reference is the formula of the issue, written here independently of neuroheat in
float64 numpy: normalise -> subtract b_dec when asked -> x @ W_enc + b_enc -> ReLU / JumpReLU
threshold / top-k (values relu'd).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def weights(d_in: int, d_sae: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "W_enc": rng.normal(0, 1, (d_in, d_sae)).astype(np.float32),
        "b_enc": rng.normal(0, 0.05, d_sae).astype(np.float32),
        "W_dec": rng.normal(0, 1, (d_sae, d_in)).astype(np.float32),
        "b_dec": rng.normal(0, 0.05, d_in).astype(np.float32),
        "threshold": np.abs(rng.normal(0.1, 0.05, d_sae)).astype(np.float32),
    }


def saelens(path: Path, hook: str, d_in: int, d_sae: int, *, architecture: str = "jumprelu",
            k: int | None = None, apply_b_dec: bool = True, normalize: str = "none",
            seed: int = 0, flat_hook: bool = False) -> tuple[Path, dict]:
    """A SAELens folder (6.x config with metadata.hook_name, or the old flat hook_point)."""
    from safetensors.numpy import save_file

    w = weights(d_in, d_sae, seed)
    if architecture != "jumprelu":
        w.pop("threshold")
    cfg = {"architecture": architecture, "d_in": d_in, "d_sae": d_sae, "dtype": "float32",
           "apply_b_dec_to_input": apply_b_dec, "normalize_activations": normalize}
    if k is not None:
        cfg["k"] = k
    if flat_hook:
        cfg["hook_point"] = hook
    else:
        cfg["metadata"] = {"hook_name": hook, "model_name": "tiny"}
    path.mkdir(parents=True, exist_ok=True)
    (path / "cfg.json").write_text(json.dumps(cfg))
    save_file(w, str(path / "sae_weights.safetensors"))
    ref = dict(w, activation={"standard": "relu"}.get(architecture, architecture), k=k,
               apply_b_dec=apply_b_dec, normalize=normalize)
    return path, ref


def sparsify(root: Path, hookpoint: str, d_in: int, d_sae: int, k: int, *, seed: int = 1,
             extra: dict | None = None) -> tuple[Path, dict]:
    """A sparsify folder ``root/<hookpoint>`` (encoder.weight is [d_sae, d_in])."""
    from safetensors.numpy import save_file

    w = weights(d_in, d_sae, seed)
    path = root / hookpoint
    path.mkdir(parents=True, exist_ok=True)
    cfg = {"expansion_factor": d_sae // d_in, "normalize_decoder": True, "num_latents": d_sae,
           "k": k, "multi_topk": False, "skip_connection": False, "transcode": False,
           "d_in": d_in, **(extra or {})}
    (path / "cfg.json").write_text(json.dumps(cfg))
    save_file({"encoder.weight": np.ascontiguousarray(w["W_enc"].T), "encoder.bias": w["b_enc"],
               "W_dec": w["W_dec"], "b_dec": w["b_dec"]}, str(path / "sae.safetensors"))
    return path, dict(w, activation="topk", k=k, apply_b_dec=True, normalize="none")


def gemma_scope(root: Path, kind: str, layer: int, d_in: int, d_sae: int, *,
                seed: int = 2) -> tuple[Path, dict]:
    """``root/gemma-scope-2b-pt-<kind>/layer_<L>/width_16k/average_l0_5/params.npz``."""
    w = weights(d_in, d_sae, seed)
    path = root / f"gemma-scope-2b-pt-{kind}" / f"layer_{layer}" / "width_16k" / "average_l0_5"
    path.mkdir(parents=True, exist_ok=True)
    np.savez(path / "params.npz", **w)
    return path, dict(w, activation="jumprelu", k=None, apply_b_dec=False, normalize="none")


def encode(x: np.ndarray, ref: dict) -> np.ndarray:
    """The reference latents of ``x`` ``[n, d_in]`` (float64)."""
    x = np.asarray(x, dtype=np.float64)
    if ref["normalize"] == "constant_norm_rescale":
        x = x * np.sqrt(x.shape[-1]) / np.linalg.norm(x, axis=-1, keepdims=True)
    elif ref["normalize"] == "layer_norm":
        x = x - x.mean(-1, keepdims=True)
        x = x / (x.std(-1, ddof=1, keepdims=True) + 1e-5)
    if ref["apply_b_dec"]:
        x = x - ref["b_dec"]
    pre = x @ ref["W_enc"].astype(np.float64) + ref["b_enc"]
    if ref["activation"] == "relu":
        return np.maximum(pre, 0)
    if ref["activation"] == "jumprelu":
        return np.where(pre > ref["threshold"], np.maximum(pre, 0), 0.0)
    out = np.zeros_like(pre)
    top = np.argsort(-pre, axis=-1, kind="stable")[:, :ref["k"]]
    np.put_along_axis(out, top, np.maximum(np.take_along_axis(pre, top, -1), 0), -1)
    return out
