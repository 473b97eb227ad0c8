"""Read a corpus: one sentence per line, words separated by whitespace (NeuroX's input).

Sentence i is line i of the file, always: blank lines are kept as empty sentences. Words are
split with :meth:`str.split` (any Unicode whitespace). Invalid UTF-8 and NUL characters (which
HDF5 strings cannot hold) are errors that name the line. The Python API also takes an iterable
of strings or of word lists.

:func:`open_corpus` gives a :class:`Lines` view that reads only the sentences asked for: for a
file, by seeking to them through its line index (:mod:`neuroheat.extract.line_index`), so a
shard reads and tokenises its own lines only.

Example:
    >>> read_corpus(["The cat sat .", "", ["Hello", "world"]])
    [['The', 'cat', 'sat', '.'], [], ['Hello', 'world']]
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import CorpusError
from neuroheat.extract.line_index import LineIndex, line_index

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
    return [_parse_line(path, number, raw) for number, raw in enumerate(lines, start=1)]


def _parse_line(path: Path, number: int, raw: bytes) -> list[str]:
    """The words of one raw line (``\\n`` removed); errors name the file and line."""
    return _decode_line(path, number, raw).split()


def _decode_line(path: Path, number: int, raw: bytes) -> str:
    """The text of one raw line (``\\n`` and a trailing ``\\r`` removed), checked."""
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"{path}: line {number} is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column "
            f"{exc.start + 1}); re-encode the file as UTF-8, e.g. iconv -f latin1 -t utf-8"
        ) from None
    if "\x00" in text:
        raise CorpusError(f"{path}: line {number} contains a NUL character (column "
                          f"{text.index(chr(0)) + 1}), which the store's strings cannot hold; "
                          "remove NULs, e.g. tr -d '\\000' < in.txt > out.txt")
    return text


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
            words = item.split()
        elif isinstance(item, Sequence) and all(isinstance(w, str) for w in item):
            words = list(item)
        else:
            raise CorpusError(f"sentence {i} is a {type(item).__name__}; each sentence must be a "
                              "string or a list of word strings")
        if _clean("".join(words)):  # one check per sentence; the culprit word only on failure
            sentences.append(words)
            continue
        for w in words:
            if "\x00" in w:
                raise CorpusError(f"sentence {i}: word {w!r} contains a NUL character, which "
                                  "the store's strings cannot hold; remove it")
            try:
                w.encode("utf-8")
            except UnicodeEncodeError:
                raise CorpusError(f"sentence {i}: word {w!r} is not valid Unicode (a lone "
                                  "surrogate); it cannot be stored as UTF-8") from None
        sentences.append(words)
    return sentences


def _clean(text: str) -> bool:
    """Whether ``text`` has no NUL and encodes as UTF-8 (no lone surrogate)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def corpus_checksum(sentences: Sequence[Sequence[str]]) -> str:
    """SHA-256 of the parsed corpus (words and sentence boundaries)."""
    h = hashlib.sha256()
    for words in sentences:
        h.update(json.dumps(list(words), ensure_ascii=False).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


@dataclass
class Lines:
    """A corpus addressed by sentence number; :meth:`read` reads only the range asked for.

    ``bounds`` (int64 ``[num_sentences + 1]``) are cumulative sentence weights, the bytes of
    each line plus one (so every sentence weighs something): shards are cut on them.
    ``checksum`` is the SHA-256 of the file's bytes (of the parsed words for an in-memory
    corpus), recorded as the store's ``corpus_sha256`` and checked by ``--resume`` and merge.
    """

    bounds: np.ndarray
    checksum: str
    index: LineIndex | None = None
    sentences: list[list[str]] | None = None
    #: ``text`` (a text file) or ``python`` (an in-memory corpus); row corpora have their own
    format_name: str = "text"
    text_field: str = ""

    @property
    def files(self) -> list[Path]:
        """The corpus file (none for an in-memory corpus)."""
        return [self.index.path] if self.index is not None else []

    @property
    def file_sha256(self) -> list[str]:
        """The SHA-256 of each file of :attr:`files`."""
        return [self.checksum] if self.index is not None else []

    @property
    def num_sentences(self) -> int:
        """Number of sentences (lines) of the whole corpus."""
        return len(self.bounds) - 1

    def read(self, start: int, stop: int) -> list[list[str]]:
        """The word lists of sentences ``start:stop`` (for a file: only those bytes are read).

        Example:
            >>> open_corpus(["a b", "c d"]).read(0, 1)
            [['a', 'b']]
        """
        if self.sentences is not None:
            return self.sentences[start:stop]
        return [text.split() for text in self.texts(start, stop)]

    def texts(self, start: int, stop: int) -> list[str]:
        """The texts of sentences ``start:stop`` (an in-memory corpus: words joined by spaces).

        Example:
            >>> open_corpus(["a  b", "c"]).texts(0, 1)
            ['a b']
        """
        if self.sentences is not None:
            return [" ".join(words) for words in self.sentences[start:stop]]
        if self.index is None:
            raise CorpusError("Lines needs index= (a corpus file's line index) or sentences= "
                              "(an in-memory corpus); use open_corpus(...)")
        if start >= stop:
            return []
        lo, hi = int(self.bounds[start]), int(self.bounds[stop])
        with open(self.index.path, "rb") as fh:
            fh.seek(lo)
            data = fh.read(hi - lo)
        raw = data.split(b"\n")[:stop - start]
        if start == 0 and raw and raw[0].startswith(b"\xef\xbb\xbf"):
            raw[0] = raw[0][3:]
        return [_decode_line(self.index.path, start + 1 + k, line) for k, line in enumerate(raw)]


def open_corpus(corpus: Corpus, *, cache_index: bool = False,
                index_dir: str | os.PathLike | None = None,
                text_field: str = "text") -> Any:
    """A :class:`Lines` view of any accepted corpus form.

    A file is indexed (one streamed pass, or a cached ``.nhindex`` when ``cache_index``; see
    :mod:`neuroheat.extract.line_index`) but not read; other forms are read into memory.
    JSONL, Parquet and saved-dataset corpora (see :mod:`neuroheat.extract.rows`) give a
    :class:`~neuroheat.extract.rows.RowCorpus`, the same view of rows whose ``text_field``
    holds the text.

    Example:
        >>> lines = open_corpus(["a b", "c"])
        >>> lines.num_sentences, lines.read(1, 2), lines.bounds.tolist()
        (2, [['c']], [0, 4, 6])
    """
    if isinstance(corpus, str | os.PathLike):
        from neuroheat.extract.rows import is_row_corpus, open_rows

        if is_row_corpus(corpus):
            return open_rows(corpus, text_field=text_field, cache=cache_index,
                             index_dir=index_dir)
        path = Path(corpus)
        if not path.is_file():
            raise CorpusError(f"corpus file {path} does not exist (expected a text file with "
                              "one sentence per line)")
        index = line_index(path, cache=cache_index, fallback_dir=index_dir)
        return Lines(index.bounds, index.sha256, index=index)
    sentences = read_corpus(corpus)
    sizes = np.fromiter((len(" ".join(s).encode("utf-8")) + 1 for s in sentences),
                        dtype=np.int64, count=len(sentences))
    bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return Lines(bounds, corpus_checksum(sentences), sentences=sentences, format_name="python")
