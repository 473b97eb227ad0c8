"""NeuroX export: write a store in NeuroX's HDF5 or JSON-lines layout (described in
:mod:`neuroheat.store.interop.neurox`), readable by ``neurox.data.loader.load_activations``.

Repeated sentences get NeuroX's ``"<text> (Occurrence N)"`` keys; file attributes
(``neuroheat_layers``, ``model``...) that NeuroX ignores let
:func:`~neuroheat.store.interop.neurox.import_neurox` read the layer numbers back. Float values
are written with full precision, so round trips are exact.

Example:
    >>> export_neurox("acts.h5", "for_neurox.hdf5", layers=[0, 6])     # doctest: +SKIP
    PosixPath('for_neurox.hdf5')
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import InputError, OutputExistsError
from neuroheat.store.base import DEFAULT_CHUNK_MB, StoreBase
from neuroheat.store.interop.neurox_import import SENTENCE_TO_INDEX

__all__ = ["export_neurox"]

log = logging.getLogger(__name__)


def _sentence_blocks(store: Any, layers: list[int], chunk_mb: float
                     ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Yield ``(first sentence, local offsets, [n_layers, rows, width] float32)`` blocks."""
    offsets = store.offsets
    budget = max(1, int(chunk_mb * 2**20) // max(1, 4 * store.width * len(layers)))
    i, n = 0, store.num_sentences
    while i < n:
        j = i + 1
        while j < n and offsets[j + 1] - offsets[i] <= budget:
            j += 1
        a, b = int(offsets[i]), int(offsets[j])
        block = np.stack([store.rows(layer, a, b) for layer in layers]) if layers else \
            np.zeros((0, b - a, store.width), np.float32)
        yield i, offsets[i:j + 1] - a, block
        i = j


def _unique_key(text: str, seen: dict[str, str]) -> str:
    key, counter = text, 1
    while key in seen:
        counter += 1
        key = f"{text} (Occurrence {counter})"
    return key


def export_neurox(
    store: Any,
    output: str | os.PathLike,
    *,
    layers: Sequence[int] | None = None,
    dtype: str = "float32",
    fmt: str | None = None,
    overwrite: bool = False,
    chunk_mb: float = DEFAULT_CHUNK_MB,
) -> Path:
    """Write a store (path, glob, or open store) in NeuroX's HDF5 or JSON-lines layout.

    Args:
        store: a store path, shard glob, or an open Store/ShardedStore.
        output: ``.hdf5`` for HDF5 (NeuroX's loader picks its reader by extension), ``.json``
            for JSON lines.
        layers: model layers to write (default all stored), in this order on NeuroX's axis.
        dtype: ``float32`` (NeuroX's default) or ``float16`` (HDF5 only).
        fmt: ``"hdf5"`` or ``"json"``; default from the extension of ``output``.

    Example:
        >>> export_neurox("acts.h5", "acts.hdf5", layers=[0, 6])  # doctest: +SKIP
    """
    from neuroheat.store import open_store

    output = Path(output)
    fmt = fmt or ("json" if output.suffix.lower() in (".json", ".jsonl") else "hdf5")
    if fmt not in ("hdf5", "json"):
        raise InputError(f"unknown NeuroX format {fmt!r}; choose hdf5 or json")
    if dtype not in ("float32", "float16"):
        raise InputError(f"dtype {dtype!r} is not supported; choose float32 or float16")
    if fmt == "hdf5" and output.suffix != ".hdf5":
        log.warning("NeuroX's load_activations reads HDF5 only from files ending in .hdf5; "
                    "%s will need renaming", output)
    if output.exists() and not overwrite:
        raise OutputExistsError(f"{output} exists; pass --overwrite to replace it")
    owned = not isinstance(store, StoreBase)
    st = open_store(store) if owned else store
    try:
        chosen = list(st.layers) if layers is None else [int(x) for x in layers]
        for layer in chosen:
            st.layer_index(layer)
        tmp = output.with_name(output.name + ".writing")
        if fmt == "hdf5":
            _write_hdf5(st, tmp, chosen, dtype, chunk_mb)
        else:
            _write_json(st, tmp, chosen, chunk_mb)
        os.replace(tmp, output)
    finally:
        if owned:
            st.close()
    return output


def _write_hdf5(st: Any, path: Path, layers: list[int], dtype: str, chunk_mb: float) -> None:
    import h5py

    mapping: dict[str, str] = {}
    with h5py.File(path, "w") as f:
        for first, offs, block in _sentence_blocks(st, layers, chunk_mb):
            for k in range(len(offs) - 1):
                i = first + k
                f.create_dataset(str(i), data=block[:, offs[k]:offs[k + 1]].astype(dtype))
                mapping[_unique_key(" ".join(st.words(i)), mapping)] = str(i)
        ds = f.create_dataset(SENTENCE_TO_INDEX, (1,), dtype=h5py.string_dtype("utf-8"))
        ds[0] = json.dumps(mapping)
        f.attrs["neuroheat_layers"] = np.asarray(layers, dtype=np.int64)
        for key in ("model", "aggregation", "component"):
            value = st.meta.get(key)
            if isinstance(value, str):
                f.attrs[key] = value


def _write_json(st: Any, path: Path, layers: list[int], chunk_mb: float) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for first, offs, block in _sentence_blocks(st, layers, chunk_mb):
            for k in range(len(offs) - 1):
                i = first + k
                values = block[:, offs[k]:offs[k + 1]].astype(np.float64)
                features = [
                    {"token": word,
                     "layers": [{"index": layer, "values": values[p, t].tolist()}
                                for p, layer in enumerate(layers)]}
                    for t, word in enumerate(st.words(i))
                ]
                fh.write(json.dumps({"linex_index": i, "features": features}) + "\n")
