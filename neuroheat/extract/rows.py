"""Row corpora: JSONL, Parquet and saved datasets, each row one document, read by range.

CORPUS may name a ``.jsonl`` / ``.jsonl.gz`` file, one or more ``.parquet`` files (a file, a
glob or a folder) or a ``datasets.save_to_disk`` folder (its Arrow files, listed in
``state.json``; read without the ``datasets`` package). Row ``i`` of the corpus is row ``i``
of the files in order (sorted names; a saved dataset's own order).

:func:`open_rows` gives a :class:`RowCorpus`, the same view as a text file's
:class:`~neuroheat.extract.corpus.Lines`: ``bounds`` are cumulative row weights (the UTF-8
bytes of each text plus one, so a corpus whose texts are the lines of a text file is cut into
the same shards), ``checksum`` identifies the corpus (format, text field and every file's
SHA-256), and :meth:`RowCorpus.read` / :meth:`RowCorpus.texts` read only rows ``start:stop``.

The row index (weights, where each row is, the files' checksums) comes from one streamed pass
over the corpus, which also checks every row (a missing field or a wrong type is an error
before anything is written). Like a text file's line index it is cached when shards ask for it
(``cache=True``): next to the first file when that folder is writable, else in ``index_dir``,
keyed by the files' sizes, modification times and inodes, so the other shards of a big corpus
map it and read only their own rows.

Example:
    >>> rows = open_rows("docs.parquet", text_field="text")   # doctest: +SKIP
    >>> rows.num_sentences, rows.texts(0, 1)                   # doctest: +SKIP
    (1000000, ['The first document ...'])
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import CorpusError
from neuroheat.extract.row_formats import FORMATS, RowFormat, format_of

log = logging.getLogger(__name__)

__all__ = ["RowCorpus", "is_row_corpus", "open_rows", "resolve_files"]

_MAGIC = b"NHROWS01"
_SUFFIX = ".nhrows"
_CHUNK = 8 << 20
_ROW_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".parquet", ".arrow")


def is_row_corpus(corpus: str | os.PathLike) -> bool:
    """Whether ``corpus`` names a row corpus (not a text file with one sentence per line).

    Example:
        >>> is_row_corpus("corpus.txt"), is_row_corpus("docs.jsonl.gz")
        (False, True)
    """
    text = str(corpus)
    if any(c in text for c in "*?["):
        return not Path(text).exists()
    return Path(text).is_dir() or text.lower().endswith(_ROW_SUFFIXES)


def resolve_files(corpus: str | os.PathLike) -> tuple[RowFormat, list[Path]]:
    """The format and the files of a row corpus (see the module docstring).

    Example:
        >>> fmt, files = resolve_files("shards/")   # doctest: +SKIP
        >>> fmt.name, [f.name for f in files]       # doctest: +SKIP
        ('parquet', ['part-0.parquet', 'part-1.parquet'])
    """
    path = Path(corpus)
    if path.is_dir():
        files = _folder_files(path)
    elif path.is_file():
        files = [path]
    else:
        files = sorted(Path(p) for p in glob.glob(str(corpus)) if Path(p).is_file())
        if not files:
            raise CorpusError(f"corpus {corpus} does not exist (expected a text file, a .jsonl"
                              "/.jsonl.gz file, .parquet files or a saved dataset folder)")
    formats = {format_of(f).name for f in files}
    if len(formats) > 1:
        raise CorpusError(f"corpus {corpus} mixes formats ({', '.join(sorted(formats))}); "
                          "give files of one format")
    return FORMATS[formats.pop()], files


def _folder_files(folder: Path) -> list[Path]:
    if (folder / "dataset_dict.json").is_file():
        splits = sorted(p.name for p in folder.iterdir() if (p / "state.json").is_file())
        raise CorpusError(f"{folder} is a DatasetDict; pass one split's folder, e.g. "
                          f"{folder / (splits[0] if splits else 'train')}")
    state = folder / "state.json"
    if state.is_file():
        try:
            names = [d["filename"] for d in json.loads(state.read_text())["_data_files"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise CorpusError(f"{state} is not a datasets state file ({exc}); save the "
                              "dataset again with save_to_disk") from None
        files = [folder / n for n in names]
        for f in files:
            if not f.is_file():
                raise CorpusError(f"{f} (listed in {state}) is missing; copy the whole folder")
        return files
    for pattern in ("*.parquet", "*.arrow", "*.jsonl", "*.jsonl.gz"):
        if files := sorted(folder.glob(pattern)):
            return files
    raise CorpusError(f"{folder} holds no .parquet, .arrow or .jsonl files and no state.json "
                      "(a datasets.save_to_disk folder)")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class RowCorpus:
    """A row corpus addressed by row number (the interface of a text file's ``Lines``)."""

    format: RowFormat
    files: list[Path]
    text_field: str
    bounds: np.ndarray          # int64 [num_rows + 1] cumulative weights
    file_rows: np.ndarray       # int64 [num_files + 1] first row of each file
    locators: list[Any]
    file_sha256: list[str]

    @property
    def num_sentences(self) -> int:
        """Number of rows of the whole corpus."""
        return len(self.bounds) - 1

    @property
    def checksum(self) -> str:
        """SHA-256 over the format, the text field and the files' checksums."""
        text = json.dumps([self.format.name, self.text_field, self.file_sha256])
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def format_name(self) -> str:
        """``jsonl``, ``parquet`` or ``arrow`` (a saved dataset)."""
        return self.format.name

    def texts(self, start: int, stop: int) -> list[str]:
        """The texts of rows ``start:stop`` (only the files and parts that hold them are read).

        Example:
            >>> open_rows("docs.jsonl").texts(0, 2)   # doctest: +SKIP
            ['first document', 'second document']
        """
        out: list[str] = []
        for k, path in enumerate(self.files):
            a, b = int(self.file_rows[k]), int(self.file_rows[k + 1])
            if b <= start or a >= stop:
                continue
            out.extend(self.format.read(path, self.text_field, self.locators[k],
                                        max(start, a) - a, min(stop, b) - a))
        return out

    def read(self, start: int, stop: int) -> list[list[str]]:
        """The words (whitespace-split texts) of rows ``start:stop``, as a text line's."""
        return [text.split() for text in self.texts(start, stop)]


def _key(fmt: RowFormat, files: list[Path], field: str) -> dict[str, Any]:
    stats = []
    for f in files:
        st = f.stat()
        stats.append([str(f.resolve()), st.st_size, st.st_mtime_ns, st.st_ino])
    return {"format": fmt.name, "field": field, "files": stats}


def _build(fmt: RowFormat, files: list[Path], field: str) -> RowCorpus:
    lengths, locators, counts, shas = [], [], [0], []
    for f in files:
        n, loc = fmt.scan(f, field)
        lengths.append(n)
        locators.append(loc)
        counts.append(len(n))
        shas.append(_sha256(f))
    sizes = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    bounds = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes + 1, out=bounds[1:])
    return RowCorpus(fmt, files, field, bounds, np.cumsum(counts).astype(np.int64), locators,
                     shas)


def _cache_paths(files: list[Path], field: str, fallback: Path | None) -> list[Path]:
    tag = hashlib.sha1(json.dumps([str(f.resolve()) for f in files] + [field])
                       .encode()).hexdigest()[:12]
    name = f".{files[0].name}.{tag}{_SUFFIX}"
    out = [files[0].parent / name]
    if fallback is not None:
        out.append(Path(fallback) / name)
    return out


def _save(place: Path, rows: RowCorpus, key: dict[str, Any]) -> None:
    arrays = [rows.bounds] + [np.asarray(loc, dtype=np.int64) for loc in rows.locators
                              if isinstance(loc, np.ndarray)]
    head = {"key": key, "sha256": rows.file_sha256, "file_rows": rows.file_rows.tolist(),
            "locators": [None if isinstance(loc, np.ndarray) else list(loc)
                         for loc in rows.locators],
            "lengths": [len(a) for a in arrays]}
    meta = json.dumps(head).encode()
    pad = (-(len(_MAGIC) + 8 + len(meta))) % 8
    tmp = place.with_name(f"{place.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as out:
            out.write(_MAGIC + np.int64(len(meta) + pad).tobytes() + meta + b" " * pad)
            for a in arrays:
                out.write(a.astype("<i8").tobytes())
        os.replace(tmp, place)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        log.debug("cannot cache the row index at %s (%s)", place, exc)
        raise


def _load(place: Path, fmt: RowFormat, files: list[Path], field: str,
          key: dict[str, Any]) -> RowCorpus | None:
    try:
        with open(place, "rb") as fh:
            head = fh.read(len(_MAGIC) + 8)
            if len(head) < 16 or not head.startswith(_MAGIC):
                return None
            size = int(np.frombuffer(head[8:16], "<i8")[0])
            meta = json.loads(fh.read(size))
        if meta.get("key") != key:
            return None
        offset = 16 + size
        arrays = []
        for n in meta["lengths"]:
            arrays.append(np.memmap(place, dtype="<i8", mode="r", offset=offset, shape=(n,)))
            offset += 8 * n
        binary = iter(arrays[1:])
        locators = [next(binary) if loc is None else loc for loc in meta["locators"]]
        return RowCorpus(fmt, files, field, arrays[0],
                         np.asarray(meta["file_rows"], dtype=np.int64), locators,
                         list(meta["sha256"]))
    except (OSError, ValueError, KeyError, StopIteration):
        return None


def open_rows(corpus: str | os.PathLike, *, text_field: str = "text", cache: bool = False,
              index_dir: str | os.PathLike | None = None) -> RowCorpus:
    """The :class:`RowCorpus` of a JSONL / Parquet / saved-dataset corpus.

    Example:
        >>> open_rows("docs.jsonl.gz", text_field="content").num_sentences   # doctest: +SKIP
        20000
    """
    fmt, files = resolve_files(corpus)
    if not cache:
        return _build(fmt, files, text_field)
    key = _key(fmt, files, text_field)
    places = _cache_paths(files, text_field, Path(index_dir) if index_dir else None)
    for place in places:
        if (found := _load(place, fmt, files, text_field, key)) is not None:
            return found
    rows = _build(fmt, files, text_field)
    for place in places:
        try:
            _save(place, rows, key)
        except OSError:
            continue
        log.info("indexed %s: %d rows (cached in %s)", corpus, rows.num_sentences, place)
        return _load(place, fmt, files, text_field, key) or rows
    return rows
