"""Steering: generate from a prompt with a site pushed along a vector, next to the default
continuation.

``add``: h <- h + alpha*v at every steered position of every forward pass (the prompt and each
new token under the KV cache); ``project``: h <- h - (1 - alpha)(h.v^)v^ with v^ = v/|v|
(alpha = 0 removes the direction, alpha = 1 changes nothing); ``clamp="mlp.2:17=5.0"`` sets that
unit to 5.0 instead (STEER.json's ``site`` is then the unit, ``method`` ``clamp`` and
``alpha`` the value). The edit sees float32 values whatever the model's dtype, so norms and
projections are float32, and its result is clamped to the dtype's finite range (no inf in
float16). ``positions``: ``all``, ``prompt`` or ``generated``.

Greedy by default; ``temperature`` > 0 samples from a generator seeded with ``seed``, seeded
the same for the default and the steered run. ``kl[i]`` is KL(p_default ‖ p_steered) of
generated step i, both given the steered prefix (the default model's distribution comes from
one unsteered pass over the steered sequence), in nats, from the temperature-1 distributions.

Example:
    >>> res = steer("path/to/gpt2", "I think that", site="resid.6", vector="love.npy",
    ...             alpha=8.0)                               # doctest: +SKIP
    >>> res.steered["text"]                                 # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.intervene.patch_config import SteerConfig
from neuroheat.intervene.steer_result import SteerResult

__all__ = ["generate", "steer", "steer_fn"]


def _clamp_spec(lm: Any, spec: str, site: str) -> tuple[str, int, float]:
    from neuroheat.intervene.units import parse_units
    from neuroheat.model.edits import site_of

    unit, sep, value = str(spec).rpartition("=")
    if not sep or not unit.strip():
        raise InputError(f"cannot read --clamp {spec!r}; write UNIT=VALUE, e.g. mlp.2:17=5.0")
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"--clamp {spec!r}: {value!r} is not a number") from None
    units = parse_units([unit.strip()], lambda s: int(site_of(lm, s).width or 0))
    if len(units) != 1:
        raise InputError(f"--clamp {spec!r} names {len(units)} units; give one")
    if units[0].site != site:
        raise InputError(f"--clamp {spec!r} acts on {units[0].site}, but --site is {site}; "
                         "give the unit's site")
    return str(units[0]), units[0].index, number


def steer_fn(method: str, positions: str, prompt_len: int, *, vector: Any = None,
             alpha: float = 1.0, index: int | None = None, value: float = 0.0) -> Any:
    """The edit ``fn(act, ctx)`` of a steering job (``method``: add, project or clamp).

    Example:
        >>> fn = steer_fn("add", "all", 5, vector=torch.ones(8), alpha=2.0)   # doctest: +SKIP
    """
    def steered(ctx: Any) -> Any:
        pos = ctx.positions
        if positions == "prompt":
            return pos < prompt_len
        if positions == "generated":
            return pos >= prompt_len
        return pos >= 0

    def fn(act: Any, ctx: Any) -> Any:
        sel = steered(ctx)[None, :, None]
        if method == "clamp":
            new = act.clone()
            new[..., index] = value
        elif method == "add":
            new = act + float(alpha) * vector.to(act.device, act.dtype)
        else:
            v = vector.to(act.device, act.dtype)
            v = v / v.norm()
            new = act - (1.0 - float(alpha)) * (act @ v)[..., None] * v
        return new.where(sel, act)

    return fn


def generate(lm: Any, prompt: list[int], steps: int, *, temperature: float = 0.0,
             seed: int = 0, eos: int | None = None) -> tuple[list[int], list[Any]]:
    """Tokens generated after ``prompt`` under the KV cache, and each step's logits ``[V]``
    (float64, CPU); stops after ``eos``. Edits active around the call apply.

    Example:
        >>> ids, logits = generate(model, tok("Hi")["input_ids"], 5)   # doctest: +SKIP
    """
    import torch

    device = next(lm.parameters()).device
    gen = torch.Generator().manual_seed(int(seed))
    ids = torch.tensor([prompt], dtype=torch.long, device=device)
    out_ids: list[int] = []
    out_logits: list[Any] = []
    import inspect

    # transformers 5 names the KV cache `cache` (`past_key_values` is deprecated there)
    key = "cache" if "cache" in inspect.signature(lm.forward).parameters else "past_key_values"
    cache = None
    x = ids
    with torch.inference_mode():
        for _ in range(int(steps)):
            length = len(prompt) + len(out_ids)
            mask = torch.ones(1, length, dtype=torch.long, device=device)
            out = lm(input_ids=x, attention_mask=mask, use_cache=True, **{key: cache})
            cache = out["cache"] if "cache" in out else out.get("past_key_values")
            logits = out.logits[0, -1].double().cpu()
            out_logits.append(logits)
            if temperature > 0:
                probs = torch.softmax(logits / float(temperature), dim=-1)
                token = int(torch.multinomial(probs, 1, generator=gen)[0])
            else:
                token = int(torch.argmax(logits))
            out_ids.append(token)
            if eos is not None and token == eos:
                break
            x = torch.tensor([[token]], dtype=torch.long, device=device)
    return out_ids, out_logits


def _kl_steps(lm: Any, prompt: list[int], steered: list[int], steered_logits: list[Any]
              ) -> list[float]:
    """KL(p_default ‖ p_steered) of each generated step, both given the steered prefix."""
    import torch

    if not steered:
        return []
    device = next(lm.parameters()).device
    seq = torch.tensor([prompt + steered[:-1]], dtype=torch.long, device=device)
    with torch.inference_mode():
        logits = lm(input_ids=seq, attention_mask=torch.ones_like(seq), use_cache=False).logits
    default = torch.log_softmax(logits[0, len(prompt) - 1:].double().cpu(), dim=-1)
    out = []
    for step, s_logits in enumerate(steered_logits):
        p = default[step]
        q = torch.log_softmax(s_logits, dim=-1)
        kl = float((p.exp() * (p - q)).sum())
        out.append(kl if np.isfinite(kl) else None)
    return out


def steer(model: Any, prompt: str, config: SteerConfig | None = None, **overrides: Any
          ) -> SteerResult:
    """The default and the steered continuation of ``prompt``, with the per-step KL.

    Settings are :class:`~neuroheat.intervene.patch_config.SteerConfig` fields (``site``,
    ``vector`` or ``clamp``, ``alpha``, ``method``, ``positions``, ``max_new_tokens``,
    ``temperature``, ``seed``, ``device``, ``model_dtype``); ``vector`` may also be an array.

    Example:
        >>> res = steer("path/to/gpt2", "The cat", site="resid.2", vector="mlp.2:5",
        ...             alpha=4.0, max_new_tokens=8)                  # doctest: +SKIP
        >>> res.show("html").save("steer.html")                      # doctest: +SKIP
    """
    import torch

    from neuroheat.intervene.inputs import load_lm
    from neuroheat.intervene.vectors import read_vector
    from neuroheat.model.edits import edit, site_of

    vector = overrides.get("vector")
    if isinstance(vector, os.PathLike):
        overrides["vector"] = os.fspath(vector)
    elif vector is not None and not isinstance(vector, str):  # an array or tensor
        overrides["vector"] = "<array>"
    else:
        vector = None
    cfg = SteerConfig.build(config, **overrides)
    if not isinstance(prompt, str) or not prompt.strip():
        raise InputError("the prompt is empty; give --prompt TEXT")
    loaded = load_lm(model, cfg.device, cfg.model_dtype)
    lm, tok = loaded.model, loaded.tokenizer
    site = site_of(lm, cfg.site)
    ids = [int(i) for i in tok(prompt)["input_ids"]]
    if cfg.clamp is not None:
        unit, index, value = _clamp_spec(lm, cfg.clamp, str(site))
        fn = steer_fn("clamp", cfg.positions, len(ids), index=index, value=value)
        method, alpha, where = "clamp", value, unit
    else:
        vec = read_vector(lm, vector if vector is not None else cfg.vector, int(site.width or 0))
        fn = steer_fn(cfg.method, cfg.positions, len(ids), vector=torch.from_numpy(vec),
                      alpha=cfg.alpha)
        method, alpha, where = cfg.method, float(cfg.alpha), str(site)
    lm.eval()
    eos = tok.eos_token_id
    kw = {"temperature": float(cfg.temperature), "seed": cfg.seed, "eos": eos}
    default, _ = generate(lm, ids, cfg.max_new_tokens, **kw)
    with edit(lm, {site: fn}):
        steered, steered_logits = generate(lm, ids, cfg.max_new_tokens, **kw)
    kl = _kl_steps(lm, ids, steered, steered_logits)
    return SteerResult(prompt=prompt, site=where, method=method, alpha=alpha,
                       default={"text": tok.decode(default), "token_ids": default},
                       steered={"text": tok.decode(steered), "token_ids": steered}, kl=kl,
                       tokens={"default": [tok.decode([i]) for i in default],
                               "steered": [tok.decode([i]) for i in steered]})
