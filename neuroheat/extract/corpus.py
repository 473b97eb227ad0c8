"""Read a corpus: one sentence per line, words separated by whitespace (NeuroX's input).

Sentence i is line i of the file, always: blank lines are kept as empty sentences. Words are
split with :meth:`str.split` (any Unicode whitespace). Invalid UTF-8 is an error that names the
line. The Python API also takes an iterable of strings or of word lists.

Example:
    >>> read_corpus(["The cat sat .", "", ["Hello", "world"]])
    [['The', 'cat', 'sat', '.'], [], ['Hello', 'world']]
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from neuroheat.errors import CorpusError

Corpus = str | os.PathLike | Iterable[str] | Iterable[Sequence[str]]


def read_corpus_file(path: str | os.PathLike) -> list[list[str]]:
    """Read a text file, one sentence per line; invalid UTF-8 raises CorpusError naming the line."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"corpus file {path} does not exist (expected a text file with one "
                          "sentence per line)")
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    sentences = []
    for number, raw in enumerate(lines, start=1):
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CorpusError(
                f"{path}: line {number} is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column "
                f"{exc.start + 1}); re-encode the file as UTF-8, e.g. iconv -f latin1 -t utf-8"
            ) from None
        sentences.append(text.split())
    return sentences


def read_corpus(corpus: Corpus) -> list[list[str]]:
    """Normalise any accepted corpus form into a list of word lists."""
    if isinstance(corpus, str | os.PathLike):
        return read_corpus_file(corpus)
    if isinstance(corpus, bytes):
        raise CorpusError("pass a corpus path as str or Path, not bytes")
    sentences = []
    try:
        items = iter(corpus)
    except TypeError:
        raise CorpusError(f"a corpus must be a file path or an iterable of sentences, not "
                          f"{type(corpus).__name__}") from None
    for i, item in enumerate(items):
        if isinstance(item, str):
            sentences.append(item.split())
        elif isinstance(item, Sequence) and all(isinstance(w, str) for w in item):
            sentences.append(list(item))
        else:
            raise CorpusError(f"sentence {i} is a {type(item).__name__}; each sentence must be a "
                              "string or a list of word strings")
    return sentences


def corpus_checksum(sentences: Sequence[Sequence[str]]) -> str:
    """SHA-256 of the parsed corpus (words and sentence boundaries)."""
    h = hashlib.sha256()
    for words in sentences:
        h.update(json.dumps(list(words), ensure_ascii=False).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()
