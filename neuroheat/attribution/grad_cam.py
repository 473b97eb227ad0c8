"""Grad-CAM heatmaps for 1-D convolutional text classifiers.

The gradients of a class score w.r.t. a convolution layer's output ``A [batch, filters,
length]`` weight that output: ``variant="filters"`` is Grad-CAM (Selvaraju et al. 2017; one
weight per filter, the position-averaged gradient), ``variant="positions"`` weights each
position by its filter-averaged gradient. The map goes through a ReLU, is normalised to [0, 1],
and is mapped back to the input tokens through the receptive fields of the convolutions and
poolings on the way from the input to the layer: each token takes the largest value of the
positions whose receptive field covers it.

Receptive fields are found by watching the forward pass: every ``Conv1d``, ``MaxPool1d``,
``AvgPool1d`` and ``AdaptiveMax/AvgPool1d`` records its input and output, and the chain ending
at ``layer`` is followed back to the token sequence: each step goes to the latest module whose
output has the input's shape and, per the autograd graph, feeds it (element-wise operations
such as ReLU or dropout in between are fine). Parallel branches (Kim-style CNNs with several
kernel widths) are told apart. Pass ``receptive_fields`` (a ``(first, last)`` token range per
layer position) for anything else (strided reshapes, attention, recurrent layers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from neuroheat.errors import InputError

VARIANTS = ("filters", "positions")


def _ranges(module: Any, length_in: int, length_out: int) -> list[tuple[int, int]]:
    """Input index range ``(first, last)`` of every output position of one module."""
    import torch.nn as nn

    if isinstance(module, nn.AdaptiveMaxPool1d | nn.AdaptiveAvgPool1d):
        return [(math.floor(i * length_in / length_out),
                 math.ceil((i + 1) * length_in / length_out) - 1) for i in range(length_out)]

    def one(v: Any) -> int:
        return int(v[0] if isinstance(v, tuple | list) else v)

    kernel = one(module.kernel_size)
    stride = one(module.stride if module.stride is not None else kernel)
    dilation = one(getattr(module, "dilation", 1))
    padding = module.padding
    if padding == "same":
        padding = dilation * (kernel - 1) // 2
    elif padding == "valid":
        padding = 0
    padding = one(padding)
    return [(i * stride - padding, i * stride - padding + dilation * (kernel - 1))
            for i in range(length_out)]


def _watch(model: Any) -> tuple[list[Any], list[Any]]:
    """Record ``(module, input, output)`` of every 1-D convolution and pooling, in run order."""
    import torch.nn as nn

    kinds = (nn.Conv1d, nn.MaxPool1d, nn.AvgPool1d, nn.AdaptiveMaxPool1d, nn.AdaptiveAvgPool1d)
    seen: list[tuple[Any, Any, Any]] = []

    def hook(module: Any, args: Any, output: Any) -> None:
        if args and hasattr(args[0], "shape") and hasattr(output, "shape"):
            seen.append((module, args[0], output))

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, kinds)]
    return seen, handles


def _feeds(source: Any, tensor: Any, limit: int = 100_000) -> bool:
    """Whether ``tensor`` was computed from ``source`` (a walk of the autograd graph)."""
    target = source.grad_fn
    if tensor is source:
        return True
    if target is None or tensor.grad_fn is None:
        return False
    stack, visited = [tensor.grad_fn], set()
    while stack and len(visited) < limit:
        node = stack.pop()
        if node is target:
            return True
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.extend(nxt for nxt, _ in node.next_functions if nxt is not None)
    return False


def _receptive_fields(layer: Any, seen: list[Any], n_tokens: int) -> list[tuple[int, int]]:
    """Token range of every output position of ``layer`` (chain of recorded modules)."""
    idx = max((i for i, (m, _, _) in enumerate(seen) if m is layer), default=None)
    if idx is None:
        raise InputError("cannot map the layer's positions to tokens: it is not a Conv1d or "
                         "pooling module run by the model; pass receptive_fields=[(first, last), "
                         "...] (one token range per layer position)")
    chain = [idx]
    while True:  # the latest earlier module whose output (same shape) the input comes from
        inp = seen[chain[-1]][1]
        prev = next((i for i in range(chain[-1] - 1, -1, -1)
                     if tuple(seen[i][2].shape[1:]) == tuple(inp.shape[1:])
                     and _feeds(seen[i][2], inp)), None)
        if prev is None:
            break
        chain.append(prev)
    if seen[chain[-1]][1].shape[-1] != n_tokens:
        raise InputError("cannot follow the layer's input back to the tokens (no Conv1d/pooling "
                         f"input of length {n_tokens}); pass receptive_fields=[(first, last), ...]")
    chain = [(seen[i][0], tuple(seen[i][1].shape), tuple(seen[i][2].shape)) for i in chain]
    fields: list[tuple[int, int]] = [(i, i) for i in range(chain[-1][1][-1])]  # token level
    for module, shape_in, shape_out in reversed(chain):
        ranges = _ranges(module, shape_in[-1], shape_out[-1])
        fields = [(fields[max(0, min(lo, len(fields) - 1))][0],
                   fields[max(0, min(hi, len(fields) - 1))][1]) for lo, hi in ranges]
    return [(max(0, lo), min(n_tokens - 1, hi)) for lo, hi in fields]


def gradcam(
    model: Any,
    layer: Any,
    inputs: Any,
    target: int | Sequence[int] | None = None,
    variant: str = "filters",
    *,
    receptive_fields: Sequence[tuple[int, int]] | None = None,
    return_positions: bool = False,
) -> Any:
    """Grad-CAM heat per input token for a 1-D CNN text classifier (a torch ``nn.Module``).

    Args:
        model: maps ``inputs`` (token ids ``[batch, tokens]``, or float features) to class
            scores ``[batch, classes]``.
        layer: the module (or its dotted name) whose output ``[batch, filters, length]`` to use.
        inputs: token ids ``[tokens]`` or ``[batch, tokens]`` (tensor or lists), or float
            features ``[batch, tokens, ...]``.
        target: class index (or one per example); default: the predicted class.
        variant: ``filters`` (Grad-CAM) or ``positions``.
        receptive_fields: token range ``(first, last)`` of each layer position (default:
            derived from the model's Conv1d/pooling modules).
        return_positions: also return the per-position map ``[batch, length]``.

    Returns:
        numpy ``[tokens]`` (or ``[batch, tokens]`` for a batch) in [0, 1]; with
        ``return_positions`` a pair (token heat, position heat).

    Example:
        >>> heat = gradcam(cnn, cnn.conv, torch.tensor([4, 8, 15, 16]))   # doctest: +SKIP
    """
    if variant not in VARIANTS:
        raise InputError(f"unknown Grad-CAM variant {variant!r}; choose one of "
                         f"{', '.join(VARIANTS)}")
    layer = _layer(model, layer)
    x, single = _inputs(model, inputs)
    n_tokens = x.shape[1]
    seen, handles = _watch(model)
    act, grad = _activation_and_gradient(model, layer, x, target, handles)
    cam = _cam(act, grad, variant)
    fields = list(receptive_fields) if receptive_fields is not None else \
        _receptive_fields(layer, seen, n_tokens)
    heat = _to_tokens(cam, fields, n_tokens)
    if single:
        heat, cam = heat[0], cam[0]
    return (heat, cam) if return_positions else heat


def _layer(model: Any, layer: Any) -> Any:
    if not isinstance(layer, str):
        return layer
    try:
        return model.get_submodule(layer)
    except AttributeError as exc:
        raise InputError(f"model has no layer {layer!r}; pass a module or a name from "
                         "model.named_modules()") from exc


def _inputs(model: Any, inputs: Any) -> tuple[Any, bool]:
    """``(inputs [batch, tokens, ...] on the model's device, whether one sequence was given)``."""
    import torch

    x = torch.as_tensor(inputs)
    single = x.dim() == 1  # one sequence of token ids
    if single:
        x = x.unsqueeze(0)
    if x.dim() < 2 or x.shape[1] == 0:
        raise InputError("inputs are empty; pass at least one token")
    device = next(iter(model.parameters()), torch.empty(0)).device
    return x.to(device), single


def _classes(scores: Any, target: Any) -> Any:
    import torch

    if target is None:
        return scores.argmax(-1)
    classes = torch.as_tensor(target, device=scores.device).reshape(-1)
    classes = classes.expand(scores.shape[0]) if classes.numel() == 1 else classes
    if classes.numel() != scores.shape[0] or int(classes.max()) >= scores.shape[-1] \
            or int(classes.min()) < 0:
        raise InputError(f"target must be a class in 0..{scores.shape[-1] - 1} "
                         "(one, or one per example)")
    return classes


def _activation_and_gradient(model: Any, layer: Any, x: Any, target: Any,
                             handles: list[Any]) -> tuple[Any, Any]:
    """The layer's output ``[batch, filters, length]`` and d(class score)/d(that output)."""
    import torch

    captured: dict[str, Any] = {}

    def keep(_module: Any, _args: Any, output: Any) -> None:
        captured["a"] = output

    handles.append(layer.register_forward_hook(keep))
    was_training = model.training
    model.eval()
    flags = [(p, p.requires_grad) for p in model.parameters()]
    for p, _ in flags:  # a graph through every module; only d(score)/d(layer) is computed
        p.requires_grad_(True)
    try:
        with torch.enable_grad():
            scores = model(x)
            if "a" not in captured:
                raise InputError("the layer did not run during the forward pass; pass a module "
                                 "the model calls")
            act = captured["a"]
            if not isinstance(act, torch.Tensor) or act.dim() != 3:
                raise InputError("the layer's output must be [batch, filters, length]; got "
                                 f"{getattr(act, 'shape', type(act).__name__)}")
            classes = _classes(scores, target)
            picked = scores[torch.arange(scores.shape[0], device=scores.device), classes]
            (grad,) = torch.autograd.grad(picked.sum(), act)
    finally:
        for h in handles:
            h.remove()
        for p, flag in flags:
            p.requires_grad_(flag)
        model.train(was_training)
    return act.detach(), grad


def _cam(act: Any, grad: Any, variant: str) -> Any:
    """Per-position map ``[batch, length]`` in [0, 1] (numpy float64)."""
    import torch

    if variant == "filters":
        cam = (grad.mean(-1, keepdim=True) * act).sum(1)
    else:
        cam = grad.mean(1) * act.sum(1)
    cam = torch.relu(cam)
    top = cam.amax(-1, keepdim=True)
    cam = torch.where(top > 0, cam / torch.where(top > 0, top, torch.ones_like(top)), cam)
    return cam.double().cpu().numpy()


def _to_tokens(cam: Any, fields: Sequence[tuple[int, int]], n_tokens: int) -> Any:
    """Each token takes the largest value of the layer positions whose field covers it."""
    import numpy as np

    if len(fields) != cam.shape[1]:
        raise InputError(f"receptive_fields has {len(fields)} ranges but the layer has "
                         f"{cam.shape[1]} positions")
    heat = np.zeros((cam.shape[0], n_tokens))
    for pos, (lo, hi) in enumerate(fields):
        lo, hi = max(0, int(lo)), min(n_tokens - 1, int(hi))
        if lo <= hi:
            heat[:, lo:hi + 1] = np.maximum(heat[:, lo:hi + 1], cam[:, pos:pos + 1])
    return heat
