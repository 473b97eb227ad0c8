"""The files of row corpora: JSONL (``.jsonl``, ``.jsonl.gz``), Parquet and Arrow streams.

Each row is one document (or sentence), its text in the field ``text_field``. A format knows
two things: :meth:`RowFormat.scan` streams one file once and returns the UTF-8 byte length of
every row's text (a shard's weight, as a text line's bytes are) plus where each row can be
found again; :meth:`RowFormat.read` returns the texts of rows ``start:stop`` of one file,
reading only what holds them (JSONL: a seek to the first line, ``.gz``: a forward
decompression; Parquet: the row groups, Arrow: the record batches that overlap). Memory is
bounded by one row group / record batch.

A missing field, a non-string value (``null`` included), an unparsable line and an unreadable
file are :class:`~neuroheat.errors.CorpusError` s naming the file and row.

Example:
    >>> fmt = format_of(Path("docs.jsonl"))
    >>> fmt.name
    'jsonl'
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import CorpusError

__all__ = ["FORMATS", "RowFormat", "format_of", "need_pyarrow"]

_PYARROW_HINT = "install the corpora extra: pip install 'neuroheat[corpora]' (or pyarrow)"


def need_pyarrow() -> Any:
    """``pyarrow`` or a CorpusError saying how to install it.

    Example:
        >>> need_pyarrow().__name__   # doctest: +SKIP
        'pyarrow'
    """
    try:
        import pyarrow
        import pyarrow.compute  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise CorpusError(f"reading Parquet or Arrow corpora needs pyarrow; {_PYARROW_HINT}"
                          ) from None
    return pyarrow


def _check_text(path: Path, where: str, value: Any, field: str) -> str:
    if not isinstance(value, str):
        kind = "null" if value is None else type(value).__name__
        raise CorpusError(f"{path}: {where}: field {field!r} is {kind}, not a string; pass "
                          "--text-field with the column that holds the text")
    if "\x00" in value:
        raise CorpusError(f"{path}: {where}: the text contains a NUL character, which the "
                          "store's strings cannot hold; remove NULs from the corpus")
    return value


class RowFormat:
    """One file format of row corpora (see the module docstring)."""

    name = ""

    def scan(self, path: Path, field: str) -> tuple[np.ndarray, Any]:
        """``(int64 text byte lengths per row, locator)`` of one file, in one streamed pass."""
        raise NotImplementedError

    def read(self, path: Path, field: str, locator: Any, start: int, stop: int) -> list[str]:
        """The texts of rows ``start:stop`` of one file (``locator`` from :meth:`scan`)."""
        raise NotImplementedError


class JsonlFormat(RowFormat):
    """One JSON object per line; the locator is every line's byte offset (decompressed)."""

    name = "jsonl"

    def _open(self, path: Path) -> Any:
        return gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")

    def _text(self, path: Path, number: int, line: bytes, field: str) -> str:
        where = f"line {number}"
        try:
            obj = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CorpusError(f"{path}: {where} is not valid JSON ({exc}); each line must be "
                              "one JSON object") from None
        if not isinstance(obj, dict):
            raise CorpusError(f"{path}: {where} is a JSON {type(obj).__name__}, not an object "
                              f"with a {field!r} field")
        if field not in obj:
            names = ", ".join(sorted(obj)[:8]) or "none"
            raise CorpusError(f"{path}: {where} has no field {field!r} (fields: {names}); "
                              "pass --text-field NAME")
        return _check_text(path, where, obj[field], field)

    def _lines(self, path: Path) -> Iterator[bytes]:
        try:
            with self._open(path) as fh:
                yield from fh
        except (OSError, EOFError, zlib.error) as exc:
            raise CorpusError(f"{path} cannot be read to its end ({exc or type(exc).__name__})"
                              "; the file is truncated or damaged: copy or compress it "
                              "again") from None

    def scan(self, path: Path, field: str) -> tuple[np.ndarray, Any]:
        lengths, starts, pos = [], [0], 0
        for number, line in enumerate(self._lines(path), start=1):
            text = self._text(path, number, line, field)
            lengths.append(len(text.encode("utf-8")))
            pos += len(line)
            starts.append(pos)
        return np.asarray(lengths, dtype=np.int64), np.asarray(starts, dtype=np.int64)

    def read(self, path: Path, field: str, locator: Any, start: int, stop: int) -> list[str]:
        if start >= stop:
            return []
        lo, hi = int(locator[start]), int(locator[stop])
        try:
            with self._open(path) as fh:
                fh.seek(lo)
                data = fh.read(hi - lo)
        except (OSError, EOFError, zlib.error) as exc:
            raise CorpusError(f"{path} cannot be read ({exc}); the file is truncated or "
                              "damaged") from None
        lines = data.split(b"\n")   # as the scan iterates them: on "\n" only
        if lines and lines[-1] == b"":
            lines.pop()
        if len(lines) != stop - start:
            raise CorpusError(f"{path} changed since it was indexed; run again")
        return [self._text(path, start + 1 + k, line, field) for k, line in enumerate(lines)]


def _column(path: Path, table: Any, field: str, first_row: int) -> Any:
    """The text column of an Arrow table / batch, checked: a string type, no nulls, no NULs."""
    pa = need_pyarrow()
    pc = pa.compute
    names = list(table.schema.names)
    if field not in names:
        raise CorpusError(f"{path}: row {first_row} has no field {field!r} (columns: "
                          f"{', '.join(names[:8]) or 'none'}); pass --text-field NAME")
    col = table.column(field)
    kind = col.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)
            or pa.types.is_string_view(kind)):
        raise CorpusError(f"{path}: row {first_row}: field {field!r} is {kind}, not a string; "
                          "pass --text-field with the column that holds the text")
    if col.null_count:
        bad = int(np.flatnonzero(np.asarray(pc.is_null(col)))[0])
        _check_text(path, f"row {first_row + bad}", None, field)
    nul = np.asarray(pc.match_substring(col, "\x00").fill_null(False))
    if nul.any():
        _check_text(path, f"row {first_row + int(np.flatnonzero(nul)[0])}", "\x00", field)
    return col


def _lengths(col: Any) -> np.ndarray:
    pc = need_pyarrow().compute
    return np.asarray(pc.binary_length(col), dtype=np.int64)


class ParquetFormat(RowFormat):
    """Parquet files; the locator is each row group's number of rows."""

    name = "parquet"

    def _file(self, path: Path) -> Any:
        pa = need_pyarrow()
        try:
            return pa.parquet.ParquetFile(path)
        except (OSError, pa.ArrowException) as exc:
            raise CorpusError(f"{path} is not a readable Parquet file ({exc}); check the file "
                              "(it may be truncated) or write it again") from None

    def _group(self, pf: Any, path: Path, g: int, field: str) -> Any:
        pa = need_pyarrow()
        if field not in pf.schema_arrow.names:
            _column(path, pf.schema_arrow.empty_table(), field, 0)
        try:
            return pf.read_row_group(g, columns=[field])
        except (OSError, pa.ArrowException) as exc:
            raise CorpusError(f"{path}: row group {g} cannot be read ({exc}); the file is "
                              "damaged: write it again") from None

    def scan(self, path: Path, field: str) -> tuple[np.ndarray, Any]:
        pf = self._file(path)
        groups, out, first = [], [], 0
        for g in range(pf.num_row_groups):
            table = self._group(pf, path, g, field)
            out.append(_lengths(_column(path, table, field, first)))
            groups.append(table.num_rows)
            first += table.num_rows
        if not pf.num_row_groups:
            _column(path, pf.schema_arrow.empty_table(), field, 0)
        lengths = np.concatenate(out) if out else np.zeros(0, np.int64)
        return lengths, groups

    def read(self, path: Path, field: str, locator: Any, start: int, stop: int) -> list[str]:
        pf = self._file(path)
        edges = np.concatenate([[0], np.cumsum(locator)]).astype(np.int64)
        texts: list[str] = []
        for g in range(len(locator)):
            a, b = int(edges[g]), int(edges[g + 1])
            if b <= start or a >= stop:
                continue
            col = _column(path, self._group(pf, path, g, field), field, a)
            texts.extend(col.slice(max(start - a, 0), min(stop, b) - max(start, a)).to_pylist())
        return texts


class ArrowFormat(RowFormat):
    """Arrow IPC files as ``datasets.save_to_disk`` writes them (stream format; the random
    access file format is read too); the locator is each record batch's number of rows."""

    name = "arrow"

    def _batches(self, path: Path, field: str) -> Iterator[Any]:
        pa = need_pyarrow()
        try:
            source = pa.memory_map(str(path), "r")
            try:
                reader = pa.ipc.open_stream(source)
                batches = iter(reader)
            except pa.ArrowInvalid:
                source.seek(0)
                reader = pa.ipc.open_file(source)
                batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
            yield from batches
        except (OSError, pa.ArrowException) as exc:
            raise CorpusError(f"{path} is not a readable Arrow file ({exc}); check the saved "
                              "dataset (it may be truncated) or save it again") from None

    def scan(self, path: Path, field: str) -> tuple[np.ndarray, Any]:
        out, sizes, first = [], [], 0
        for batch in self._batches(path, field):
            out.append(_lengths(_column(path, batch, field, first)))
            sizes.append(batch.num_rows)
            first += batch.num_rows
        return (np.concatenate(out) if out else np.zeros(0, np.int64)), sizes

    def read(self, path: Path, field: str, locator: Any, start: int, stop: int) -> list[str]:
        texts: list[str] = []
        a = 0
        for batch in self._batches(path, field):
            b = a + batch.num_rows
            if b > start and a < stop:
                col = _column(path, batch, field, a)
                texts.extend(col.slice(max(start - a, 0), min(stop, b) - max(start, a))
                             .to_pylist())
            if b >= stop:
                break
            a = b
        return texts


FORMATS = {f.name: f for f in (JsonlFormat(), ParquetFormat(), ArrowFormat())}


def format_of(path: Path) -> RowFormat:
    """The format of one corpus file, from its name.

    Example:
        >>> format_of(Path("part-0.parquet")).name
        'parquet'
    """
    name = path.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")):
        return FORMATS["jsonl"]
    if name.endswith(".parquet"):
        return FORMATS["parquet"]
    if name.endswith(".arrow"):
        return FORMATS["arrow"]
    raise CorpusError(f"{path}: unknown corpus format; use .txt, .jsonl, .jsonl.gz, .parquet "
                      "or a datasets.save_to_disk folder")
