"""Top contexts of a neuron: the words (in their sentences) where it fires highest or lowest.

A streaming top-k merge over row chunks: each chunk contributes its k best rows, merged with
the running best k, so memory is one chunk plus k rows. Shards are searched separately (in
parallel if asked, through :func:`~neuroheat.analysis.parallel.map_parts`) and merged exactly
on (value, global row).

Example:
    >>> for c in top_contexts("acts.h5", layer=3, neuron=17, k=3):   # doctest: +SKIP
    ...     print(c.value, c.word, " ".join(c.words))
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from neuroheat.analysis.options import DEFAULT_CHUNK_MB, RunOptions
from neuroheat.analysis.parallel import map_parts
from neuroheat.analysis.results import TableResult
from neuroheat.analysis.source import SourceArg, open_source
from neuroheat.errors import InputError
from neuroheat.store import StoreBase

__all__ = ["Context", "Contexts", "context_candidates", "top_contexts"]

_FIELDS = ("sentence", "position", "word", "value", "words")


@dataclass
class Context:
    """One occurrence: global ``sentence`` index, word ``position`` in it, the ``word``, the
    neuron's ``value`` there, and the sentence's ``words``."""

    sentence: int
    position: int
    word: str
    value: float
    words: list[str]

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return asdict(self)


class Contexts(TableResult, list):
    """A list of :class:`Context` (the result of :func:`top_contexts`), best first, that is
    also a table result. Its CSV has one row per context, ``words`` as a JSON list; the
    ``layer``, ``neuron`` and ``lowest`` it was computed for are kept in JSON only."""

    kind = "neuroheat.Contexts"

    def __init__(self, contexts: Iterable[Context] = (), layer: int | None = None,
                 neuron: int | None = None, lowest: bool | None = None):
        super().__init__(contexts)
        self.layer, self.neuron, self.lowest = layer, neuron, lowest

    def to_records(self) -> list[dict[str, Any]]:
        """``[{"sentence", "position", "word", "value", "words"}, ...]``."""
        return [c.to_dict() for c in self]

    def csv_header(self) -> list[str]:
        """``sentence, position, word, value, words``."""
        return list(_FIELDS)

    def csv_rows(self) -> Iterator[list[Any]]:
        """One row per context, ``words`` as a JSON list."""
        for c in self:
            yield [c.sentence, c.position, c.word, c.value,
                   json.dumps(c.words, ensure_ascii=False)]

    def settings(self) -> dict[str, Any]:
        """The ``layer``, ``neuron`` and ``lowest`` of the search."""
        return {"layer": self.layer, "neuron": self.neuron, "lowest": self.lowest}

    @classmethod
    def from_records(cls, records: list[dict[str, Any]], settings: dict[str, Any]) -> Contexts:
        """Contexts from :meth:`to_records` and :meth:`settings`."""
        return cls((Context(int(r["sentence"]), int(r["position"]), str(r["word"]),
                            float(r["value"]), [str(w) for w in r["words"]]) for r in records),
                   settings.get("layer"), settings.get("neuron"), settings.get("lowest"))

    @classmethod
    def from_csv_rows(cls, rows: list[dict[str, str]]) -> Contexts:
        """Contexts from the rows of their CSV."""
        return cls(Context(int(r["sentence"]), int(r["position"]), r["word"], float(r["value"]),
                           json.loads(r["words"])) for r in rows)


def _best(keys: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k smallest (key, row) pairs, sorted; ties in key go to the earlier row."""
    if len(keys) > k:
        kth = np.partition(keys, k - 1)[k - 1]
        sel = keys <= kth
        keys, rows = keys[sel], rows[sel]
    order = np.lexsort((rows, keys))[:k]
    return keys[order], rows[order]


def context_candidates(part: StoreBase, layer: int, neuron: int, k: int, lowest: bool,
                       chunk_mb: float = DEFAULT_CHUNK_MB) -> tuple[np.ndarray, np.ndarray]:
    """The k best (value, local row) of one part, best first (NaN values are skipped), from
    the part's column reads (a sparse part reads only the latent's non-zeros)."""
    keys = np.zeros(0, dtype=np.float64)
    rows = np.zeros(0, dtype=np.int64)
    for start, column in part.columns(layer, neuron, chunk_mb):
        v = column.astype(np.float64)
        ok = ~np.isnan(v)
        r = np.flatnonzero(ok) + start
        key = v[ok] if lowest else -v[ok]
        keys, rows = _best(np.concatenate([keys, key]), np.concatenate([rows, r]), k)
        del column
    return (keys if lowest else -keys), rows


def top_contexts(
    store: SourceArg,
    layer: int,
    neuron: int,
    k: int = 10,
    lowest: bool = False,
    *,
    options: RunOptions | None = None,
    **run: Any,
) -> Contexts:
    """The k rows where neuron ``neuron`` of model layer ``layer`` is highest (``lowest=True``:
    lowest), best first; ties go to the earlier row of the corpus.

    ``options`` / ``**run``: :class:`~neuroheat.analysis.options.RunOptions` settings
    (``chunk_mb``, ``threads``, ``workers``, ``scheduler``); shards are searched in parallel.
    Returns a :class:`Contexts` list.

    Example:
        >>> top_contexts("acts.h5", layer=3, neuron=17, k=1)   # doctest: +SKIP
        [Context(sentence=12, position=4, word='Paris', value=3.2, words=[...])]
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InputError(f"k must be a positive integer, got {k!r}")
    k, lowest = int(k), bool(lowest)
    options = RunOptions.build(options, **run)
    with open_source(store) as src:
        layer, neuron = src.check_layer(layer), src.check_neuron(neuron)
        chunk_mb = options.chunk_mb / options.local_tasks
        calls = [(i, layer, neuron, k, lowest, chunk_mb) for i in range(len(src.parts))]
        keys, rows = np.zeros(0), np.zeros(0, dtype=np.int64)
        for i, (values, local) in enumerate(map_parts(context_candidates, src, calls, options)):
            keys = np.concatenate([keys, values if lowest else -values])
            rows = np.concatenate([rows, local + src.row_starts[i]])
        keys, rows = _best(keys, rows, k)
        out = Contexts(layer=layer, neuron=neuron, lowest=lowest)
        for key, row in zip(keys, rows, strict=True):
            part_i, local = src.locate_row(int(row))
            part = src.parts[part_i]
            sent = int(np.searchsorted(part.offsets, local, side="right") - 1)
            words = part.words(sent)
            pos = local - int(part.offsets[sent])
            out.append(Context(int(src.sentence_starts[part_i]) + sent, pos, words[pos],
                               float(key if lowest else -key), words))
        return out
