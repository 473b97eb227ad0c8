"""Saliency targets: the scalars whose gradients we explain, one per row of the result.

A :class:`Targets` describes every row at once; :meth:`Targets.scalars` reads, from the outputs
of one batched forward pass (one copy of the input per row), the scalar of each copy's own row.

Kinds:
    ``mlm``        each non-special position masked in turn; the logit of the original token.
    ``causal``     each next-token prediction from its prefix; the logit of the actual token.
    ``generate``   the same for generated tokens, over everything before them.
    ``classifier`` a class logit (default: the predicted class).
    ``neuron``     ``(layer, neuron, position)`` activation; layer 0 = embedding output; the
                   layer may name any site, e.g. ``("mlp.3", 17, 4)``.
    ``callable``   ``fn(outputs) -> Tensor[batch, n_targets]`` (or ``[batch]`` for one target).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from neuroheat.errors import InputError, UnsupportedModelError

log = logging.getLogger(__name__)

HEADS = {
    # kind: (transformers mapping, Auto class, description, examples when the type has none)
    "mlm": ("MODEL_FOR_MASKED_LM_MAPPING_NAMES", "AutoModelForMaskedLM", "masked-LM",
            "BertForMaskedLM, RobertaForMaskedLM, DistilBertForMaskedLM"),
    "causal": ("MODEL_FOR_CAUSAL_LM_MAPPING_NAMES", "AutoModelForCausalLM", "causal-LM",
               "GPT2LMHeadModel, LlamaForCausalLM, GPTNeoXForCausalLM"),
    "classifier": ("MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES",
                   "AutoModelForSequenceClassification", "sequence-classification",
                   "BertForSequenceClassification, RobertaForSequenceClassification"),
}
TARGET_NAMES = ("auto", "mlm", "causal", "classifier")


def _mapping(kind: str) -> dict[str, Any]:
    from transformers.models.auto import modeling_auto

    return getattr(modeling_auto, HEADS[kind][0], {})


def _names(value: Any) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, list | tuple) else (str(value),)


def head_of_class(name: str) -> str:
    """``mlm``, ``causal``, ``classifier`` or ``base`` for a transformers class name."""
    for kind in HEADS:
        if any(name in _names(v) for v in _mapping(kind).values()):
            return kind
    return "base"


def head_of(model: Any) -> str:
    """The head kind of a loaded model (see :func:`head_of_class`)."""
    return head_of_class(type(model).__name__)


def missing_head_error(kind: str, model: Any, name: str) -> UnsupportedModelError:
    """The error for a target that needs a head the model lacks; names classes that work."""
    _, auto, desc, examples = HEADS[kind]
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    fitting = _mapping(kind).get(model_type) if model_type else None
    classes = ", ".join(_names(fitting)) if fitting else examples
    return UnsupportedModelError(
        f"target {kind!r} needs a model with a {desc} head, but {name!r} is a "
        f"{type(model).__name__}; load a model of class {classes} (transformers.{auto}), "
        "or explain a neuron with target=(layer, neuron, position) or a callable"
    )


@dataclass
class Targets:
    """Every row of a saliency computation (see the module docstring for the kinds)."""

    kind: str
    positions: list[int | None]
    labels: list[str]
    mask_positions: list[int | None] = field(default_factory=list)
    read_positions: list[int | None] = field(default_factory=list)
    ids: list[int | None] = field(default_factory=list)
    neurons: list[tuple[str, int, int] | None] = field(default_factory=list)
    fn: Callable[[Any], Any] | None = None

    def __len__(self) -> int:
        return len(self.positions)

    @property
    def needs_hidden_states(self) -> bool:
        return self.kind in ("neuron", "callable")

    def site_layers(self) -> dict[str, list[int]]:
        """For neuron targets: the layers read, per site kind (sorted)."""
        layers: dict[str, set[int]] = {}
        for item in self.neurons:
            if item is not None:
                layers.setdefault(item[0], set()).add(item[1])
        return {kind: sorted(v) for kind, v in layers.items()}

    @property
    def gathers(self) -> bool:
        """Whether the head only needs the hidden state at one position per copy."""
        return self.kind in ("mlm", "causal", "generate")

    def scalars(self, outputs: Any, rows: Any, n_tokens: int) -> tuple[Any, Any]:
        """``(scalars[batch], logits[batch, classes] or None)`` for copies serving ``rows``."""
        import torch

        batch = torch.arange(len(rows), device=rows.device)
        if self.kind == "neuron":
            sites = outputs.sites
            vals = []
            for b, r in enumerate(rows.tolist()):
                kind, layer, neuron = self.neurons[r]  # type: ignore[misc]
                vals.append(sites[kind, layer][b, self.positions[r], neuron])
            return torch.stack(vals), None
        if self.kind == "callable":
            if self.fn is None:  # internal invariant of kind == "callable"
                raise RuntimeError("callable target without a function")
            out = self.fn(outputs)
            if not isinstance(out, torch.Tensor):
                raise InputError("a callable target must return a torch.Tensor of shape "
                                 "[batch] or [batch, n_targets]")
            out = out.reshape(out.shape[0], -1)
            return out[batch, rows], None
        logits = outputs.logits
        if self.kind == "classifier":
            return logits[batch, torch.as_tensor(self.ids, device=rows.device)[rows]], logits
        if logits.dim() == 3 and logits.shape[1] == 1:  # head ran on the gathered position only
            logits = logits[:, 0]
        else:
            read = torch.as_tensor(self.read_positions, device=rows.device)[rows]
            logits = logits[batch, read]
        ids = torch.as_tensor(self.ids, device=rows.device)[rows]
        return logits[batch, ids], logits


def candidate_positions(special: Sequence[bool], positions: Sequence[int] | None,
                        first: int = 0) -> list[int]:
    """Non-special positions from ``first`` on, or the given ``positions`` (checked)."""
    n = len(special)
    if positions is None:
        return [i for i in range(first, n) if not special[i]]
    out = []
    for p in positions:
        if not isinstance(p, int) or not -n <= p < n:
            raise InputError(f"target position {p!r} is outside the {n} tokens of the text")
        out.append(p % n)
    return out


def mlm_targets(ids: Sequence[int], tokens: Sequence[str], special: Sequence[bool],
                mask_id: int | None, positions: Sequence[int] | None) -> Targets:
    if mask_id is None:
        raise UnsupportedModelError("the tokenizer has no mask token, which masked-LM saliency "
                                    "needs; use a tokenizer with mask_token set")
    pos = candidate_positions(special, positions)
    if not pos:
        raise InputError("the text has no non-special token to explain")
    return Targets("mlm", pos, [tokens[p] for p in pos], mask_positions=pos, read_positions=pos,
                   ids=[ids[p] for p in pos])


def causal_targets(ids: Sequence[int], tokens: Sequence[str], special: Sequence[bool],
                   positions: Sequence[int] | None, first: int = 1,
                   kind: str = "causal") -> Targets:
    pos = [p for p in candidate_positions(special, positions, first) if p >= 1]
    if not pos:
        raise InputError("next-token saliency needs at least two tokens (a prefix and a token "
                         "to predict); use a longer text or generate=N")
    return Targets(kind, pos, [tokens[p] for p in pos], mask_positions=[None] * len(pos),
                   read_positions=[p - 1 for p in pos], ids=[ids[p] for p in pos])


def class_targets(spec: Any, predicted: int, id2label: dict[int, str]) -> Targets:
    classes = [predicted] if spec in (None, "auto", "classifier") else (
        list(spec) if isinstance(spec, list | tuple) else [spec])
    n = len(id2label) or predicted + 1
    resolved = []
    for c in classes:
        if isinstance(c, str) and not c.lstrip("-").isdigit():
            by_name = {str(v).lower(): k for k, v in id2label.items()}
            if c.lower() not in by_name:
                raise InputError(f"unknown class {c!r}; the model's classes are "
                                 f"{', '.join(str(v) for v in id2label.values())}")
            c = by_name[c.lower()]
        c = int(c)
        if not 0 <= c < n:
            raise InputError(f"class {c} is out of range; the model has {n} classes (0..{n - 1})")
        resolved.append(c)
    return Targets("classifier", [None] * len(resolved),
                   [str(id2label.get(c, c)) for c in resolved], ids=resolved)


def _neuron_site(layer: Any, model: Any) -> tuple[str, int, int]:
    """``(kind, layer, width)`` of a target's layer: an int (hidden states) or a site name."""
    from neuroheat.model.sites import Site, get_site_kind

    site = layer if isinstance(layer, Site) else (
        Site.parse(layer) if isinstance(layer, str) else Site("hidden", int(layer)))
    kind = get_site_kind(site.kind)
    available = kind.layers(model)
    if site.layer not in available:
        first, last = available[0], available[-1]
        span = (f"0 (embeddings) to {last}" if site.kind == "hidden" else f"{first} to {last}")
        raise InputError(f"layer {site.layer} is out of range; {site.kind} layers are {span}")
    return site.kind, site.layer, kind.width(model)


def neuron_targets(spec: Sequence[Any], special: Sequence[bool], model: Any) -> Targets:
    """Targets for ``(layer, neuron[, position])`` items; ``layer`` is an int (hidden states,
    0 = embeddings) or a site name such as ``"mlp.3"``."""
    single = spec and isinstance(spec[0], int | str) and not isinstance(spec[0], bool)
    items = [spec] if single else list(spec)
    positions, neurons, labels = [], [], []
    for item in items:
        if not isinstance(item, tuple | list) or len(item) not in (2, 3):
            raise InputError(f"neuron target {item!r} must be (layer, neuron, position) or "
                             "(layer, neuron) for every non-special position")
        kind, layer, width = _neuron_site(item[0], model)
        neuron = int(item[1])
        if not 0 <= neuron < width:
            what = "the hidden size" if kind == "hidden" else f"the width of {kind}.{layer}"
            raise InputError(f"neuron {neuron} is out of range; {what} is {width}")
        pos = item[2] if len(item) == 3 else None
        prefix = "" if kind == "hidden" else f"{kind}."
        for p in candidate_positions(special, None if pos is None else [pos]):
            positions.append(p)
            neurons.append((kind, layer, neuron))
            labels.append(f"{prefix}L{layer}N{neuron}@{p}")
    return Targets("neuron", positions, labels, neurons=neurons)


def callable_targets(fn: Callable[[Any], Any], n_targets: int) -> Targets:
    return Targets("callable", [None] * n_targets, [f"target {r}" for r in range(n_targets)],
                   fn=fn)
