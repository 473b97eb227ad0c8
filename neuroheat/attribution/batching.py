"""All targets in one batched forward and backward pass.

Targets are independent, so each gets its own copy of the input (with its own mask position
for masked LMs) in one batch; the sum of their scalars has, w.r.t. copy r, exactly the gradient
of target r. One ``torch.autograd.grad`` call then explains every target of a chunk. Chunks hold
``batch_targets`` targets (``steps`` copies each for integrated gradients), sized by default to
a token budget. The LM head runs only on the one position each copy reads (a forward hook on the
base model keeps that position), instead of over the whole vocabulary at every position.
Parameters are frozen during the pass (restored after), so no weight gradient is computed and
``.grad`` of the user's model is never touched.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from neuroheat.attribution import methods as M
from neuroheat.attribution.targets import Targets
from neuroheat.errors import InputError, UnsupportedModelError

log = logging.getLogger(__name__)

CPU_BUDGET = 2 * 2**30  # bytes of activations kept for the backward pass, per chunk
GPU_FRACTION = 0.5  # of the free GPU memory


@dataclass
class Outcome:
    """Raw per-token scores, predictions and method details of a batched run."""

    raw: Any  # numpy [n_targets, n_tokens] float64
    predictions: list[list[tuple[str, float]]]
    info: dict[str, Any] = field(default_factory=dict)


@contextmanager
def frozen(model: Any) -> Iterator[None]:
    """Temporarily stop parameters from requiring gradients."""
    flags = [(p, p.requires_grad) for p in model.parameters()]
    for p, _ in flags:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)


@contextmanager
def gathered(model: Any, state: dict[str, Any], enabled: bool) -> Iterator[None]:
    """Keep only the hidden state at ``state["read"][b]`` of copy b before the head runs."""
    import torch

    base = getattr(model, "base_model", None)
    if not enabled or base is None or base is model:
        yield
        return

    def hook(_module: Any, _args: Any, output: Any) -> Any:
        read = state.get("read")
        hidden = output[0] if isinstance(output, tuple) else getattr(output, "last_hidden_state",
                                                                     None)
        if read is None or hidden is None or hidden.dim() != 3 or hidden.shape[0] != len(read):
            return None
        kept = hidden[torch.arange(hidden.shape[0], device=hidden.device), read].unsqueeze(1)
        if isinstance(output, tuple):
            return (kept, *output[1:])
        output.last_hidden_state = kept  # ModelOutput keeps key and attribute in sync
        return output

    handle = base.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def auto_batch_targets(lm: Any, n_tokens: int, copies: int, device: Any) -> int:
    """Targets per chunk so that the activations kept for backward fit a memory budget.

    Per copy and layer, about 24 hidden-size vectors per token (attention and feed-forward
    inputs, the 4x-wide intermediate before and after its activation, norms) plus the
    attention probabilities; 2 GiB on CPU, half the free memory on a GPU.
    """
    import torch

    cfg = getattr(lm.model.config, "text_config", None) or lm.model.config
    try:
        layers, hidden = lm.num_layers, lm.hidden_size
    except UnsupportedModelError:  # unknown config layout: assume a base-size model
        layers, hidden = 12, 768
    heads = next((v for a in ("num_attention_heads", "n_head", "num_heads")
                  if isinstance(v := getattr(cfg, a, None), int)), max(1, hidden // 64))
    elem = lm.model.get_input_embeddings().weight.element_size()
    per_copy = n_tokens * layers * (24 * hidden + 3 * heads * n_tokens) * elem
    budget = CPU_BUDGET
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        budget = int(free * GPU_FRACTION)
    return max(1, int(budget // (per_copy * copies)))


def forward_module(model: Any, targets: Targets) -> Any:
    """The module to run: the encoder of an encoder-decoder for neuron/callable targets."""
    if targets.needs_hidden_states and getattr(model.config, "is_encoder_decoder", False) \
            and hasattr(model, "get_encoder"):
        return model.get_encoder()
    return model


def _forward(model: Any, x: Any, extras: dict[str, Any], targets: Targets) -> Any:
    import torch

    full, model = model, forward_module(model, targets)
    b, n = x.shape[0], x.shape[1]
    kwargs: dict[str, Any] = {
        "inputs_embeds": x,
        "attention_mask": torch.ones(b, n, dtype=torch.long, device=x.device),
        "return_dict": True,
    }
    for name, value in extras.items():
        kwargs[name] = value.expand(b, -1)
    if targets.needs_hidden_states:
        kwargs["output_hidden_states"] = True
    if targets.kind in ("causal", "generate"):
        kwargs["use_cache"] = False
    if targets.kind != "neuron":
        return model(**kwargs)
    return _forward_sites(model, full, kwargs, targets)


class SiteOutputs:
    """Model outputs plus ``sites[(kind, layer)]``: the tapped activations of neuron targets."""

    def __init__(self, outputs: Any, sites: dict[tuple[str, int], Any]):
        self.outputs, self.sites = outputs, sites

    def __getattr__(self, name: str) -> Any:
        return getattr(self.outputs, name)


def _forward_sites(module: Any, full: Any, kwargs: dict[str, Any], targets: Targets) -> Any:
    """Run ``module`` with every site of the neuron targets tapped (hooks on ``full``)."""
    from contextlib import ExitStack

    from neuroheat.model.sites import get_site_kind

    wanted = targets.site_layers()
    with ExitStack() as stack:
        taps = {kind: stack.enter_context(get_site_kind(kind).tap(full, layers))
                for kind, layers in wanted.items()}
        for tap in taps.values():
            kwargs.update(tap.kwargs)
        out = module(**kwargs)
        sites = {(kind, layer): value for kind, tap in taps.items()
                 for layer, value in zip(wanted[kind], tap.values(out), strict=True)}
    return SiteOutputs(out, sites)


def _top_k(logits: Any, k: int, names: Any) -> list[list[tuple[str, float]]]:
    import torch

    if logits is None or k <= 0:
        return [[] for _ in range(0 if logits is None else logits.shape[0])]
    probs = torch.softmax(logits.detach().float(), dim=-1)
    values, index = probs.topk(min(k, probs.shape[-1]), dim=-1)
    return [[(names(int(i)), float(v)) for v, i in zip(vr, ir, strict=True)]
            for vr, ir in zip(values.tolist(), index.tolist(), strict=True)]


def _baseline(kind: Any, base: Any, embedding: Any, tokenizer: Any) -> Any:
    import torch

    if isinstance(kind, torch.Tensor):
        bl = kind.to(base.device, base.dtype)
        if bl.shape not in (base.shape[-1:], base.shape[-2:]):
            raise InputError(f"baseline tensor has shape {tuple(bl.shape)}; expected "
                             f"[hidden]={base.shape[-1]} or [tokens, hidden]="
                             f"{tuple(base.shape[-2:])}")
        return bl.expand_as(base)
    if kind == "zeros":
        return torch.zeros_like(base)
    if kind in ("pad", "mask"):
        tid = tokenizer.pad_token_id if kind == "pad" else tokenizer.mask_token_id
        if tid is None:
            raise InputError(f"baseline={kind!r} needs a {kind} token, which this tokenizer "
                             f"lacks; use baseline='zeros' or one of {', '.join(M.BASELINES)}")
        with torch.no_grad():
            ids = torch.full(base.shape[:2], tid, dtype=torch.long, device=base.device)
            return embedding(ids).to(base.dtype)
    raise InputError(f"unknown baseline {kind!r}; choose one of {', '.join(M.BASELINES)} "
                     "or pass a tensor")


@dataclass
class _Pass:
    """What every chunk of one saliency computation shares."""

    model: Any
    tokenizer: Any
    embedding: Any
    targets: Targets
    method: str
    reduce: str
    ids_row: Any
    extras: dict[str, Any]
    read_all: Any
    state: dict[str, Any]
    gram: Any = None
    baseline: Any = "zeros"
    alphas: Any = None
    weights: Any = None

    @property
    def copies(self) -> int:
        return 1 if self.alphas is None else len(self.alphas)


def _embedded(p: _Pass, chunk: list[int]) -> Any:
    """Input embeddings of one copy per target row, each with its own mask position."""
    import torch

    ids = p.ids_row.repeat(len(chunk), 1)
    for b, r in enumerate(chunk):
        mp = p.targets.mask_positions[r] if p.targets.mask_positions else None
        if mp is not None:
            ids[b, mp] = p.tokenizer.mask_token_id
    with torch.no_grad():
        return p.embedding(ids)


def _chunk(p: _Pass, chunk: list[int]) -> tuple[Any, Any, list[float], list[float]]:
    """``(scores [rows, tokens], logits or None, completeness deltas, f differences)``."""
    import torch

    device = p.ids_row.device
    n = p.ids_row.shape[-1]
    rows = torch.as_tensor(chunk, device=device)
    base = _embedded(p, chunk)
    if p.method == "integrated_gradients":
        bl = _baseline(p.baseline, base, p.embedding, p.tokenizer)
        a = torch.as_tensor(p.alphas, dtype=base.dtype, device=device)
        x = (bl[:, None] + a[None, :, None, None] * (base - bl)[:, None]).reshape(
            -1, n, base.shape[-1])
        copy_rows = rows.repeat_interleave(p.copies)
    else:
        x, copy_rows = base, rows
    x = x.detach().requires_grad_(True)
    p.state["read"] = p.read_all[copy_rows]
    out = _forward(p.model, x, p.extras, p.targets)
    scalars, logits = p.targets.scalars(out, copy_rows, n)
    if not scalars.requires_grad:
        raise InputError("the target does not depend on the input embeddings; check "
                         "the target (a callable must compute from the model outputs)")
    (grad,) = torch.autograd.grad(scalars.sum(), x)
    del out
    if p.method == "connectivity":
        return M.connectivity(grad, p.gram), logits, [], []
    if p.method == "gradient":
        return M.reduce_tokens(grad, p.reduce), logits, [], []
    if p.method == "grad_x_input":
        return M.reduce_tokens(grad * base, p.reduce), logits, [], []
    w = torch.as_tensor(p.weights, dtype=grad.dtype, device=device)
    avg = (grad.reshape(len(chunk), p.copies, n, -1) * w[None, :, None, None]).sum(1)
    attr = avg * (base - bl)
    with torch.no_grad():  # completeness: f(x) - f(baseline) at the path's two ends
        p.state["read"] = p.read_all[torch.cat([rows, rows])]
        ends = _forward(p.model, torch.cat([base, bl]), p.extras, p.targets)
        f_end, end_logits = p.targets.scalars(ends, torch.cat([rows, rows]), n)
    fx, fb = f_end[: len(chunk)], f_end[len(chunk):]
    logits = None if end_logits is None else end_logits[: len(chunk)]
    return (M.reduce_tokens(attr, p.reduce), logits, (attr.sum((1, 2)) - (fx - fb)).tolist(),
            (fx - fb).tolist())


def _prepare(lm: Any, input_ids: Any, extras: dict[str, Any], targets: Targets, method: str,
             reduce: str | None, baseline: Any, steps: int, ig_rule: str) -> _Pass:
    import torch

    model, tokenizer = lm.model, lm.tokenizer
    embedding = model.get_input_embeddings()
    if embedding is None:
        raise UnsupportedModelError(f"{type(model).__name__} exposes no input embeddings "
                                    "(get_input_embeddings()), which saliency needs")
    device = embedding.weight.device
    reduce = reduce or M.default_reduce(method)
    if reduce not in M.REDUCTIONS:
        raise InputError(f"unknown reduce={reduce!r}; choose one of {', '.join(M.REDUCTIONS)}")
    n, n_rows = int(input_ids.shape[-1]), len(targets)
    read_all = torch.as_tensor([-1 if p is None else p for p in targets.read_positions]
                               or [-1] * n_rows, device=device)
    p = _Pass(model, tokenizer, embedding, targets, method, reduce,
              input_ids.reshape(1, n).to(device),
              {k: v.reshape(1, n).to(device) for k, v in extras.items()}, read_all, {},
              baseline=baseline)
    if method == "integrated_gradients":
        p.alphas, p.weights = M.ig_alphas(steps, ig_rule)
    if method == "connectivity":
        p.gram = M.gram_matrix(embedding)
    return p


def run(
    lm: Any,
    input_ids: Any,
    extras: dict[str, Any],
    targets: Targets,
    method: str,
    *,
    batch_targets: int | None = None,
    steps: int = 32,
    baseline: Any = "zeros",
    ig_rule: str = "gausslegendre",
    reduce: str | None = None,
    top_k: int = 3,
    progress: bool | None = None,
) -> Outcome:
    """Scores of every target over the ``input_ids [n_tokens]`` of one text.

    ``extras`` holds other model inputs of shape ``[1, n_tokens]`` (e.g. ``token_type_ids``).
    """
    import numpy as np
    import torch
    from tqdm.auto import tqdm

    p = _prepare(lm, input_ids, extras, targets, method, reduce, baseline, steps, ig_rule)
    n, n_rows = int(input_ids.shape[-1]), len(targets)
    if batch_targets is None:
        batch_targets = auto_batch_targets(lm, n, p.copies, p.ids_row.device)
    if not isinstance(batch_targets, int) or batch_targets < 1:
        raise InputError(f"batch_targets must be a positive integer, got {batch_targets!r}")
    model, tokenizer = lm.model, lm.tokenizer
    names = (lambda i: str(model.config.id2label.get(i, i))) if targets.kind == "classifier" \
        else (lambda i: tokenizer.convert_ids_to_tokens(i))
    raw = np.zeros((n_rows, n), dtype=np.float64)
    predictions: list[list[tuple[str, float]]] = []
    deltas: list[float] = []
    f_diffs: list[float] = []
    chunks = [list(range(s, min(s + batch_targets, n_rows))) for s in range(0, n_rows, batch_targets)]
    show = progress if progress is not None else (len(chunks) > 1 and sys.stderr.isatty())
    with frozen(model), gathered(model, p.state, targets.gathers), torch.enable_grad():
        for chunk in tqdm(chunks, desc="saliency", unit="chunk", disable=not show):
            score, logits, delta, f_diff = _chunk(p, chunk)
            raw[chunk] = score.detach().double().cpu().numpy()
            predictions += _top_k(logits, top_k, names) if logits is not None else \
                [[] for _ in chunk]
            deltas += delta
            f_diffs += f_diff
    info: dict[str, Any] = {"batch_targets": batch_targets, "chunks": len(chunks),
                            "reduce": p.reduce if method != "connectivity" else "norm"}
    if method == "integrated_gradients":
        info.update(steps=steps, ig_rule=ig_rule, completeness_delta=deltas,
                    f_difference=f_diffs,
                    baseline=baseline if isinstance(baseline, str) else "tensor")
    return Outcome(raw, predictions, info)


def generate(lm: Any, input_ids: Any, n_new: int, *, sample: bool = False,
             seed: int | None = None) -> Any:
    """Extend ``input_ids [n]`` by up to ``n_new`` tokens (greedy or sampled); stops at EOS."""
    import torch

    model = lm.model
    device = model.get_input_embeddings().weight.device
    ids = input_ids.reshape(1, -1).to(device)
    gen = None
    if sample:
        gen = torch.Generator(device=device)
        gen.manual_seed(0 if seed is None else int(seed))
    eos = getattr(lm.tokenizer, "eos_token_id", None)
    with torch.inference_mode():
        for _ in range(n_new):
            logits = model(input_ids=ids, use_cache=False).logits[0, -1].float()
            if sample:
                nxt = torch.multinomial(torch.softmax(logits, -1), 1, generator=gen)
            else:
                nxt = logits.argmax(-1, keepdim=True)
            ids = torch.cat([ids, nxt.reshape(1, 1)], dim=1)
            if eos is not None and int(nxt) == eos:
                break
    return ids[0]
