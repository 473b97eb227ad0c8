"""Where every line of a corpus file starts, and the file's checksum, from one streamed pass.

A shard of a big corpus needs only its own lines; to find them it needs the line boundaries
(to cut the corpus into parts of equal bytes and to number its lines) but not the text. One
pass over the file in 8 MiB chunks finds every newline (numpy, about 1 GB/s) and hashes the
bytes (SHA-256) at the same time, in memory bounded by the chunk size; the boundaries go
straight to an *index file* of int64 offsets, memory-mapped afterwards, so a shard of a corpus
with 10^8 lines touches only the pages it searches and reads, never a 800 MB array.

The index is cached as ``<corpus>.nhindex`` next to the corpus when that folder is writable
(otherwise next to the output), keyed by the corpus's size, modification time and inode: the
first shard pays the pass, the other shards map the file and verify the checksum for free.

``bounds[k]`` is the byte offset where line ``k`` starts; line ``k`` is
``data[bounds[k]:bounds[k + 1] - 1]`` (the newline excluded), so ``bounds[k + 1] - bounds[k]``
is its length plus one: the weight by which shards are balanced (see
:func:`neuroheat.extract.shard.balanced_cuts`). A last line without a newline ends at
``bounds[-1] - 1`` as if it had one. Lines are split on ``\\n`` only, exactly as
:func:`neuroheat.extract.corpus.read_corpus_file` splits them.

Example:
    >>> index = line_index("corpus.txt")           # doctest: +SKIP
    >>> index.num_lines, index.bounds[:3].tolist()   # doctest: +SKIP
    (1000000, [0, 71, 140])
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

INDEX_SUFFIX = ".nhindex"
_MAGIC = b"NHLINES1"
_HEADER = 512
_CHUNK = 8 << 20
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class LineIndex:
    """Line boundaries and checksum of a corpus file."""

    path: Path
    bounds: np.ndarray   # int64 [num_lines + 1], maybe a read-only memory map
    sha256: str

    @property
    def num_lines(self) -> int:
        """Number of lines (sentences) of the corpus."""
        return len(self.bounds) - 1


def _key(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ino": st.st_ino}


def _scan(path: Path, sink) -> tuple[str, int]:
    """Stream ``path``; ``sink(int64 array)`` receives the line starts after the first.

    Returns the SHA-256 and the number of boundaries written (excluding the leading 0)."""
    h = hashlib.sha256()
    base, count, last, head = 0, 0, b"", b""
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            head = (head + chunk)[:3] if len(head) < 3 else head
            nl = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
            if len(nl):
                sink((nl + (base + 1)).astype("<i8"))
                count += len(nl)
            base += len(chunk)
            last = chunk[-1:]
    if base and last != b"\n" and not (base == 3 and head == _BOM):  # a last line without
        # a newline (a file that is only a byte-order mark has no line)
        sink(np.asarray([base + 1], dtype="<i8"))
        count += 1
    return h.hexdigest(), count


def _candidates(corpus: Path, fallback: Path | None) -> list[Path]:
    out = [corpus.with_name(corpus.name + INDEX_SUFFIX)]
    if fallback is not None:
        tag = hashlib.sha1(str(corpus.resolve()).encode()).hexdigest()[:12]
        out.append(Path(fallback) / f".{corpus.name}.{tag}{INDEX_SUFFIX}")
    return out


def _load(index_file: Path, corpus: Path, key: dict[str, int]) -> LineIndex | None:
    try:
        with open(index_file, "rb") as fh:
            head = fh.read(_HEADER)
        if not head.startswith(_MAGIC):
            return None
        meta = json.loads(head[len(_MAGIC):].decode("ascii"))
        if any(meta.get(k) != v for k, v in key.items()):
            return None
        n = int(meta["lines"]) + 1
        if index_file.stat().st_size != _HEADER + 8 * n:
            return None
        bounds = np.memmap(index_file, dtype="<i8", mode="r", offset=_HEADER, shape=(n,))
        return LineIndex(corpus, bounds, str(meta["sha256"]))
    except (OSError, ValueError, KeyError):
        return None


def _write(index_file: Path, corpus: Path, key: dict[str, int]) -> LineIndex | None:
    tmp = index_file.with_name(f"{index_file.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as out:
            out.write(bytes(_HEADER))
            out.write(np.zeros(1, dtype="<i8").tobytes())
            sha, count = _scan(corpus, lambda a: out.write(a.tobytes()))
            meta = json.dumps({**key, "sha256": sha, "lines": count}).encode("ascii")
            out.seek(0)
            out.write((_MAGIC + meta).ljust(_HEADER, b" "))
        os.replace(tmp, index_file)  # shards racing to build it write the same bytes
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        log.debug("cannot cache the line index at %s (%s)", index_file, exc)
        return None
    return _load(index_file, corpus, key)


def line_index(path: str | os.PathLike, *, cache: bool = True,
               fallback_dir: str | os.PathLike | None = None) -> LineIndex:
    """The :class:`LineIndex` of the corpus file ``path``, from the cache or one pass.

    With ``cache=False`` (a one-process run reads every line anyway) nothing is written and
    the boundaries are held in memory.

    Example:
        >>> line_index("corpus.txt", fallback_dir="out").num_lines   # doctest: +SKIP
        1000000
    """
    corpus = Path(path)
    key = _key(corpus)
    if cache:
        places = _candidates(corpus, Path(fallback_dir) if fallback_dir is not None else None)
        for place in places:
            if (found := _load(place, corpus, key)) is not None:
                return found
        for place in places:
            if (built := _write(place, corpus, key)) is not None:
                log.info("indexed %s: %d lines (cached in %s)", corpus, built.num_lines, place)
                return built
    parts = [np.zeros(1, dtype="<i8")]
    sha, _ = _scan(corpus, parts.append)
    return LineIndex(corpus, np.concatenate(parts), sha)
