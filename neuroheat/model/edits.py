"""Hooks that write: custom edits of a model's activations at named sites.

The write-capable twin of the read-only taps (:mod:`neuroheat.model.hooks`,
:mod:`neuroheat.model.sites`); each site is located by its kind's
:meth:`~neuroheat.model.sites.base.SiteKind.hook_point`, so an edit sees exactly the tensor the
tap of the same site reads. What this module offers (a stable API; additions only):

- :func:`edit` — ``with edit(model, {"mlp.3": fn, "resid.2": fn2}): model(**inputs)``. Each
  ``fn(act, ctx) -> act`` gets the site's ``[batch, tokens, width]`` tensor of the current call
  (``mlp.L``: the down projection's input, for gated MLPs ``act(gate(x)) * up(x)``; ``resid.L``:
  block L's output, ``resid.0`` the first block's input; ``attn_out.L`` / ``mlp_out.L``: what
  block L's attention / MLP adds to the residual stream, after post-norms) and an
  :class:`EditContext`. Half-precision tensors reach ``fn`` as float32 and go back clamped to the
  dtype's finite range (no inf in float16). The result is written at real tokens only: padded
  positions keep their values. The model is in eval mode inside (its mode is restored after).
  Works under KV-cache generation (``ctx.positions`` says which absolute positions the current
  call covers, ``ctx.call`` counts forward calls) and with grouped-query attention.
- :class:`EditContext` — site, real-token mask, positions, per-row token index, call number and
  the base model's keyword arguments of the call.
- :func:`resume_at` — run only the blocks from ``resid.L`` on: the blocks before it are skipped
  and ``resid.L`` is set to a given tensor (e.g. recorded once by a clean pass), so many edited
  runs share one computation of the early blocks.
- :func:`site_of` — a :class:`~neuroheat.model.sites.base.Site` checked against a model.

Example:
    >>> def zero_17(act, ctx):                      # doctest: +SKIP
    ...     act[..., 17] = 0
    ...     return act
    >>> with edit(model, {"mlp.3": zero_17}):       # doctest: +SKIP
    ...     logits = model(**batch).logits
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from neuroheat.errors import InputError, UnsupportedModelError
from neuroheat.model.architectures import architecture_of, base_of
from neuroheat.model.hooks import first_input
from neuroheat.model.sites.base import Site

__all__ = ["EDITABLE", "EditContext", "EditFn", "edit", "resume_at", "site_of"]

#: site kinds that can be edited (one module's input or output each)
EDITABLE = ("mlp", "resid", "attn_out", "mlp_out")


@dataclass
class EditContext:
    """What an edit function knows about the current forward call.

    ``mask`` ``[batch, tokens]`` bool: real (not padded) tokens of this call; ``positions``
    ``[tokens]``: absolute positions in the (padded) sequence that this call covers (``0..T-1``
    without a cache, ``past..past+T-1`` for a cached generation step); ``token_index``
    ``[batch, tokens]``: each token's index among its row's real tokens (left padding
    skipped); ``call``: forward calls of the base model since the context was entered
    (0 = the first, e.g. the prompt); ``inputs``: the base model's keyword arguments.
    """

    site: Site
    mask: Any
    positions: Any
    token_index: Any
    call: int
    inputs: dict[str, Any] = field(repr=False, default_factory=dict)


EditFn = Callable[[Any, EditContext], Any]


def site_of(model: Any, site: str | Site) -> Site:
    """``site`` parsed and checked: an editable kind and a layer this model has.

    Example:
        >>> site_of(gpt2, "mlp.2")          # doctest: +SKIP
        Site(kind='mlp', layer=2, width=3072)
    """
    from neuroheat.model.sites import get_site_kind

    parsed = site if isinstance(site, Site) else Site.parse(site)
    if parsed.kind not in EDITABLE:
        raise InputError(f"site kind {parsed.kind!r} cannot be edited; use one of "
                         f"{', '.join(EDITABLE)}")
    kind = get_site_kind(parsed.kind)
    layers = kind.layers(model)
    if parsed.layer not in layers:
        raise InputError(f"{parsed} does not exist in this model: {parsed.kind} layers are "
                         f"{layers[0]}..{layers[-1]}")
    return kind.site(model, parsed.layer)


def _check_model(model: Any) -> None:
    arch = architecture_of(getattr(model.config, "model_type", None))
    if arch is not None and arch.shared_blocks:
        raise UnsupportedModelError(f"edits need one module per layer; "
                                    f"{model.config.model_type!r} shares its blocks")


class _CallState:
    """The base model's current call: its mask and positions, read by every edit hook."""

    def __init__(self) -> None:
        self.calls = -1
        self.inputs: dict[str, Any] = {}
        self.full_mask: Any = None
        self.past = 0

    def begin(self, args: tuple, kwargs: dict[str, Any]) -> None:
        self.calls += 1
        inputs = dict(kwargs)
        if args and "input_ids" not in inputs:
            inputs["input_ids"] = args[0]
        self.inputs = inputs
        mask = inputs.get("attention_mask")
        self.full_mask = mask if mask is not None and getattr(mask, "ndim", 0) == 2 else None
        cache = inputs.get("cache", inputs.get("past_key_values"))
        try:
            self.past = int(cache.get_seq_length()) if cache is not None else 0
        except (AttributeError, TypeError):
            self.past = 0

    def context(self, site: Site, act: Any) -> EditContext:
        import torch

        b, t = act.shape[0], act.shape[1]
        device = act.device
        if self.full_mask is not None and self.full_mask.shape[0] == b:
            full = self.full_mask.to(device).bool()
            mask = full[:, -t:]
            index = (full.long().cumsum(1) - 1)[:, -t:]
        else:
            mask = torch.ones(b, t, dtype=torch.bool, device=device)
            index = torch.arange(self.past, self.past + t, device=device).expand(b, t)
        positions = torch.arange(self.past, self.past + t, device=device)
        return EditContext(site, mask, positions, index, self.calls, self.inputs)


def _apply(fn: EditFn, state: _CallState, site: Site, act: Any) -> Any:
    import torch

    if act.ndim != 3:
        raise UnsupportedModelError(f"{site} is not a [batch, tokens, width] tensor here "
                                    f"(shape {tuple(act.shape)}); this site cannot be edited")
    ctx = state.context(site, act)
    low = act.dtype in (torch.float16, torch.bfloat16)
    x = act.float() if low else act.clone()
    new = fn(x, ctx)
    if new is None:
        raise InputError(f"the edit of {site} returned None; return the edited tensor")
    if tuple(new.shape) != tuple(act.shape):
        raise InputError(f"the edit of {site} returned shape {tuple(new.shape)}; it must keep "
                         f"{tuple(act.shape)}")
    if low:
        info = torch.finfo(act.dtype)
        new = new.clamp(info.min, info.max)
    new = new.to(act.dtype)
    return torch.where(ctx.mask.unsqueeze(-1), new, act)


@contextmanager
def edit(model: Any, edits: Mapping[str | Site, EditFn]) -> Iterator[None]:
    """Apply ``edits`` (site -> ``fn(act, ctx) -> act``) to every forward pass inside.

    Example:
        >>> with edit(model, {"resid.2": lambda a, ctx: a * 0.5}):   # doctest: +SKIP
        ...     out = model.generate(**prompt, max_new_tokens=5)
    """
    from neuroheat.model.sites import get_site_kind

    _check_model(model)
    resolved = [(site_of(model, s), fn) for s, fn in edits.items()]
    state = _CallState()
    handles = []
    was_training = model.training
    model.eval()
    try:
        handles.append(base_of(model).register_forward_pre_hook(
            lambda m, a, kw: state.begin(a, kw), with_kwargs=True))
        for site, fn in resolved:
            module, where = get_site_kind(site.kind).hook_point(model, site.layer)
            handles.append(_hook(module, where, fn, state, site))
        yield
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)


def _hook(module: Any, where: str, fn: EditFn, state: _CallState, site: Site) -> Any:
    if where == "output":
        def post(m: Any, args: Any, out: Any) -> Any:
            if isinstance(out, tuple):
                return (_apply(fn, state, site, out[0]), *out[1:])
            return _apply(fn, state, site, out)
        return module.register_forward_hook(post)

    def pre(m: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
        if args:
            return (_apply(fn, state, site, args[0]), *args[1:]), kwargs
        key = "hidden_states" if "hidden_states" in kwargs else next(iter(kwargs))
        return args, {**kwargs, key: _apply(fn, state, site, first_input(args, kwargs))}
    return module.register_forward_pre_hook(pre, with_kwargs=True)


class _PassThrough:
    """Stands in for a skipped block: returns its hidden states unchanged."""

    @staticmethod
    def make(block: Any) -> Any:
        import torch

        class PassThrough(torch.nn.Module):
            def forward(self, *args: Any, **kwargs: Any) -> Any:
                return first_input(args, kwargs)

        out = PassThrough()
        for attr in ("attention_type", "layer_idx", "is_sliding", "sliding_window"):
            if hasattr(block, attr):  # read by some base models' loops (mask per layer type)
                setattr(out, attr, getattr(block, attr))
        return out


@contextmanager
def resume_at(model: Any, layer: int, residual: Any) -> Iterator[None]:
    """Inside, a forward pass skips the blocks before ``resid.layer`` and starts from
    ``residual`` (``[batch, tokens, d_model]``, the batch's ``resid.layer``; the inputs still
    give the mask and positions, and must have ``residual``'s batch size).

    Example:
        >>> with resume_at(model, 6, resid6):                 # doctest: +SKIP
        ...     logits = model(**batch).logits   # blocks 1..6 are not run
    """
    from neuroheat.model.architectures import require, submodule

    _check_model(model)
    if int(layer) <= 0:
        yield
        return
    arch = require(model, "blocks", "resume_at")
    blocks = submodule(base_of(model), arch.blocks or "")
    n = len(blocks)
    if not 0 < int(layer) < n + 1:
        raise InputError(f"resume_at: layer {layer} outside 0..{n}")
    if int(layer) == n:
        raise InputError(f"resume_at: resid.{n} is the last block's output; nothing to resume")
    saved = [blocks[i] for i in range(int(layer))]

    def swap(m: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
        value = residual.to(first_input(args, kwargs).dtype)
        if args:
            return (value, *args[1:]), kwargs
        return args, {**kwargs, "hidden_states": value}

    handle = blocks[int(layer)].register_forward_pre_hook(swap, with_kwargs=True)
    try:
        for i in range(int(layer)):
            blocks[i] = _PassThrough.make(saved[i])
        yield
    finally:
        for i, block in enumerate(saved):
            blocks[i] = block
        handle.remove()
