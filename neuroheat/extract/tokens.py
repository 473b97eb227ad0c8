"""Token units: documents cut into contexts of at most N tokens, one store row per token.

Each document (a corpus row) is tokenized once with character offsets and cut into contexts
of ``N`` tokens *including* the special tokens the model's tokenizer puts around a sequence
(BOS for Llama-style decoders, ``[CLS]``/``[SEP]`` for encoders; none for GPT-2), so every
context starts with BOS where the tokenizer adds one. A document's last, partial context is
kept: the contexts cover every token of every document exactly once. With ``concatenate``
the documents are joined with EOS into one stream cut into contexts of exactly ``N`` tokens
(the way SAELens and tuned-lens build their batches); the stream restarts at each plan part
(:mod:`neuroheat.extract.shard`), so merged shards equal one process, and only the last
context of a part may be shorter.

Each context becomes one sentence of the store: its token ids (the ``token_ids`` dataset), the
tokens as display text (the characters each token adds to the document, so a byte-level BPE
token ``Ġworld`` reads `` world`` and joining a context's tokens gives its text) and its source
(the corpus row and character span; see :mod:`neuroheat.store.records`).

Example:
    >>> ctx = make_contexts(tokenizer, ["Hello world"], 8)   # doctest: +SKIP
    >>> ctx.encoded[0].rows, ctx.sources[0].tolist()          # doctest: +SKIP
    (['<s>', 'Hello', ' world'], [0, 0, 0, 11])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from neuroheat.errors import InputError, UnsupportedModelError
from neuroheat.extract.align import Encoded, Specials, special_tokens

__all__ = ["Contexts", "make_contexts", "no_specials", "plan_contexts"]


@dataclass
class Contexts:
    """The contexts of a range of corpus rows, ready for the model."""

    encoded: list[Encoded]
    #: int64 ``[n_contexts, 4]``: row, start character, row of the last token, end character
    sources: np.ndarray

    @property
    def token_ids(self) -> np.ndarray:
        """int64 ``[n_rows]``: every row's token id, contexts in order."""
        if not self.encoded:
            return np.zeros(0, np.int64)
        return np.concatenate([e.ids for e in self.encoded]).astype(np.int64)


def no_specials() -> Specials:
    """Nothing added around a context: its own ids already hold BOS/EOS.

    Example:
        >>> no_specials().prefix
        []
    """
    return Specials([], [], [], [])


def _tokenize(tokenizer: Any, texts: Sequence[str]) -> tuple[list[Any], list[Any]]:
    if not getattr(tokenizer, "is_fast", False):
        raise UnsupportedModelError("--units tokens needs a fast tokenizer (character "
                                    "offsets); this model's tokenizer is a slow one")
    if not texts:
        return [], []
    batch = tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True,
                      return_attention_mask=False, return_token_type_ids=False, verbose=False)
    return batch["input_ids"], batch["offset_mapping"]


def _spans(offsets: Any) -> tuple[np.ndarray, np.ndarray]:
    """Start and end character of each token: a token spans from where the previous one ended
    (its leading space included) to its own end, so the spans tile the document."""
    off = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    ends = np.maximum.accumulate(off[:, 1]) if len(off) else off[:, 1]
    starts = np.concatenate([[0], ends[:-1]]) if len(ends) else ends
    return starts, ends


def make_contexts(tokenizer: Any, texts: Sequence[str], n_tokens: int, *,
                  concatenate: bool = False, first_row: int = 0,
                  parts: Sequence[int] | None = None) -> Contexts:
    """Cut the documents ``texts`` (corpus rows ``first_row, ...``) into contexts of at most
    ``n_tokens`` tokens, special tokens included (see the module docstring).

    Example:
        >>> ctx = make_contexts(tok, ["a b c", "d"], 4)   # doctest: +SKIP
        >>> [len(e.ids) for e in ctx.encoded]              # doctest: +SKIP
        [4, 2, 2]
    """
    sp = special_tokens(tokenizer)
    content = int(n_tokens) - len(sp.prefix) - len(sp.suffix)
    if content < 1:
        raise InputError(f"--context-tokens {n_tokens} leaves no room for text after the "
                         f"{len(sp.prefix) + len(sp.suffix)} special tokens of this tokenizer; "
                         "use a larger N")
    ids, offsets = _tokenize(tokenizer, texts)
    docs = []
    for k, text in enumerate(texts):
        starts, ends = _spans(offsets[k])
        shown = [text[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
        docs.append((first_row + k, np.asarray(ids[k], dtype=np.int64), starts, ends, shown))
    if concatenate:
        return _concatenated(tokenizer, docs, sp, content, first_row, parts)
    encoded, sources = [], []
    for row, tok, starts, ends, shown in docs:
        for a in range(0, len(tok), content):
            b = min(a + content, len(tok))
            encoded.append(_encoded(sp, tok[a:b], shown[a:b]))
            sources.append((row, starts[a], row, ends[b - 1]))
    return Contexts(encoded, np.asarray(sources, dtype=np.int64).reshape(-1, 4))


def _encoded(sp: Specials, ids: np.ndarray, shown: list[str]) -> Encoded:
    full = np.concatenate([np.asarray(sp.prefix, np.int64), ids,
                           np.asarray(sp.suffix, np.int64)])
    rows = list(sp.prefix_tokens) + list(shown) + list(sp.suffix_tokens)
    return Encoded(full, np.arange(len(full), dtype=np.int64), np.ones(len(full), dtype=bool),
                   rows, [])


def _concatenated(tokenizer: Any, docs: list[Any], sp: Specials, content: int,
                  first_row: int, parts: Sequence[int] | None) -> Contexts:
    eos = tokenizer.eos_token_id
    if eos is None:
        raise UnsupportedModelError("--concatenate joins documents with EOS but this "
                                    "tokenizer has none; drop --concatenate")
    eos_text = str(tokenizer.eos_token)
    edges = set(int(p) for p in (parts or ())) - {first_row}
    encoded, sources = [], []
    stream: list[tuple[int, int, int, int, str]] = []  # (id, row, start, end, shown)

    def flush(final: bool) -> None:
        while len(stream) >= content or (final and stream):
            chunk, stream[:] = stream[:content], stream[content:]
            encoded.append(_encoded(sp, np.asarray([c[0] for c in chunk], np.int64),
                                    [c[4] for c in chunk]))
            sources.append((chunk[0][1], chunk[0][2], chunk[-1][1], chunk[-1][3]))

    for row, tok, starts, ends, shown in docs:
        if row in edges:
            flush(final=True)   # a new plan part: the stream restarts
        if not len(tok):
            continue
        stream.extend(zip(tok.tolist(), [row] * len(tok), starts.tolist(), ends.tolist(),
                          shown, strict=True))
        end = int(ends[-1])
        stream.append((int(eos), row, end, end, eos_text))
        flush(final=False)
    flush(final=True)
    return Contexts(encoded, np.asarray(sources, dtype=np.int64).reshape(-1, 4))


def plan_contexts(contexts: Contexts, *, start: int, stop: int, block: int,
                  parts: Sequence[int] | None, **plan_kwargs: Any) -> list[Any]:
    """Plan the contexts' batches inside plan blocks of corpus rows (a context belongs to the
    block of its first row), so shards replay a single run's batches exactly.

    Example:
        >>> units = plan_contexts(ctx, start=0, stop=2, block=1024, parts=None, n_special=0,
        ...                       capacity=64, batch_tokens=1024, causal=True)  # doctest: +SKIP
    """
    from neuroheat.extract.plan import plan_units
    from neuroheat.extract.shard import block_edges

    block = max(1, int(block))
    if parts:
        edges = block_edges(parts, block)
    else:
        edges = [start] + list(range((start // block + 1) * block, stop, block)) + [stop]
    rows = contexts.sources[:, 0] if len(contexts.sources) else np.zeros(0, np.int64)
    group = np.searchsorted(np.asarray(edges), rows, side="right")
    units: list[Any] = []
    lo = 0
    while lo < len(rows):
        hi = lo + int(np.searchsorted(group[lo:], group[lo], side="right"))
        for unit in plan_units(contexts.encoded[lo:hi], **plan_kwargs):
            unit.sentences = [s + lo for s in unit.sentences]
            unit.windows = [replace(w, sentence=w.sentence + lo) for w in unit.windows]
            units.append(unit)
        lo = hi
    return units
