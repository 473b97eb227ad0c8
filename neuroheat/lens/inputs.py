"""What every lens job shares: the causal LM, the tokens of one text, token lookups, and one
forward pass that records sites.

Positions index the tokens the model is fed, BOS included where the tokenizer adds it.

Example:
    >>> ids = encode(loaded.tokenizer, "The cat")   # doctest: +SKIP
    >>> token_id(loaded.tokenizer, " cat")         # doctest: +SKIP
    3797
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

from neuroheat.errors import InputError, UnsupportedModelError

__all__ = ["encode", "load_causal", "record_sites", "token_id"]


def load_causal(model: Any, device: str | None = None) -> Any:
    """A :class:`~neuroheat.model.loading.LoadedModel` with its causal-LM head.

    Example:
        >>> load_causal("path/to/gpt2", "cpu").task   # doctest: +SKIP
        'causal'
    """
    from neuroheat.model.architectures import is_causal
    from neuroheat.model.loading import load_model

    loaded = load_model(model, "causal", device=device)
    if not is_causal(loaded.model):
        raise UnsupportedModelError(f"{loaded.name}: lenses need a causal (decoder) language "
                                    "model; this one is not")
    return loaded


def encode(tokenizer: Any, text: str) -> list[int]:
    """Token ids of ``text`` as the model is fed them (special tokens included)."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("the text is empty; give --text with at least one word")
    return [int(i) for i in tokenizer(text)["input_ids"]]


def token_id(tokenizer: Any, token: str | int, what: str = "token") -> int:
    """The id of ``token``: an id, a vocabulary entry (``"Ġcat"``), or a text that encodes to
    exactly one token (``" cat"``); otherwise a one-line error showing its pieces."""
    vocab_size = len(tokenizer)
    if isinstance(token, int) and not isinstance(token, bool):
        if not 0 <= token < vocab_size:
            raise InputError(f"{what} id {token} is outside the vocabulary (0..{vocab_size - 1})")
        return int(token)
    text = str(token)
    vocab = tokenizer.get_vocab()
    if text in vocab:
        return int(vocab[text])
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if len(ids) == 1:
        return int(ids[0])
    pieces = tokenizer.convert_ids_to_tokens(ids)
    raise InputError(f"{what} {text!r} is {len(ids)} tokens {pieces}, not one; give one token "
                     "(e.g. with its leading space, ' Paris') or a vocabulary entry")


def record_sites(loaded: Any, ids: Sequence[int], sites: dict[str, Sequence[int]]
                 ) -> tuple[Any, dict[str, list[Any]]]:
    """Run the causal LM once on ``ids``; returns its logits ``[T, vocab]`` and, for each site
    kind of ``sites`` (``{"resid": [0, 3], "mlp": [2]}``), one ``[T, width]`` tensor per layer."""
    import torch

    from neuroheat.model.sites import get_site_kind

    model = loaded.model
    x = torch.tensor([list(ids)], device=loaded.device)
    with ExitStack() as stack, torch.inference_mode():
        taps = {kind: stack.enter_context(get_site_kind(kind).tap(model, layers))
                for kind, layers in sites.items() if layers}
        out = model(input_ids=x, attention_mask=torch.ones_like(x))
        values = {kind: [v[0] for v in tap.values(out)] for kind, tap in taps.items()}
    return out.logits[0], values
