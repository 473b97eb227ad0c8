"""Lenient reading of the explainer's and the judges' answers.

Example:
    >>> read_labels("Sure! [1, 0, 1]", 3)
    [1, 0, 1]
    >>> read_labels("Yes.", 1), read_labels("[1, 0]", 3)
    ([1], None)
    >>> read_explanation('Explanation: "dates and times"\\n')
    'dates and times'
"""

from __future__ import annotations

import json
import re

__all__ = ["read_explanation", "read_labels"]

_LIST = re.compile(r"\[[^\[\]]*\]")
_WORDS = {"1": 1, "0": 0, "yes": 1, "no": 0, "true": 1, "false": 0}
_PREFIX = re.compile(r"^\s*(?:the\s+)?(?:explanation|answer)\s*:\s*", re.IGNORECASE)


def _label(item: object) -> int | None:
    if isinstance(item, bool):
        return int(item)
    if isinstance(item, int | float) and item in (0, 1):
        return int(item)
    if isinstance(item, str):
        return _WORDS.get(item.strip().lower())
    return None


def read_labels(text: str | None, n: int) -> list[int] | None:
    """``n`` 0/1 labels from an answer, or None when it holds no readable answer.

    ``n > 1``: the first JSON list in the text, of exactly ``n`` items, each 0/1 (also
    true/false, "yes"/"no"). ``n == 1``: also a lone ``0``, ``1``, ``yes`` or ``no`` (any
    case, surrounded by spaces, quotes or a final period).
    """
    if not text:
        return None
    if n == 1:
        lone = _label(text.strip().strip("\"'`").rstrip(".!").strip())
        if lone is not None:
            return [lone]
    for found in _LIST.findall(text):
        try:
            items = json.loads(found.replace("'", '"'))
        except ValueError:
            continue
        labels = [_label(x) for x in items]
        if len(labels) == n and all(v is not None for v in labels):
            return [int(v) for v in labels]  # type: ignore[arg-type]
        return None
    return None


def read_explanation(text: str | None) -> str | None:
    """The explanation in an answer: its first non-empty line without an ``Explanation:``
    prefix or quotes; None when empty."""
    if not text:
        return None
    for line in text.splitlines():
        line = _PREFIX.sub("", line).strip().strip("\"'`*").strip()
        if line:
            return line
    return None
