"""What every intervention job over a corpus shares: the model with its head, the corpus as
token sequences, and batches of them within a token budget.

A line is tokenized as the model's tokenizer does for it (BOS included where it adds one);
a line longer than the model's window is split into windows as in extraction
(:func:`neuroheat.extract.align.make_windows`), and a token's prediction counts in the window
that gives it the most left context. Position t of a causal LM predicts token t+1 of the same
line; masked LMs count every non-special position.

Example:
    >>> seqs = sequences(tokenizer, ["The cat sat ."], 64, causal=True)  # doctest: +SKIP
    >>> [b.rows for b in batches(seqs, 4096)]                            # doctest: +SKIP
    [1]
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import CorpusError, UnsupportedModelError


@dataclass
class Sequence_:
    """One model input: token ids and which positions count (``scored``)."""

    ids: np.ndarray
    scored: np.ndarray   # bool per position: predicts the next token (causal) / is scored


@dataclass
class Batch:
    """Right-padded ``[rows, width]`` ids, mask, scored positions, targets, and the index of
    the batch's first real token in the corpus (for seeded resampling)."""

    ids: np.ndarray
    mask: np.ndarray
    scored: np.ndarray
    targets: np.ndarray
    first_token: int

    @property
    def rows(self) -> int:
        return int(self.ids.shape[0])

    @property
    def padded(self) -> int:
        return int(self.ids.size)


def _has_head(model: Any, marks: tuple[str, ...]) -> bool:
    """Whether the checkpoint was saved with a head of ``marks`` (its ``architectures``)."""
    if model.get_output_embeddings() is None:
        return False
    archs = getattr(model.config, "architectures", None) or []
    return not archs or any(m in a for a in archs for m in marks)


def load_lm(model: Any, device: str | None, model_dtype: str | None) -> Any:
    """The :class:`~neuroheat.model.loading.LoadedModel` with its language-model head: causal
    (GPT-2, Llama, ...) or masked (BERT, RoBERTa, ...); one-line error for a model without."""
    from neuroheat.model.architectures import is_causal
    from neuroheat.model.loading import load_model

    loaded = load_model(model, "causal", device=device, model_dtype=model_dtype)
    if is_causal(loaded.model):
        ok = _has_head(loaded.model, ("CausalLM", "LMHead"))
    else:
        loaded = load_model(model, "mlm", device=device, model_dtype=model_dtype)
        ok = loaded.task == "mlm" and _has_head(loaded.model, ("MaskedLM", "ForPreTraining"))
    if not ok:
        raise UnsupportedModelError(f"{loaded.name}: interventions need a language model with "
                                    "its head (causal, e.g. GPT-2, Llama; or masked, e.g. BERT); "
                                    "this checkpoint has none")
    loaded.model.eval()
    return loaded


def read_lines(corpus: str | os.PathLike | Iterable[str]) -> list[str]:
    """The lines of a text file (or an iterable of strings); empty lines are skipped."""
    if isinstance(corpus, str | os.PathLike):
        path = Path(corpus)
        if not path.is_file():
            raise CorpusError(f"corpus {path} does not exist; give a text file with one "
                              "sequence per line")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise CorpusError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") \
                from None
        lines = text.splitlines()
    else:
        lines = [str(x) for x in corpus]
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise CorpusError("the corpus has no non-empty line")
    return lines


def sequences(tokenizer: Any, lines: Sequence[str], max_length: int, *, causal: bool = True
              ) -> list[Sequence_]:
    """Token sequences of ``lines``, long lines split into windows of ``max_length``; scored:
    positions that predict a next token (causal) or non-special positions (masked LMs)."""
    from neuroheat.extract.align import make_windows

    special = np.asarray(sorted(set(getattr(tokenizer, "all_special_ids", []) or [])),
                         dtype=np.int64)
    out = []
    for number, line in enumerate(lines):
        ids = np.asarray(tokenizer(line)["input_ids"], dtype=np.int64)
        n = len(ids)
        for win in make_windows(number, n, max_length, causal=causal):
            scored = np.zeros(win.stop - win.start, dtype=bool)
            owned = win.owned[win.owned + 1 < n] if causal else win.owned
            scored[owned - win.start] = True
            part = ids[win.start:win.stop]
            if causal:
                scored[-1] = False
            else:
                scored &= ~np.isin(part, special)
            out.append(Sequence_(part, scored))
    return out


def batches(seqs: Sequence[Sequence_], budget: int, pad_id: int = 0) -> Iterator[Batch]:
    """Consecutive sequences, right-padded, with rows x width <= ``budget`` (one row at least)."""
    first = 0
    i = 0
    while i < len(seqs):
        j, width = i + 1, len(seqs[i].ids)
        while j < len(seqs) and (j - i + 1) * max(width, len(seqs[j].ids)) <= budget:
            width = max(width, len(seqs[j].ids))
            j += 1
        part = seqs[i:j]
        ids = np.full((len(part), width), pad_id, dtype=np.int64)
        mask = np.zeros((len(part), width), dtype=np.int64)
        scored = np.zeros((len(part), width), dtype=bool)
        targets = np.zeros((len(part), width), dtype=np.int64)
        for r, s in enumerate(part):
            n = len(s.ids)
            ids[r, :n], mask[r, :n], scored[r, :n] = s.ids, 1, s.scored
            targets[r, :n - 1] = s.ids[1:]
        yield Batch(ids, mask, scored, targets, first)
        first += int(mask.sum())
        i = j
