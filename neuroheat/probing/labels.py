"""Labels of a probing task, aligned with a store's rows: :func:`read_labels` → :class:`Labels`.

Three sources, one result:

- NeuroX's format: one line per corpus line, whitespace-separated labels, one per word
  (with ``sentence_level=True``: one label per line, the whole stripped line);
- CoNLL-U: one column (``upos``, ``xpos``, ``feats`` or ``deprel``) of the word lines;
  comments, multiword-token ranges (``1-2``) and empty nodes (``1.1``) are skipped;
- ``label_fn``: a function of each stored word (of each sentence's word list when
  ``sentence_level=True``), for quick properties.

With ``store=`` given, every sentence must have exactly as many labels as the store has words
and the number of sentences must match: a mismatch is an :class:`~neuroheat.errors.InputError`
naming the line and both counts. Unlike NeuroX's loader, nothing is ever dropped silently.

Example:
    >>> with open_store("acts.h5") as store:                          # doctest: +SKIP
    ...     labels = read_labels("train.conllu", column="upos", store=store)
    >>> labels.classes[:3], len(labels)                               # doctest: +SKIP
    (['ADJ', 'ADP', 'ADV'], 4120)
    >>> caps = read_labels(None, store=store, label_fn=lambda w: w[:1].isupper())  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.probing.files import read_doc, write_doc

#: CoNLL-U column name → 0-based field index
CONLLU_COLUMNS = {"upos": 3, "xpos": 4, "feats": 5, "deprel": 7}
FORMATS = ("auto", "neurox", "conllu")
_FORMAT_TAG = "neuroheat-labels"
_VERSION = 1
_CONLLU_ID = re.compile(r"^\d+([-.]\d+)?$")

__all__ = ["CONLLU_COLUMNS", "FORMATS", "Labels", "read_labels"]


@dataclass(frozen=True)
class Labels:
    """Class ids of every row (word) of a store, or of every sentence when ``sentence_level``.

    ``ids[r]`` indexes :attr:`classes` (sorted label strings, so ids are deterministic);
    the labels of sentence ``i`` are ``ids[offsets[i]:offsets[i + 1]]`` (for sentence-level
    labels ``offsets`` is ``0, 1, ..., n``). ``lines[i]`` is the 1-based line of the label
    file where sentence ``i`` starts (0 when the labels came from ``label_fn``).
    """

    ids: np.ndarray
    classes: list[str]
    offsets: np.ndarray
    sentence_level: bool = False
    lines: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        unit = "sentences" if self.sentence_level else "words"
        return (f"Labels({len(self)} {unit}, {self.num_sentences} sentences, "
                f"{len(self.classes)} classes)")

    @property
    def num_sentences(self) -> int:
        """Number of sentences."""
        return len(self.offsets) - 1

    @property
    def counts(self) -> np.ndarray:
        """int64 ``[len(classes)]``: how often each class occurs."""
        return np.bincount(self.ids, minlength=len(self.classes)).astype(np.int64)

    def names(self, i: int | None = None) -> list[str]:
        """Label strings of sentence ``i`` (of every row when ``i`` is None)."""
        ids = self.ids if i is None else self.ids[self.offsets[i]:self.offsets[i + 1]]
        return [self.classes[k] for k in ids]

    def save(self, path: str | os.PathLike) -> Path:
        """Write the labels as JSON (no pickle); :meth:`load` reads them back."""
        doc = {"version": _VERSION, "classes": list(self.classes),
               "sentence_level": bool(self.sentence_level),
               "offsets": [int(x) for x in self.offsets], "ids": [int(x) for x in self.ids],
               "lines": None if self.lines is None else [int(x) for x in self.lines]}
        return write_doc(path, _FORMAT_TAG, doc, compact=True)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Labels:
        """Read labels written by :meth:`save`."""
        doc = read_doc(path, _FORMAT_TAG, "a labels file", "Labels.save")
        lines = doc.get("lines")
        return cls(ids=np.asarray(doc["ids"], dtype=np.int64), classes=list(doc["classes"]),
                   offsets=np.asarray(doc["offsets"], dtype=np.int64),
                   sentence_level=bool(doc["sentence_level"]),
                   lines=None if lines is None else np.asarray(lines, dtype=np.int64))

    @classmethod
    def from_sentences(cls, sentences: Sequence[Sequence[Any]], *,
                       lines: Sequence[int] | None = None,
                       sentence_level: bool = False) -> Labels:
        """Labels from per-sentence label lists (or one label per sentence when
        ``sentence_level``); labels are turned into strings."""
        per = [[str(x)] for x in sentences] if sentence_level \
            else [[str(x) for x in s] for s in sentences]
        flat = [x for s in per for x in s]
        classes = sorted(set(flat))
        index = {c: k for k, c in enumerate(classes)}
        ids = np.fromiter((index[x] for x in flat), dtype=np.int64, count=len(flat))
        offsets = np.concatenate([[0], np.cumsum([len(s) for s in per])]).astype(np.int64)
        return cls(ids=ids, classes=classes, offsets=offsets, sentence_level=sentence_level,
                   lines=None if lines is None else np.asarray(lines, dtype=np.int64))


def read_labels(
    path: str | os.PathLike | None,
    *,
    format: str = "auto",  # noqa: A002 - the natural name, as in the CLI
    column: str = "upos",
    store: Any = None,
    label_fn: Callable[[Any], Any] | None = None,
    sentence_level: bool = False,
) -> Labels:
    """Read the labels of a probing task (see the module docstring for the formats).

    ``format`` is ``"auto"`` (CoNLL-U for ``.conllu``/``.conll`` files or files whose first
    word line has 10 tab-separated fields, else NeuroX's), ``"neurox"`` or ``"conllu"``;
    ``column`` picks the CoNLL-U field. ``store`` (an open store) checks the counts;
    ``label_fn`` needs it and replaces ``path`` (pass ``None``).
    """
    if label_fn is not None:
        if path is not None:
            raise InputError("give either a labels file or label_fn=, not both")
        if store is None:
            raise InputError("label_fn= labels the store's words: pass store= as well")
        return _from_function(store, label_fn, sentence_level)
    if path is None:
        raise InputError("no labels: give a labels file (NeuroX format or CoNLL-U) or "
                         "label_fn= with store=")
    if format not in FORMATS:
        raise InputError(f"unknown labels format {format!r}; choose one of {', '.join(FORMATS)}")
    path = Path(path)
    text = _read_text(path)
    if format == "auto":
        format = "conllu" if _looks_conllu(path, text) else "neurox"
    if format == "conllu":
        if sentence_level:
            raise InputError("CoNLL-U holds word labels; for sentence-level labels write one "
                             "label per line (NeuroX format)")
        if column not in CONLLU_COLUMNS:
            raise InputError(f"unknown CoNLL-U column {column!r}; choose one of "
                             f"{', '.join(CONLLU_COLUMNS)}")
        sentences, lines = _parse_conllu(path, text, CONLLU_COLUMNS[column])
    else:
        sentences, lines = _parse_neurox(path, text, sentence_level)
    if store is not None:
        _check_counts(path, store, sentences, lines, sentence_level, format)
    return Labels.from_sentences(sentences, lines=lines, sentence_level=sentence_level)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"labels file {path} does not exist") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"labels file {path} is not UTF-8 ({exc}); convert it, e.g. with "
                         "`iconv -t UTF-8`") from None
    except OSError as exc:
        raise InputError(f"labels file {path} cannot be read: {exc}") from None


def _looks_conllu(path: Path, text: str) -> bool:
    if path.suffix.lower() in (".conllu", ".conll"):
        return True
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        return len(fields) == 10 and bool(_CONLLU_ID.match(fields[0]))
    return False


def _parse_neurox(path: Path, text: str, sentence_level: bool
                  ) -> tuple[list[Any], list[int]]:
    rows = text.splitlines()
    if sentence_level:
        for n, row in enumerate(rows, 1):
            if not row.strip():
                raise InputError(f"{path}: line {n} is empty; sentence-level labels need one "
                                 "label on every line")
        return [row.strip() for row in rows], list(range(1, len(rows) + 1))
    return [row.split() for row in rows], list(range(1, len(rows) + 1))


def _parse_conllu(path: Path, text: str, field: int) -> tuple[list[list[str]], list[int]]:
    sentences: list[list[str]] = []
    lines: list[int] = []
    current: list[str] | None = None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            current = None
            continue
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 10:
            raise InputError(f"{path}: line {n} has {len(fields)} tab-separated fields, CoNLL-U "
                             "word lines have 10; is this the NeuroX format (format='neurox')?")
        if "-" in fields[0] or "." in fields[0]:
            continue  # multiword-token range or empty node: not a word of the sentence
        if current is None:
            current = []
            sentences.append(current)
            lines.append(n)
        current.append(fields[field])
    return sentences, lines


def _check_counts(path: Path, store: Any, sentences: Sequence[Any], lines: Sequence[int],
                  sentence_level: bool, format: str) -> None:  # noqa: A002
    unit = "lines" if format == "neurox" else "sentences"
    if len(sentences) != store.num_sentences:
        extra = sentences[store.num_sentences:]
        hint = ("; the extra lines at the end are empty: remove them"
                if extra and not any(len(x) for x in extra) else "")
        raise InputError(f"{path} has {len(sentences)} {unit} but the store has "
                         f"{store.num_sentences} sentences; the labels must have one "
                         f"{unit[:-1]} per corpus sentence, in corpus order{hint}")
    if sentence_level:
        return
    words = np.diff(np.asarray(store.offsets))
    counts = np.fromiter((len(s) for s in sentences), dtype=np.int64, count=len(sentences))
    bad = np.flatnonzero(counts != words)
    if len(bad):
        i = int(bad[0])
        more = f" ({len(bad) - 1} more sentences differ)" if len(bad) > 1 else ""
        where = f"line {lines[i]} (sentence {i})" if format == "neurox" \
            else f"sentence {i} (from line {lines[i]})"
        raise InputError(f"{path}: {where} has {counts[i]} labels but "
                         f"the store has {words[i]} words for that sentence{more}; labels "
                         "must be one per stored word (tokenize the labels file like the "
                         "corpus)")


def _from_function(store: Any, label_fn: Callable[[Any], Any], sentence_level: bool
                   ) -> Labels:
    flat, offsets = store.all_words(), np.asarray(store.offsets)
    words = [flat[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
    if sentence_level:
        values: list[Any] = [label_fn(s) for s in words]
    else:
        values = [[label_fn(w) for w in s] for s in words]
    return Labels.from_sentences(values, lines=[0] * len(words), sentence_level=sentence_level)
