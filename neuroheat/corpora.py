"""A real English corpus available offline on every Python: the prose of ``pydoc_data.topics``.

The text is read and sentence-split at run time (nothing is copied into this repository):
paragraphs of prose are kept, indented code blocks and headings are dropped, sentences are
split after ``.``, ``!`` or ``?`` and tokenized into words and punctuation.

Example:
    >>> sents = pydoc_sentences(3)
    >>> len(sents), all(isinstance(w, str) for w in sents[0])
    (3, True)
"""

from __future__ import annotations

import re

_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
_WORD = re.compile(r"\w+(?:[-'’.]\w+)*|[^\w\s]")


def _paragraphs(text: str) -> list[str]:
    paras, current = [], []
    for line in text.splitlines():
        if not line.strip() or line.startswith((" ", "\t")) or set(line.strip()) <= set("*=-~^"):
            if current:
                paras.append(" ".join(current))
                current = []
            continue
        current.append(line.strip())
    if current:
        paras.append(" ".join(current))
    return paras


def pydoc_sentences(limit: int | None = None, min_words: int = 4,
                    max_words: int = 60) -> list[list[str]]:
    """Tokenized sentences of the standard library's pydoc topics, in a fixed order."""
    from pydoc_data.topics import topics

    out: list[list[str]] = []
    for key in sorted(topics):
        for para in _paragraphs(topics[key]):
            for sent in _SENT.split(para):
                words = _WORD.findall(sent)
                if min_words <= len(words) <= max_words:
                    out.append(words)
                    if limit is not None and len(out) >= limit:
                        return out
    return out
