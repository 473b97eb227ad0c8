"""NeuroX import: read NeuroX activation files (layouts in :mod:`neuroheat.store.interop.neurox`)
into a store.

NeuroX records no layer numbers; imports number them 0..n-1 unless told otherwise
(``layers=``) or the file was written by :func:`~neuroheat.store.interop.neurox.export_neurox`
(which records them). Float values survive exactly.

Example:
    >>> import_neurox("activations.hdf5", "acts.h5")                      # doctest: +SKIP
    >>> is_neurox_file("activations.hdf5")                                 # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import InputError, OutputExistsError
from neuroheat.store.stats import RunningStats

log = logging.getLogger(__name__)

SENTENCE_TO_INDEX = "sentence_to_index"
_OCCURRENCE = re.compile(r"^(.*) \(Occurrence (\d+)\)$", re.DOTALL)
_FLUSH_BYTES = 32 * 2**20


# -- reading NeuroX files -------------------------------------------------------------------
def _words_of(key: str, n_tokens: int, index: str) -> list[str]:
    if n_tokens == 0:
        return []
    words = key.split(" ")
    if len(words) == n_tokens:
        return words
    match = _OCCURRENCE.match(key)
    if match and len(match.group(1).split(" ")) == n_tokens:
        return match.group(1).split(" ")
    raise InputError(f"NeuroX sentence {index} has {n_tokens} activation rows but its text "
                     f"{key[:60]!r} has {len(words)} space-separated tokens; the file is not a "
                     "NeuroX activations file or is damaged")


class _NeuroxHDF5:
    def __init__(self, path: Path):
        import h5py

        self.file = h5py.File(path, "r")
        if SENTENCE_TO_INDEX not in self.file:
            self.file.close()
            raise InputError(f"{path} is an HDF5 file without a {SENTENCE_TO_INDEX!r} dataset, so "
                             "not a NeuroX activations file (neuroheat stores open directly)")
        ds = self.file[SENTENCE_TO_INDEX]
        raw = ds[()] if ds.shape == () else ds[0]
        mapping = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
        by_index: dict[str, str] = {}
        for key, idx in mapping.items():
            by_index[str(idx)] = key
        names = [n for n in self.file if n != SENTENCE_TO_INDEX]
        missing = [n for n in names if n not in by_index]
        if missing:
            log.warning("%s: %d sentence datasets (e.g. %s) have no sentence_to_index entry; "
                        "skipped, as NeuroX's loader skips them", path, len(missing), missing[0])
        absent = [i for i in by_index if i not in self.file]
        if absent:
            raise InputError(f"{path}: sentence_to_index names dataset {absent[0]!r}, which "
                             "does not exist; the file is damaged")
        self.order = sorted(by_index, key=lambda i: (int(i) if i.lstrip("-").isdigit() else 0, i))
        self.keys = by_index
        shapes = {self.file[i].shape[0::2] for i in self.order}
        if any(len(self.file[i].shape) != 3 for i in self.order) or len(shapes) > 1:
            raise InputError(f"{path}: sentence datasets must all be [n_layers, n_tokens, width] "
                             f"with one n_layers and width; found {sorted(shapes)[:3]}")
        self.n_layers, self.width = shapes.pop() if shapes else (0, 0)
        dtypes = {self.file[i].dtype for i in self.order}
        self.dtype = "float16" if dtypes == {np.dtype("float16")} else "float32"
        self.attrs = {k: self.file.attrs[k] for k in self.file.attrs}

    def sentences(self) -> list[list[str]]:
        return [_words_of(self.keys[i], self.file[i].shape[1], i) for i in self.order]

    def arrays(self) -> Iterator[np.ndarray]:
        for i in self.order:
            yield self.file[i][...]

    def close(self) -> None:
        self.file.close()


class _NeuroxJSON:
    def __init__(self, path: Path):
        self.path = path
        self.attrs: dict[str, Any] = {}
        self.n_layers, self.width, self.indices = 0, 0, None
        self._sentences: list[list[str]] = []
        for number, obj in self._objects():
            feats = obj.get("features")
            if not isinstance(feats, list):
                raise InputError(f"{path}: line {number} has no \"features\" list; not a NeuroX "
                                 "JSON activations file")
            words = []
            for feat in feats:
                words.append(str(feat["token"]))
                idx = [int(layer["index"]) for layer in feat["layers"]]
                width = {len(layer["values"]) for layer in feat["layers"]}
                if self.indices is None:
                    self.indices, self.n_layers = idx, len(idx)
                    self.width = width.pop() if width else 0
                elif idx != self.indices or width - {self.width}:
                    raise InputError(f"{path}: line {number} has layers {idx} of widths "
                                     f"{sorted(width)}; the first token had {self.indices} of "
                                     f"width {self.width}")
            self._sentences.append(words)
        self.dtype = "float32"

    def _objects(self) -> Iterator[tuple[int, dict]]:
        with open(self.path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as exc:
                    raise InputError(f"{self.path}: line {number} is not JSON ({exc})") from None
                if not isinstance(obj, dict):
                    raise InputError(f"{self.path}: line {number} is not a JSON object")
                yield number, obj

    def sentences(self) -> list[list[str]]:
        return self._sentences

    def arrays(self) -> Iterator[np.ndarray]:
        order = np.argsort(self.indices or [], kind="stable")
        for _, obj in self._objects():
            feats = obj["features"]
            out = np.empty((self.n_layers, len(feats), self.width), dtype=np.float64)
            for t, feat in enumerate(feats):
                for k, layer in enumerate(feat["layers"]):
                    out[k, t] = layer["values"]
            yield out[order] if len(order) else out

    def close(self) -> None:
        pass


def _open_neurox(path: Path) -> _NeuroxHDF5 | _NeuroxJSON:
    import h5py

    if not path.is_file():
        raise InputError(f"{path} does not exist (expected a NeuroX .hdf5 or .json file)")
    if h5py.is_hdf5(path):
        return _NeuroxHDF5(path)
    return _NeuroxJSON(path)


def _layer_numbers(src: Any, layers: Sequence[int] | None) -> list[int]:
    n = src.n_layers
    if layers is not None:
        chosen = [int(x) for x in layers]
        if len(chosen) != n:
            raise InputError(f"the file has {n} layers but {len(chosen)} layer numbers were "
                             f"given ({chosen})")
        return chosen
    stored = src.attrs.get("neuroheat_layers")
    if stored is not None and len(stored) == n:
        return [int(x) for x in stored]
    idx = getattr(src, "indices", None)
    if idx is not None and len(set(idx)) == n and min(idx) >= 0:
        return sorted(idx)
    if idx is not None and min(idx) < 0:
        log.warning("layer indices %s are relative; numbering the layers 0..%d (pass layers= to "
                    "set model layer numbers)", idx, n - 1)
    return list(range(n))


def import_neurox(
    source: str | os.PathLike,
    output: str | os.PathLike,
    *,
    layers: Sequence[int] | None = None,
    dtype: str | None = None,
    model: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Convert a NeuroX HDF5 or JSON-lines activations file into a neuroheat store.

    Args:
        source: NeuroX ``.hdf5`` (one dataset per sentence + ``sentence_to_index``) or JSON lines.
        output: the store to write.
        layers: model layer numbers of the file's layers (default 0..n-1, or those recorded
            by :func:`export_neurox`).
        dtype: storage dtype; default the file's (float16 files stay float16, else float32).
        model: model name to record (NeuroX files do not say).

    Example:
        >>> import_neurox("bert.hdf5", "bert.h5", layers=range(13),     # doctest: +SKIP
        ...               model="bert-base-cased")
    """
    from neuroheat.store.writer import StoreWriter

    source, output = Path(source), Path(output)
    if output.exists() and not overwrite:
        raise OutputExistsError(f"{output} exists; pass --overwrite to replace it")
    src = _open_neurox(source)
    try:
        sentences = src.sentences()
        numbers = _layer_numbers(src, layers)
        order = np.argsort(numbers, kind="stable")
        numbers = sorted(numbers)
        if len(set(numbers)) != len(numbers):
            raise InputError(f"layer numbers {numbers} contain duplicates")
        dtype = dtype or src.dtype
        attrs = {"model": model or _text(src.attrs.get("model")) or "",
                 "aggregation": _text(src.attrs.get("aggregation")) or "",
                 "component": _text(src.attrs.get("component")) or "hidden",
                 "source_format": "neurox-" + ("hdf5" if isinstance(src, _NeuroxHDF5) else "json"),
                 "source_file": source.name}
        writer = StoreWriter.create(output, sentences, layers=numbers, width=src.width,
                                    dtype=dtype, attrs=attrs, overwrite=overwrite)
        stats = RunningStats.empty((len(numbers), src.width))
        start, pending, pending_bytes = 0, [], 0
        for words, arr in zip(sentences, src.arrays(), strict=True):
            if arr.shape[1] != len(words):
                raise InputError(f"{source}: a sentence has {arr.shape[1]} rows for "
                                 f"{len(words)} tokens")
            rows = np.ascontiguousarray(arr[order].transpose(1, 0, 2)).astype(dtype)
            writer.write_rows(start, rows)
            start += len(rows)
            pending.append(rows)
            pending_bytes += rows.nbytes
            if pending_bytes >= _FLUSH_BYTES:
                stats.update(np.concatenate(pending).astype(np.float64))
                pending, pending_bytes = [], 0
        if pending:
            stats.update(np.concatenate(pending).astype(np.float64))
        writer.finalize(stats)
    finally:
        src.close()
    log.info("imported %s (%d sentences, layers %s) into %s", source, len(sentences), numbers,
             output)
    return output


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def is_neurox_file(path: str | os.PathLike) -> bool:
    """True for a NeuroX HDF5 file (has ``sentence_to_index``) or a ``.json`` activations file."""
    import h5py

    path = Path(path)
    if not path.is_file():
        return False
    if h5py.is_hdf5(path):
        try:
            with h5py.File(path, "r") as f:
                return SENTENCE_TO_INDEX in f
        except OSError:
            return False
    return path.suffix.lower() in (".json", ".jsonl")


__all__ = ["SENTENCE_TO_INDEX", "import_neurox", "is_neurox_file"]
