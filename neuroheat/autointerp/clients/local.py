"""A local causal language model as explainer and judge, through transformers (offline).

Prompts from several threads are gathered into batches of ``batch_size`` (left padding,
greedy decoding); a tokenizer with a chat template gets it (``add_generation_prompt``),
one without gets ``system\\n\\nuser\\n\\nAnswer:``. Simulation reads the next-token
distribution over ``0``..``10`` at each placeholder in one forward pass of the text. Judges'
answers come with P(1) at each 0/1 (yes/no) token, from the generation's scores.

Example:
    >>> client = LocalClient("path/to/model", device="cpu")                # doctest: +SKIP
    >>> client.chat([{"role": "user", "content": "Say 1"}], max_tokens=4)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from neuroheat.autointerp.clients.base import (
    Messages,
    NoLogprobs,
    RequestFailed,
    label_probabilities,
)

log = logging.getLogger("neuroheat")

__all__ = ["LocalClient"]


class LocalClient:
    """Answers from a model directory (see the module docstring)."""

    def __init__(self, model: Any, *, device: str | None = "auto", batch_size: int = 8,
                 wait: float = 0.02) -> None:
        from neuroheat.model.loading import load_model

        self.loaded = load_model(model, task="causal", device=device, model_dtype="auto")
        self.model, self.tok = self.loaded.model.eval(), self.loaded.tokenizer
        self.name = str(model) if not isinstance(model, tuple | list) else self.loaded.name
        if self.tok.pad_token_id is None:
            self.tok.pad_token = self.tok.eos_token or self.tok.unk_token
        self.batch_size, self.wait = int(batch_size), float(wait)
        self._lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue()
        self._digits = self._digit_ids()
        self._labels = self._label_ids()
        self._worker = threading.Thread(target=self._serve, daemon=True,
                                        name="neuroheat-explainer")
        self._worker.start()

    # -- prompts ------------------------------------------------------------------------------
    def render(self, messages: Messages) -> str:
        """The text the model reads for a chat prompt."""
        if getattr(self.tok, "chat_template", None):
            try:
                return self.tok.apply_chat_template(list(messages), tokenize=False,
                                                    add_generation_prompt=True)
            except Exception:  # a template without a system role: fold it into the user's
                system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
                rest = [dict(m) for m in messages if m["role"] != "system"]
                if rest and system:
                    rest[0]["content"] = system + "\n\n" + rest[0]["content"]
                return self.tok.apply_chat_template(rest, tokenize=False,
                                                    add_generation_prompt=True)
        return "\n\n".join(m["content"] for m in messages) + "\n\nAnswer:"

    def _generate(self, items: list[tuple[str, int]]) -> list[tuple[str, list[float] | None]]:
        import torch

        texts = [t for t, _ in items]
        side = self.tok.padding_side
        self.tok.padding_side = "left"
        try:
            enc = self.tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        finally:
            self.tok.padding_side = side
        enc = {k: v.to(self.loaded.device) for k, v in enc.items()}
        with self._lock, torch.inference_mode():
            out = self.model.generate(**enc, max_new_tokens=max(n for _, n in items),
                                      do_sample=False, pad_token_id=self.tok.pad_token_id,
                                      output_scores=True, return_dict_in_generate=True)
        new = out.sequences[:, enc["input_ids"].shape[1]:]
        ids = list(self._labels)
        # log-probabilities of the label tokens at every step: [steps, batch, labels]
        label_lp = torch.stack([torch.log_softmax(s.float(), dim=-1)[:, ids]
                                for s in out.scores]).cpu() if ids else None
        answers = []
        for b, (row, (_, limit)) in enumerate(zip(new, items, strict=True)):
            row = row[:limit]
            steps = []
            for t, tid in enumerate(row.tolist()):
                top = {} if label_lp is None else {
                    self._labels[i]: float(label_lp[t, b, j]) for j, i in enumerate(ids)}
                steps.append((self.tok.decode([tid]), top))
            answers.append((self.tok.decode(row, skip_special_tokens=True),
                            label_probabilities(steps) if ids else None))
        return answers

    def _serve(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.batch_size:
                try:
                    nxt = self._queue.get(timeout=self.wait)
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                batch.append(nxt)
            try:
                answers = self._generate([(text, n) for text, n, _ in batch])
                for (_, _, fut), ans in zip(batch, answers, strict=True):
                    fut.set_result(ans)
            except Exception as exc:  # the callers' neurons record it
                for _, _, fut in batch:
                    fut.set_exception(RequestFailed(f"generation failed: {exc}"))

    def judge(self, messages: Messages, max_tokens: int) -> tuple[str, list[float] | None]:
        fut: Future = Future()
        self._queue.put((self.render(messages), int(max_tokens), fut))
        return fut.result()

    def chat(self, messages: Messages, max_tokens: int) -> str:
        return self.judge(messages, max_tokens)[0]

    # -- simulation ---------------------------------------------------------------------------
    def _digit_ids(self) -> dict[int, int]:
        out = {}
        for v in range(11):
            ids = self.tok.encode(str(v), add_special_tokens=False)
            if len(ids) == 1:
                out[v] = ids[0]
        return out

    def _label_ids(self) -> dict[int, str]:
        """Token id -> text of the single-token spellings of 0/1/yes/no."""
        out = {}
        for word in ("0", "1", "yes", "no", "Yes", "No"):
            for text in (word, " " + word):
                ids = self.tok.encode(text, add_special_tokens=False)
                if len(ids) == 1:
                    out[ids[0]] = self.tok.decode(ids)
        return out

    def simulate(self, text: str, spots: Sequence[int]) -> list[float]:
        import torch

        if not self._digits:
            raise NoLogprobs("the tokenizer has no single-token digits 0..10")
        enc = self.tok(text, return_offsets_mapping=True, add_special_tokens=False,
                       return_tensors="pt")
        offsets = enc.pop("offset_mapping")[0].tolist()
        enc = {k: v.to(self.loaded.device) for k, v in enc.items()}
        with self._lock, torch.inference_mode():
            logits = self.model(**enc).logits[0].float()
        ids = torch.tensor(list(self._digits.values()), device=logits.device)
        worth = torch.tensor(list(self._digits.keys()), dtype=torch.float32,
                             device=logits.device)
        out = []
        for spot in spots:
            i = next((j for j, (a, b) in enumerate(offsets) if a <= spot < max(b, a + 1)),
                     None)
            if i is None or i == 0:
                raise NoLogprobs("a simulated position is not a token of the text")
            p = torch.softmax(logits[i - 1, ids], dim=0)
            out.append(float((p * worth).sum()))
        return out

    def close(self) -> None:
        self._queue.put(None)
        self._worker.join(timeout=5)
