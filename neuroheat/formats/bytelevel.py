"""Byte-level BPE tokens (GPT-2, RoBERTa, Llama 3, Qwen) as the text they stand for.

Byte-level tokenizers spell every byte as one printable character (GPT-2's
``bytes_to_unicode`` table: ``Ġ`` is a space, ``Ã©`` the two UTF-8 bytes of ``é``). Stores
extracted with ``aggregation="none"`` keep those spellings as row strings; :func:`decode_token`
turns one back into text, and :func:`is_byte_level` tells such a vocabulary from words.

Example:
    >>> decode_token("Ġcaf"), decode_token("Ã©"), decode_token("plain")
    ('caf', 'é', 'plain')
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

__all__ = ["decode_token", "is_byte_level"]


@lru_cache(maxsize=1)
def _byte_of() -> dict[str, int]:
    """GPT-2's table, inverted: printable character -> byte."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    chars = list(keep)
    n = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(keep, chars, strict=True)}


def decode_token(token: str) -> str:
    """The text of a byte-level token (a leading space dropped; bytes of an incomplete
    character shown as ``\\xNN``); a string with characters outside the byte alphabet is
    returned as it is."""
    table = _byte_of()
    if not token or any(c not in table for c in token):
        return token
    text = bytes(table[c] for c in token).decode("utf-8", errors="backslashreplace")
    return text.lstrip(" ") or text or token


def is_byte_level(vocab: Iterable[str], sample: int = 2000) -> bool:
    """Whether row strings look byte-level: some start with ``Ġ`` (an encoded space) and none
    holds a plain space."""
    seen = marked = 0
    for word in vocab:
        if " " in word:
            return False
        marked += word.startswith("\u0120")
        seen += 1
        if seen >= sample:
            break
    return marked > 0
