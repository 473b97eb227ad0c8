"""A human- and machine-readable summary of a store (``neuroheat info``).

Example:
    >>> summarize("acts.h5")["sentences"]   # doctest: +SKIP
    1000
    >>> [s["shard"] for s in summarize_all("acts-shard*of2.h5")]   # doctest: +SKIP
    ['0/2', '1/2']
"""

from __future__ import annotations

import json
import os
from typing import Any

from neuroheat.errors import IncompleteStoreError
from neuroheat.store.paths import PathsArg, expand_paths
from neuroheat.store.reader import open_part


def summarize(path: str | os.PathLike) -> dict[str, Any]:
    """Model, layers, dtype, sentences, words, size and completeness of a store."""
    try:
        store = open_part(path)
    except IncompleteStoreError:
        store = open_part(path, allow_incomplete=True)
    with store:
        meta = store.meta
        info = {
            "path": str(store.path),
            "complete": store.complete,
            "format_version": meta.get("format_version"),
            "model": meta.get("model"),
            "component": meta.get("component", "hidden"),
            "sites": [x for x in str(meta.get("sites") or "").split(",") if x],
            "aggregation": meta.get("aggregation"),
            "dtype": meta.get("dtype"),
            "model_dtype": meta.get("model_dtype"),
            "layers": store.layers,
            "width": store.width,
            "sentences": store.num_sentences,
            "words": store.num_words,
            "word_types": len(store.vocab),
            "untokenized_words": int(len(store.untokenized)),
            "shard": f"{meta.get('shard_index', 0)}/{meta.get('num_shards', 1)}",
            "sentence_range": [meta.get("sentence_start", 0),
                               meta.get("sentence_stop", store.num_sentences)],
            "size_bytes": os.path.getsize(store.path),
            "units": store.units,
            "context_tokens": int(meta.get("context_tokens") or 0) or None,
            "concatenate": bool(meta.get("concatenate", False)),
            "source": {"format": meta.get("corpus_format"), "text_field": meta.get("text_field"),
                       "files": _json_list(meta.get("corpus_files"))},
        }
        info.update(store.layout_summary())  # e.g. SAE latents: non-zeros, dead latents
        return info


def _json_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    try:
        out = json.loads(value) if value else []
    except (TypeError, ValueError):
        return [value]
    return out if isinstance(out, list) else [out]


def _source_line(info: dict[str, Any]) -> str:
    src = info.get("source") or {}
    if not src.get("format"):
        return "not recorded"
    files = src.get("files") or []
    shown = ", ".join(map(str, files[:3])) + (f", ... ({len(files)} files)"
                                              if len(files) > 3 else "")
    field = (f", field {src['text_field']!r}" if src["format"] not in ("text", "python")
             and src.get("text_field") else "")
    return f"{src['format']}{field}" + (f": {shown}" if shown else "")


def summarize_all(source: PathsArg) -> list[dict[str, Any]]:
    """One :func:`summarize` per store file of ``source`` (paths, or globs), in that order."""
    return [summarize(path) for path in expand_paths(source)]


def format_summary(info: dict[str, Any]) -> str:
    """The summary as aligned ``key: value`` lines."""
    size = info["size_bytes"]
    human = f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size / 1024:.1f} KiB"
    lines = {
        "store": info["path"],
        "status": "complete" if info["complete"] else "INCOMPLETE (resume the extraction)",
        "model": info["model"],
        "component": info["component"],
        "aggregation": info["aggregation"],
        "dtype": info["dtype"],
        "layers": ", ".join(map(str, info["layers"])),
        "width": info["width"],
        "sentences": info["sentences"],
        "words": f"{info['words']} ({info['word_types']} types)",
        "shard": info["shard"],
        "units": info.get("units", "words") + (
            f" (contexts of {info['context_tokens']} tokens"
            + (", concatenated)" if info.get("concatenate") else ")")
            if info.get("context_tokens") else ""),
        "source": _source_line(info),
        "size": human,
    }
    if "nonzeros" in info:
        lines["latents"] = "; ".join(
            f"layer {lay}: {nnz / max(1, info['words']):.1f} active per word, "
            f"{info['dead_latents'][lay]} of {info['width']} dead"
            for lay, nnz in info["nonzeros"].items())
    width = max(map(len, lines))
    return "\n".join(f"{k.rjust(width)}: {v}" for k, v in lines.items())
