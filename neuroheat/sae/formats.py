"""Load SAEs from local folders, detecting the format (offline, no pickle).

| format     | files                                   | weights                                  |
|------------|-----------------------------------------|------------------------------------------|
| SAELens    | ``cfg.json``, ``sae_weights.safetensors``| ``W_enc`` [d_in, d_sae], ``b_enc``,     |
|            |                                         | ``W_dec``, ``b_dec``, ``threshold``      |
| sparsify   | ``<hookpoint>/cfg.json``, ``sae.safetensors`` | ``encoder.weight`` [d_sae, d_in],  |
|            |                                         | ``encoder.bias``, ``W_dec``, ``b_dec``   |
| Gemma Scope| ``params.npz``                          | ``W_enc``, ``b_enc``, ``W_dec``, ``b_dec``,|
|            |                                         | ``threshold`` (JumpReLU)                 |

SAELens: ``architecture`` ``standard`` / ``jumprelu`` / ``topk`` (``k``; older configs say
``activation_fn_str: topk`` with ``activation_fn_kwargs.k``); ``apply_b_dec_to_input``;
``normalize_activations``; the hook from ``metadata.hook_name`` (SAELens 6), else the flat
``hook_name`` or the older ``hook_point``. sparsify: top-k on ``relu(encoder(x - b_dec))``;
its hookpoint is the folder name; transcoders and skip connections are refused. Gemma Scope:
JumpReLU without the ``b_dec`` subtraction; the site comes from the published layout
``gemma-scope-<size>-pt-<res|mlp|att>/layer_<L>/width_<W>/...`` (``res`` is
``blocks.L.hook_resid_post``, ``mlp`` ``blocks.L.hook_mlp_out``, ``att`` ``attn.hook_z``, which
has no site), or from an explicit ``site`` for a folder anywhere else.

Example:
    >>> sae = load_sae("saes/blocks.6.hook_resid_post")        # doctest: +SKIP
    >>> sae.format, sae.site                                     # doctest: +SKIP
    ('saelens', Site(kind='resid', layer=7, width=None))
    >>> load_sae("my_npz_sae", site="resid.3").site             # doctest: +SKIP
    Site(kind='resid', layer=3, width=None)
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.model.sites.base import Site
from neuroheat.sae.encoder import SAE
from neuroheat.sae.hooks import hook_site

FORMATS = ("saelens", "sparsify", "gemma_scope")
_GEMMA = re.compile(r"^gemma-scope-[^/]*?-(res|mlp|att)(-canonical)?$")
_GEMMA_HOOK = {"res": "hook_resid_post", "mlp": "hook_mlp_out", "att": "attn.hook_z"}
SaeArg = SAE | str | os.PathLike | tuple[str, str | os.PathLike]


def detect_format(path: str | os.PathLike) -> str:
    """``saelens``, ``sparsify`` or ``gemma_scope`` for an SAE folder (one-line error else)."""
    p = Path(path)
    if not p.is_dir():
        raise InputError(f"SAE folder {p} does not exist")
    if (p / "sae_weights.safetensors").exists() and (p / "cfg.json").exists():
        return "saelens"
    if (p / "sae.safetensors").exists() and (p / "cfg.json").exists():
        return "sparsify"
    if (p / "params.npz").exists():
        return "gemma_scope"
    inner = sorted(c.name for c in p.iterdir() if c.is_dir() and
                   ((c / "sae.safetensors").exists() or (c / "cfg.json").exists()))
    hint = f"; it holds SAE folders {', '.join(inner[:6])}: pass one of them" if inner else ""
    raise InputError(f"{p} is not an SAE folder (expected cfg.json + sae_weights.safetensors "
                     f"(SAELens), cfg.json + sae.safetensors (sparsify) or params.npz (Gemma "
                     f"Scope)){hint}")


def load_sae(path: str | os.PathLike, *, site: str | Site | None = None) -> SAE:
    """Load the SAE in folder ``path``; ``site`` (e.g. ``"resid.3"``) overrides the hook.

    Example:
        >>> load_sae("gemma-scope-2b-pt-res/layer_5/width_16k/average_l0_68").site  # doctest: +SKIP
        Site(kind='resid', layer=6, width=None)
    """
    fmt = detect_format(path)
    sae = {"saelens": _saelens, "sparsify": _sparsify, "gemma_scope": _gemma_scope}[fmt](
        Path(path), explicit=site is not None)
    if site is not None:
        sae.site = site if isinstance(site, Site) else Site.parse(str(site))
    elif sae.site is None and fmt != "sparsify":
        raise InputError(f"cannot tell where SAE {path} reads the model: pass its site, e.g. "
                         f"--sae resid.3={path} (site=\"resid.3\" in Python)")
    return sae


def load_saes(saes: Sequence[SaeArg]) -> list[SAE]:
    """SAE objects from SAEs, folders, ``"SITE=FOLDER"`` strings or ``(site, folder)`` pairs.

    Example:
        >>> [s.site for s in load_saes(["resid.2=npz_sae", sae])]   # doctest: +SKIP
    """
    if isinstance(saes, str | os.PathLike | SAE):
        saes = [saes]
    out = []
    for item in saes:
        if isinstance(item, SAE):
            out.append(item)
        elif isinstance(item, tuple):
            out.append(load_sae(item[1], site=item[0]))
        else:
            text = os.fspath(item)
            head, sep, tail = text.partition("=")
            if sep and not Path(text).exists() and re.fullmatch(r"[a-z_]+\.\d+", head):
                out.append(load_sae(tail, site=head))
            else:
                out.append(load_sae(text))
    return out


def _json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None


def _safetensors(path: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    try:
        return load_file(str(path))
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
        raise InputError(f"cannot read {path}: {exc}") from None


def _need(weights: dict[str, np.ndarray], names: Sequence[str], path: Path) -> None:
    missing = [n for n in names if n not in weights]
    if missing:
        raise InputError(f"{path} lacks {', '.join(missing)} (has {', '.join(sorted(weights))})")


def _saelens(path: Path, explicit: bool = False) -> SAE:
    cfg = _json(path / "cfg.json")
    w = _safetensors(path / "sae_weights.safetensors")
    _need(w, ("W_enc", "b_enc", "b_dec"), path / "sae_weights.safetensors")
    meta = cfg.get("metadata") if isinstance(cfg.get("metadata"), dict) else {}
    hook = meta.get("hook_name") or cfg.get("hook_name") or cfg.get("hook_point") or ""
    arch = str(cfg.get("architecture", "standard"))
    fn = str(cfg.get("activation_fn_str") or cfg.get("activation_fn") or "relu")
    kwargs = cfg.get("activation_fn_kwargs") or {}
    k, threshold = None, None
    if arch == "topk" or (arch == "standard" and fn == "topk"):
        activation, k = "topk", int(cfg.get("k") or kwargs.get("k") or 0)
    elif arch == "jumprelu":
        activation = "jumprelu"
        if "threshold" in w:
            threshold = w["threshold"]
        elif "log_threshold" in w:
            threshold = np.exp(w["log_threshold"].astype(np.float64))
    elif arch == "standard" and fn == "relu":
        activation = "relu"
    else:
        raise InputError(f"{path}: SAELens architecture {arch!r} (activation {fn!r}) is not "
                         "supported; supported: standard (relu), jumprelu, topk")
    norm = str(cfg.get("normalize_activations") or "none")
    return SAE(w["W_enc"], w["b_enc"], w["b_dec"], activation=activation, hook=str(hook), k=k,
               threshold=threshold,
               apply_b_dec_to_input=bool(cfg.get("apply_b_dec_to_input", False)),
               normalize_activations=norm, site=None if explicit or not hook
               else hook_site(hook), format="saelens", source=str(path))


def _sparsify(path: Path, explicit: bool = False) -> SAE:
    cfg = _json(path / "cfg.json")
    if cfg.get("transcode") or cfg.get("skip_connection"):
        what = "a transcoder" if cfg.get("transcode") else "an SAE with a skip connection"
        raise InputError(f"{path} is {what}; only plain sparsify SAEs are supported")
    w = _safetensors(path / "sae.safetensors")
    _need(w, ("encoder.weight", "encoder.bias", "b_dec"), path / "sae.safetensors")
    if "W_skip" in w:
        raise InputError(f"{path} has a skip connection (W_skip); only plain sparsify SAEs "
                         "are supported")
    k = cfg.get("k")
    return SAE(np.ascontiguousarray(w["encoder.weight"].T), w["encoder.bias"], w["b_dec"],
               activation="topk", hook=path.name, k=int(k) if k is not None else None,
               apply_b_dec_to_input=True, format="sparsify", source=str(path))


def _gemma_scope(path: Path, explicit: bool = False) -> SAE:
    with np.load(path / "params.npz", allow_pickle=False) as z:
        w = {k: z[k] for k in z.files}
    _need(w, ("W_enc", "b_enc", "b_dec", "threshold"), path / "params.npz")
    hook = _gemma_hook(path)
    site = None if explicit or hook is None else hook_site(hook)
    return SAE(w["W_enc"], w["b_enc"], w["b_dec"], activation="jumprelu", hook=hook or "",
               threshold=w["threshold"], apply_b_dec_to_input=False, site=site,
               format="gemma_scope", source=str(path))


def _gemma_hook(path: Path) -> str | None:
    """``blocks.L.<hook>`` from a Gemma Scope folder path, or None outside that layout."""
    parts = path.resolve().parts
    for i, name in enumerate(parts):
        m = _GEMMA.match(name)
        if m and i + 1 < len(parts):
            layer = re.fullmatch(r"layer_(\d+)", parts[i + 1])
            if layer:
                return f"blocks.{layer.group(1)}.{_GEMMA_HOOK[m.group(1)]}"
    return None
