"""Helpers of the patching and steering tests: prompt pairs of one length and plain-torch
hooks on a block's input or output (independent of neuroheat's edit layer)."""

from __future__ import annotations

from contextlib import contextmanager

CANDIDATES = [("the cat sat on", "the cap sat on"), ("the cat sat on", "the cat sit on"),
              ("the cat sat on", "the cat sat in"), ("a dog ran to", "a dig ran to"),
              ("the dog ate the", "the dog ate a"), ("we like the cat", "we like the cap")]


def pairs_for(tok, n: int = 3, answer: str = " a", foil: str = " t") -> list[dict]:
    """``n`` clean / corrupt pairs whose texts tokenize to the same length."""
    out = [{"clean": c, "corrupt": x, "answer": answer, "foil": foil} for c, x in CANDIDATES
           if len(tok(c)["input_ids"]) == len(tok(x)["input_ids"])]
    assert len(out) >= n
    return out[:n]


def blocks(model):
    base = model.base_model
    return base.h if hasattr(base, "h") else base.layers


def _first(x):
    return x[0] if isinstance(x, tuple) else x


@contextmanager
def on_resid(model, layer: int, fn):
    """``fn(hidden) -> hidden or None`` on resid.``layer``: the first block's input for 0, else
    block ``layer``'s output."""
    bl = blocks(model)
    if layer == 0:
        def pre(m, args, kwargs):
            if args:
                new = fn(args[0])
                return ((new, *args[1:]), kwargs) if new is not None else None
            new = fn(kwargs["hidden_states"])
            return (args, {**kwargs, "hidden_states": new}) if new is not None else None
        handle = bl[0].register_forward_pre_hook(pre, with_kwargs=True)
    else:
        def post(m, args, out):
            new = fn(_first(out))
            if new is None:
                return None
            return (new, *out[1:]) if isinstance(out, tuple) else new
        handle = bl[layer - 1].register_forward_hook(post)
    try:
        yield
    finally:
        handle.remove()


@contextmanager
def on_input(module, fn):
    """``fn(x) -> x or None`` on ``module``'s first positional input."""
    def pre(m, args):
        new = fn(args[0])
        return (new, *args[1:]) if new is not None else None
    handle = module.register_forward_pre_hook(pre)
    try:
        yield
    finally:
        handle.remove()


def metric(logits, answer: int, foil: int):
    """logit_diff at the last position, float64, per row."""
    x = logits[:, -1].double()
    return x[:, answer] - x[:, foil]


def keep(saved: dict, key: str):
    """A hook fn that stores a copy of its tensor under ``saved[key]`` and changes nothing."""
    def fn(x):
        saved[key] = x.clone()
    return fn
