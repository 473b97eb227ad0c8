"""``nh.saliency``: which input tokens drove each prediction, every target in one batched pass."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from neuroheat.attribution import batching
from neuroheat.attribution import targets as T
from neuroheat.attribution.config import SaliencyConfig
from neuroheat.attribution.result import Saliency, normalize_rows
from neuroheat.errors import InputError

log = logging.getLogger(__name__)


def saliency(
    model: Any,
    text: str,
    method: str | None = None,
    target: Any = "auto",
    config: SaliencyConfig | None = None,
    **options: Any,
) -> Saliency:
    """Saliency of every target of ``text`` over its tokens, in one batched pass.

    Args:
        model: Hub id, local directory, ``(model, tokenizer)`` pair or ``LoadedModel``.
        text: the input text. Texts longer than the model's limit raise an error (windows
            would change what the model sees for each target): split the text first.
        method: ``connectivity`` (default; one-hot gradient norm, via the embedding Gram
            matrix), ``gradient``, ``grad_x_input`` or ``integrated_gradients``.
        target: ``"auto"`` (masked-LM, causal-LM or predicted class, from the model's head),
            ``"mlm"``, ``"causal"``, ``"classifier"``, a class index or label (or a list),
            a neuron ``(layer, neuron, position)`` / ``(layer, neuron)`` (every position) or a
            list of them (layer 0 = embeddings; a site name such as ``"mlp.3"`` for other
            sites), or a callable ``fn(outputs) -> Tensor[batch, n_targets]`` whose column r
            is target r (outputs include ``hidden_states``).
        config: a :class:`~neuroheat.attribution.config.SaliencyConfig`; keyword ``options``
            (its field names: ``normalize``, ``batch_targets``, ``steps``, ``baseline``,
            ``ig_rule``, ``reduce``, ``generate``, ``sample``, ``seed``, ``top_k``, ``merge``,
            ``positions``, ``device``, ``progress``) override it.

    Example:
        >>> import neuroheat as nh
        >>> sal = nh.saliency("path/to/bert-mlm", "The cat sat on the mat .")  # doctest: +SKIP
        >>> sal.matrix.shape, sal.predictions[0][:1]                          # doctest: +SKIP
    """
    if method is not None:
        options["method"] = method
    cfg = SaliencyConfig.build(config, **options).resolved()
    if not isinstance(text, str):
        raise InputError(f"text must be a string, got {type(text).__name__}")
    if not text.strip():
        raise InputError("text is empty; pass at least one word")
    lm, head = _load(model, target, cfg.device, cfg.generate)
    kind = _kind(target, head, cfg.generate, lm)
    tokens, ids, extras, offsets, word_ids, text, prompt_length = _encode(lm, text, cfg)
    special = [w is None for w in word_ids]
    targets = _targets(kind, target, lm, ids, tokens, special, cfg.positions, prompt_length,
                       extras)
    outcome = batching.run(lm, ids, extras, targets, cfg.method,
                           batch_targets=cfg.batch_targets, steps=cfg.steps,
                           baseline=cfg.baseline, ig_rule=cfg.ig_rule, reduce=cfg.reduce,
                           top_k=cfg.top_k, progress=False if cfg.quiet else None)
    _check_completeness(outcome.info)
    matrix, scale = normalize_rows(outcome.raw, cfg.normalize)
    display, space_before = _display(lm.tokenizer, tokens, offsets, text, special)
    info = dict(outcome.info, seed=cfg.seed, generate=cfg.generate, top_k=cfg.top_k)
    result = Saliency(
        tokens=tokens, matrix=matrix, target_positions=targets.positions,
        predictions=outcome.predictions, method=cfg.method, model=_model_name(model, lm),
        target=targets.kind, normalize=cfg.normalize, labels=targets.labels,
        display_tokens=display, space_before=space_before,
        word_ids=[None if s else w for w, s in zip(word_ids, special, strict=True)],
        special=special, row_scale=scale, prompt_length=prompt_length, info=info,
    )
    return result.merge_words(cfg.merge) if cfg.merge else result


def _encode(lm: Any, text: str, cfg: SaliencyConfig) -> tuple[Any, ...]:
    """Tokenize ``text`` (and generate, when asked): tokens, ids, extras, offsets, word ids,
    the (extended) text and the prompt length."""
    import torch

    enc = lm.tokenizer(text, return_offsets_mapping=True, return_tensors="pt")
    ids = enc["input_ids"][0]
    if ids.numel() == 0 or all(w is None for w in enc.word_ids()):
        raise InputError("the text has no tokens for this tokenizer (only control or "
                         "zero-width characters?); pass visible text")
    generate = cfg.generate
    limit = lm.max_length
    if ids.numel() + (generate or 0) > limit:
        raise InputError(
            f"the text is {ids.numel()} tokens{f' + {generate} generated' if generate else ''}, "
            f"more than the model's limit of {limit}; split it into shorter texts (saliency does "
            "not window, which would change what the model sees for each target)"
        )
    extras = {k: enc[k] for k in ("token_type_ids",) if k in enc}
    offsets = [tuple(o) for o in enc["offset_mapping"][0].tolist()]
    word_ids = list(enc.word_ids())
    prompt_length = None
    if generate:
        sample = cfg.seed is not None if cfg.sample is None else cfg.sample
        ids = batching.generate(lm, ids, generate, sample=sample, seed=cfg.seed).cpu()
        prompt_length = len(word_ids)
        offsets, word_ids, text = _extend(lm.tokenizer, text, ids, offsets, word_ids)
        if "token_type_ids" in extras:
            extras["token_type_ids"] = torch.zeros(1, ids.numel(), dtype=torch.long)
    tokens = lm.tokenizer.convert_ids_to_tokens(ids.tolist())
    return tokens, ids, extras, offsets, word_ids, text, prompt_length


def _check_completeness(info: dict[str, Any], tolerance: float = 0.05) -> None:
    """Warn when integrated gradients miss f(x) - f(baseline) by more than ``tolerance``."""
    deltas, diffs = info.get("completeness_delta"), info.get("f_difference")
    if not deltas or not diffs:
        return
    worst = max(abs(d) / max(abs(f), 1e-12) for d, f in zip(deltas, diffs, strict=True))
    if worst > tolerance:
        log.warning("integrated gradients: attributions miss f(x) - f(baseline) by up to %.1f%% "
                    "(completeness); use more steps (now %s)", 100 * worst, info.get("steps"))


def _model_name(model: Any, lm: Any) -> str:
    if isinstance(model, str | os.PathLike):
        return str(model)
    return str(getattr(lm, "name", "") or type(lm.model).__name__)


def _task_for(model: Any) -> str:
    """The head task stored in a model directory's config (``base`` when unknown)."""
    from neuroheat.model.loading import _source

    try:
        source, local = _source(model)
        from transformers import AutoConfig

        cfg = AutoConfig.from_pretrained(source, local_files_only=not local)
    except (OSError, ValueError, KeyError):
        return "base"  # load_model raises the precise error
    heads = {T.head_of_class(a) for a in (cfg.architectures or [])}
    for task in ("mlm", "causal", "classifier"):
        if task in heads:
            return task
    return "base"


def _load(model: Any, target: Any, device: str | None, generate: int | None) -> tuple[Any, str]:
    from neuroheat.model.loading import LoadedModel, load_model

    if isinstance(model, str | os.PathLike):
        task = _task_for(model)
        lm = load_model(model, task=task, device=device)
    else:
        lm = model if isinstance(model, LoadedModel) else load_model(model, device=device)
    return lm, T.head_of(lm.model)


def _kind(target: Any, head: str, generate: int | None, lm: Any) -> str:
    name = lm.name
    if callable(target):
        kind = "callable"
    elif isinstance(target, tuple) or (isinstance(target, list) and target
                                       and isinstance(target[0], tuple | list)):
        kind = "neuron"
    elif isinstance(target, int) or (isinstance(target, list) and target):
        kind = "classifier"
    elif isinstance(target, str) and target.lower() in T.TARGET_NAMES:
        kind = target.lower()
        if kind == "auto":
            if head == "base":
                raise InputError(
                    f"cannot choose a target for {name!r}: {type(lm.model).__name__} has no "
                    "masked-LM, causal-LM or classification head; load a model with one (e.g. "
                    f"{T.HEADS['mlm'][3]}) or pass target=(layer, neuron, position) or a "
                    "callable")
            kind = head
    elif isinstance(target, str) and head == "classifier":
        kind = "classifier"  # a class label or index given as text
    else:
        raise InputError(f"unknown target {target!r}; use one of {', '.join(T.TARGET_NAMES)}, a "
                         "class index or label (classifiers), (layer, neuron, position) or a "
                         "callable")
    if kind in T.HEADS and head != kind:
        raise T.missing_head_error(kind, lm.model, name)
    if generate and kind != "causal":
        raise InputError("generate=N needs a causal language model target (target='causal' "
                         f"or 'auto' with a causal-LM head); got target kind {kind!r}")
    return "generate" if generate else kind


def _targets(kind: str, target: Any, lm: Any, ids: Any, tokens: list[str], special: list[bool],
             positions: Sequence[int] | None, prompt_length: int | None,
             extras: dict[str, Any]) -> T.Targets:
    import torch

    id_list = ids.tolist()
    if kind == "mlm":
        return T.mlm_targets(id_list, tokens, special, lm.tokenizer.mask_token_id, positions)
    if kind in ("causal", "generate"):
        first = prompt_length if kind == "generate" else 1
        return T.causal_targets(id_list, tokens, special, positions, first, kind)
    if kind == "neuron":
        return T.neuron_targets(target, special, lm.model)
    device = lm.model.get_input_embeddings().weight.device
    with torch.no_grad():
        kwargs = {k: v.to(device) for k, v in extras.items()}
        probe_targets = T.Targets(kind, [], [])
        out = batching.forward_module(lm.model, probe_targets)(
            input_ids=ids.reshape(1, -1).to(device), output_hidden_states=True, **kwargs)
    if kind == "classifier":
        predicted = int(out.logits[0].argmax())
        id2label = {int(k): v for k, v in (lm.model.config.id2label or {}).items()}
        return T.class_targets(target, predicted, id2label)
    fn: Callable[[Any], Any] = target
    probe = fn(out)
    if not isinstance(probe, torch.Tensor) or probe.dim() not in (1, 2):
        raise InputError("a callable target must return a tensor [batch] or [batch, n_targets] "
                         f"from the model outputs; got {type(probe).__name__}")
    return T.callable_targets(fn, 1 if probe.dim() == 1 else int(probe.shape[1]))


def _extend(tokenizer: Any, prompt: str, ids: Any, offsets: list[tuple[int, int]],
            word_ids: list[int | None]) -> tuple[list[tuple[int, int]], list[int | None], str]:
    """Offsets and word ids of prompt + generated tokens (re-encoded when that round-trips)."""
    full = tokenizer.decode(ids.tolist())
    enc = tokenizer(full, return_offsets_mapping=True)
    if enc["input_ids"] == ids.tolist():
        return [tuple(o) for o in enc["offset_mapping"]], list(enc.word_ids()), full
    # fall back to markers: a token starting with a space marker starts a new word
    offsets = list(offsets)
    words = list(word_ids)
    last = max((w for w in words if w is not None), default=-1)
    for tok in tokenizer.convert_ids_to_tokens(ids.tolist()[len(words):]):
        if tok.startswith(("\u0120", "\u2581")) or not words or words[-1] is None:
            last += 1
        words.append(last)
        offsets.append((0, 0))
    return offsets, words, full


def _display(tokenizer: Any, tokens: list[str], offsets: list[tuple[int, int]], text: str,
             special: list[bool]) -> tuple[list[str], list[bool]]:
    """Display strings and whether a space precedes each token."""
    shown, spaces = [], []
    prev_end = None
    for i, tok in enumerate(tokens):
        if special[i]:
            shown.append(tok)
            spaces.append(i > 0)
            prev_end = None
            continue
        decoded = tokenizer.convert_tokens_to_string([tok])
        if "\ufffd" in decoded:  # a byte-level piece of a character
            decoded = tok.replace("\u0120", " ").replace("\u2581", " ")
        start, end = offsets[i] if i < len(offsets) else (0, 0)
        if decoded.startswith("##"):
            shown.append(decoded[2:] or decoded)
            spaces.append(False)
        elif not decoded.strip():
            shown.append(decoded or tok)
            spaces.append(False)
        else:
            gap = prev_end is not None and start > prev_end and end > start
            marked = tok.startswith(("\u0120", "\u2581")) or decoded[:1].isspace()
            shown.append(decoded.strip())
            after_space = bool(shown[:-1]) and not shown[-2].strip()  # a whitespace token
            spaces.append(i > 0 and (gap or marked or prev_end is None) and not after_space)
        if end > start:
            prev_end = end
    return shown, spaces
