"""Clean / corrupt prompt pairs of a patching job (PAIRS.jsonl).

Each line is ``{"clean": str, "corrupt": str, "answer": str, "foil": str}``; ``answer`` and
``foil`` are next-token texts whose first token is used (more than one token: a warning; the
foil may be left out with ``--metric logprob``). Clean and corrupt texts must tokenize to the
same length (one-line error naming the pair otherwise).

Example:
    >>> pairs = read_pairs(tokenizer, "pairs.jsonl", "logit_diff")   # doctest: +SKIP
    >>> pairs[0].answer, len(pairs[0].clean)                         # doctest: +SKIP
    (6342, 7)
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neuroheat.errors import InputError

__all__ = ["Pair", "first_token", "read_pairs"]

log = logging.getLogger(__name__)

KEYS = ("clean", "corrupt", "answer", "foil")


@dataclass(frozen=True)
class Pair:
    """Token ids of one pair; ``number`` is its 1-based line (or index) for messages."""

    number: int
    clean: tuple[int, ...]
    corrupt: tuple[int, ...]
    answer: int
    foil: int | None

    def __len__(self) -> int:
        return len(self.clean)


def first_token(tokenizer: Any, text: str, what: str) -> int:
    """The id of ``text``'s first token (a vocabulary entry is taken as it is); a warning when
    the text is several tokens."""
    text = str(text)
    vocab = tokenizer.get_vocab()
    if text in vocab:
        return int(vocab[text])
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if not ids:
        raise InputError(f"{what} {text!r} encodes to no token; give a next-token text such "
                         "as ' Paris'")
    if len(ids) > 1:
        log.warning("%s %r is %d tokens; its first token %r is used", what, text, len(ids),
                    tokenizer.convert_ids_to_tokens(ids[:1])[0])
    return int(ids[0])


def _records(source: str | os.PathLike | Iterable[Mapping[str, Any]]
             ) -> list[tuple[int, Mapping[str, Any]]]:
    if not isinstance(source, str | os.PathLike):
        return [(i + 1, r) for i, r in enumerate(source)]
    path = Path(source)
    if not path.is_file():
        raise InputError(f"pairs file {path} does not exist; give a .jsonl file with one "
                         '{"clean", "corrupt", "answer", "foil"} object per line')
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append((number, json.loads(line)))
        except ValueError as exc:
            raise InputError(f"{path.name} line {number} is not JSON ({exc})") from None
    return out


def read_pairs(tokenizer: Any, source: str | os.PathLike | Iterable[Mapping[str, Any]],
               metric: str = "logit_diff") -> list[Pair]:
    """The pairs of a PAIRS.jsonl file (or of dicts with its keys), tokenized as the model is
    fed them (special tokens included).

    Example:
        >>> read_pairs(tok, [{"clean": "a b", "corrupt": "a c", "answer": " d",
        ...                   "foil": " e"}])            # doctest: +SKIP
    """
    need = KEYS if metric == "logit_diff" else KEYS[:3]
    pairs = []
    for number, rec in _records(source):
        if not isinstance(rec, Mapping):
            raise InputError(f"pair {number} is not a JSON object with keys "
                             f"{', '.join(need)}")
        missing = [k for k in need if not isinstance(rec.get(k), str)]
        if missing:
            raise InputError(f"pair {number} lacks {', '.join(missing)} (each a string); "
                             f"lines are {{{', '.join(repr(k) for k in need)}}}")
        clean = tuple(int(i) for i in tokenizer(rec["clean"])["input_ids"])
        corrupt = tuple(int(i) for i in tokenizer(rec["corrupt"])["input_ids"])
        if not clean:
            raise InputError(f"pair {number}: the clean text is empty")
        if len(clean) != len(corrupt):
            raise InputError(f"pair {number}: clean {rec['clean']!r} is {len(clean)} tokens, "
                             f"corrupt {rec['corrupt']!r} is {len(corrupt)}; patching needs "
                             "the same length")
        answer = first_token(tokenizer, rec["answer"], f"pair {number}: answer")
        foil = (first_token(tokenizer, rec["foil"], f"pair {number}: foil")
                if isinstance(rec.get("foil"), str) else None)
        pairs.append(Pair(number, clean, corrupt, answer, foil))
    if not pairs:
        raise InputError("no pairs given; PAIRS.jsonl needs at least one line")
    return pairs
