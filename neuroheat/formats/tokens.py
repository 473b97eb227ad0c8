"""How a model token is shown to a reader: subword markers stripped.

Example:
    >>> display_token("##ing"), display_token("\u0120fox"), display_token("\u2581the")
    ('ing', 'fox', 'the')
"""

from __future__ import annotations

# WordPiece continuation, byte-level BPE space, SentencePiece space.
MARKERS = ("##", "\u0120", "\u2581")


def display_token(token: str) -> str:
    """A token as a reader should see it: ``##``/``Ġ``/``▁`` markers stripped (a token that is
    only a marker is kept as it is)."""
    for marker in MARKERS:
        if token.startswith(marker) and len(token) > len(marker):
            return token[len(marker):]
    return token
