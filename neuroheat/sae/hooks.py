"""Where an SAE reads the model: hook names (SAELens / TransformerLens, sparsify) -> neuroheat sites.

TransformerLens numbers blocks from 0; neuroheat's layer ``l`` of a per-block site is block
``l`` (1-based), and ``resid`` layer 0 is the first block's input. So:

| hook (SAELens / TransformerLens)     | sparsify hookpoint      | neuroheat site    |
|--------------------------------------|-------------------------|-------------------|
| ``blocks.L.hook_resid_pre``          | (the input of block L)  | ``resid.L``       |
| ``blocks.L.hook_resid_post``         | ``layers.L``            | ``resid.{L+1}``   |
| ``blocks.L.hook_mlp_out``            | ``layers.L.mlp``        | ``mlp_out.{L+1}`` |
| ``blocks.L.hook_attn_out``           | ``layers.L.self_attn``  | ``attn_out.{L+1}``|
| ``blocks.L.mlp.hook_post``           | —                       | ``mlp.{L+1}``     |

sparsify hookpoints are module paths of the Hugging Face model: the block list is the one of
the model's row in :mod:`neuroheat.model.architectures` (``layers`` for Llama-style models,
``h`` for GPT-2, ``gpt_neox.layers`` ...); ``.mlp`` / ``.self_attn`` map only where that module's
output is what the block adds to the residual stream (not for post-norm families, Gemma2/3 and
OLMo2, whose ``mlp_out``/``attn_out`` sites sit after the post-norm). Any other hook
(``attn.hook_z``, ``hook_resid_mid``, ``mlp.hook_pre``, ...) is refused in one line.

Example:
    >>> hook_site("blocks.6.hook_resid_post")
    Site(kind='resid', layer=7, width=None)
    >>> hook_site("blocks.0.mlp.hook_post")
    Site(kind='mlp', layer=1, width=None)
"""

from __future__ import annotations

import re
from typing import Any

from neuroheat.errors import InputError
from neuroheat.model.sites.base import Site

#: TransformerLens hook suffix -> (site kind, layer offset from the 0-based block index)
HOOK_TABLE: dict[str, tuple[str, int]] = {
    "hook_resid_pre": ("resid", 0),
    "hook_resid_post": ("resid", 1),
    "hook_mlp_out": ("mlp_out", 1),
    "hook_attn_out": ("attn_out", 1),
    "mlp.hook_post": ("mlp", 1),
}
_HOOK = re.compile(r"^blocks\.(\d+)\.(.+)$")
_SUPPORTED = ", ".join(f"blocks.L.{h}" for h in HOOK_TABLE)


def hook_site(hook: str) -> Site:
    """The neuroheat site of a SAELens / TransformerLens hook name (one-line error if none)."""
    m = _HOOK.match(str(hook))
    if m is None or m.group(2) not in HOOK_TABLE:
        raise InputError(f"SAE hook {hook!r} has no neuroheat site; supported hooks: "
                         f"{_SUPPORTED}")
    kind, offset = HOOK_TABLE[m.group(2)]
    return Site(kind, int(m.group(1)) + offset)


def module_site(model: Any, hookpoint: str) -> Site:
    """The neuroheat site of a sparsify hookpoint (a module path of ``model``)."""
    from neuroheat.model.architectures import architecture_of

    arch = architecture_of(getattr(model.config, "model_type", None))
    blocks = arch.blocks if arch is not None else None
    hp = str(hookpoint)
    if blocks:
        for prefix in dict.fromkeys((blocks, blocks.rpartition(".")[2])):
            m = re.fullmatch(re.escape(prefix) + r"\.(\d+)(?:\.(.+))?", hp)
            if m is None:
                continue
            layer, part = int(m.group(1)) + 1, m.group(2)
            if part is None:
                return Site("resid", layer)
            for kind in ("mlp_out", "attn_out"):
                if part == getattr(arch, kind):
                    return Site(kind, layer)
    raise InputError(f"sparsify hookpoint {hp!r} has no neuroheat site for this model; "
                     f"supported: {blocks or 'layers'}.L (block output), and the block's MLP / "
                     "attention module where its output is added to the residual stream")
