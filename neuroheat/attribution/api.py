"""``nh.saliency``: which input tokens drove each prediction, every target in one batched pass."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from neuroheat.attribution import batching
from neuroheat.attribution import targets as T
from neuroheat.attribution.methods import resolve_method
from neuroheat.attribution.result import MERGES, NORMALIZATIONS, Saliency, normalize_rows
from neuroheat.errors import InputError

log = logging.getLogger(__name__)


def saliency(
    model: Any,
    text: str,
    method: str = "connectivity",
    target: Any = "auto",
    *,
    normalize: str = "max",
    batch_targets: int | None = None,
    steps: int = 32,
    baseline: Any = "zeros",
    ig_rule: str = "gausslegendre",
    reduce: str | None = None,
    generate: int | None = None,
    sample: bool | None = None,
    seed: int | None = None,
    top_k: int = 3,
    merge: str | None = None,
    positions: Sequence[int] | None = None,
    device: str | None = None,
    progress: bool | None = None,
) -> Saliency:
    """Saliency of every target of ``text`` over its tokens, in one batched pass.

    Args:
        model: Hub id, local directory, ``(model, tokenizer)`` pair or ``LoadedModel``.
        text: the input text. Texts longer than the model's limit raise an error (windows
            would change what the model sees for each target): split the text first.
        method: ``connectivity`` (one-hot gradient norm, via the embedding Gram matrix),
            ``gradient``, ``grad_x_input`` or ``integrated_gradients``.
        target: ``"auto"`` (masked-LM, causal-LM or predicted class, from the model's head),
            ``"mlm"``, ``"causal"``, ``"classifier"``, a class index or label (or a list),
            a neuron ``(layer, neuron, position)`` / ``(layer, neuron)`` (every position) or a
            list of them (layer 0 = embeddings), or a callable ``fn(outputs) -> Tensor[batch,
            n_targets]`` whose column r is target r (outputs include ``hidden_states``).
        normalize: per row, ``max`` (max |x| = 1), ``sum`` (sum |x| = 1) or ``none``.
        batch_targets: targets per forward/backward pass (default: as many as fit about
            2 GiB of activations on CPU, half the free memory on a GPU).
        steps, baseline, ig_rule: integrated gradients' path points, baseline (``zeros``,
            ``pad``, ``mask`` or a tensor) and quadrature rule (captum's rules).
        reduce: ``sum`` (signed) or ``norm`` over the hidden dimensions; default ``norm`` for
            gradients, ``sum`` for grad_x_input and integrated gradients.
        generate: with a causal LM, generate this many tokens, then explain each of them over
            everything before it. ``sample`` (default: True when ``seed`` is given) samples
            with ``seed`` instead of greedy decoding.
        top_k: predictions kept per target.
        merge: merge subwords into words for display (``sum``, ``mean`` or ``max``).
        positions: explain only these token positions (masked- and causal-LM targets).
        device: ``None``/``"auto"``, ``"cpu"``, ``"cuda"``.

    Example:
        >>> import neuroheat as nh
        >>> sal = nh.saliency("path/to/bert-mlm", "The cat sat on the mat .")  # doctest: +SKIP
        >>> sal.matrix.shape, sal.predictions[0][:1]                          # doctest: +SKIP
    """
    method = resolve_method(method)
    if normalize not in NORMALIZATIONS:
        raise InputError(f"unknown normalize={normalize!r}; choose one of "
                         f"{', '.join(NORMALIZATIONS)}")
    if merge is not None and merge not in MERGES:
        raise InputError(f"unknown merge={merge!r}; choose one of {', '.join(MERGES)}")
    if not isinstance(text, str):
        raise InputError(f"text must be a string, got {type(text).__name__}")
    if not text.strip():
        raise InputError("text is empty; pass at least one word")
    if generate is not None and (not isinstance(generate, int) or generate < 1):
        raise InputError(f"generate must be a positive number of tokens, got {generate!r}")
    lm, head = _load(model, target, device, generate)
    kind = _kind(target, head, generate, lm)
    import torch

    enc = lm.tokenizer(text, return_offsets_mapping=True, return_tensors="pt")
    ids = enc["input_ids"][0]
    if ids.numel() == 0 or all(w is None for w in enc.word_ids()):
        raise InputError("the text has no tokens for this tokenizer (only control or "
                         "zero-width characters?); pass visible text")
    limit = lm.max_length
    total = ids.numel() + (generate or 0)
    if total > limit:
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
        ids = batching.generate(lm, ids, generate, sample=seed is not None if sample is None
                                else sample, seed=seed).cpu()
        prompt_length = len(word_ids)
        offsets, word_ids, text = _extend(lm.tokenizer, text, ids, offsets, word_ids)
        if "token_type_ids" in extras:
            extras["token_type_ids"] = torch.zeros(1, ids.numel(), dtype=torch.long)
    tokens = lm.tokenizer.convert_ids_to_tokens(ids.tolist())
    special = [w is None for w in word_ids]
    targets = _targets(kind, target, lm, ids, tokens, special, positions, prompt_length, extras)
    outcome = batching.run(lm, ids, extras, targets, method, batch_targets=batch_targets,
                           steps=steps, baseline=baseline, ig_rule=ig_rule, reduce=reduce,
                           top_k=top_k, progress=progress)
    _check_completeness(outcome.info)
    matrix, scale = normalize_rows(outcome.raw, normalize)
    display, space_before = _display(lm.tokenizer, tokens, offsets, text, special)
    info = dict(outcome.info, seed=seed, generate=generate, top_k=top_k)
    result = Saliency(
        tokens=tokens, matrix=matrix, target_positions=targets.positions,
        predictions=outcome.predictions, method=method, model=_model_name(model, lm),
        target=targets.kind, normalize=normalize, labels=targets.labels,
        display_tokens=display, space_before=space_before,
        word_ids=[None if s else w for w, s in zip(word_ids, special, strict=True)],
        special=special, row_scale=scale, prompt_length=prompt_length, info=info,
    )
    return result.merge_words(merge) if merge else result


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
